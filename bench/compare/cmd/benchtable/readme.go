package main

import (
	"bytes"
	"fmt"
	"os"
)

// Markers around the generated part of the README.
const (
	beginMarker = "<!-- benchtable:begin -->"
	endMarker   = "<!-- benchtable:end -->"
)

// replaceSection puts body between the markers in the file at path.
func replaceSection(path string, body []byte) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	begin := bytes.Index(text, []byte(beginMarker))
	end := bytes.Index(text, []byte(endMarker))
	if begin < 0 || end < begin {
		return fmt.Errorf("%s: no %s ... %s section to replace", path, beginMarker, endMarker)
	}
	var out bytes.Buffer
	out.Write(text[:begin+len(beginMarker)])
	out.WriteString("\n")
	out.Write(body)
	out.WriteString("\n")
	out.Write(text[end:])
	return os.WriteFile(path, out.Bytes(), 0o644)
}
