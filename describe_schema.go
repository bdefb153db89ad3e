package warren

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// SchemaOf returns the name and JSON Schema (draft 7, the dialect AsyncAPI
// 3.0 extends) of the JSON encoding of values of type t, as encoding/json
// writes them: structs by their exported fields and json tags (a field
// without omitempty or omitzero is required; embedded structs are
// flattened; "-" is left out; ",string" is a string), slices and arrays as
// arrays ([]byte as a base64 string; a nil slice is null), maps as objects,
// pointers as their element or null, time.Time as a date-time string, a
// TextMarshaler as a string and a json.Marshaler as any value. A type that
// contains itself is expanded once per path: the inner occurrence is any
// value, described as recursive. SchemaOf returns nil for a nil t.
func SchemaOf(t reflect.Type) *Schema {
	if t == nil {
		return nil
	}
	g := schemaGen{onPath: map[reflect.Type]bool{}}
	b, err := json.Marshal(g.of(t))
	if err != nil { // the schema is built of maps, strings and numbers only
		b = []byte(`{}`)
	}
	name := t.Name()
	if name == "" {
		name = t.String()
	}
	return &Schema{Name: name, JSON: b}
}

type schemaGen struct{ onPath map[reflect.Type]bool }

type jsonSchema = map[string]any

var (
	timeType          = reflect.TypeFor[time.Time]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
)

func (g schemaGen) of(t reflect.Type) jsonSchema {
	switch {
	case t == timeType:
		return jsonSchema{"type": "string", "format": "date-time"}
	case t == rawMessageType:
		return jsonSchema{}
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && implements(t, jsonMarshalerType):
		return jsonSchema{"description": "encoded by " + t.String() + "'s MarshalJSON"}
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && implements(t, textMarshalerType):
		return jsonSchema{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return jsonSchema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return jsonSchema{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return jsonSchema{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return jsonSchema{"type": "number"}
	case reflect.String:
		return jsonSchema{"type": "string"}
	case reflect.Interface:
		return jsonSchema{}
	case reflect.Pointer:
		return nullable(g.of(t.Elem()))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !implements(t.Elem(), jsonMarshalerType) && !implements(t.Elem(), textMarshalerType) {
			return nullable(jsonSchema{"type": "string", "contentEncoding": "base64"})
		}
		return nullable(jsonSchema{"type": "array", "items": g.of(t.Elem())})
	case reflect.Array:
		return jsonSchema{"type": "array", "items": g.of(t.Elem()), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		return nullable(jsonSchema{"type": "object", "additionalProperties": g.of(t.Elem())})
	case reflect.Struct:
		return g.guardedStruct(t)
	default: // chan, func, complex: encoding/json refuses them
		return jsonSchema{"not": jsonSchema{}, "description": t.String() + " cannot be encoded as JSON"}
	}
}

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

func (g schemaGen) guardedStruct(t reflect.Type) jsonSchema {
	if g.onPath[t] {
		return jsonSchema{"description": "recursive: a " + t.String() + " (not expanded again)"}
	}
	g.onPath[t] = true
	defer delete(g.onPath, t)
	props := jsonSchema{}
	var required []string
	g.fields(t, props, &required)
	s := jsonSchema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// fields adds the JSON fields of struct t (embedded structs flattened) to
// props. Outer fields win over embedded ones of the same name, as in
// encoding/json.
func (g schemaGen) fields(t reflect.Type, props jsonSchema, required *[]string) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && !hasTag || f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := props[name]; dup {
			continue
		}
		var fs jsonSchema
		if hasOption(opts, "string") && isStringable(ft) {
			fs = jsonSchema{"type": "string"}
		} else {
			fs = g.of(ft)
		}
		props[name] = fs
		if !hasOption(opts, "omitempty") && !hasOption(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
	for _, et := range embedded {
		if g.onPath[et] {
			continue
		}
		g.onPath[et] = true
		g.fields(et, props, required)
		delete(g.onPath, et)
	}
}

func hasOption(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// isStringable reports whether ",string" applies to t: numbers, booleans
// and strings (and pointers to them).
func isStringable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// nullable adds null to the values s allows.
func nullable(s jsonSchema) jsonSchema {
	switch typ := s["type"].(type) {
	case string:
		s["type"] = []string{typ, "null"}
		return s
	case []string:
		for _, x := range typ {
			if x == "null" {
				return s
			}
		}
		s["type"] = append(typ, "null")
		return s
	}
	if len(s) == 0 {
		return s // any value already
	}
	return jsonSchema{"oneOf": []any{s, jsonSchema{"type": "null"}}}
}
