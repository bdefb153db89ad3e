// Package redact is warren's one rule for hiding credentials in text that
// leaves the process: log lines, span status and events, metric labels,
// message headers. Text applies the whole rule.
package redact

import "strings"

// Mask replaces every hidden secret.
const Mask = "xxxxx"

// Keys are the names whose "name=value" pairs Text hides, compared without
// regard to case and matched as the end of a longer name too, so
// "client_secret=", "access_token=" and "DB_PASSWORD=" are hidden as well.
var Keys = []string{"password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "api-key"}

// Text returns s with every credential it recognises replaced by Mask:
//
//   - the password of every URL ("scheme://user:pass@host" becomes
//     "scheme://user:xxxxx@host");
//   - the value of every "key=value" pair whose key ends with one of Keys
//     ("password=s3cret" becomes "password=xxxxx"); the value runs to the
//     next space, quote, '&', ';', ',' or ')' (a quoted value, to its
//     closing quote).
//
// JSON ("password": "x") and header ("Authorization: Bearer x") forms are
// not recognised. Text that holds neither "://" nor such a pair is returned
// as it is, without allocating.
func Text(s string) string {
	s = urls(s)
	first := pairAt(s, 0)
	if first < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := first; i >= 0; i = pairAt(s, last) {
		start := valueStart(s, i+1)
		end := valueEnd(s, start)
		b.WriteString(s[last:start])
		b.WriteString(Mask)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// pairAt returns the index of the '=' of the first pair at or after from
// whose key is one of Keys and whose value is not empty, or -1.
func pairAt(s string, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] != '=' {
			continue
		}
		if start := valueStart(s, i+1); valueEnd(s, start) == start {
			continue
		}
		for _, k := range Keys {
			if i >= len(k) && strings.EqualFold(s[i-len(k):i], k) {
				return i
			}
		}
	}
	return -1
}

// valueStart returns the index of the value after the '=' at i-1: past
// an opening quote, if there is one.
func valueStart(s string, i int) int {
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		return i + 1
	}
	return i
}

// valueEnd returns the index just past the value starting at i.
func valueEnd(s string, i int) int {
	if j := strings.IndexAny(s[i:], " \t\r\n\"'`&;,)<>"); j >= 0 {
		return i + j
	}
	return len(s)
}

// urls returns s with the password of every URL in it ("scheme://user:pass@host")
// replaced by Mask. Text without "://" is returned as it is, without
// allocating. It is the URL half of Text.
func urls(s string) string {
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
			b.WriteString(":" + Mask)
			b.WriteString(token[at:])
		}
		rest = rest[end:]
	}
	b.WriteString(rest)
	return b.String()
}
