package sessionotel

import (
	"context"
	"fmt"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/memorystorage"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

const user = "alice.liddell@example.com"

// player plays requests against a storage on one context, as the session
// middleware does, and collects every session id, cookie value and handle
// it sees, which the telemetry must never hold.
type player struct {
	t       *testing.T
	ctx     context.Context
	st      session.Storage
	secrets []string
}

func (p *player) saw(s *session.Session, more ...string) {
	for _, v := range append([]string{s.ID(), s.Handle()}, more...) {
		if v != "" {
			p.secrets = append(p.secrets, v)
		}
	}
}

// req plays one request: Read with cookie, fn on the session, Save. It
// returns the cookie the browser holds afterwards.
func (p *player) req(cookie string, fn func(*session.Session)) string {
	p.t.Helper()
	s, err := p.st.Read(p.ctx, cookie)
	if err != nil {
		p.t.Fatalf("Read: %v", err)
	}
	p.saw(s, cookie)
	if fn != nil {
		fn(s)
	}
	value, set, err := p.st.Save(p.ctx, s)
	if err != nil {
		p.t.Fatalf("Save: %v", err)
	}
	p.saw(s, value)
	if set {
		return value
	}
	return cookie
}

// TestMemoryStorageLifecycle plays a session's life through memorystorage
// under a parent span, and checks every metric point and span it leaves.
func TestMemoryStorageLifecycle(t *testing.T) {
	tel := newTelemetry(t)
	st, err := memorystorage.New(memorystorage.Options{Session: session.Options{Observer: tel.obs, UserKey: "user"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "request")
	p := &player{t: t, ctx: ctx, st: st, secrets: []string{user}}

	cookie := p.req("", func(s *session.Session) { s.Set("user", user); s.Set("n", 1) }) // created
	p.req(cookie, nil)                                                                   // loaded
	cookie = p.req(cookie, func(s *session.Session) { s.Set("n", 2) })                   // loaded, saved (write)
	cookie = p.req(cookie, func(s *session.Session) { s.RegenerateID(true) })            // loaded, regenerated
	destroyed := p.req(cookie, func(s *session.Session) { s.Destroy() })                 // loaded, destroyed
	if destroyed != "" {
		t.Fatalf("cookie after Destroy = %q, want it expired", destroyed)
	}
	// The destroyed session's cookie, outside the parent span: missing.
	sessiontest.Request(t, st, cookie, nil)
	for range 2 {
		p.req("", func(s *session.Session) { s.Set("user", user) }) // created
	}
	n, err := st.(session.UserIndex).RevokeAll(ctx, user) // revoked ×2
	if err != nil || n != 2 {
		t.Fatalf("RevokeAll = %d, %v; want 2 sessions", n, err)
	}
	parent.End()

	metrics := tel.collect(t)
	ev := func(event, cause string) string {
		if cause != "" {
			return "session.cause=" + cause + ",session.event=" + event + ",session.storage=memory"
		}
		return "session.event=" + event + ",session.storage=memory"
	}
	wantPoints(t, MetricEvents, counts(t, metrics[MetricEvents], "{event}"), map[string]int64{
		ev("created", ""):                     3,
		ev("loaded", ""):                      4,
		ev("saved", session.CauseWrite):       1,
		ev("regenerated", ""):                 1,
		ev("destroyed", ""):                   1,
		ev("missing", ""):                     1,
		ev("revoked", session.CauseRevokeAll): 2,
	})
	out := func(outcome string) string { return "session.outcome=" + outcome + ",session.storage=memory" }
	wantPoints(t, MetricReadDuration, histCounts(t, metrics[MetricReadDuration]), map[string]uint64{
		out("loaded"):  4,
		out("missing"): 1,
	})
	wantPoints(t, MetricSaveDuration, histCounts(t, metrics[MetricSaveDuration]), map[string]uint64{
		out("created"):                        3,
		"session.cause=write," + out("saved"): 1,
		out("regenerated"):                    1,
		out("destroyed"):                      1,
	})
	for _, name := range []string{MetricLockWait, MetricSaveMerges} {
		if m, ok := metrics[name]; ok {
			t.Errorf("%s recorded with no lock wait or merge: %+v", name, m.Data)
		}
	}

	spans := tel.spans.Ended()
	checkLifecycleSpans(t, spans, parent)
	noSecrets(t, metrics, spans, p.secrets)
}

// checkLifecycleSpans checks the spans of TestMemoryStorageLifecycle, in
// the order they ended.
func checkLifecycleSpans(t *testing.T, spans []sdktrace.ReadOnlySpan, parent trace.Span) {
	t.Helper()
	read := func(outcome string) string { return "session.outcome=" + outcome + ",session.storage=memory" }
	save := func(outcome, cause string) string {
		if cause != "" {
			return "session.cause=" + cause + ",session.merged=0," + read(outcome)
		}
		return "session.merged=0," + read(outcome)
	}
	want := []struct {
		name, attrs string
		root        bool
	}{
		{SpanSave, save("created", ""), false},
		{SpanRead, read("loaded"), false},
		{SpanRead, read("loaded"), false},
		{SpanSave, save("saved", "write"), false},
		{SpanRead, read("loaded"), false},
		{SpanSave, save("regenerated", ""), false},
		{SpanRead, read("loaded"), false},
		{SpanSave, save("destroyed", ""), false},
		{SpanRead, read("missing"), true}, // sessiontest.Request: context.Background()
		{SpanSave, save("created", ""), false},
		{SpanSave, save("created", ""), false},
		{"request", "", true},
	}
	if len(spans) != len(want) {
		for _, s := range spans {
			t.Logf("span %s {%s}", s.Name(), spanAttrs(s))
		}
		t.Fatalf("%d spans ended, want %d", len(spans), len(want))
	}
	parentCtx := parent.SpanContext()
	parentSpan := spans[len(spans)-1]
	for i, w := range want[:len(want)-1] {
		s := spans[i]
		what := fmt.Sprintf("span %d (%s {%s})", i, s.Name(), spanAttrs(s))
		if s.Name() != w.name || spanAttrs(s) != w.attrs {
			t.Errorf("%s, want %s {%s}", what, w.name, w.attrs)
		}
		if s.SpanKind() != trace.SpanKindInternal {
			t.Errorf("%s: kind %v, want internal", what, s.SpanKind())
		}
		if s.Status().Code != codes.Unset || len(s.Events()) != 0 {
			t.Errorf("%s: status %+v, events %v; want unset, none", what, s.Status(), s.Events())
		}
		if d := s.EndTime().Sub(s.StartTime()); d < 0 {
			t.Errorf("%s: ends %v before it starts", what, -d)
		}
		if s.InstrumentationScope().Name != ScopeName {
			t.Errorf("%s: scope %q, want %q", what, s.InstrumentationScope().Name, ScopeName)
		}
		if w.root {
			if s.Parent().IsValid() {
				t.Errorf("%s: parent %v, want none", what, s.Parent().SpanID())
			}
			continue
		}
		if s.Parent().SpanID() != parentCtx.SpanID() || s.SpanContext().TraceID() != parentCtx.TraceID() {
			t.Errorf("%s: parent %v in trace %v, want %v in %v", what, s.Parent().SpanID(), s.SpanContext().TraceID(), parentCtx.SpanID(), parentCtx.TraceID())
		}
		if s.StartTime().Before(parentSpan.StartTime()) || s.EndTime().After(parentSpan.EndTime()) {
			t.Errorf("%s: %v–%v, outside its parent's %v–%v", what, s.StartTime(), s.EndTime(), parentSpan.StartTime(), parentSpan.EndTime())
		}
	}
}
