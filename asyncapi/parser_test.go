package asyncapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// parserVersion is the @asyncapi/parser the documents are validated with.
const parserVersion = "3.6.6"

// diagnostic is one finding of the AsyncAPI parser.
type diagnostic struct {
	Code     string `json:"code"`
	Severity int    `json:"severity"` // 0 error, 1 warning, 2 information, 3 hint
	Message  string `json:"message"`
	Path     []any  `json:"path"`
}

type parseResult struct {
	File        string       `json:"file"`
	Parsed      bool         `json:"parsed"`
	Diagnostics []diagnostic `json:"diagnostics"`
}

// parserDir returns a folder with @asyncapi/parser installed, installing
// it with npm on first use into testdata/node/parser-<version> (ignored by
// git), reused by later runs.
func parserDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("validates with the AsyncAPI parser from npm (run without -short)")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: the AsyncAPI documents are validated by @asyncapi/parser, which needs Node.js 18 or later", tool)
		}
	}
	root, err := filepath.Abs(filepath.Join("testdata", "node"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "parser-"+parserVersion)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@asyncapi", "parser", "package.json")); err == nil {
		return dir
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(root, "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("npm", "install", "--prefix", tmp, "--no-audit", "--no-fund", "--loglevel=error", "@asyncapi/parser@"+parserVersion)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm install @asyncapi/parser@%s: %v\n%s", parserVersion, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, serr := os.Stat(dir); serr != nil { // not installed by another run meanwhile
			t.Fatal(err)
		}
	}
	return dir
}

// parse runs the real AsyncAPI parser on the documents.
func parse(t *testing.T, docs map[string][]byte) map[string]parseResult {
	t.Helper()
	dir := parserDir(t)
	script, err := filepath.Abs(filepath.Join("testdata", "parse.js"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	args := []string{script}
	for name, doc := range docs {
		f := filepath.Join(tmp, name+".json")
		if err := os.WriteFile(f, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	cmd := exec.Command("node", args...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node parse.js: %v\n%s", err, stderr.String())
	}
	res := map[string]parseResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r parseResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("parser output %q: %v", sc.Text(), err)
		}
		res[strings.TrimSuffix(filepath.Base(r.File), ".json")] = r
	}
	if len(res) != len(docs) {
		t.Fatalf("parser answered for %d of %d documents:\n%s", len(res), len(docs), out)
	}
	return res
}
