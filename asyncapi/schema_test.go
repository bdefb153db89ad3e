package asyncapi_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/warren-mq/warren"
)

type Base struct {
	ID      string `json:"id"`
	Shadow  int    `json:"note"` // the outer Note wins
	private int    // unexported: not encoded
}

var _ = Base{private: 1}

type Node struct {
	Name     string  `json:"name"`
	Children []*Node `json:"children,omitempty"`
	Parent   *Node   `json:"parent"`
}

type everything struct {
	Base
	Note     string            `json:"note"`
	Count    uint16            `json:"count,omitempty"`
	Ratio    float64           `json:"ratio,omitzero"`
	Amount   int64             `json:"amount,string"`
	Tags     []string          `json:"tags"`
	Raw      []byte            `json:"raw,omitempty"`
	Labels   map[string]int    `json:"labels,omitempty"`
	At       time.Time         `json:"at"`
	Maybe    *bool             `json:"maybe"`
	Fixed    [2]int            `json:"fixed"`
	Any      any               `json:"any,omitempty"`
	Skipped  string            `json:"-"`
	Untagged string            // no tag: the field name is the key
	Tree     Node              `json:"tree"`
	Nested   map[string][]Node `json:"nested,omitempty"`
}

func TestSchemaOfFollowsEncodingJSON(t *testing.T) {
	s := warren.SchemaOf(reflect.TypeFor[everything]())
	if s.Name != "everything" {
		t.Errorf("name %q", s.Name)
	}
	var got map[string]any
	if err := json.Unmarshal(s.JSON, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	if err := json.Unmarshal([]byte(`{
	  "type": "object",
	  "required": ["note", "amount", "tags", "at", "maybe", "fixed", "Untagged", "tree", "id"],
	  "properties": {
	    "id": {"type": "string"},
	    "note": {"type": "string"},
	    "count": {"type": "integer", "minimum": 0},
	    "ratio": {"type": "number"},
	    "amount": {"type": "string"},
	    "tags": {"type": ["array", "null"], "items": {"type": "string"}},
	    "raw": {"type": ["string", "null"], "contentEncoding": "base64"},
	    "labels": {"type": ["object", "null"], "additionalProperties": {"type": "integer"}},
	    "at": {"type": "string", "format": "date-time"},
	    "maybe": {"type": ["boolean", "null"]},
	    "fixed": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
	    "any": {},
	    "Untagged": {"type": "string"},
	    "tree": {"type": "object", "required": ["name", "parent"], "properties": {
	      "name": {"type": "string"},
	      "children": {"type": ["array", "null"], "items": {"oneOf": [{"description": "recursive: a asyncapi_test.Node (not expanded again)"}, {"type": "null"}]}},
	      "parent": {"oneOf": [{"description": "recursive: a asyncapi_test.Node (not expanded again)"}, {"type": "null"}]}
	    }},
	    "nested": {"type": ["object", "null"], "additionalProperties": {"type": ["array", "null"], "items": {"type": "object", "required": ["name", "parent"], "properties": {
	      "name": {"type": "string"},
	      "children": {"type": ["array", "null"], "items": {"oneOf": [{"description": "recursive: a asyncapi_test.Node (not expanded again)"}, {"type": "null"}]}},
	      "parent": {"oneOf": [{"description": "recursive: a asyncapi_test.Node (not expanded again)"}, {"type": "null"}]}
	    }}}}
	  }
	}`), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("schema:\n%s", g)
	}
	if warren.SchemaOf(nil) != nil {
		t.Error("SchemaOf(nil) is not nil")
	}
	if s := warren.SchemaOf(reflect.TypeFor[[]string]()); s.Name != "[]string" {
		t.Errorf("unnamed type name %q", s.Name)
	}
}
