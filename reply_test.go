package warren_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/warrentest"
)

func errorReplyOf(t *testing.T, rec *warrentest.Recorder) (msg, code string, p warren.Publishing) {
	t.Helper()
	replies := rec.Replies()
	if len(replies) != 1 {
		t.Fatalf("%d replies, want 1 error reply (outcome %v, err %v)", len(replies), rec.Outcome.Action, rec.Err)
	}
	p = replies[0]
	msg, _ = p.Headers[warren.HeaderError].(string)
	code, _ = p.Headers[warren.HeaderErrorCode].(string)
	return msg, code, p
}

func request(body string, opts ...warrentest.MessageOption) *warren.Message {
	return warrentest.NewMessage("Price.Get", []byte(body), append([]warrentest.MessageOption{
		warrentest.WithContentType("application/json"),
		warrentest.WithReplyTo("amq.rabbitmq.reply-to.x"), warrentest.WithCorrelationID("c-1"),
	}, opts...)...)
}

func TestTypedReplyErrorReplyCarriesMessageAndCode(t *testing.T) {
	notFound := errors.New("no sku A9")
	cases := []struct {
		name     string
		err      error
		body     string
		wantCode string
	}{
		{"plain error", errors.New("db down"), `{"SKU":"A1"}`, warren.CodeError},
		{"permanent", warren.Permanent(errors.New("bad sku")), `{"SKU":"A1"}`, warren.CodePermanent},
		{"dead-letter reason", warren.DeadLetter("invalid", errors.New("bad")), `{"SKU":"A1"}`, "invalid"},
		{"handler's code", warren.ErrorCode(notFound, "not-found"), `{"SKU":"A1"}`, "not-found"},
		{"code on a permanent error", warren.ErrorCode(warren.Permanent(notFound), "not-found"), `{"SKU":"A1"}`, "not-found"},
		{"drop", warren.Drop(errors.New("duplicate")), `{"SKU":"A1"}`, warren.CodeError},
		{"decode", nil, `{"SKU":`, warren.CodeDecode},
		{"wrong shape", nil, `[1,2]`, warren.CodeDecode},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			h := warren.TypedReply(func(context.Context, priceQuery) (priceReply, error) {
				called = true
				return priceReply{}, tc.err
			})
			rec := warrentest.Serve(h, request(tc.body))
			text, code, p := errorReplyOf(t, rec)
			if code != tc.wantCode || text == "" || text != rec.Err.Error() {
				t.Fatalf("error reply code %q message %q, want code %q and message %q", code, text, tc.wantCode, rec.Err)
			}
			if p.RoutingKey != "amq.rabbitmq.reply-to.x" || p.Exchange != "" || p.CorrelationId != "c-1" ||
				p.DeliveryMode != amqp.Transient || len(p.Body) != 0 {
				t.Fatalf("error reply addressed wrong: %+v", p)
			}
			if !rec.Dropped() {
				t.Fatalf("outcome %v, want drop (the caller was told)", rec.Outcome.Action)
			}
			if tc.err != nil && !errors.Is(rec.Err, tc.err) {
				t.Fatalf("err %v does not wrap the handler's %v", rec.Err, tc.err)
			}
			var de *warren.DecodeError
			if tc.err == nil && (called || !errors.As(rec.Err, &de)) {
				t.Fatalf("decode failure: handler called %v, err %v", called, rec.Err)
			}
		})
	}
}

func TestTypedReplyErrorReplyIsBounded(t *testing.T) {
	long := strings.Repeat("é", warren.MaxHeaderValue)
	h := warren.TypedReply(func(context.Context, priceQuery) (priceReply, error) {
		return priceReply{}, warren.ErrorCode(errors.New(long), strings.Repeat("c", 2*warren.MaxHeaderValue))
	})
	text, code, _ := errorReplyOf(t, warrentest.Serve(h, request(`{}`)))
	if len(text) > warren.MaxHeaderValue || !strings.HasSuffix(text, "...") || len(code) > warren.MaxHeaderValue {
		t.Fatalf("header values not bounded: message %d bytes, code %d bytes", len(text), len(code))
	}
}

func TestTypedReplyEncodeFailureIsAnswered(t *testing.T) {
	h := warren.TypedReply(func(context.Context, priceQuery) (chan int, error) { return make(chan int), nil })
	rec := warrentest.Serve(h, request(`{}`))
	if _, code, _ := errorReplyOf(t, rec); code != warren.CodePermanent || !rec.Dropped() {
		t.Fatalf("encode failure: code %q outcome %v", code, rec.Outcome.Action)
	}
}

func TestTypedReplyFailuresWithoutAnswer(t *testing.T) {
	boom := errors.New("boom")
	fail := func(err error) warren.Handler {
		return warren.TypedReply(func(context.Context, priceQuery) (priceReply, error) { return priceReply{}, err })
	}

	// No ReplyTo: nobody to tell; the error settles as any handler's.
	noReplyTo := warrentest.NewJSONMessage("Price.Get", priceQuery{SKU: "A1"})
	if rec := warrentest.Serve(fail(boom), noReplyTo); !rec.Retried() || len(rec.Published()) != 0 {
		t.Errorf("no reply_to: outcome %v, %d published", rec.Outcome.Action, len(rec.Published()))
	}
	undecodable := warrentest.NewMessage("Price.Get", []byte("{"))
	if rec := warrentest.Serve(fail(nil), undecodable); len(rec.Published()) != 0 {
		t.Errorf("no reply_to, bad body: %d published", len(rec.Published()))
	} else if reason, ok := rec.DeadLettered(); !ok || reason != warren.ReasonDecode {
		t.Errorf("no reply_to, bad body: outcome %+v, want dead-letter decode", rec.Outcome)
	}

	// Requeue asks for another attempt, which will answer.
	if rec := warrentest.Serve(fail(warren.Requeue(boom)), request(`{}`)); !rec.Requeued() || len(rec.Published()) != 0 {
		t.Errorf("requeue: outcome %v, %d published", rec.Outcome.Action, len(rec.Published()))
	}

	// A context already done (shutdown, a Timeout middleware) belongs to its
	// owner: no reply, the error as it is.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := warrentest.ServeContext(ctx, fail(context.Canceled), request(`{}`))
	if len(rec.Published()) != 0 || !errors.Is(rec.Err, context.Canceled) || rec.Dropped() {
		t.Errorf("cancelled context: outcome %v err %v, %d published", rec.Outcome.Action, rec.Err, len(rec.Published()))
	}

	// The error reply cannot be published: never ack an unanswered request.
	failing := warrentest.NewRecorder()
	failing.PublishErr = errors.New("channel closed")
	failing.Serve(context.Background(), fail(boom), request(`{}`))
	if !failing.Retried() || !errors.Is(failing.Err, boom) || !errors.Is(failing.Err, failing.PublishErr) {
		t.Errorf("failed error reply: outcome %v err %v, want a retry of both errors", failing.Outcome.Action, failing.Err)
	}
	failing.Serve(context.Background(), fail(warren.Permanent(boom)), request(`{}`))
	if reason, ok := failing.DeadLettered(); !ok || reason != warren.ReasonPermanent {
		t.Errorf("failed error reply of a permanent error: outcome %+v, want dead-letter permanent", failing.Outcome)
	}
}

func TestTypedReplyMiddlewareSeesTheDrop(t *testing.T) {
	var seen []string
	r := warren.NewRouter()
	r.Use(func(next warren.Handler) warren.Handler {
		return warren.HandlerFunc(func(ctx context.Context, m *warren.Message) error {
			err := next.ServeMessage(ctx, m)
			seen = append(seen, fmt.Sprintf("%s %v", m.Route, warren.OutcomeOf(err).Action))
			return err
		})
	})
	r.Handle("Price.Get", warren.TypedReply(func(_ context.Context, q priceQuery) (priceReply, error) {
		if q.SKU == "" {
			return priceReply{}, warren.ErrorCode(errors.New("no sku"), "invalid")
		}
		return priceReply{SKU: q.SKU, Cents: 100}, nil
	}))
	rec := warrentest.Serve(r, request(`{"SKU":"A1"}`))
	if !rec.Acked() || len(rec.Replies()) != 1 || rec.Replies()[0].Headers != nil {
		t.Fatalf("success through the router: outcome %v, replies %+v", rec.Outcome.Action, rec.Replies())
	}
	rec = warrentest.Serve(r, request(`{}`))
	if _, code, _ := errorReplyOf(t, rec); code != "invalid" || !rec.Dropped() {
		t.Fatalf("failure through the router: code %q outcome %v", code, rec.Outcome.Action)
	}
	if strings.Join(seen, ",") != "Price.Get ack,Price.Get drop" {
		t.Fatalf("middleware saw %q", seen)
	}
}

func TestErrorCodeOf(t *testing.T) {
	base := errors.New("x")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{base, warren.CodeError},
		{fmt.Errorf("wrapped: %w", warren.ErrorCode(base, "outer")), "outer"},
		{warren.ErrorCode(warren.ErrorCode(base, "inner"), "outer"), "outer"},
		{warren.ErrorCode(base, ""), warren.CodeError},
		{warren.Permanent(base), warren.CodePermanent},
		{&warren.DecodeError{Err: base}, warren.CodeDecode},
		{warren.Requeue(base), warren.CodeError},
	} {
		if got := warren.ErrorCodeOf(tc.err); got != tc.want {
			t.Errorf("ErrorCodeOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if warren.ErrorCode(nil, "c") != nil {
		t.Error("ErrorCode(nil) is not nil")
	}
	coded := warren.ErrorCode(warren.Permanent(base), "not-found")
	if o := warren.OutcomeOf(coded); o.Action != warren.ActionDeadLetter || !errors.Is(coded, base) || coded.Error() != "x" {
		t.Errorf("ErrorCode changed the error: outcome %+v, message %q", o, coded.Error())
	}
}

func TestReplyErrorWithoutReplyToOrError(t *testing.T) {
	rec := warrentest.NewRecorder()
	ctx := warren.ContextWithPublisher(context.Background(), rec)
	if err := warren.ReplyError(ctx, warrentest.NewMessage("k", nil), errors.New("x")); err != nil || len(rec.Published()) != 0 {
		t.Fatalf("no reply_to: err %v, %d published", err, len(rec.Published()))
	}
	if err := warren.ReplyError(ctx, request(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	if _, code, _ := errorReplyOf(t, rec); code != warren.CodeError {
		t.Fatalf("nil error: code %q", code)
	}
}

// TestReplyErrorHidesCredentials: an error reply is text leaving the
// process, so a URL password or a password= pair in the handler's error
// never reaches the caller's x-warren-error.
func TestReplyErrorHidesCredentials(t *testing.T) {
	rec := warrentest.NewRecorder()
	ctx := warren.ContextWithPublisher(context.Background(), rec)
	cause := errors.New("query postgres://app:s3cret@db/orders failed; dsn password=hunter2")
	if err := warren.ReplyError(ctx, request(`{}`), cause); err != nil {
		t.Fatal(err)
	}
	text, _, _ := errorReplyOf(t, rec)
	if strings.Contains(text, "s3cret") || strings.Contains(text, "hunter2") {
		t.Fatalf("x-warren-error %q carries a credential", text)
	}
	if !strings.Contains(text, "postgres://app:xxxxx@db/orders") {
		t.Fatalf("x-warren-error %q lost the redacted URL", text)
	}
}
