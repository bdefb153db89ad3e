// parse.js reads AsyncAPI documents (file paths as arguments), parses each
// with @asyncapi/parser and prints one JSON line per document: its path and
// the parser's diagnostics (severity 0 is an error).
const fs = require('fs');
const { Parser } = require('@asyncapi/parser');

(async () => {
  const parser = new Parser();
  for (const file of process.argv.slice(2)) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'));
    console.log(JSON.stringify({
      file,
      parsed: document !== undefined,
      diagnostics: diagnostics.map(d => ({ code: d.code, severity: d.severity, message: d.message, path: d.path })),
    }));
  }
})().catch(err => { console.error(err); process.exit(1); });
