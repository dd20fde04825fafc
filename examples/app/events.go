package main

import (
	"container/list"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The app's own observer of the storages' lifecycle events (session.Event):
// it keeps the last few events of each session, by handle, for the page's
// "Recent events of this session", and collects the events of each request
// in its context, so that a handler can tell why the cookie of this request
// named a session that is gone (revoked from another device, expired) and
// say so.

const (
	// eventsPerHandle bounds the events kept per session.
	eventsPerHandle = 8
	// maxHandles bounds the sessions the log keeps events of; past it the
	// session whose last event is the oldest is dropped first.
	maxHandles = 10_000
	// eventsShown is how many events the page lists, newest first.
	eventsShown = 5
	// eventsPerRequest bounds the events one request's slot keeps.
	eventsPerRequest = 16
)

// eventRecord is one event as the app keeps it: no error, no duration.
type eventRecord struct {
	At     time.Time
	Kind   session.EventKind
	Cause  string
	User   string
	Handle string
	Count  int // the same event this many times in a row (1: once)
}

// same reports whether e is a repeat of r, which the log counts instead of
// keeping twice.
func (r eventRecord) same(e eventRecord) bool {
	return r.Kind == e.Kind && r.Cause == e.Cause && r.User == e.User
}

// handleEvents is the history of one session, oldest first.
type handleEvents struct {
	handle string
	events []eventRecord
}

// add appends e, counting a repeat of the last event instead, and drops the
// oldest event past eventsPerHandle.
func (h *handleEvents) add(e eventRecord) {
	if n := len(h.events); n > 0 && h.events[n-1].same(e) {
		last := &h.events[n-1]
		last.At, last.Count = e.At, last.Count+1
		return
	}
	if len(h.events) == eventsPerHandle {
		copy(h.events, h.events[1:])
		h.events = h.events[:eventsPerHandle-1]
	}
	h.events = append(h.events, e)
}

// eventLog is a session.Observer that keeps the recent events of each
// session. It is safe for concurrent use, and its memory is bounded:
// eventsPerHandle events for each of at most maxHandles sessions.
type eventLog struct {
	now func() time.Time

	mu       sync.Mutex
	byHandle map[string]*list.Element // of *handleEvents
	order    *list.List               // front: the session with the newest event
	max      int
}

// newEventLog returns an empty log that times events with now (nil:
// time.Now).
func newEventLog(now func() time.Time) *eventLog {
	if now == nil {
		now = time.Now
	}
	return &eventLog{now: now, byHandle: make(map[string]*list.Element), order: list.New(), max: maxHandles}
}

// Observe records e in the slot of its request, when the request has one,
// and in the history of its session. Page loads (EventLoaded) go only to the
// request's slot: they would crowd out every other event of a session.
func (l *eventLog) Observe(ctx context.Context, e session.Event) {
	rec := eventRecord{At: l.now(), Kind: e.Kind, Cause: e.Cause, User: e.User, Handle: e.Handle, Count: 1}
	slot := slotOf(ctx)
	var from string // the session a regenerated one continues
	if slot != nil {
		if e.Kind == session.EventRegenerated {
			from = slot.loaded()
		}
		slot.add(rec)
	}
	if e.Handle == "" || e.Kind == session.EventLoaded {
		return
	}
	l.record(rec, from)
}

// record adds rec to its session's history. A session given a new id
// (EventRegenerated) starts with the history of from, the id it had.
func (l *eventLog) record(rec eventRecord, from string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.byHandle[rec.Handle]
	if !ok {
		h := &handleEvents{handle: rec.Handle}
		if prev, ok := l.byHandle[from]; ok && from != rec.Handle {
			h.events = append(h.events, prev.Value.(*handleEvents).events...)
		}
		el = l.order.PushFront(h)
		l.byHandle[rec.Handle] = el
		l.evict()
	} else {
		l.order.MoveToFront(el)
	}
	el.Value.(*handleEvents).add(rec)
}

// evict drops the sessions whose last event is oldest, past l.max.
func (l *eventLog) evict() {
	for l.order.Len() > l.max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.byHandle, oldest.Value.(*handleEvents).handle)
	}
}

// events returns the history of the session with this handle, oldest
// first; nil when the log has none.
func (l *eventLog) events(handle string) []eventRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.byHandle[handle]
	if !ok {
		return nil
	}
	return append([]eventRecord(nil), el.Value.(*handleEvents).events...)
}

// handles returns how many sessions the log keeps events of.
func (l *eventLog) handles() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byHandle)
}

// requestEvents is the slot of one request: the events the storage
// reported while serving it (its Read's first).
type requestEvents struct {
	mu     sync.Mutex
	events []eventRecord
}

func (s *requestEvents) add(e eventRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) < eventsPerRequest {
		s.events = append(s.events, e)
	}
}

// list returns the request's events so far.
func (s *requestEvents) list() []eventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]eventRecord(nil), s.events...)
}

// loaded returns the handle of the session this request loaded, "" when it
// loaded none.
func (s *requestEvents) loaded() string {
	for _, e := range s.list() {
		if e.Kind == session.EventLoaded {
			return e.Handle
		}
	}
	return ""
}

type slotKey struct{}

// slotOf returns the slot of the request whose context is ctx, nil when it
// has none.
func slotOf(ctx context.Context) *requestEvents {
	s, _ := ctx.Value(slotKey{}).(*requestEvents)
	return s
}

// thisRequest returns the events reported so far for the request whose
// context is ctx.
func thisRequest(ctx context.Context) []eventRecord {
	if s := slotOf(ctx); s != nil {
		return s.list()
	}
	return nil
}

// collect is the middleware, in front of the session middleware, that gives
// each request its slot: the storage reports the request's Read into it.
func (l *eventLog) collect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), slotKey{}, &requestEvents{})))
	})
}

// observer returns the Observer for the storage's options: this log, the
// logger (session.LogEvents: Debug for every request's events, Info for
// expiry and revokes), and more (the -metrics exporter; nil ones skipped).
func (l *eventLog) observer(logger *slog.Logger, more ...session.Observer) session.Observer {
	return session.Observers(append([]session.Observer{l, session.LogEvents(logger)}, more...)...)
}

// endedReason says why the cookie of this request named a session that is
// gone, for the page: revoked from another device, or ended by its account's
// session cap, or by a password change or "sign out everywhere" (the
// user's epoch), or expired. "" when it was not gone, or when this browser
// ended it itself (sign-out), or nothing says why.
//
// The request's read reports first, and one event: what the cookie's
// session turned out to be. Only that one counts: a revoke reported later
// in the request is of another session, ended by this one.
func (a *app) endedReason(ctx context.Context) string {
	for _, e := range thisRequest(ctx) {
		switch e.Kind {
		case session.EventExpired:
			return a.expiredMessage(e.Cause)
		case session.EventMissing:
			return a.missingMessage(e)
		case session.EventRevoked:
			// Cookie storage's read of a cookie stamped below its
			// user's epoch: when that epoch was raised is not known.
			if e.Cause == session.CauseEpoch {
				return epochMessage("")
			}
			return revokedMessage(e)
		case session.EventLoaded, session.EventCorrupt:
			return ""
		}
	}
	return ""
}

// expiredMessage explains an expiry of this cause.
func (a *app) expiredMessage(cause string) string {
	if cause == session.CauseLifetime {
		return "Your session reached its maximum age; please sign in again."
	}
	if a.cfg.idle <= 0 {
		return "Your session expired without activity."
	}
	return "Your session expired after " + humanDuration(a.cfg.idle) + " without activity."
}

// missingMessage explains a session that the cookie named and the storage
// no longer has, from the session's recorded history: the last revoke or
// sign-out decides; with neither, its times (droppedMessage).
func (a *app) missingMessage(missing eventRecord) string {
	history := a.events.events(missing.Handle)
	for i := len(history) - 1; i >= 0; i-- {
		switch e := history[i]; e.Kind {
		case session.EventDestroyed:
			return ""
		case session.EventRevoked:
			return revokedMessage(e)
		}
	}
	return a.droppedMessage(missing.At, history)
}

// droppedMessage explains a session that its store dropped by its own
// expiry (memory storage, Redis, memcached), so that Read found it missing
// rather than expired: one created more than the lifetime before at, or
// last saved more than the idle timeout before at. "" for another.
func (a *app) droppedMessage(at time.Time, history []eventRecord) string {
	for _, e := range history {
		if e.Kind == session.EventCreated && a.cfg.lifetime > 0 && !at.Before(e.At.Add(a.cfg.lifetime)) {
			return a.expiredMessage(session.CauseLifetime)
		}
	}
	if last, ok := lastActive(history); ok && a.cfg.idle > 0 && !at.Before(last.Add(a.cfg.idle)) {
		return a.expiredMessage(session.CauseIdle)
	}
	return ""
}

// lastActive returns the time of the last event of a history that was not
// a Read finding the session gone.
func lastActive(history []eventRecord) (time.Time, bool) {
	for i := len(history) - 1; i >= 0; i-- {
		if k := history[i].Kind; k != session.EventMissing && k != session.EventExpired {
			return history[i].At, true
		}
	}
	return time.Time{}, false
}

// revokedMessage explains a revoke.
func revokedMessage(e eventRecord) string {
	switch e.Cause {
	case session.CauseCap:
		return "You were signed out because this account signed in on too many devices."
	case session.CauseEpoch:
		return epochMessage(hourMinute(e.At))
	}
	return "You were signed out from another device at " + hourMinute(e.At) + " UTC."
}

// epochMessage explains a session ended by its user's epoch, raised at the
// time of day at ("": not known).
func epochMessage(at string) string {
	msg := "You were signed out because the password was changed or someone chose to sign out everywhere"
	if at != "" {
		msg += ", at " + at + " UTC"
	}
	return msg + "."
}

// hourMinute is a time of day as the messages say it, in UTC.
func hourMinute(t time.Time) string {
	return t.UTC().Format("15:04")
}

// eventLine is one line of "Recent events of this session".
type eventLine struct {
	At   string // the time of day, UTC
	Text string
}

// recentEvents returns the lines of the session with this handle, newest
// first, at most eventsShown.
func (a *app) recentEvents(handle string) []eventLine {
	if handle == "" || a.events == nil {
		return nil
	}
	history := a.events.events(handle)
	lines := make([]eventLine, 0, min(len(history), eventsShown))
	for i := len(history) - 1; i >= 0 && len(lines) < eventsShown; i-- {
		e := history[i]
		text := eventText(e)
		if e.Count > 1 {
			text += " ×" + strconv.Itoa(e.Count)
		}
		lines = append(lines, eventLine{At: e.At.UTC().Format("15:04:05"), Text: text})
	}
	return lines
}

// eventTexts are the words for the events that need no detail.
var eventTexts = map[session.EventKind]string{
	session.EventLoaded:       "loaded",
	session.EventMissing:      "not found",
	session.EventCorrupt:      "unreadable record",
	session.EventDestroyed:    "signed out (destroyed)",
	session.EventTooLarge:     "not saved: too large",
	session.EventStorageError: "storage error",
	session.EventLockWaited:   "waited for another request",
	session.EventLockTimeout:  "gave up waiting for another request",
	session.EventRefused:      "sign-in refused: too many devices",
}

// eventText says what an event did, in a few words.
func eventText(e eventRecord) string {
	switch e.Kind {
	case session.EventCreated:
		return signedIn(e.User, "created")
	case session.EventRegenerated:
		return signedIn(e.User, "new id")
	case session.EventSaved:
		if e.Cause == session.CauseRefresh {
			return "expiry extended"
		}
		return "saved"
	case session.EventExpired:
		if e.Cause == session.CauseLifetime {
			return "expired (maximum age)"
		}
		return "expired (idle)"
	case session.EventRevoked:
		return revokedText(e.Cause)
	}
	if t, ok := eventTexts[e.Kind]; ok {
		return t
	}
	return e.Kind.String()
}

// signedIn is what a save that created or renamed the session did: with a
// user it is a sign-in.
func signedIn(user, what string) string {
	if user == "" {
		return what
	}
	return "signed in as " + user + " (" + what + ")"
}

// revokedText says who ended the session.
func revokedText(cause string) string {
	switch cause {
	case session.CauseRevokeAll:
		return "signed out from another device (sign out everywhere else)"
	case session.CauseCap:
		return "signed out: too many devices"
	case session.CauseEpoch:
		return "signed out everywhere (password changed, or sign out everywhere)"
	}
	return "signed out from another device"
}
