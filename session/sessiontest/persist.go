package sessiontest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// persistKept: Persist is a change that is saved, kept across requests and
// RegenerateID, and beats PersistByDefault; a session that Set starts after
// Destroy has made no choice.
func persistKept(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	c1, set := e.req("", func(s *session.Session) {
		check(t, !s.Persistent(), "a new session is persistent without PersistByDefault")
		s.Persist(true)
		equal(t, "after Persist(true)", persistenceOf(s), persistence{Persistent: true, Dirty: true})
	})
	require(t, set, "Persist(true) on a new session sent no Set-Cookie")
	c2, set := e.req(c1, func(s *session.Session) {
		check(t, s.Persistent(), "Persist(true) was not kept by the next request")
		s.Persist(true)
		check(t, !s.State().Dirty, "Persist(true) on a persistent session made it dirty")
	})
	check(t, !set, "Persist repeating the saved choice sent a Set-Cookie")
	c3, _ := e.req(c2, func(s *session.Session) { s.RegenerateID(true) })
	c4, set := e.req(c3, func(s *session.Session) {
		check(t, s.Persistent(), "the persistence choice was lost by RegenerateID")
		s.PersistByDefault(true)
		s.Persist(false)
		equal(t, "after Persist(false)", persistenceOf(s), persistence{Persistent: false, Dirty: true})
	})
	require(t, set, "Persist(false) on a persistent session sent no Set-Cookie")
	c5, _ := e.req(c4, func(s *session.Session) {
		check(t, !s.Persistent(), "Persist(false) was not kept")
		s.PersistByDefault(true)
		equal(t, "PersistByDefault(true) after Persist(false)", persistenceOf(s), persistence{Persistent: false, Dirty: false})
		s.Persist(true)
	})
	e.req(c5, func(s *session.Session) {
		require(t, s.Persistent(), "Persist(true) after Persist(false) was not kept")
		s.Destroy()
		s.Persist(true) // no effect on a destroyed session
		s.Set("after", "logout")
		check(t, !s.Persistent(), "a session started by Set after Destroy kept the old choice")
	})
	// Without a choice, the default is what the request says.
	c6, _ := e.countReq("", nil)
	e.req(c6, func(s *session.Session) {
		check(t, !s.Persistent(), "a session without a choice is persistent")
		s.PersistByDefault(true)
		equal(t, "PersistByDefault(true)", persistenceOf(s), persistence{Persistent: true, Dirty: false})
	})
}

// persistence is what persistKept checks of a session.
type persistence struct{ Persistent, Dirty bool }

func persistenceOf(s *session.Session) persistence {
	return persistence{Persistent: s.Persistent(), Dirty: s.State().Dirty}
}

// persistRefreshSendsCookie: a persistent session's cookie carries the time
// left, so every sliding refresh, at the throttled cadence, sends it again
// (server-side storages too), with ExpiresIn the new time left, capped by the
// lifetime. A non-persistent session's refresh still sends no cookie from a
// server-side storage.
func persistRefreshSendsCookie(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute; o.Lifetime = time.Hour })
	start := e.clock.Now()
	cookie, _ := e.req("", func(s *session.Session) { s.Persist(true); s.Set("k", 1) })
	plain, _ := e.countReq("", nil)

	// refresh reads the session, checks ExpiresIn as loaded, saves it and
	// returns whether a Set-Cookie went out.
	refresh := func(value string, loadedLeft time.Duration) (string, *session.Session, bool) {
		t.Helper()
		s := e.read(value)
		equal(t, fmt.Sprintf("at +%v, ExpiresIn as loaded", e.clock.Now().Sub(start)), s.ExpiresIn(), loadedLeft)
		v, set := e.save(s)
		if !set {
			v = value
		}
		return v, s, set
	}

	e.clock.Advance(6 * time.Minute)
	cookie, s, set := refresh(cookie, 4*time.Minute)
	require(t, set, "a sliding refresh of a persistent session sent no Set-Cookie")
	if c.ServerSide {
		equal(t, "refresh cookie (the session id)", cookie, s.ID())
	}
	equal(t, "after the refresh: ExpiresIn", s.ExpiresIn(), 10*time.Minute)
	sameTime(t, "after the refresh: ExpiresAt", s.ExpiresAt(), e.clock.Now().Add(10*time.Minute))
	_, _, set = refresh(plain, 4*time.Minute)
	equal(t, "refresh of a session that is not persistent: Set-Cookie", set, !c.ServerSide)

	// Throttled: under a tenth of the idle timeout since the refresh.
	e.clock.Advance(30 * time.Second)
	_, _, set = refresh(cookie, 9*time.Minute+30*time.Second)
	check(t, !set, "a request 30 s after a refresh (under a tenth of the idle timeout) sent a Set-Cookie")

	// Refreshed every 9 minutes up to 51.5 minutes after creation (the
	// first 9.5 minutes after the last refresh), then 3.5 minutes later the
	// lifetime, 5 minutes away, is what is left.
	for i := range 5 {
		e.clock.Advance(9 * time.Minute)
		left := time.Minute
		if i == 0 {
			left = 30 * time.Second
		}
		cookie, _, set = refresh(cookie, left)
		require(t, set, "no Set-Cookie for the refresh at +%v", e.clock.Now().Sub(start))
	}
	e.clock.Advance(3*time.Minute + 30*time.Second)
	_, s, set = refresh(cookie, 5*time.Minute)
	check(t, set, "the refresh 55 min after creation sent no Set-Cookie")
	equal(t, "refresh 55 min after creation: ExpiresIn (the lifetime left)", s.ExpiresIn(), 5*time.Minute)
	sameTime(t, "refresh 55 min after creation: ExpiresAt (the lifetime's end)", s.ExpiresAt(), start.Add(time.Hour))
	check(t, s.Get("k") != nil, "the persistent session lost its data")
}

// sessionTimes: Created is the first save, kept across RegenerateID;
// ExpiresAt and ExpiresIn are as of the load or the save.
func sessionTimes(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute; o.Lifetime = time.Hour })
	start := e.clock.Now()
	s := e.read("")
	check(t, s.Created().IsZero(), "new session: Created %v, want zero", s.Created())
	check(t, s.ExpiresAt().IsZero(), "new session: ExpiresAt %v, want zero", s.ExpiresAt())
	equal(t, "new session: ExpiresIn", s.ExpiresIn(), 0)
	s.Set("k", 1)
	cookie, _ := e.save(s)
	sameTime(t, "saved: Created", s.Created(), start)
	equal(t, "saved: ExpiresIn", s.ExpiresIn(), 10*time.Minute)
	sameTime(t, "saved: ExpiresAt", s.ExpiresAt(), start.Add(10*time.Minute))
	e.clock.Advance(50 * time.Second) // under a tenth: nothing saved
	s = e.read(cookie)
	sameTime(t, "loaded: Created", s.Created(), start)
	equal(t, "loaded: ExpiresIn", s.ExpiresIn(), 9*time.Minute+10*time.Second)
	sameTime(t, "loaded: ExpiresAt", s.ExpiresAt(), start.Add(10*time.Minute))
	s.RegenerateID(true)
	cookie, _ = e.save(s)
	e.clock.Advance(30 * time.Second)
	s = e.read(cookie)
	sameTime(t, "regenerated: Created", s.Created(), start)
	equal(t, "regenerated: ExpiresIn", s.ExpiresIn(), 9*time.Minute+30*time.Second)
	s.Destroy()
	e.save(s)
	check(t, s.ExpiresAt().IsZero(), "destroyed: ExpiresAt %v, want zero", s.ExpiresAt())
	equal(t, "destroyed: ExpiresIn", s.ExpiresIn(), 0)
}
