package sessiontest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The per-user scenarios (Options.UserKey, session.UserIndex). They run for
// a storage whose Config.UserIndex says it keeps a per-user index; every
// other server-side storage runs userNoIndex instead, which checks that it
// does not claim one.
var userScenarios = []scenario{
	{name: "per user: a login indexes the new id and not the old one", userIndex: true, serverSide: true, run: userLogin},
	{name: "per user: changing the user moves the session", userIndex: true, serverSide: true, run: userSwitch},
	{name: "per user: logout and Destroy remove the session", userIndex: true, serverSide: true, run: userLogout},
	{name: "per user: expired sessions are never listed", userIndex: true, serverSide: true, run: userExpired},
	{name: "per user: idle sessions are never listed", userIndex: true, serverSide: true, clock: true, run: userIdle},
	{name: "per user: newest LastSeen first, Created kept across regeneration", userIndex: true, serverSide: true, run: userOrder},
	{name: "per user: Revoke deletes the record and the next request is anonymous", userIndex: true, serverSide: true, run: userRevoke},
	{name: "per user: RevokeAll ends every session but the excepted ones", userIndex: true, serverSide: true, run: userRevokeAll},
	{name: "per user: a save racing with a revoke cannot bring the session back", userIndex: true, serverSide: true, run: userRevokeRace},
	{name: "per user: handles are derived one-way and stable", userIndex: true, serverSide: true, run: userHandles},
	{name: "per user: without an index, UserKey offers no session.UserIndex", noUserIndex: true, serverSide: true, run: userNoIndex},
}

// userKey is the session value the per-user scenarios sign in with.
const userKey = "user"

func newUserEnv(t *testing.T, c Config, configure func(*session.Options)) (*env, session.UserIndex) {
	t.Helper()
	e := newEnv(t, c, func(o *session.Options) {
		o.UserKey = userKey
		if configure != nil {
			configure(o)
		}
	})
	ix, ok := e.st.(session.UserIndex)
	if !ok {
		t.Fatal("Config.UserIndex is true, but the storage does not implement session.UserIndex with Options.UserKey set")
	}
	return e, ix
}

// userNoIndex: a storage without a per-user index does not offer
// session.UserIndex when UserKey is set, and a login still works.
func userNoIndex(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.UserKey = userKey })
	if _, ok := e.st.(session.UserIndex); ok {
		t.Fatal("the storage implements session.UserIndex: set Config.UserIndex so the per-user scenarios run")
	}
	cookie := e.login("", "ada", false)
	if got := e.userOf(cookie); got != "ada" {
		t.Errorf("after a login the session's user is %q, want ada", got)
	}
}

// login signs cookie's session in as user (a new session for ""), with
// RegenerateID(true) when regenerate, and returns the new cookie.
func (e *env) login(cookie, user string, regenerate bool) string {
	e.t.Helper()
	v, set := e.req(cookie, func(s *session.Session) {
		if regenerate {
			s.RegenerateID(true)
		}
		s.Set(userKey, user)
	})
	if !set && cookie == "" {
		e.t.Fatal("a login sent no Set-Cookie")
	}
	return v
}

// handle returns the handle of the session cookie loads.
func (e *env) handle(cookie string) string {
	e.t.Helper()
	s := e.read(cookie)
	if s.ID() != cookie {
		e.t.Fatalf("the session did not load")
	}
	h := s.Handle()
	if h == "" {
		e.t.Fatal("a stored session has no handle")
	}
	return h
}

// userOf returns the user of the session cookie loads ("" when anonymous).
func (e *env) userOf(cookie string) string {
	e.t.Helper()
	u, _ := e.read(cookie).Get(userKey).(string)
	return u
}

func (e *env) sessions(ix session.UserIndex, user string) []session.SessionInfo {
	e.t.Helper()
	list, err := ix.Sessions(context.Background(), user)
	if err != nil {
		e.t.Fatalf("Sessions(%q): %v", user, err)
	}
	for i, s := range list {
		if s.Handle == "" {
			e.t.Errorf("Sessions(%q)[%d] has no handle", user, i)
		}
	}
	return list
}

// handles returns the handles Sessions lists for user, sorted.
func (e *env) handles(ix session.UserIndex, user string) []string {
	e.t.Helper()
	var hs []string
	for _, s := range e.sessions(ix, user) {
		hs = append(hs, s.Handle)
	}
	slices.Sort(hs)
	return hs
}

func (e *env) wantHandles(ix session.UserIndex, user string, want ...string) {
	e.t.Helper()
	slices.Sort(want)
	if got := e.handles(ix, user); !slices.Equal(got, want) {
		e.t.Errorf("Sessions(%q) handles = %q, want %q", user, got, want)
	}
}

func userLogin(t *testing.T, c Config) {
	for _, regenerate := range []bool{true, false} {
		e, ix := newUserEnv(t, c, nil)
		anon, _ := e.countReq("", nil)
		anonHandle := e.handle(anon)
		e.wantHandles(ix, "alice")
		in := e.login(anon, "alice", regenerate)
		if regenerate == (in == anon) {
			t.Fatalf("regenerate=%v: the id after the login is %v", regenerate, map[bool]string{true: "the same", false: "new"}[in == anon])
		}
		h := e.handle(in)
		e.wantHandles(ix, "alice", h)
		if regenerate {
			if h == anonHandle {
				t.Error("the regenerated session kept the old handle")
			}
			if c.Get != nil {
				if _, ok := c.Get(t, e.st, anon); ok {
					t.Error("the pre-login record is still stored")
				}
			}
		}
		e.wantHandles(ix, "bob")
		e.wantHandles(ix, "")
		// A second device.
		other := e.login("", "alice", false)
		e.wantHandles(ix, "alice", h, e.handle(other))
		// A save that does not change the user keeps the listing.
		e.countReq(in, nil)
		e.wantHandles(ix, "alice", h, e.handle(other))
	}
}

func userSwitch(t *testing.T, c Config) {
	for _, regenerate := range []bool{true, false} {
		e, ix := newUserEnv(t, c, nil)
		in := e.login("", "alice", false)
		switched := e.login(in, "bob", regenerate)
		e.wantHandles(ix, "alice")
		e.wantHandles(ix, "bob", e.handle(switched))
		// A value of another type names no user.
		e.req(switched, func(s *session.Session) { s.Set(userKey, 42) })
		e.wantHandles(ix, "bob")
	}
}

func userLogout(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	a := e.login("", "alice", true)
	b := e.login("", "alice", true)
	d := e.login("", "alice", true)
	ha, hb := e.handle(a), e.handle(b)
	// Logout by removing the user, keeping the session.
	e.req(a, func(s *session.Session) { s.Unset(userKey) })
	if e.userOf(a) != "" {
		t.Fatal("the user is still set after Unset")
	}
	e.wantHandles(ix, "alice", hb, e.handle(d))
	// Logout by Destroy.
	if v, set := e.req(b, func(s *session.Session) { s.Destroy() }); !set || v != "" {
		t.Fatalf("Destroy: (%q, %v)", v, set)
	}
	e.wantHandles(ix, "alice", e.handle(d))
	// Destroy, then a "signed out" flash: a new anonymous session.
	v, _ := e.req(d, func(s *session.Session) { s.Destroy(); s.Flash("msg", "bye") })
	if v == d || e.userOf(v) != "" {
		t.Fatal("the flash after Destroy did not start a new anonymous session")
	}
	e.wantHandles(ix, "alice")
	// Revoking what is no longer listed ends nothing.
	ctx := context.Background()
	if err := ix.Revoke(ctx, "alice", ha); err != nil {
		t.Errorf("Revoke of a signed-out session: %v", err)
	}
	if e.handle(a) != ha {
		t.Error("the signed-out session's handle changed")
	}
}

func userExpired(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, func(o *session.Options) { o.Lifetime = time.Hour })
	old := e.login("", "alice", true)
	e.clock.Advance(40 * time.Minute)
	young := e.login("", "alice", true)
	e.wantHandles(ix, "alice", e.handle(old), e.handle(young))
	e.clock.Advance(30 * time.Minute) // old is past its lifetime
	e.wantHandles(ix, "alice", e.handle(young))
	n, err := ix.RevokeAll(context.Background(), "alice", e.handle(young))
	if err != nil || n != 0 && c.ClockControlsExpiry {
		t.Errorf("RevokeAll of expired sessions = %d, %v; want 0 (they had ended)", n, err)
	}
	e.clock.Advance(time.Hour)
	e.wantHandles(ix, "alice")
}

func userIdle(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, func(o *session.Options) { o.IdleTimeout = time.Hour })
	idle := e.login("", "alice", true)
	active := e.login("", "alice", true)
	hActive := e.handle(active)
	for range 3 {
		e.clock.Advance(30 * time.Minute)
		e.req(active, nil) // a read-only request refreshes it
	}
	e.wantHandles(ix, "alice", hActive)
	if s := e.read(idle); s.Has(userKey) {
		t.Error("the idle session still loads")
	}
}

func userOrder(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	t0 := e.clock.Now()
	a := e.login("", "alice", true)
	e.clock.Advance(time.Minute)
	b := e.login("", "alice", true)
	e.clock.Advance(time.Minute)
	d := e.login("", "alice", true)
	e.clock.Advance(time.Minute)
	e.countReq(a, nil) // a is seen last
	list := e.sessions(ix, "alice")
	want := []string{e.handle(a), e.handle(d), e.handle(b)}
	var got []string
	for _, s := range list {
		got = append(got, s.Handle)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order = %q, want %q (newest LastSeen first)", got, want)
	}
	if !list[0].LastSeen.Equal(t0.Add(3*time.Minute)) || !list[1].LastSeen.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("LastSeen = %v, %v; want %v, %v", list[0].LastSeen, list[1].LastSeen, t0.Add(3*time.Minute), t0.Add(2*time.Minute))
	}
	if !list[0].Created.Equal(t0) || !list[1].Created.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("Created = %v, %v; want %v, %v", list[0].Created, list[1].Created, t0, t0.Add(2*time.Minute))
	}
	// Regeneration keeps Created, gives a new handle, moves LastSeen.
	e.clock.Advance(time.Minute)
	a2 := e.login(a, "alice", true)
	list = e.sessions(ix, "alice")
	if len(list) != 3 || list[0].Handle != e.handle(a2) || list[0].Handle == want[0] {
		t.Fatalf("after regeneration: %+v, want the new handle first", list)
	}
	if !list[0].Created.Equal(t0) || !list[0].LastSeen.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("after regeneration: Created %v, LastSeen %v; want %v, %v", list[0].Created, list[0].LastSeen, t0, t0.Add(4*time.Minute))
	}
}

func userRevoke(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	ctx := context.Background()
	a := e.login("", "alice", true)
	b := e.login("", "alice", true)
	bob := e.login("", "bob", true)
	ha, hb, hbob := e.handle(a), e.handle(b), e.handle(bob)
	if err := ix.Revoke(ctx, "alice", hb); err != nil {
		t.Fatal(err)
	}
	e.wantHandles(ix, "alice", ha)
	// The next request with b's cookie is anonymous, and stays so.
	v, _ := e.countReq(b, nil)
	if v == b || e.userOf(v) != "" {
		t.Errorf("the revoked session's next request: cookie kept %v, user %q", v == b, e.userOf(v))
	}
	if c.Get != nil {
		if _, ok := c.Get(t, e.st, b); ok {
			t.Error("the revoked session's record is still stored")
		}
	}
	// Another user's handle cannot be revoked through alice; unknown
	// handles end nothing.
	for _, h := range []string{hbob, "unknown", "", hb} {
		if err := ix.Revoke(ctx, "alice", h); err != nil {
			t.Errorf("Revoke(alice, %q): %v", h, err)
		}
	}
	if err := ix.Revoke(ctx, "", ha); err != nil {
		t.Errorf("Revoke of user \"\": %v", err)
	}
	if e.userOf(bob) != "bob" || e.userOf(a) != "alice" {
		t.Error("a Revoke through alice of another handle ended a session")
	}
	e.wantHandles(ix, "alice", ha)
	e.wantHandles(ix, "bob", hbob)
}

func userRevokeAll(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	ctx := context.Background()
	var cookies []string
	for range 4 {
		cookies = append(cookies, e.login("", "alice", true))
	}
	bob := e.login("", "bob", true)
	keep := e.handle(cookies[0])
	n, err := ix.RevokeAll(ctx, "alice", keep, e.handle(bob))
	if err != nil || n != 3 {
		t.Fatalf("RevokeAll = %d, %v; want 3", n, err)
	}
	e.wantHandles(ix, "alice", keep)
	for _, c := range cookies[1:] {
		if u := e.userOf(c); u != "" {
			t.Errorf("a revoked session still loads as %q", u)
		}
	}
	if e.userOf(cookies[0]) != "alice" || e.userOf(bob) != "bob" {
		t.Error("RevokeAll ended a session it had to keep")
	}
	if n, err := ix.RevokeAll(ctx, "alice"); err != nil || n != 1 {
		t.Errorf("RevokeAll without exceptions = %d, %v; want 1", n, err)
	}
	e.wantHandles(ix, "alice")
	if n, err := ix.RevokeAll(ctx, "nobody"); err != nil || n != 0 {
		t.Errorf("RevokeAll of a user without sessions = %d, %v", n, err)
	}
}

// userRevokeRace: a request loads a signed-in session; a revoke and that
// request's save (a plain change, RegenerateID(false), or RegenerateID(true)
// that writes the data under a new id) run at the same time. Whichever
// comes first, the user has no session afterwards and neither the old nor
// the new cookie loads signed in.
func userRevokeRace(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	ctx := context.Background()
	rounds := 60
	if testing.Short() {
		rounds = 15
	}
	for i := range rounds {
		cookie := e.login("", "alice", true)
		h := e.handle(cookie)
		s := e.read(cookie)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var newCookie string
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			var err error
			if i%2 == 0 {
				_, err = ix.RevokeAll(ctx, "alice")
			} else {
				err = ix.Revoke(ctx, "alice", h)
			}
			if err != nil {
				t.Errorf("revoke: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			switch i % 3 {
			case 1:
				s.RegenerateID(false)
			case 2:
				s.RegenerateID(true)
			}
			s.Set("n", i)
			v, set, err := e.st.Save(ctx, s)
			if err != nil {
				t.Errorf("save: %v", err)
			}
			if set {
				newCookie = v
			}
		}()
		close(start)
		wg.Wait()
		e.saw(s.ID(), newCookie)
		if i%2 == 0 {
			if list := e.sessions(ix, "alice"); len(list) != 0 {
				t.Fatalf("round %d: after RevokeAll, alice still has %d sessions", i, len(list))
			}
		}
		for _, ck := range []string{cookie, newCookie} {
			if ck == "" {
				continue
			}
			if u := e.userOf(ck); u != "" {
				if i%2 == 0 || ck == cookie {
					t.Fatalf("round %d (regenerate %v): a cookie loads signed in as %q after the revoke", i, i%3, u)
				}
				// Revoke(handle) after a regeneration that was saved
				// first names the old id: the session moved on under a
				// new handle, which is listed.
				if hs := e.handles(ix, "alice"); !slices.Contains(hs, e.handle(ck)) {
					t.Fatalf("round %d: a live session of alice is not listed", i)
				}
			}
		}
		// Start the next round with no session of alice.
		if _, err := ix.RevokeAll(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	}
}

func userHandles(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	seen := map[string]bool{}
	for range 5 {
		ck := e.login("", "alice", true)
		h := e.handle(ck)
		if h != e.handle(ck) {
			t.Fatal("the handle of one id changed between reads")
		}
		if strings.Contains(h, ck) || strings.Contains(ck, h) || len(h) < 16 {
			t.Errorf("handle %q reveals or is too short for id %q", h, ck)
		}
		if seen[h] {
			t.Errorf("two sessions share the handle %q", h)
		}
		seen[h] = true
	}
	for _, s := range e.sessions(ix, "alice") {
		if !seen[s.Handle] {
			t.Errorf("Sessions lists a handle %q that no session has", s.Handle)
		}
	}
	if h := session.New().Handle(); h != "" {
		t.Errorf("a session never saved has the handle %q, want \"\"", h)
	}
	// Ids never reach logs: the env checks every id it saw at the end.
}

func init() { scenarios = append(scenarios, userScenarios...) }
