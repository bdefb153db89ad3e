package fuzztable

import (
	"reflect"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestEncodeRoundTrip(t *testing.T) {
	in := amqp.Table{
		"x-death": []any{
			amqp.Table{"count": int64(3), "queue": "orders", "reason": "rejected", "routing-keys": []any{"a.b"}},
			"garbage", nil, int32(-1),
		},
		"x-warren-attempt": 2.5,
		"custom-key":       amqp.Table{"deep": amqp.Table{"deeper": []any{[]byte{0, 1}, amqp.Decimal{Scale: 2, Value: -5}}}},
		"flags":            []any{true, false, int8(-2), uint8(3), int16(-4), uint16(5), uint32(6), int(7), float32(1.5)},
	}
	got := Table(Encode(in))
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, in)
	}
	ts := time.Unix(1700000000, 0)
	back := Table(Encode(amqp.Table{"time": ts}))["time"].(time.Time)
	if !back.Equal(ts) {
		t.Fatalf("time %v, want %v", back, ts)
	}
}

func TestTableOfAnyInput(t *testing.T) {
	for _, in := range [][]byte{nil, {0}, {0xff}, {0x80 | 5, 'a'}, {0, tagTable, 15}, {0, tagArray, 255, tagArray, 255}} {
		if err := Table(in).Validate(); err != nil {
			t.Fatalf("Table(%v) is not a valid AMQP table: %v", in, err)
		}
	}
}
