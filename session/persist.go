package session

import (
	"time"

	"github.com/sessionkit/sessionkit/session/internal/wire"
)

// Persistence ("remember me") and the session's times. Whether a session is
// persistent decides how long the browser keeps its cookie: the session
// middleware gives a persistent session's cookie a Max-Age equal to
// ExpiresIn, and other sessions a cookie that lasts for the browser
// session. The choice made with Persist is saved in the record's metadata
// (the "p" key of the third element, which Remix ignores), so every storage
// keeps it.

// Persist makes the session persistent ("remember me": its cookie outlives
// the browser session, until the server would expire the session) or not
// (the cookie lasts for the browser session), overriding the default (see
// PersistByDefault). The choice is saved with the session and kept across
// RegenerateID; a change makes the session dirty, so that it is saved and
// its cookie sent again. Persist on a destroyed session does nothing: a
// session that Set or Flash starts after Destroy has made no choice.
func (s *Session) Persist(on bool) {
	s.lock()
	defer s.mu.Unlock()
	if s.destroyed {
		return
	}
	p := wire.PersistOff
	if on {
		p = wire.PersistOn
	}
	if s.persist != p {
		s.persist = p
		s.persistTouched = true
		s.changedLocked("")
	}
}

// Persistent reports whether the session is persistent: the choice made with
// Persist, in this request or an earlier one, or else the default set with
// PersistByDefault (false unless set).
func (s *Session) Persistent() bool {
	s.lock()
	defer s.mu.Unlock()
	return s.persistentLocked()
}

func (s *Session) persistentLocked() bool {
	if s.persist != 0 {
		return s.persist > 0
	}
	return s.persistDefault
}

// PersistByDefault sets whether the session is persistent when Persist was
// never called for it. The session middleware calls it with true when its
// cookie has a MaxAge, so that sessions start persistent and Persist(false)
// opts one out. It is not a change to the session: nothing is saved for it.
func (s *Session) PersistByDefault(on bool) {
	s.lock()
	defer s.mu.Unlock()
	s.persistDefault = on
}

// Created returns when the session was created, as its storage recorded it:
// the time of its first save, kept across RegenerateID. It is zero for a
// session not saved yet (a new one, or one that Set or Flash started after
// Destroy), and for a session from Restore. A session loaded from a record
// without this metadata (one Remix wrote) counts as created when it was
// loaded.
func (s *Session) Created() time.Time {
	s.lock()
	defer s.mu.Unlock()
	return s.rec.created
}

// ExpiresAt returns when the server will expire the session unless a
// request refreshes it: the earlier of Options.IdleTimeout after its last
// save or refresh, and Options.Lifetime after its creation. It is as of the
// session's load, or of its save once the storage saved it (the middleware
// saves before the response headers go out), and zero when neither limit
// applies or the session was never loaded or saved. With a backend that
// touches records (Toucher), a refresh by another process is not seen, so
// the session may live longer than ExpiresAt says, never shorter.
func (s *Session) ExpiresAt() time.Time {
	s.lock()
	defer s.mu.Unlock()
	return s.rec.expiresAt
}

// ExpiresIn returns how long the session had left, at its last load or
// save, before ExpiresAt, measured with the storage's clock (Options.Now);
// 0 when ExpiresAt is zero. Right after Storage.Save wrote or refreshed the
// session it is the time to live that the storage gave the record, which the
// session middleware sends as the Max-Age of a persistent session's cookie.
func (s *Session) ExpiresIn() time.Duration {
	s.lock()
	defer s.mu.Unlock()
	return s.rec.expiresIn
}

// setExpiryLocked records that the session, last saved or refreshed at
// saved, expires under o; now is the time of the load or save.
func (s *Session) setExpiryLocked(o *Options, saved, now time.Time) {
	if s.destroyed {
		s.rec.expiresAt, s.rec.expiresIn = time.Time{}, 0
		return
	}
	s.rec.expiresAt, s.rec.expiresIn = o.expiry(s.rec.created, saved, now)
}

// expiry returns when a session created at created, and last saved or
// refreshed at saved (zero: unknown, taken as now), expires under o, and how
// long that is after now: the earlier of its idle timeout and the end of its
// lifetime. Zero and 0 when neither applies. At a save (saved == now) the
// duration is what o.ttl gives the record.
func (o *Options) expiry(created, saved, now time.Time) (time.Time, time.Duration) {
	var at time.Time
	if o.IdleTimeout > 0 {
		if saved.IsZero() {
			saved = now
		}
		at = saved.Add(o.IdleTimeout)
	}
	if o.Lifetime > 0 && !created.IsZero() {
		if end := created.Add(o.Lifetime); at.IsZero() || end.Before(at) {
			at = end
		}
	}
	if at.IsZero() {
		return time.Time{}, 0
	}
	return at, at.Sub(now)
}
