package logging

import "strings"

// RedactURL hides the passwords of the URLs in s, whatever their scheme
// (amqp, amqps, http, ...): "amqp://guest:secret@host:5672/vh" becomes
// "amqp://guest:xxxxx@host:5672/vh". s may be a bare URL or any text
// containing URLs, such as an error message; everything else is returned
// as it is. URLs that do not parse are redacted too: whatever lies between
// "scheme://user:" and the last "@" before the next space or quote goes.
//
//	logger.Info("connecting", zap.String("url", logging.RedactURL(url)))
func RedactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s // the common case: no allocation
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "://")
		if i < 0 {
			break
		}
		auth := i + len("://")
		end := strings.IndexAny(rest[auth:], " \t\r\n\"'`<>")
		if end < 0 {
			end = len(rest)
		} else {
			end += auth
		}
		token := rest[auth:end]
		at := strings.LastIndexByte(token, '@')
		user, _, hasPassword := strings.Cut(token[:max(at, 0)], ":")
		if at < 0 || !hasPassword {
			b.WriteString(rest[:end])
		} else {
			b.WriteString(rest[:auth])
			b.WriteString(user)
			b.WriteString(":xxxxx")
			b.WriteString(token[at:])
		}
		rest = rest[end:]
	}
	b.WriteString(rest)
	return b.String()
}
