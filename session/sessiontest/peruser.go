package sessiontest

import (
	"context"
	"fmt"
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
	{name: "per user: the cap counts only sessions whose records are there", userIndex: true, serverSide: true, put: true, run: userCapLive},
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
	require(t, ok, "Config.UserIndex is true, but the storage does not implement session.UserIndex with Options.UserKey set")
	return e, ix
}

// userNoIndex: a storage without a per-user index does not offer
// session.UserIndex when UserKey is set, and a login still works.
func userNoIndex(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.UserKey = userKey })
	_, ok := e.st.(session.UserIndex)
	require(t, !ok, "the storage implements session.UserIndex: set Config.UserIndex so the per-user scenarios run")
	cookie := e.login("", "ada", false)
	equal(t, "the session's user after a login", e.userOf(cookie), "ada")
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
	require(e.t, set || cookie != "", "a login sent no Set-Cookie")
	return v
}

// handle returns the handle of the session cookie loads.
func (e *env) handle(cookie string) string {
	e.t.Helper()
	s := e.read(cookie)
	require(e.t, s.ID() == cookie, "the session did not load")
	h := s.Handle()
	require(e.t, h != "", "a stored session has no handle")
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
	must(e.t, fmt.Sprintf("Sessions(%q)", user), err)
	for i, s := range list {
		check(e.t, s.Handle != "", "Sessions(%q)[%d] has no handle", user, i)
	}
	return list
}

// handlesOf returns the handles in list, in its order.
func handlesOf(list []session.SessionInfo) []string {
	var hs []string
	for _, s := range list {
		hs = append(hs, s.Handle)
	}
	return hs
}

// handles returns the handles Sessions lists for user, sorted.
func (e *env) handles(ix session.UserIndex, user string) []string {
	e.t.Helper()
	hs := handlesOf(e.sessions(ix, user))
	slices.Sort(hs)
	return hs
}

func (e *env) wantHandles(ix session.UserIndex, user string, want ...string) {
	e.t.Helper()
	slices.Sort(want)
	got := e.handles(ix, user)
	check(e.t, slices.Equal(got, want), "Sessions(%q) handles = %q, want %q", user, got, want)
}

func userLogin(t *testing.T, c Config) {
	for _, regenerate := range []bool{true, false} {
		loginIndexed(t, c, regenerate)
	}
}

// loginIndexed plays userLogin, with RegenerateID(true) at the login or
// without.
func loginIndexed(t *testing.T, c Config, regenerate bool) {
	e, ix := newUserEnv(t, c, nil)
	anon, _ := e.countReq("", nil)
	anonHandle := e.handle(anon)
	e.wantHandles(ix, "alice")
	in := e.login(anon, "alice", regenerate)
	require(t, regenerate != (in == anon), "regenerate=%v: the id after the login is %v", regenerate, map[bool]string{true: "the same", false: "new"}[in == anon])
	h := e.handle(in)
	e.wantHandles(ix, "alice", h)
	if regenerate {
		check(t, h != anonHandle, "the regenerated session kept the old handle")
		e.wantNoRecord(anon, "the pre-login record is still stored")
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
	require(t, e.userOf(a) == "", "the user is still set after Unset")
	e.wantHandles(ix, "alice", hb, e.handle(d))
	// Logout by Destroy.
	v, set := e.req(b, func(s *session.Session) { s.Destroy() })
	mustEqual(t, "Destroy", saved(v, set), expired)
	e.wantHandles(ix, "alice", e.handle(d))
	// Destroy, then a "signed out" flash: a new anonymous session.
	v, _ = e.req(d, func(s *session.Session) { s.Destroy(); s.Flash("msg", "bye") })
	require(t, v != d && e.userOf(v) == "", "the flash after Destroy did not start a new anonymous session")
	e.wantHandles(ix, "alice")
	// Revoking what is no longer listed ends nothing.
	noError(t, "Revoke of a signed-out session", ix.Revoke(context.Background(), "alice", ha))
	equal(t, "the signed-out session's handle", e.handle(a), ha)
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
	check(t, err == nil && (n == 0 || !c.ClockControlsExpiry), "RevokeAll of expired sessions = %d, %v; want 0 (they had ended)", n, err)
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
	check(t, !e.read(idle).Has(userKey), "the idle session still loads")
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
	got := handlesOf(list)
	require(t, slices.Equal(got, want), "order = %q, want %q (newest LastSeen first)", got, want)
	sameTime(t, "LastSeen of the first", list[0].LastSeen, t0.Add(3*time.Minute))
	sameTime(t, "LastSeen of the second", list[1].LastSeen, t0.Add(2*time.Minute))
	sameTime(t, "Created of the first", list[0].Created, t0)
	sameTime(t, "Created of the second", list[1].Created, t0.Add(2*time.Minute))
	// Regeneration keeps Created, gives a new handle, moves LastSeen.
	e.clock.Advance(time.Minute)
	a2 := e.login(a, "alice", true)
	list = e.sessions(ix, "alice")
	require(t, len(list) == 3 && list[0].Handle == e.handle(a2) && list[0].Handle != want[0], "after regeneration: %+v, want the new handle first", list)
	sameTime(t, "after regeneration: Created", list[0].Created, t0)
	sameTime(t, "after regeneration: LastSeen", list[0].LastSeen, t0.Add(4*time.Minute))
}

func userRevoke(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	ctx := context.Background()
	a := e.login("", "alice", true)
	b := e.login("", "alice", true)
	bob := e.login("", "bob", true)
	ha, hb, hbob := e.handle(a), e.handle(b), e.handle(bob)
	must(t, "Revoke", ix.Revoke(ctx, "alice", hb))
	e.wantHandles(ix, "alice", ha)
	// The next request with b's cookie is anonymous, and stays so.
	v, _ := e.countReq(b, nil)
	u := e.userOf(v)
	check(t, v != b && u == "", "the revoked session's next request: cookie kept %v, user %q", v == b, u)
	e.wantNoRecord(b, "the revoked session's record is still stored")
	// Another user's handle cannot be revoked through alice; unknown
	// handles end nothing.
	for _, h := range []string{hbob, "unknown", "", hb} {
		noError(t, fmt.Sprintf("Revoke(alice, %q)", h), ix.Revoke(ctx, "alice", h))
	}
	noError(t, `Revoke of user ""`, ix.Revoke(ctx, "", ha))
	check(t, e.userOf(bob) == "bob" && e.userOf(a) == "alice", "a Revoke through alice of another handle ended a session")
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
	must(t, "RevokeAll", err)
	mustEqual(t, "RevokeAll: sessions ended", n, 3)
	e.wantHandles(ix, "alice", keep)
	for _, cookie := range cookies[1:] {
		equal(t, "the user of a revoked session", e.userOf(cookie), "")
	}
	check(t, e.userOf(cookies[0]) == "alice" && e.userOf(bob) == "bob", "RevokeAll ended a session it had to keep")
	n, err = ix.RevokeAll(ctx, "alice")
	check(t, err == nil && n == 1, "RevokeAll without exceptions = %d, %v; want 1", n, err)
	e.wantHandles(ix, "alice")
	n, err = ix.RevokeAll(ctx, "nobody")
	check(t, err == nil && n == 0, "RevokeAll of a user without sessions = %d, %v; want 0", n, err)
}

// userRevokeRace: a request loads a signed-in session; a revoke and that
// request's save (a plain change, RegenerateID(false), or RegenerateID(true)
// that writes the data under a new id) run at the same time. Whichever
// comes first, the user has no session afterwards and neither the old nor
// the new cookie loads signed in.
func userRevokeRace(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	rounds := 60
	if testing.Short() {
		rounds = 15
	}
	for i := range rounds {
		e.revokeRaceRound(ix, i)
		// Start the next round with no session of alice.
		_, err := ix.RevokeAll(context.Background(), "alice")
		must(t, "RevokeAll", err)
	}
}

// revokeRaceRound is round i of userRevokeRace: RevokeAll (even rounds) or
// Revoke of the session's handle (odd ones) races with a save of a change
// made after RegenerateID(false) (i%3 == 1), RegenerateID(true) (i%3 == 2)
// or neither.
func (e *env) revokeRaceRound(ix session.UserIndex, i int) {
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
		noError(e.t, "revoke", revokeAlice(ix, i, h))
	}()
	go func() {
		defer wg.Done()
		<-start
		newCookie = e.saveRacing(s, i)
	}()
	close(start)
	wg.Wait()
	e.saw(s.ID(), newCookie)
	if i%2 == 0 {
		list := e.sessions(ix, "alice")
		require(e.t, len(list) == 0, "round %d: after RevokeAll, alice still has %d sessions", i, len(list))
	}
	e.revokedRound(ix, i, cookie, cookie)
	e.revokedRound(ix, i, newCookie, cookie)
}

// revokeAlice is the revoke of revokeRaceRound i.
func revokeAlice(ix session.UserIndex, i int, h string) error {
	ctx := context.Background()
	if i%2 == 0 {
		_, err := ix.RevokeAll(ctx, "alice")
		return err
	}
	return ix.Revoke(ctx, "alice", h)
}

// saveRacing is the save of revokeRaceRound i; it returns the cookie it
// set, or "".
func (e *env) saveRacing(s *session.Session, i int) string {
	switch i % 3 {
	case 1:
		s.RegenerateID(false)
	case 2:
		s.RegenerateID(true)
	}
	s.Set("n", i)
	v, set, err := e.st.Save(context.Background(), s)
	noError(e.t, "save", err)
	if !set {
		return ""
	}
	return v
}

// revokedRound checks the session that cookie ("": none) reaches after
// revokeRaceRound i, which started with the cookie started: anonymous, or,
// when Revoke named a handle the session had already left, listed.
func (e *env) revokedRound(ix session.UserIndex, i int, cookie, started string) {
	if cookie == "" {
		return
	}
	u := e.userOf(cookie)
	if u == "" {
		return
	}
	require(e.t, i%2 != 0 && cookie != started, "round %d (regenerate %v): a cookie loads signed in as %q after the revoke", i, i%3, u)
	// Revoke(handle) after a regeneration that was saved first names the
	// old id: the session moved on under a new handle, which is listed.
	require(e.t, slices.Contains(e.handles(ix, "alice"), e.handle(cookie)), "round %d: a live session of alice is not listed", i)
}

func userHandles(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	seen := map[string]bool{}
	for range 5 {
		ck := e.login("", "alice", true)
		h := e.handle(ck)
		require(t, h == e.handle(ck), "the handle of one id changed between reads")
		check(t, !strings.Contains(h, ck) && !strings.Contains(ck, h) && len(h) >= 16, "handle %q reveals or is too short for id %q", h, ck)
		check(t, !seen[h], "two sessions share the handle %q", h)
		seen[h] = true
	}
	for _, s := range e.sessions(ix, "alice") {
		check(t, seen[s.Handle], "Sessions lists a handle %q that no session has", s.Handle)
	}
	equal(t, "the handle of a session never saved", session.New().Handle(), "")
	// Ids never reach logs: the env checks every id it saw at the end.
}

func init() { scenarios = append(scenarios, userScenarios...) }

// userCapLive: Options.MaxUserSessions counts only the sessions whose
// records are there. Records that are gone or name another user (a cache
// server that restarted empty, another program's write) leave the index
// when a sign-in finds the user over the cap, and no session whose record is
// fine is ended for them; past the cap with live sessions only, the oldest
// is ended as before.
func userCapLive(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, func(o *session.Options) { o.MaxUserSessions = 3 })
	healthy := e.login("", "alice", true)
	lost := []string{e.login("", "alice", true), e.login("", "alice", true)}
	e.clock.Advance(2 * time.Minute) // past the grace of a sign-in whose record is not written yet
	for _, id := range lost {
		c.Put(t, e.st, id, []byte(`[{"user":"bob"},{}]`))
	}
	fresh := []string{e.login("", "alice", true), e.login("", "alice", true)}
	for _, cookie := range append(fresh, healthy) {
		equal(t, "the user of a session whose record is there, after sign-ins past a cap full of lost records", e.userOf(cookie), "alice")
	}
	equal(t, "sessions listed", len(e.sessions(ix, "alice")), 3)
	e.clock.Advance(2 * time.Minute)
	e.login("", "alice", true)
	check(t, e.userOf(healthy) != "alice", "4 live sessions under a cap of 3: the oldest was not ended")
}
