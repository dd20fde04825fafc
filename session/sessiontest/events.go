package sessiontest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The event scenarios (session.Options.Observer): each lifecycle reports its
// events, in order, with the session's handle and never its id.

var eventScenarios = []scenario{
	{name: "events: create, load, save, regenerate and destroy report their events", run: eventsLifecycle},
	{name: "events: a session expired on load says whether idle or lifetime ended it", cookieSide: true, run: eventsExpiredClient},
	{name: "events: a record expired on load says whether idle or lifetime ended it", serverSide: true, put: true, run: eventsExpiredServer},
	{name: "events: a corrupt record is reported", serverSide: true, put: true, run: eventsCorrupt},
	{name: "events: a session over the size limit is reported", serverSide: true, run: eventsTooLarge},
	{name: "events: every session a revoke or the per-user cap ends is reported", userIndex: true, serverSide: true, run: eventsRevoked},
	{name: "events: a lock wait and a lock timeout are reported", locks: true, run: eventsLock},
}

func init() { scenarios = append(scenarios, eventScenarios...) }

// EventLog is a session.Observer that keeps the events it receives, for
// tests: set it as Options.Observer, play requests, then Take them.
type EventLog struct {
	mu     sync.Mutex
	events []session.Event
}

// Observe implements session.Observer.
func (l *EventLog) Observe(_ context.Context, e session.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// Take returns the events received since the last Take, oldest first.
func (l *EventLog) Take() []session.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	events := l.events
	l.events = nil
	return events
}

// newEventEnv is newEnv with an EventLog as the Observer.
func newEventEnv(t *testing.T, c Config, configure func(*session.Options)) (*env, *EventLog) {
	log := &EventLog{}
	e := newEnv(t, c, func(o *session.Options) {
		o.Observer = log
		if configure != nil {
			configure(o)
		}
	})
	return e, log
}

// event is what a scenario expects of one event: its kind, and the fields
// it checks when they are set.
type event struct {
	kind   session.EventKind
	handle string
	user   string
	cause  string
}

func (w event) String() string {
	s := w.kind.String()
	if w.cause != "" {
		s += "(" + w.cause + ")"
	}
	return s
}

// wantEvents checks that got are the events want, in order, each naming
// the storage and carrying no session id of ids.
func (e *env) wantEvents(what string, got []session.Event, want ...event) {
	e.t.Helper()
	kinds := make([]string, len(got))
	for i, ev := range got {
		kinds[i] = event{kind: ev.Kind, cause: ev.Cause}.String()
	}
	wantKinds := make([]string, len(want))
	for i, w := range want {
		wantKinds[i] = w.String()
	}
	if !equal(e.t, what+": the events", strings.Join(kinds, ", "), strings.Join(wantKinds, ", ")) {
		return
	}
	for i, w := range want {
		ev := got[i]
		check(e.t, ev.Storage != "", "%s: event %v names no storage", what, ev.Kind)
		check(e.t, w.handle == "" || ev.Handle == w.handle, "%s: event %v has handle %q, want %q", what, ev.Kind, ev.Handle, w.handle)
		check(e.t, w.user == "" || ev.User == w.user, "%s: event %v has user %q, want %q", what, ev.Kind, ev.User, w.user)
		e.noIDIn(what, ev)
	}
}

// noIDIn checks that no session id the scenario saw appears in ev.
func (e *env) noIDIn(what string, ev session.Event) {
	e.t.Helper()
	text := fmt.Sprintf("%s %s %s %s", ev.Handle, ev.User, ev.Cause, ev.Storage)
	if ev.Err != nil {
		text += " " + ev.Err.Error()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for id := range e.ids {
		check(e.t, id == "" || !strings.Contains(text, id), "%s: event %v carries the session id %q", what, ev.Kind, id)
	}
}

// handleAfter is the handle of the session cookie names, read without
// events.
func (e *env) handleAfter(log *EventLog, cookie string) string {
	e.t.Helper()
	h := e.read(cookie).Handle()
	log.Take()
	return h
}

func eventsLifecycle(t *testing.T, c Config) {
	e, log := newEventEnv(t, c, nil)
	e.req("", nil)
	e.wantEvents("a request without a cookie that stores nothing", log.Take())
	cookie, _ := e.req("", func(s *session.Session) { s.Set("n", 1) })
	created := log.Take()
	h := e.handleAfter(log, cookie)
	e.wantEvents("a first save", created, event{kind: session.EventCreated, handle: h})
	e.req(cookie, nil)
	e.wantEvents("a read-only request", log.Take(), event{kind: session.EventLoaded, handle: h})
	cookie, _ = e.req(cookie, func(s *session.Session) { s.Set("n", 2) })
	e.wantEvents("a change", log.Take(), event{kind: session.EventLoaded, handle: h}, event{kind: session.EventSaved, handle: h, cause: session.CauseWrite})
	old := cookie
	cookie, _ = e.req(cookie, func(s *session.Session) { s.RegenerateID(true) })
	regenerated := log.Take()
	h2 := e.handleAfter(log, cookie)
	check(t, h2 != h, "the regenerated session has its old handle")
	e.wantEvents("RegenerateID", regenerated, event{kind: session.EventLoaded, handle: h}, event{kind: session.EventRegenerated, handle: h2})
	e.req(cookie, func(s *session.Session) { s.Destroy() })
	e.wantEvents("Destroy", log.Take(), event{kind: session.EventLoaded, handle: h2}, event{kind: session.EventDestroyed, handle: h2})
	if c.ServerSide {
		e.req(cookie, nil)
		e.wantEvents("the destroyed session's cookie", log.Take(), event{kind: session.EventMissing, handle: h2})
		e.req(old, nil)
		e.wantEvents("the regenerated session's old cookie", log.Take(), event{kind: session.EventMissing, handle: h})
	}
	e.req("not a valid cookie!", nil)
	if c.ServerSide {
		// Not an id: no record is looked up.
		e.wantEvents("a malformed cookie", log.Take())
	} else {
		e.wantEvents("a malformed cookie", log.Take(), event{kind: session.EventCorrupt})
	}
}

// eventsExpiredClient: a cookie session read after its idle timeout, and
// one read after its lifetime, report EventExpired with the cause.
func eventsExpiredClient(t *testing.T, c Config) {
	e, log := newEventEnv(t, c, func(o *session.Options) { o.IdleTimeout = 30 * time.Minute; o.Lifetime = 2 * time.Hour })
	idle, _ := e.req("", func(s *session.Session) { s.Set("n", 1) })
	h := e.handleAfter(log, idle)
	e.clock.Advance(31 * time.Minute)
	e.req(idle, nil)
	e.wantEvents("a session idle past the timeout", log.Take(), event{kind: session.EventExpired, handle: h, cause: session.CauseIdle})
	old, _ := e.req("", func(s *session.Session) { s.Set("n", 1) })
	for range 4 {
		e.clock.Advance(25 * time.Minute)
		old, _ = e.req(old, func(s *session.Session) { s.Set("n", 2) })
	}
	h = e.handleAfter(log, old)
	e.clock.Advance(25 * time.Minute) // 125 minutes after it was created, 25 after its last save
	e.req(old, nil)
	e.wantEvents("a session past its lifetime", log.Take(), event{kind: session.EventExpired, handle: h, cause: session.CauseLifetime})
}

// eventsExpiredServer: a record stored (Config.Put, no expiry of its own)
// with a save time past the idle timeout, and one with a creation time
// past the lifetime, report EventExpired with the cause. The times are
// hours old: a storage that touches checks twice the idle timeout.
func eventsExpiredServer(t *testing.T, c Config) {
	e, log := newEventEnv(t, c, func(o *session.Options) { o.IdleTimeout = 30 * time.Minute; o.Lifetime = 24 * time.Hour })
	now := e.clock.Now()
	ms := func(ago time.Duration) int64 { return now.Add(-ago).UnixMilli() }
	for _, tc := range []struct {
		cause   string
		created int64
		saved   int64
	}{
		{session.CauseIdle, ms(3 * time.Hour), ms(2 * time.Hour)},
		{session.CauseLifetime, ms(25 * time.Hour), ms(time.Minute)},
	} {
		id := session.New().ID()
		e.saw(id)
		c.Put(t, e.st, id, fmt.Appendf(nil, `[{"n":1},{},{"c":%d,"s":%d}]`, tc.created, tc.saved))
		e.req(id, nil)
		got := log.Take()
		e.wantEvents("a record "+tc.cause+" expired", got, event{kind: session.EventExpired, cause: tc.cause})
		if len(got) == 1 {
			check(t, got[0].Handle != "" && got[0].Handle != id, "the expired record's event has handle %q", got[0].Handle)
		}
	}
}

func eventsCorrupt(t *testing.T, c Config) {
	e, log := newEventEnv(t, c, nil)
	id := session.New().ID()
	e.saw(id)
	c.Put(t, e.st, id, []byte(`{not json`))
	e.req(id, nil)
	got := log.Take()
	e.wantEvents("a corrupt record", got, event{kind: session.EventCorrupt})
	if len(got) == 1 {
		check(t, got[0].Err != nil, "EventCorrupt carries no error")
	}
}

func eventsTooLarge(t *testing.T, c Config) {
	e, log := newEventEnv(t, c, func(o *session.Options) { o.MaxRecordSize = 200 })
	s := e.read("")
	s.Set("big", strings.Repeat("x", 400))
	_, _, err := e.st.Save(context.Background(), s)
	isError(t, "Save over MaxRecordSize", err, session.ErrTooLarge)
	got := log.Take()
	e.wantEvents("a record over the limit", got, event{kind: session.EventTooLarge})
	if len(got) == 1 {
		check(t, got[0].Err != nil, "EventTooLarge carries no error")
	}
}

// eventsRevoked: Revoke, RevokeAll and a sign-in past MaxUserSessions each
// report one EventRevoked per session they end, with the user and the
// session's handle.
func eventsRevoked(t *testing.T, c Config) {
	e, log := newEventEnv(t, c, func(o *session.Options) { o.UserKey = userKey; o.MaxUserSessions = 3 })
	ix := e.st.(session.UserIndex)
	ctx := context.Background()
	var handles []string
	for range 3 {
		handles = append(handles, e.handleAfter(log, e.login("", "alice", true)))
	}
	log.Take()
	must(t, "Revoke", ix.Revoke(ctx, "alice", handles[0]))
	e.wantEvents("Revoke", log.Take(), event{kind: session.EventRevoked, handle: handles[0], user: "alice", cause: session.CauseRevoke})
	n, err := ix.RevokeAll(ctx, "alice", handles[2])
	must(t, "RevokeAll", err)
	equal(t, "sessions RevokeAll ended", n, 1)
	e.wantEvents("RevokeAll", log.Take(), event{kind: session.EventRevoked, handle: handles[1], user: "alice", cause: session.CauseRevokeAll})
	e.login("", "alice", true)
	e.login("", "alice", true)
	log.Take()
	e.clock.Advance(time.Second)
	e.login("", "alice", true)
	got := log.Take()
	// The save ends the oldest session before it returns, and reports
	// itself last.
	e.wantEvents("a sign-in past MaxUserSessions", got,
		event{kind: session.EventRevoked, handle: handles[2], user: "alice", cause: session.CauseCap}, event{kind: session.EventCreated, user: "alice"})
}

// eventsLock: Lock of a held lock reports EventLockTimeout when it gives
// up, and EventLockWaited when it gets the lock after a wait; a lock taken
// at once reports nothing.
func eventsLock(t *testing.T, c Config) {
	e, log := newEventEnv(t, c, nil)
	lk, ok := e.locking()
	if !ok {
		return
	}
	id, _ := e.req("", func(s *session.Session) { s.Set("n", 1) })
	h := e.handleAfter(log, id)
	ctx := context.Background()
	release, err := lk.Lock(ctx, id, session.LockOptions{})
	must(t, "Lock", err)
	e.wantEvents("a free lock", log.Take())
	_, err = lk.Lock(ctx, id, session.LockOptions{Wait: 30 * time.Millisecond})
	isError(t, "Lock of a held lock", err, session.ErrLockTimeout)
	e.wantEvents("a lock that stays held", log.Take(), event{kind: session.EventLockTimeout, handle: h})
	go func() {
		time.Sleep(20 * time.Millisecond)
		release()
	}()
	again, err := lk.Lock(ctx, id, session.LockOptions{Wait: 5 * time.Second})
	must(t, "Lock of a lock released meanwhile", err)
	again()
	got := log.Take()
	e.wantEvents("a lock released while Lock waits", got, event{kind: session.EventLockWaited, handle: h})
	if len(got) == 1 {
		check(t, got[0].Duration > 0, "EventLockWaited has no duration")
	}
}
