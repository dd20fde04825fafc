package sessionotel

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// newBackendStorage returns a storage over a fresh sessiontest.Backend,
// observed by tel.
func newBackendStorage(t *testing.T, tel *telemetry) (session.Storage, *sessiontest.Backend) {
	t.Helper()
	b := sessiontest.NewBackend(nil)
	st, err := session.NewBackendStorage(b, session.Options{Observer: tel.obs})
	if err != nil {
		t.Fatal(err)
	}
	return st, b
}

// TestStorageErrors: a failing backend's read and save each leave a
// storage_error count, a duration and a span with status Error and the
// error recorded.
func TestStorageErrors(t *testing.T) {
	tel := newTelemetry(t)
	st, b := newBackendStorage(t, tel)
	ctx := context.Background()
	id := session.New().ID()
	secrets := []string{id}

	b.Fail(sessiontest.OpGet, errors.New("down"))
	if _, err := st.Read(ctx, id); err == nil {
		t.Fatal("Read with the backend down succeeded")
	}
	b.Fail(sessiontest.OpGet, nil)

	s, err := st.Read(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	s.Set("n", 1)
	b.Fail(sessiontest.OpPut, errors.New("full"))
	if _, _, err := st.Save(ctx, s); err == nil {
		t.Fatal("Save with the backend failing succeeded")
	}
	secrets = append(secrets, s.ID(), s.Handle())

	metrics := tel.collect(t)
	wantPoints(t, MetricEvents, counts(t, metrics[MetricEvents], "{event}"), map[string]int64{
		"session.cause=read,session.event=storage_error,session.storage=sessiontest": 1,
		"session.cause=save,session.event=storage_error,session.storage=sessiontest": 1,
	})
	wantPoints(t, MetricReadDuration, histCounts(t, metrics[MetricReadDuration]), map[string]uint64{
		"session.outcome=storage_error,session.storage=sessiontest": 1,
	})
	wantPoints(t, MetricSaveDuration, histCounts(t, metrics[MetricSaveDuration]), map[string]uint64{
		"session.cause=save,session.outcome=storage_error,session.storage=sessiontest": 1,
	})

	spans := tel.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	wantErrorSpan(t, spans[0], SpanRead, "session.cause=read,session.outcome=storage_error,session.storage=sessiontest", "down")
	wantErrorSpan(t, spans[1], SpanSave, "session.cause=save,session.merged=0,session.outcome=storage_error,session.storage=sessiontest", "full")
	noSecrets(t, metrics, spans, secrets)
}

// wantErrorSpan checks a span with status Error and one exception event
// whose message contains msg.
func wantErrorSpan(t *testing.T, s sdktrace.ReadOnlySpan, name, attrs, msg string) {
	t.Helper()
	if s.Name() != name || spanAttrs(s) != attrs {
		t.Errorf("span %s {%s}, want %s {%s}", s.Name(), spanAttrs(s), name, attrs)
	}
	if s.Status().Code != codes.Error {
		t.Errorf("span %s: status %+v, want Error", name, s.Status())
	}
	if len(s.Events()) != 1 || s.Events()[0].Name != semconv.ExceptionEventName {
		t.Fatalf("span %s: events %+v, want one exception", name, s.Events())
	}
	found := false
	for _, kv := range s.Events()[0].Attributes {
		if kv.Key == semconv.ExceptionMessageKey && strings.Contains(kv.Value.AsString(), msg) {
			found = true
		}
	}
	if !found {
		t.Errorf("span %s: exception %v does not say %q", name, s.Events()[0].Attributes, msg)
	}
}

// TestMergedSave: two requests change the same session; the second save
// finds the first one's and merges with it, which session.save.merges
// counts and its span's session.merged shows.
func TestMergedSave(t *testing.T) {
	tel := newTelemetry(t)
	st, _ := newBackendStorage(t, tel)
	ctx := context.Background()
	cookie, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	a, err := st.Read(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Read(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	a.Set("a", 1)
	b.Set("b", 2)
	for _, s := range []*session.Session{a, b} {
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	metrics := tel.collect(t)
	wantPoints(t, MetricSaveMerges, counts(t, metrics[MetricSaveMerges], "{merge}"), map[string]int64{
		"session.storage=sessiontest": 1,
	})
	wantPoints(t, MetricEvents, counts(t, metrics[MetricEvents], "{event}"), map[string]int64{
		"session.event=created,session.storage=sessiontest":                   1,
		"session.event=loaded,session.storage=sessiontest":                    2,
		"session.cause=write,session.event=saved,session.storage=sessiontest": 2,
	})
	spans := tel.spans.Ended()
	last := spans[len(spans)-1]
	if want := "session.cause=write,session.merged=1,session.outcome=saved,session.storage=sessiontest"; last.Name() != SpanSave || spanAttrs(last) != want {
		t.Errorf("last span %s {%s}, want %s {%s}", last.Name(), spanAttrs(last), SpanSave, want)
	}
	noSecrets(t, metrics, spans, []string{cookie, a.Handle()})
}

// TestLockEvents: a wait for a session's lock, and a wait that times out,
// record session.lock.wait.duration and "session.lock" spans; the timeout
// with status Error.
func TestLockEvents(t *testing.T) {
	tel := newTelemetry(t)
	st, _ := newBackendStorage(t, tel)
	lk := st.(session.Locking)
	ctx := context.Background()
	cookie, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	tel.spans = tracetest.NewSpanRecorder()
	tel.tp.RegisterSpanProcessor(tel.spans)

	release, err := lk.Lock(ctx, cookie, session.LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lk.Lock(ctx, cookie, session.LockOptions{Wait: 20 * time.Millisecond}); !errors.Is(err, session.ErrLockTimeout) {
		t.Fatalf("Lock of a held lock: %v, want ErrLockTimeout", err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		release()
	}()
	release2, err := lk.Lock(ctx, cookie, session.LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	release2()

	metrics := tel.collect(t)
	wantPoints(t, MetricLockWait, histCounts(t, metrics[MetricLockWait]), map[string]uint64{
		"session.outcome=lock_timeout,session.storage=sessiontest": 1,
		"session.outcome=lock_waited,session.storage=sessiontest":  1,
	})
	spans := tel.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	for i, outcome := range []string{"lock_timeout", "lock_waited"} {
		s := spans[i]
		if want := "session.outcome=" + outcome + ",session.storage=sessiontest"; s.Name() != SpanLock || spanAttrs(s) != want {
			t.Errorf("span %s {%s}, want %s {%s}", s.Name(), spanAttrs(s), SpanLock, want)
		}
		if d := s.EndTime().Sub(s.StartTime()); d < 15*time.Millisecond {
			t.Errorf("span %s lasts %v, want the wait (about 20ms)", outcome, d)
		}
	}
	if spans[0].Status().Code != codes.Error || spans[1].Status().Code != codes.Unset {
		t.Errorf("statuses %+v, %+v; want Error, Unset", spans[0].Status(), spans[1].Status())
	}
	noSecrets(t, metrics, spans, []string{cookie})
}
