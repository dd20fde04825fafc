package session_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// The event scenarios of sessiontest run on every storage; these tests
// cover what a real store cannot be made to do on cue: fail, and race.

// A backend that fails reports EventStorageError with the step that failed,
// its error, and a handle, never the id.
func TestObserverStorageErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("server down")
	b := sessiontest.NewBackend(nil)
	log := &sessiontest.EventLog{}
	st := mustStorage(t, b, session.Options{Observer: log})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	log.Take()

	b.Fail(sessiontest.OpGet, boom)
	if _, err := st.Read(ctx, id); !errors.Is(err, boom) {
		t.Fatalf("Read: %v, want the error", err)
	}
	b.Fail(sessiontest.OpGet, nil)
	s, _ := st.Read(ctx, id)
	s.Set("n", 2)
	b.Fail(sessiontest.OpPut, boom)
	if _, _, err := st.Save(ctx, s); !errors.Is(err, boom) {
		t.Fatalf("Save: %v, want the error", err)
	}
	got := log.Take()
	want := []struct {
		kind  session.EventKind
		cause string
	}{
		{session.EventStorageError, session.CauseRead},
		{session.EventLoaded, ""},
		{session.EventStorageError, session.CauseSave},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i, w := range want {
		e := got[i]
		if e.Kind != w.kind || e.Cause != w.cause || e.Storage != "sessiontest" || e.Handle == "" || strings.Contains(e.Handle, id) {
			t.Errorf("event %d = %+v, want %v(%s) from sessiontest with a handle", i, e, w.kind, w.cause)
		}
		if w.kind == session.EventStorageError && (!errors.Is(e.Err, boom) || strings.Contains(e.Err.Error(), id)) {
			t.Errorf("event %d: Err %v, want the error, naming no id", i, e.Err)
		}
	}
}

// A save that found another request's save first reports how many it
// merged with, and the time of all its attempts.
func TestObserverMerged(t *testing.T) {
	ctx := context.Background()
	b := sessiontest.NewBackend(nil)
	log := &sessiontest.EventLog{}
	st := mustStorage(t, b, session.Options{Observer: log})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	s, _ := st.Read(ctx, id)
	s.Set("b", 2)
	sessiontest.Request(t, st, id, func(s *session.Session) { s.Set("c", 3) })
	log.Take()
	if _, _, err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	got := log.Take()
	if len(got) != 1 || got[0].Kind != session.EventSaved || got[0].Merged != 1 || got[0].Duration <= 0 {
		t.Errorf("events %+v, want one EventSaved with Merged 1 and a duration", got)
	}
}

// LogEvents keeps a healthy application quiet: nothing at Info for the
// events of every request, expiry and revokes at Info, and nothing for what
// the storages already log as warnings.
func TestLogEvents(t *testing.T) {
	var buf bytes.Buffer
	obs := session.LogEvents(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx := context.Background()
	for _, e := range []session.Event{
		{Kind: session.EventLoaded, Storage: "memory", Handle: "h1"},
		{Kind: session.EventSaved, Storage: "memory", Handle: "h1", Cause: session.CauseWrite},
		{Kind: session.EventCreated, Storage: "memory", Handle: "h2"},
		{Kind: session.EventStorageError, Storage: "memory", Cause: session.CauseRead, Err: errors.New("down")},
		{Kind: session.EventExpired, Storage: "memory", Handle: "h3", Cause: session.CauseIdle, Duration: time.Millisecond},
		{Kind: session.EventRevoked, Storage: "memory", Handle: "h4", User: "alice", Cause: session.CauseRevokeAll},
	} {
		obs.Observe(ctx, e)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "level=INFO") || !strings.Contains(lines[0], `msg="session: expired"`) ||
		!strings.Contains(lines[0], "cause=idle") || !strings.Contains(lines[1], "user=alice") || !strings.Contains(lines[1], "cause=revoke_all") {
		t.Errorf("logged:\n%s\nwant the expiry and the revoke, at Info", buf.String())
	}
	buf.Reset()
	debug := session.LogEvents(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	debug.Observe(ctx, session.Event{Kind: session.EventLoaded, Storage: "redis", Handle: "h1", Duration: time.Millisecond})
	if !strings.Contains(buf.String(), "level=DEBUG") || !strings.Contains(buf.String(), "storage=redis") {
		t.Errorf("at Debug: %q", buf.String())
	}
}

// Observers passes each event to every observer given, in order, and skips
// nil ones.
func TestObservers(t *testing.T) {
	var order []string
	one := session.ObserverFunc(func(context.Context, session.Event) { order = append(order, "one") })
	two := session.ObserverFunc(func(context.Context, session.Event) { order = append(order, "two") })
	session.Observers(one, nil, two).Observe(context.Background(), session.Event{Kind: session.EventLoaded})
	session.Observers(nil, one).Observe(context.Background(), session.Event{Kind: session.EventLoaded})
	if strings.Join(order, ",") != "one,two,one" {
		t.Errorf("order %v", order)
	}
	if session.Observers() != nil || session.Observers(nil, nil) != nil {
		t.Error("Observers of none is not nil: a storage would do the work of events for nothing")
	}
}

func TestEventKindString(t *testing.T) {
	for k, want := range map[session.EventKind]string{
		session.EventLoaded: "loaded", session.EventStorageError: "storage_error", session.EventLockTimeout: "lock_timeout",
		0: "unknown", 200: "unknown",
	} {
		if got := k.String(); got != want {
			t.Errorf("EventKind(%d) = %q, want %q", k, got, want)
		}
	}
}
