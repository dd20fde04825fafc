package session

import (
	"fmt"
	"time"
)

// The expiry rules, shared by every storage: Lifetime counts from creation
// (meta.Created, which survives RegenerateID), IdleTimeout from the last save
// or refresh (meta.Saved, or the backend's own TTL when it can touch).

// refreshFraction throttles sliding refreshes: a read-only request refreshes
// the session once IdleTimeout/refreshFraction has passed since the last
// save, not on every request.
const refreshFraction = 10

func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func timeMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// expired reports whether a record with metadata m is past its lifetime, or
// idle since its last save for longer than the idle timeout: exactly when
// touched is false (nothing refreshes a record but a save), twice the idle
// timeout when it is true. A backend that touches (Toucher) enforces the
// idle timeout itself, with the TTL each touch extends, and its records'
// save time lags their last use: the storage rewrites a record instead of
// touching it once its save time is half the idle timeout old (see
// rewriteDue), so a record in use is never idle by its metadata for more
// than 0.6 of the timeout. Twice the timeout is then a safe backstop for a
// record whose TTL was removed (PERSIST, a migration, another program's
// write): it still ends. Records without metadata (written by Remix) have
// no known age and are not expired here; their age starts when they are
// loaded.
func (o *Options) expired(m meta, now time.Time, touched bool) bool {
	return o.expiredBy(m, now, touched) != nil
}

// errIdle and errLifetime are what expiredBy returns for a record past its
// idle timeout or its lifetime: ErrNotFound to every caller, and
// EventExpired's cause to the event.
var (
	errIdle     = fmt.Errorf("%w: idle past Options.IdleTimeout", ErrNotFound)
	errLifetime = fmt.Errorf("%w: past Options.Lifetime", ErrNotFound)
)

// expiredBy is expired with the reason: errLifetime, errIdle, or nil for a
// live record.
func (o *Options) expiredBy(m meta, now time.Time, touched bool) error {
	if o.Lifetime > 0 && m.Created > 0 && !now.Before(msTime(m.Created).Add(o.Lifetime)) {
		return errLifetime
	}
	idle := o.IdleTimeout
	if touched {
		idle *= 2
	}
	if idle > 0 && m.Saved > 0 && !now.Before(msTime(m.Saved).Add(idle)) {
		return errIdle
	}
	return nil
}

// rewriteDue reports whether a sliding refresh must rewrite the record
// rather than touch it: its last save (written) is half the idle timeout
// old, so that its metadata keeps within reach of its last use (see
// expired). A record without a save time (written by Remix) is never
// expired by its metadata, and a touch leaves it as Remix wrote it.
func (o *Options) rewriteDue(written, now time.Time) bool {
	return o.IdleTimeout > 0 && !written.IsZero() && now.Sub(written) >= o.IdleTimeout/2
}

// ttl returns how long a record of a session created at created may live
// from now: the smaller of the idle timeout and the lifetime left, 0 for no
// limit. alive is false when the lifetime is already over.
func (o *Options) ttl(created, now time.Time) (ttl time.Duration, alive bool) {
	ttl = o.IdleTimeout
	if o.Lifetime > 0 {
		left := created.Add(o.Lifetime).Sub(now)
		if left <= 0 {
			return 0, false
		}
		if ttl == 0 || left < ttl {
			ttl = left
		}
	}
	return ttl, true
}

// refreshDue reports whether an unchanged session last saved at saved should
// have its idle timeout extended now.
func (o *Options) refreshDue(saved, now time.Time) bool {
	if o.IdleTimeout <= 0 {
		return false
	}
	return saved.IsZero() || now.Sub(saved) >= o.IdleTimeout/refreshFraction
}
