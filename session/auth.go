package session

import "time"

// Re-authentication ("sudo mode"): the session keeps when its user last
// proved who they are (a sign-in, a password typed again), in the record's
// metadata ("a"), so that a sensitive action can ask for a recent proof.
// It survives RegenerateID; Destroy ends it with the session. The session
// middleware's RequireRecentAuth sends a request without a recent proof to
// the sign-in form (a page) or answers 401 (an API call).

// MarkAuthenticated records that the user proved who they are at t: call it
// on a sign-in and when the user types their password again. It is a change
// (the session is saved), and it survives RegenerateID. Times are kept to
// the millisecond. It does nothing on a destroyed session.
func (s *Session) MarkAuthenticated(t time.Time) {
	s.lock()
	defer s.mu.Unlock()
	if s.destroyed {
		return
	}
	s.rec.authAt = msTime(timeMS(t))
	s.authTouched = true
	s.changedLocked("")
}

// AuthenticatedAt returns when the user last proved who they are, as
// MarkAuthenticated recorded it in this request or an earlier one; zero
// when it never did, and for a destroyed session.
func (s *Session) AuthenticatedAt() time.Time {
	s.lock()
	defer s.mu.Unlock()
	if s.destroyed {
		return time.Time{}
	}
	return s.rec.authAt
}

// AuthenticatedWithin reports whether the user proved who they are within
// d before now, by the clock of the storage that read the session
// (Options.Now; time.Now for a session no storage read): false when they
// never did, and for a time in the future by more than a second, which
// clocks do not explain.
func (s *Session) AuthenticatedWithin(d time.Duration) bool {
	s.lock()
	at, now := s.rec.authAt, s.now
	destroyed := s.destroyed
	s.mu.Unlock()
	if at.IsZero() || destroyed {
		return false
	}
	if now == nil {
		now = time.Now
	}
	age := now().Sub(at)
	return age < d && age > -time.Second
}
