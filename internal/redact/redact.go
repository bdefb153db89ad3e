// Package redact hides credentials in text that is logged or written to
// message headers.
package redact

import "strings"

// URLs returns s with the password of every URL in it ("scheme://user:pass@host")
// replaced by "xxxxx". Text without "://" is returned as it is, without
// allocating.
func URLs(s string) string {
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
