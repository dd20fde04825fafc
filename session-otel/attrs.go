package sessionotel

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/sessionkit/sessionkit/session"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The attribute keys. None of them is ever given a session id, a session
// value, Event.Handle or Event.User.
const (
	keyStorage = attribute.Key("session.storage") // Event.Storage
	keyEvent   = attribute.Key("session.event")   // Event.Kind on session.events
	keyOutcome = attribute.Key("session.outcome") // Event.Kind on the durations and spans
	keyCause   = attribute.Key("session.cause")   // Event.Cause, when not ""
	keyMerged  = attribute.Key("session.merged")  // Event.Merged, on save spans
)

// phase is what storage work an event reports, and so which histogram and
// span it gets.
type phase uint8

const (
	phaseNone phase = iota // counted only: revokes, a revoke's storage error
	phaseRead              // Storage.Read
	phaseSave              // Storage.Save
	phaseLock              // Locking.Lock
	phaseCount
)

// phaseOf classifies an event by its kind and cause.
func phaseOf(k session.EventKind, cause string) phase {
	switch k {
	case session.EventLoaded, session.EventMissing, session.EventExpired, session.EventCorrupt:
		return phaseRead
	case session.EventCreated, session.EventSaved, session.EventRegenerated, session.EventDestroyed, session.EventTooLarge,
		session.EventRefused:
		return phaseSave
	case session.EventLockWaited, session.EventLockTimeout:
		return phaseLock
	case session.EventStorageError:
		return errorPhase(cause)
	}
	return phaseNone
}

// errorPhase is the phase of an EventStorageError with cause.
func errorPhase(cause string) phase {
	switch cause {
	case session.CauseRead:
		return phaseRead
	case session.CauseSave:
		return phaseSave
	case session.CauseLock:
		return phaseLock
	}
	return phaseNone
}

// spanName is the name of the phase's span.
func (p phase) spanName() string {
	switch p {
	case phaseRead:
		return SpanRead
	case phaseSave:
		return SpanSave
	}
	return SpanLock
}

// failed reports whether an event of kind k marks its span as an error.
func failed(k session.EventKind) bool {
	switch k {
	case session.EventStorageError, session.EventTooLarge, session.EventCorrupt, session.EventLockTimeout:
		return true
	}
	return false
}

// attrs are the precomputed attributes of the events of one storage, kind
// and cause, as the instruments' options take them, so that Observe
// allocates nothing for its metrics.
type attrs struct {
	phase  phase
	failed bool
	// event: session.events (storage, event, cause).
	event []metric.AddOption
	// storage: session.save.merges (storage).
	storage []metric.AddOption
	// outcome: the phase's histogram (storage, outcome; and cause for saves).
	outcome []metric.RecordOption
	// span: the phase's span (storage, outcome, cause), without merged.
	span []attribute.KeyValue
}

// newAttrs computes the attributes of the events of storage, kind k and
// cause.
func newAttrs(storage string, k session.EventKind, cause string) *attrs {
	a := &attrs{phase: phaseOf(k, cause), failed: failed(k)}
	st, kind := keyStorage.String(storage), k.String()
	a.event = addSet(withCause([]attribute.KeyValue{st, keyEvent.String(kind)}, cause))
	a.storage = addSet([]attribute.KeyValue{st})
	outcome := []attribute.KeyValue{st, keyOutcome.String(kind)}
	if a.phase == phaseSave {
		a.outcome = recordSet(withCause(outcome, cause))
	} else {
		a.outcome = recordSet(outcome)
	}
	a.span = withCause(outcome, cause)
	return a
}

// withCause returns kvs with session.cause appended when cause is not "",
// in a new slice.
func withCause(kvs []attribute.KeyValue, cause string) []attribute.KeyValue {
	out := append([]attribute.KeyValue(nil), kvs...)
	if cause != "" {
		out = append(out, keyCause.String(cause))
	}
	return out
}

func addSet(kvs []attribute.KeyValue) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kvs...))}
}

func recordSet(kvs []attribute.KeyValue) []metric.RecordOption {
	return []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(kvs...))}
}

// attrKey names the attributes of the events of one storage, kind and
// cause.
type attrKey struct {
	storage string
	kind    session.EventKind
	cause   string
}

// maxCached bounds the attrCache: storages, kinds and causes make a few
// dozen combinations; a third-party storage whose Kind() varied without
// end would have its attributes computed for each event past the bound
// instead of growing the cache.
const maxCached = 1024

// attrCache holds the attrs of each storage, kind and cause seen, up to
// maxCached of them, in a map that is replaced, never changed, so that get
// reads it without a lock (and without the allocation a sync.Map key would
// cost).
type attrCache struct {
	mu sync.Mutex // serializes add
	m  atomic.Pointer[map[attrKey]*attrs]
}

// get returns the attrs of the events of storage, kind k and cause.
func (c *attrCache) get(storage string, k session.EventKind, cause string) *attrs {
	key := attrKey{storage, k, cause}
	if m := c.m.Load(); m != nil {
		if a, ok := (*m)[key]; ok {
			return a
		}
	}
	return c.add(key)
}

// add computes the attrs of key and stores them, unless the cache is full.
func (c *attrCache) add(key attrKey) *attrs {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[attrKey]*attrs
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if a, ok := old[key]; ok {
		return a
	}
	a := newAttrs(key.storage, key.kind, key.cause)
	if len(old) >= maxCached {
		return a
	}
	m := make(map[attrKey]*attrs, len(old)+1)
	maps.Copy(m, old)
	m[key] = a
	c.m.Store(&m)
	return a
}
