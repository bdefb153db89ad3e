package retry_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren/retry"
)

func TestPolicyNext(t *testing.T) {
	p := retry.Delays(200*time.Millisecond, time.Second, time.Second)
	for _, c := range []struct {
		attempt int
		delay   time.Duration
		ok      bool
	}{
		{-5, 200 * time.Millisecond, true},
		{0, 200 * time.Millisecond, true},
		{1, 200 * time.Millisecond, true},
		{2, time.Second, true},
		{3, time.Second, true},
		{4, 0, false},
		{1 << 20, 0, false},
	} {
		d, ok := p.Next(c.attempt)
		if d != c.delay || ok != c.ok {
			t.Errorf("Next(%d) = %v, %v; want %v, %v", c.attempt, d, ok, c.delay, c.ok)
		}
	}
	if p.Len() != 3 {
		t.Errorf("Len = %d, want 3", p.Len())
	}
	if got, want := fmt.Sprint(p.WaitDelays()), "[200ms 1s]"; got != want {
		t.Errorf("WaitDelays = %s, want %s", got, want)
	}
	if got, want := p.String(), "200ms,1s,1s"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func TestPolicyZeroHasNoRetry(t *testing.T) {
	for _, p := range []retry.Policy{{}, retry.Delays()} {
		if d, ok := p.Next(1); ok || d != 0 {
			t.Errorf("Next(1) = %v, %v on an empty policy", d, ok)
		}
		if p.Len() != 0 || len(p.WaitDelays()) != 0 || p.String() != "none" {
			t.Errorf("empty policy: Len %d WaitDelays %v String %q", p.Len(), p.WaitDelays(), p)
		}
	}
}

func TestPolicyCopiesDelays(t *testing.T) {
	d := []time.Duration{time.Second}
	p := retry.Delays(d...)
	d[0] = time.Hour
	if got, _ := p.Next(1); got != time.Second {
		t.Fatalf("policy changed with the caller's slice: %v", got)
	}
}

func TestDelaysValidation(t *testing.T) {
	many := make([]time.Duration, retry.MaxWaitQueues+1)
	for i := range many {
		many[i] = time.Second
	}
	for name, d := range map[string][]time.Duration{
		"zero":        {time.Second, 0},
		"negative":    {-time.Second},
		"sub-ms":      {1500 * time.Microsecond},
		"too many":    many,
		"nanoseconds": {time.Nanosecond},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if !strings.HasPrefix(fmt.Sprint(r), "warren: retry.Delays:") {
					t.Errorf("panic %q lacks the warren prefix", r)
				}
			}()
			retry.Delays(d...)
		})
	}
	if p := retry.Delays(many[:retry.MaxWaitQueues]...); p.Len() != retry.MaxWaitQueues {
		t.Errorf("Len = %d with the maximum number of delays", p.Len())
	}
}
