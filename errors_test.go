package warren_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren"
)

// TestErrorsNameThePackage checks that every error the root package makes
// starts with "warren:", so a log line says where it came from.
func TestErrorsNameThePackage(t *testing.T) {
	_, noCodec := warren.NewCodecs().For("text/x-unknown")
	_, badPattern := warren.ParsePattern("Order*")
	_, noQueue := warren.ConsumerTopology(warren.Exchange{}, warren.Queue{}, nil, nil)
	_, badDelay := warren.ConsumerTopology(warren.Exchange{}, warren.Queue{Name: "q"}, nil, []time.Duration{-time.Second})
	_, wildDirect := warren.ConsumerTopology(warren.Exchange{Name: "d", Kind: warren.KindDirect}, warren.Queue{Name: "q"},
		[]string{"a.*"}, nil)
	noPublisher := warren.Publish(context.Background(), &warren.Publishing{RoutingKey: "k"})
	tooLong := warren.Publish(context.Background(), &warren.Publishing{RoutingKey: strings.Repeat("k", 300)})
	for name, err := range map[string]error{
		"Codecs.For":                noCodec,
		"ParsePattern":              badPattern,
		"ConsumerTopology no queue": noQueue,
		"ConsumerTopology delay":    badDelay,
		"ConsumerTopology direct":   wildDirect,
		"Publish no publisher":      noPublisher,
		"Publish key too long":      tooLong,
		"DecodeError":               &warren.DecodeError{Err: errors.New("x")},
		"PanicError":                &warren.PanicError{Value: "x"},
		"Permanent(nil)":            warren.Permanent(nil),
		"Requeue(nil)":              warren.Requeue(nil),
		"Drop(nil)":                 warren.Drop(nil),
		"ErrUnroutable":             warren.ErrUnroutable,
		"ErrNoRoute":                warren.ErrNoRoute,
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "warren: ") {
			t.Errorf("%s: %q does not start with \"warren: \"", name, err)
		}
	}
	if !errors.Is(noCodec, warren.ErrNoCodec) {
		t.Errorf("Codecs.For: %v is not ErrNoCodec", noCodec)
	}
}
