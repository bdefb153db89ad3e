package warren

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
)

// Codec encodes and decodes message bodies of one content type.
type Codec interface {
	// ContentType is the media type the codec writes, "application/json"
	// for example.
	ContentType() string
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSON is the default codec. It also reads bodies with no content type and
// any "+json" media type.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) ContentType() string                { return "application/json" }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Codecs picks a codec by a message's content type. The zero value knows
// only JSON.
type Codecs struct {
	byType map[string]Codec
}

// NewCodecs returns a set with JSON and the given codecs; a later codec for
// the same content type replaces an earlier one.
func NewCodecs(cs ...Codec) *Codecs {
	s := &Codecs{byType: map[string]Codec{JSON.ContentType(): JSON}}
	for _, c := range cs {
		s.byType[mediaType(c.ContentType())] = c
	}
	return s
}

// ErrNoCodec is returned by Codecs.For for a content type it has no codec
// for.
var ErrNoCodec = errors.New("warren: no codec for content type")

// For returns the codec for contentType. An empty content type and any
// "+json" type get JSON unless a codec was registered for them.
func (s *Codecs) For(contentType string) (Codec, error) {
	mt := mediaType(contentType)
	if s != nil {
		if c, ok := s.byType[mt]; ok {
			return c, nil
		}
	}
	if mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json") {
		return JSON, nil
	}
	return nil, fmt.Errorf("%w %q", ErrNoCodec, contentType)
}

func mediaType(ct string) string {
	if !strings.ContainsAny(ct, "; \tABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return ct // already a bare, lower-case media type: the common case
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}
