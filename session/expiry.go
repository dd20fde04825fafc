package session

import "time"

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
// past its idle timeout when checkIdle (the backend does not enforce a TTL
// that touches extend). Records without metadata (written by Remix) have no
// known age and are not expired here; their age starts when they are loaded.
func (o *Options) expired(m meta, now time.Time, checkIdle bool) bool {
	if o.Lifetime > 0 && m.Created > 0 && !now.Before(msTime(m.Created).Add(o.Lifetime)) {
		return true
	}
	if checkIdle && o.IdleTimeout > 0 && m.Saved > 0 && !now.Before(msTime(m.Saved).Add(o.IdleTimeout)) {
		return true
	}
	return false
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
