// Package fuzztable turns fuzz input into AMQP header tables and back, so
// that fuzz targets can feed header readers every AMQP field type, nested
// tables and arrays, and the header names warren reads, and can seed their
// corpus with realistic tables written as amqp.Table literals (Encode).
//
// The encoding: a table is a sequence of entries until the input ends (top
// level) or a count byte (nested, at most 15 entries); an entry is a key
// then a value. A key byte below 0x80 picks one of Keys; otherwise its low
// seven bits are the length of the key's bytes that follow. A value is a
// tag byte (see the tag constants) and its payload. Input that ends early
// yields nulls. Nesting stops at MaxDepth: deeper containers are empty.
package fuzztable

import (
	"encoding/binary"
	"math"
	"sort"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// MaxDepth bounds the nesting of tables and arrays. It is above the 32
// levels amqp091-go reads, so readers see tables no delivery can carry.
const MaxDepth = 40

// Keys are the header names the encoding can spell in one byte: those
// warren and the broker write, and the keys of an x-death entry.
var Keys = []string{
	"x-death", "x-warren-attempt", "x-original-routingKey", "x-original-exchange",
	"x-warren-reason", "x-warren-route", "x-warren-queue", "x-warren-failed-at",
	"x-exception-message", "x-exception-stacktrace", "count", "queue", "reason",
	"routing-keys", "time", "exchange", "x-first-death-queue", "x-delivery-count", "",
}

// Value tags.
const (
	tagNil byte = iota
	tagBool
	tagInt8
	tagUint8
	tagInt16
	tagUint16
	tagInt32
	tagUint32
	tagInt64
	tagInt
	tagFloat32
	tagFloat64
	tagDecimal
	tagString
	tagBytes
	tagTime
	tagTable
	tagArray
	numTags
)

// Table decodes data into a header table. It never fails: every input is a
// table.
func Table(data []byte) amqp.Table {
	r := &reader{data: data}
	t := amqp.Table{}
	for len(r.data) > 0 {
		k := r.key()
		t[k] = r.value(1)
	}
	return t
}

type reader struct{ data []byte }

func (r *reader) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *reader) bytes(n int) []byte {
	n = min(n, len(r.data))
	b := append([]byte(nil), r.data[:n]...)
	r.data = r.data[n:]
	return b
}

func (r *reader) uint(n int) uint64 {
	var buf [8]byte
	copy(buf[8-n:], r.bytes(n))
	return binary.BigEndian.Uint64(buf[:])
}

func (r *reader) key() string {
	k := r.byte()
	if k < 0x80 {
		return Keys[int(k)%len(Keys)]
	}
	return string(r.bytes(int(k & 0x7f)))
}

func (r *reader) value(depth int) any {
	if len(r.data) == 0 {
		return nil
	}
	switch r.byte() % numTags {
	case tagBool:
		return r.byte()&1 == 1
	case tagInt8:
		return int8(r.byte())
	case tagUint8:
		return r.byte()
	case tagInt16:
		return int16(r.uint(2))
	case tagUint16:
		return uint16(r.uint(2))
	case tagInt32:
		return int32(r.uint(4))
	case tagUint32:
		return uint32(r.uint(4))
	case tagInt64:
		return int64(r.uint(8))
	case tagInt:
		return int(int64(r.uint(8)))
	case tagFloat32:
		return math.Float32frombits(uint32(r.uint(4)))
	case tagFloat64:
		return math.Float64frombits(r.uint(8))
	case tagDecimal:
		return amqp.Decimal{Scale: r.byte(), Value: int32(r.uint(4))}
	case tagString:
		return string(r.bytes(int(r.uint(2))))
	case tagBytes:
		return r.bytes(int(r.uint(2)))
	case tagTime:
		return time.Unix(int64(r.uint(8))%(1<<40), 0)
	case tagTable:
		n := int(r.byte() % 16)
		t := amqp.Table{}
		for i := 0; i < n && depth < MaxDepth; i++ {
			k := r.key()
			t[k] = r.value(depth + 1)
		}
		return t
	case tagArray:
		n := int(r.byte())
		a := []any{}
		for i := 0; i < n && depth < MaxDepth; i++ {
			a = append(a, r.value(depth+1))
		}
		return a
	default:
		return nil
	}
}

// Encode returns input that Table decodes into t, for seeding a corpus. It
// supports what Table produces; keys longer than 127 bytes, strings longer
// than 65,535 bytes, nested tables of more than 15 entries and arrays of
// more than 255 are cut, and values of other types become nulls.
func Encode(t amqp.Table) []byte {
	var w writer
	w.entries(t)
	return w.buf
}

type writer struct{ buf []byte }

func (w *writer) uint(v uint64, n int) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	w.buf = append(w.buf, b[8-n:]...)
}

func (w *writer) entries(t amqp.Table) {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.key(k)
		w.value(t[k])
	}
}

func (w *writer) key(k string) {
	for i, known := range Keys {
		if k == known {
			w.buf = append(w.buf, byte(i))
			return
		}
	}
	k = k[:min(len(k), 0x7f)]
	w.buf = append(w.buf, 0x80|byte(len(k)))
	w.buf = append(w.buf, k...)
}

func (w *writer) value(v any) {
	switch x := v.(type) {
	case bool:
		b := byte(0)
		if x {
			b = 1
		}
		w.buf = append(w.buf, tagBool, b)
	case int8:
		w.buf = append(w.buf, tagInt8, byte(x))
	case uint8:
		w.buf = append(w.buf, tagUint8, x)
	case int16:
		w.buf = append(w.buf, tagInt16)
		w.uint(uint64(uint16(x)), 2)
	case uint16:
		w.buf = append(w.buf, tagUint16)
		w.uint(uint64(x), 2)
	case int32:
		w.buf = append(w.buf, tagInt32)
		w.uint(uint64(uint32(x)), 4)
	case uint32:
		w.buf = append(w.buf, tagUint32)
		w.uint(uint64(x), 4)
	case int64:
		w.buf = append(w.buf, tagInt64)
		w.uint(uint64(x), 8)
	case int:
		w.buf = append(w.buf, tagInt)
		w.uint(uint64(int64(x)), 8)
	case float32:
		w.buf = append(w.buf, tagFloat32)
		w.uint(uint64(math.Float32bits(x)), 4)
	case float64:
		w.buf = append(w.buf, tagFloat64)
		w.uint(math.Float64bits(x), 8)
	case amqp.Decimal:
		w.buf = append(w.buf, tagDecimal, x.Scale)
		w.uint(uint64(uint32(x.Value)), 4)
	case string:
		w.bytes(tagString, []byte(x))
	case []byte:
		w.bytes(tagBytes, x)
	case time.Time:
		w.buf = append(w.buf, tagTime)
		w.uint(uint64(x.Unix()), 8)
	case amqp.Table:
		w.buf = append(w.buf, tagTable, byte(min(len(x), 15)))
		n := 0
		sub := amqp.Table{}
		for k, e := range x {
			if n == 15 {
				break
			}
			sub[k] = e
			n++
		}
		w.entries(sub)
	case []any:
		x = x[:min(len(x), 255)]
		w.buf = append(w.buf, tagArray, byte(len(x)))
		for _, e := range x {
			w.value(e)
		}
	default:
		w.buf = append(w.buf, tagNil)
	}
}

func (w *writer) bytes(tag byte, b []byte) {
	b = b[:min(len(b), math.MaxUint16)]
	w.buf = append(w.buf, tag)
	w.uint(uint64(len(b)), 2)
	w.buf = append(w.buf, b...)
}
