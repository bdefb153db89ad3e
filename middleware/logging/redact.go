package logging

import "github.com/warren-mq/warren/internal/redact"

// RedactURL hides the passwords of the URLs in s, whatever their scheme
// (amqp, amqps, http, ...): "amqp://guest:secret@host:5672/vh" becomes
// "amqp://guest:xxxxx@host:5672/vh". s may be a bare URL or any text
// containing URLs, such as an error message; everything else is returned
// as it is. URLs that do not parse are redacted too: whatever lies between
// "scheme://user:" and the last "@" before the next space or quote goes.
//
//	logger.Info("connecting", zap.String("url", logging.RedactURL(url)))
func RedactURL(s string) string { return redact.URLs(s) }
