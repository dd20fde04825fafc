package sessiontest

import (
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
		if s.Persistent() {
			t.Error("a new session is persistent without PersistByDefault")
		}
		s.Persist(true)
		if !s.Persistent() || !s.State().Dirty {
			t.Errorf("after Persist(true): Persistent %v, Dirty %v; want both", s.Persistent(), s.State().Dirty)
		}
	})
	if !set {
		t.Fatal("Persist(true) on a new session sent no Set-Cookie")
	}
	c2, set := e.req(c1, func(s *session.Session) {
		if !s.Persistent() {
			t.Error("Persist(true) was not kept by the next request")
		}
		s.Persist(true)
		if s.State().Dirty {
			t.Error("Persist(true) on a persistent session made it dirty")
		}
	})
	if set {
		t.Error("Persist repeating the saved choice sent a Set-Cookie")
	}
	c3, _ := e.req(c2, func(s *session.Session) { s.RegenerateID(true) })
	c4, set := e.req(c3, func(s *session.Session) {
		if !s.Persistent() {
			t.Error("the persistence choice was lost by RegenerateID")
		}
		s.PersistByDefault(true)
		s.Persist(false)
		if s.Persistent() || !s.State().Dirty {
			t.Errorf("after Persist(false): Persistent %v, Dirty %v", s.Persistent(), s.State().Dirty)
		}
	})
	if !set {
		t.Fatal("Persist(false) on a persistent session sent no Set-Cookie")
	}
	c5, _ := e.req(c4, func(s *session.Session) {
		if s.Persistent() {
			t.Error("Persist(false) was not kept")
		}
		s.PersistByDefault(true)
		if s.Persistent() || s.State().Dirty {
			t.Errorf("PersistByDefault(true) after Persist(false): Persistent %v, Dirty %v; want false, false", s.Persistent(), s.State().Dirty)
		}
		s.Persist(true)
	})
	e.req(c5, func(s *session.Session) {
		if !s.Persistent() {
			t.Fatal("Persist(true) after Persist(false) was not kept")
		}
		s.Destroy()
		s.Persist(true) // no effect on a destroyed session
		s.Set("after", "logout")
		if s.Persistent() {
			t.Error("a session started by Set after Destroy kept the old choice")
		}
	})
	// Without a choice, the default is what the request says.
	c6, _ := e.countReq("", nil)
	e.req(c6, func(s *session.Session) {
		if s.Persistent() {
			t.Error("a session without a choice is persistent")
		}
		s.PersistByDefault(true)
		if !s.Persistent() || s.State().Dirty {
			t.Errorf("PersistByDefault(true): Persistent %v, Dirty %v; want true, false", s.Persistent(), s.State().Dirty)
		}
	})
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
		if got := s.ExpiresIn(); got != loadedLeft {
			t.Errorf("at +%v, ExpiresIn as loaded = %v, want %v", e.clock.Now().Sub(start), got, loadedLeft)
		}
		v, set := e.save(s)
		if !set {
			v = value
		}
		return v, s, set
	}

	e.clock.Advance(6 * time.Minute)
	cookie, s, set := refresh(cookie, 4*time.Minute)
	if !set {
		t.Fatal("a sliding refresh of a persistent session sent no Set-Cookie")
	}
	if c.ServerSide && cookie != s.ID() {
		t.Errorf("refresh cookie %q, want the session id", cookie)
	}
	if got, at := s.ExpiresIn(), s.ExpiresAt(); got != 10*time.Minute || !at.Equal(e.clock.Now().Add(10*time.Minute)) {
		t.Errorf("after the refresh: ExpiresIn %v, ExpiresAt %v; want 10m0s, %v", got, at, e.clock.Now().Add(10*time.Minute))
	}
	if _, _, set := refresh(plain, 4*time.Minute); set == c.ServerSide {
		t.Errorf("refresh of a session that is not persistent: Set-Cookie %v, want %v", set, !c.ServerSide)
	}

	// Throttled: under a tenth of the idle timeout since the refresh.
	e.clock.Advance(30 * time.Second)
	if _, _, set := refresh(cookie, 9*time.Minute+30*time.Second); set {
		t.Error("a request 30 s after a refresh (under a tenth of the idle timeout) sent a Set-Cookie")
	}

	// Refreshed every 9 minutes up to 51.5 minutes after creation (the
	// first 9.5 minutes after the last refresh), then 3.5 minutes later the
	// lifetime, 5 minutes away, is what is left.
	for i := range 5 {
		e.clock.Advance(9 * time.Minute)
		left := time.Minute
		if i == 0 {
			left = 30 * time.Second
		}
		if cookie, _, set = refresh(cookie, left); !set {
			t.Fatalf("no Set-Cookie for the refresh at +%v", e.clock.Now().Sub(start))
		}
	}
	e.clock.Advance(3*time.Minute + 30*time.Second)
	cookie, s, set = refresh(cookie, 5*time.Minute)
	if !set || s.ExpiresIn() != 5*time.Minute || !s.ExpiresAt().Equal(start.Add(time.Hour)) {
		t.Errorf("refresh 55 min after creation: Set-Cookie %v, ExpiresIn %v, ExpiresAt %v; want true, 5m0s (the lifetime left), %v",
			set, s.ExpiresIn(), s.ExpiresAt(), start.Add(time.Hour))
	}
	if s.Get("k") == nil {
		t.Error("the persistent session lost its data")
	}
	_ = cookie
}

// sessionTimes: Created is the first save, kept across RegenerateID;
// ExpiresAt and ExpiresIn are as of the load or the save.
func sessionTimes(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute; o.Lifetime = time.Hour })
	start := e.clock.Now()
	s := e.read("")
	if !s.Created().IsZero() || !s.ExpiresAt().IsZero() || s.ExpiresIn() != 0 {
		t.Errorf("new session: Created %v, ExpiresAt %v, ExpiresIn %v; want zero", s.Created(), s.ExpiresAt(), s.ExpiresIn())
	}
	s.Set("k", 1)
	cookie, _ := e.save(s)
	if !s.Created().Equal(start) || s.ExpiresIn() != 10*time.Minute || !s.ExpiresAt().Equal(start.Add(10*time.Minute)) {
		t.Errorf("saved: Created %v, ExpiresIn %v, ExpiresAt %v; want %v, 10m0s, +10m", s.Created(), s.ExpiresIn(), s.ExpiresAt(), start)
	}
	e.clock.Advance(50 * time.Second) // under a tenth: nothing saved
	s = e.read(cookie)
	if !s.Created().Equal(start) || s.ExpiresIn() != 9*time.Minute+10*time.Second || !s.ExpiresAt().Equal(start.Add(10*time.Minute)) {
		t.Errorf("loaded: Created %v, ExpiresIn %v, ExpiresAt %v; want %v, 9m10s, +10m", s.Created(), s.ExpiresIn(), s.ExpiresAt(), start)
	}
	s.RegenerateID(true)
	cookie, _ = e.save(s)
	e.clock.Advance(30 * time.Second)
	s = e.read(cookie)
	if !s.Created().Equal(start) || s.ExpiresIn() != 9*time.Minute+30*time.Second {
		t.Errorf("regenerated: Created %v, ExpiresIn %v; want %v, 9m30s", s.Created(), s.ExpiresIn(), start)
	}
	s.Destroy()
	e.save(s)
	if !s.ExpiresAt().IsZero() || s.ExpiresIn() != 0 {
		t.Errorf("destroyed: ExpiresAt %v, ExpiresIn %v; want zero", s.ExpiresAt(), s.ExpiresIn())
	}
}
