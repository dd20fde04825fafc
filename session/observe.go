package session

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Lifecycle events: every Storage of this package (and so every storage of
// sessionkit) reports what happens to sessions to Options.Observer (or
// ClientOptions.Observer), computed where it happens, so that no event is
// lost the way a store's own notifications are (on a Redis Cluster, while
// the application is down). With no Observer the storages do no work for
// events at all.

// EventKind names a lifecycle event (Event.Kind).
type EventKind uint8

const (
	// EventLoaded: Read found the session's record, live.
	EventLoaded EventKind = iota + 1
	// EventMissing: Read was given a well-formed id whose record is not
	// there (it was destroyed, revoked, ended by its store, or never
	// existed); the request gets a new session.
	EventMissing
	// EventExpired: Read found the session's record past its idle timeout
	// or its lifetime (Cause: CauseIdle or CauseLifetime); the request
	// gets a new session.
	EventExpired
	// EventCorrupt: Read found a record (or a cookie value) that does not
	// decode; the request gets a new session.
	EventCorrupt
	// EventCreated: a save stored a new session for the first time.
	EventCreated
	// EventSaved: a save rewrote a stored session under its id (Cause:
	// CauseWrite), or only extended its time to live (CauseRefresh).
	// Merged counts the other requests' saves it merged with first.
	EventSaved
	// EventRegenerated: a save stored the session under a new id
	// (RegenerateID); Handle is the new id's.
	EventRegenerated
	// EventDestroyed: a save deleted the session (Destroy).
	EventDestroyed
	// EventRevoked: a session was ended by UserIndex.Revoke (CauseRevoke),
	// RevokeAll (CauseRevokeAll), a sign-in past Options.MaxUserSessions
	// (CauseCap), or Epochs.Bump (CauseEpoch; cookie storage reports it
	// when it loads a session its user's epoch ended). One event per
	// session ended.
	EventRevoked
	// EventTooLarge: Save refused a session over its size limit
	// (Options.MaxRecordSize, or the cookie's); Err says by how much.
	EventTooLarge
	// EventStorageError: the store failed (Cause: CauseRead, CauseSave,
	// CauseRevoke or CauseLock; Err: the error).
	EventStorageError
	// EventLockWaited: Locking.Lock got the session's lock after waiting
	// for another request to release it (Duration: the wait).
	EventLockWaited
	// EventLockTimeout: Locking.Lock gave up waiting (Duration: the wait).
	EventLockTimeout
	// EventRefused: Save refused a sign-in past Options.MaxUserSessions
	// under LimitRefuse (Cause: CauseCap; Err wraps ErrUserLimit); nothing
	// was stored.
	EventRefused
)

var eventNames = [...]string{
	EventLoaded:       "loaded",
	EventMissing:      "missing",
	EventExpired:      "expired",
	EventCorrupt:      "corrupt",
	EventCreated:      "created",
	EventSaved:        "saved",
	EventRegenerated:  "regenerated",
	EventDestroyed:    "destroyed",
	EventRevoked:      "revoked",
	EventTooLarge:     "too_large",
	EventStorageError: "storage_error",
	EventLockWaited:   "lock_waited",
	EventLockTimeout:  "lock_timeout",
	EventRefused:      "refused",
}

// String returns the event's name in snake case ("storage_error"), as
// metrics and logs label it.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "unknown"
}

// The causes an Event carries (Event.Cause).
const (
	CauseIdle      = "idle"       // EventExpired: idle past Options.IdleTimeout
	CauseLifetime  = "lifetime"   // EventExpired: past Options.Lifetime
	CauseWrite     = "write"      // EventSaved: the record was rewritten
	CauseRefresh   = "refresh"    // EventSaved: only its time to live was extended
	CauseRevoke    = "revoke"     // EventRevoked: UserIndex.Revoke
	CauseRevokeAll = "revoke_all" // EventRevoked: UserIndex.RevokeAll
	CauseCap       = "cap"        // EventRevoked, EventRefused: a sign-in past Options.MaxUserSessions
	CauseRead      = "read"       // EventStorageError: in Read
	CauseSave      = "save"       // EventStorageError: in Save
	CauseLock      = "lock"       // EventStorageError: in Locking.Lock
)

// Event is one lifecycle event. It never carries a session id (a bearer
// credential) or a session value: the session is named by its Handle, and
// the user by the value of Options.UserKey, which is an account name the
// application chose to index by.
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// Storage names the storage: "memory", "file", "redis", "memcache",
	// "postgres", "cookie", or what a third-party Backend or ClientCodec
	// reports with a Kind() string method ("backend" or "client" without
	// one).
	Storage string
	// Handle names the session as UserIndex lists it: derived one-way from
	// its id. "" for a cookie value that named no id.
	Handle string
	// User is the session's user (the value under Options.UserKey) where
	// the storage knows it; "" otherwise.
	User string
	// Cause qualifies Kind (the Cause constants); "" when Kind needs none.
	Cause string
	// Duration is how long the storage work took: the read for the Read
	// events, the whole save (every attempt) for the Save events and
	// EventStorageError, the wait for the lock events. 0 for EventRevoked.
	Duration time.Duration
	// Merged is, for the Save events, how many times the save found
	// another request's save first and merged its changes into it.
	Merged int
	// Err is the error of EventStorageError and EventTooLarge.
	Err error
}

// Observer receives lifecycle events. Observe runs in the request, on the
// request's context (which carries its trace, and whatever the application
// put there), after the storage work it reports: it must be quick and must
// not call the storage back with the session it is told about. It may be
// called from many goroutines at once.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(ctx context.Context, e Event)

// Observe calls f.
func (f ObserverFunc) Observe(ctx context.Context, e Event) { f(ctx, e) }

// Observers returns an Observer that passes every event to each of obs in
// turn (nil ones are skipped): for an application that both logs events
// (LogEvents) and exports them (package sessionotel). With none it returns
// nil.
func Observers(obs ...Observer) Observer {
	var list multiObserver
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil // no observer: the storages then do no work for events
	case 1:
		return list[0]
	}
	return list
}

type multiObserver []Observer

func (m multiObserver) Observe(ctx context.Context, e Event) {
	for _, o := range m {
		o.Observe(ctx, e)
	}
}

// LogEvents returns an Observer that writes events to l (nil:
// slog.Default()), at levels that keep a healthy application's log quiet:
// Debug for the events of every request (loaded, missing, created, saved,
// regenerated, destroyed, lock waited), Info for sessions ended by time or
// by someone (expired, revoked). The events an operator must act on
// (corrupt records, storage errors, sizes over the limit, lock timeouts)
// are left out: the storages and the session middleware already log each
// of them once, at Warn or Error, where they happen.
func LogEvents(l *slog.Logger) Observer {
	if l == nil {
		l = slog.Default()
	}
	return ObserverFunc(func(ctx context.Context, e Event) {
		level := slog.LevelDebug
		switch e.Kind {
		case EventExpired, EventRevoked, EventRefused:
			level = slog.LevelInfo
		case EventCorrupt, EventStorageError, EventTooLarge, EventLockTimeout:
			return
		}
		if !l.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{slog.String("storage", e.Storage), slog.String("session", e.Handle)}
		if e.User != "" {
			attrs = append(attrs, slog.String("user", e.User))
		}
		if e.Cause != "" {
			attrs = append(attrs, slog.String("cause", e.Cause))
		}
		if e.Duration > 0 {
			attrs = append(attrs, slog.Duration("duration", e.Duration))
		}
		if e.Merged > 0 {
			attrs = append(attrs, slog.Int("merged", e.Merged))
		}
		l.LogAttrs(ctx, level, "session: "+e.Kind.String(), attrs...)
	})
}

// kindOf is the Storage name of events for a Backend or ClientCodec v: its
// Kind() string, or fallback.
func kindOf(v any, fallback string) string {
	if k, ok := v.(interface{ Kind() string }); ok {
		if name := k.Kind(); name != "" {
			return name
		}
	}
	return fallback
}

// observed is what a storage needs to report events: the observer (nil:
// none) and the storage's name.
type observed struct {
	obs  Observer
	kind string
}

// on reports whether events are observed; a storage checks it before it
// does any work for an event, so that without an Observer events cost
// nothing.
func (o *observed) on() bool { return o.obs != nil }

// emit sends e, named after the storage, to the observer.
func (o *observed) emit(ctx context.Context, e Event) {
	e.Storage = o.kind
	o.obs.Observe(ctx, e)
}

// expiryCause is EventExpired's Cause for what expiredBy returned.
func expiryCause(err error) string {
	if errors.Is(err, errLifetime) {
		return CauseLifetime
	}
	return CauseIdle
}

// saveEventKind classifies a save that did storage work, from its snapshot
// and plan: the same rule for every storage.
func saveEventKind(snap *saveSnapshot, p *savePlan) (EventKind, string) {
	switch {
	case p.write == writeTouch || (p.write == writeRecord && p.refresh):
		return EventSaved, CauseRefresh
	case p.write == writeNone:
		return EventDestroyed, ""
	case !snap.stored:
		return EventCreated, ""
	case snap.id != snap.originalID:
		return EventRegenerated, ""
	}
	return EventSaved, CauseWrite
}
