package sessiontest

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The account scenarios (issue 25): the devices a user's sessions are
// listed with, per-user epochs ("sign out everywhere", cookie storage
// included), the time of the last authentication, the per-user limit's
// policies, and the grace window after regeneration.
var accountScenarios = []scenario{
	{name: "accounts: a sign-in records the device and network, and a read-only request writes nothing for them", userIndex: true, serverSide: true, run: devicesListed},
	{name: "accounts: the client's facts ride in the cookie of cookie storage", cookieSide: true, run: devicesInCookie},
	{name: "accounts: the authentication time is saved and survives RegenerateID, not Destroy", run: authTimeKept},
	{name: "accounts: Bump ends every session of the user but the one kept", userIndex: true, serverSide: true, run: epochBumpServer},
	{name: "accounts: the storage keeps the epochs of a cookie storage", userIndex: true, serverSide: true, run: epochStoreForCookies},
	{name: "accounts: a bumped epoch ends the user's cookie sessions", cookieSide: true, run: epochBumpCookie},
	{name: "accounts: the limit ends the oldest sign-in by default", userIndex: true, serverSide: true, run: limitOldest},
	{name: "accounts: the limit can end the least recently seen session", userIndex: true, serverSide: true, run: limitLeastRecent},
	{name: "accounts: the limit can refuse the sign-in", userIndex: true, serverSide: true, run: limitRefuse},
	{name: "accounts: 64 concurrent sign-ins never leave more than the limit alive", userIndex: true, serverSide: true, run: limitConcurrent},
	{name: "accounts: within the grace window the old id loads the new session and gets its cookie", serverSide: true, run: graceRetry},
	{name: "accounts: a sign-in, a switch of user, a re-authentication or a Bump gives the old id no grace window", serverSide: true, run: graceNotForPrivilege},
	{name: "accounts: a destroy or revoke ends the grace window at once", serverSide: true, run: graceEnds},
	{name: "accounts: a later sign-out everywhere else, Bump or re-authentication ends the grace window", serverSide: true, run: graceEndsLater},
	{name: "accounts: a retry of the old id racing a logout brings nothing back", serverSide: true, run: graceRacingLogout},
}

func init() { scenarios = append(scenarios, accountScenarios...) }

// The clients of the device scenarios.
const (
	firefoxLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	safariIOS    = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

func client(ua, addr string) session.Client {
	return session.Client{UserAgent: ua, Addr: netip.MustParseAddr(addr)}
}

// devicesListed: the facts of the sign-in's client are listed; a request
// that only reads the session from another network writes nothing (no
// Set-Cookie, the record unchanged), and the next write records the new
// facts.
func devicesListed(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	cookie, _ := e.req("", func(s *session.Session) {
		s.SetClient(client(firefoxLinux, "203.0.113.7"))
		s.Set(userKey, "ada")
	})
	list := e.sessions(ix, "ada")
	require(t, len(list) == 1, "Sessions lists %d sessions after one sign-in", len(list))
	equal(t, "Device", list[0].Device, "Firefox on Linux")
	equal(t, "Network", list[0].Network, "203.0.113.0/24")
	var before []byte
	if c.Get != nil {
		before, _ = c.Get(t, e.st, cookie)
	}
	_, set := e.req(cookie, func(s *session.Session) {
		s.SetClient(client(safariIOS, "2001:db8:1234:5678::1"))
		_ = s.Get(userKey)
	})
	check(t, !set, "a read-only request from a new client sent a Set-Cookie")
	if c.Get != nil {
		after, _ := c.Get(t, e.st, cookie)
		equal(t, "the record after a read-only request from a new client", string(after), string(before))
	}
	e.req(cookie, func(s *session.Session) {
		s.SetClient(client(safariIOS, "2001:db8:1234:5678::1"))
		s.Set("theme", "dark")
	})
	list = e.sessions(ix, "ada")
	require(t, len(list) == 1, "Sessions lists %d sessions", len(list))
	equal(t, "Device after a write from the new client", list[0].Device, "Safari on iOS")
	equal(t, "Network after a write from the new client", list[0].Network, "2001:db8:1234::/48")
}

// devicesInCookie: a cookie storage keeps the facts too, and a request
// that only reads the session sends no cookie for them.
func devicesInCookie(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	cookie, _ := e.req("", func(s *session.Session) {
		s.SetClient(client(firefoxLinux, "203.0.113.7"))
		s.Set(userKey, "ada")
	})
	_, set := e.req(cookie, func(s *session.Session) {
		s.SetClient(client(safariIOS, "198.51.100.1"))
		_ = s.Get(userKey)
	})
	check(t, !set, "a read-only request from a new client sent a Set-Cookie")
}

// authTimeKept: MarkAuthenticated is saved (to the millisecond), read back,
// judged by the storage's clock, kept across RegenerateID(true), and gone
// with Destroy.
func authTimeKept(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	at := e.clock.Now().Add(-time.Minute).Truncate(time.Millisecond)
	cookie, _ := e.req("", func(s *session.Session) {
		s.Set(userKey, "ada")
		s.MarkAuthenticated(at)
	})
	require(t, e.read(cookie).AuthenticatedAt().Equal(at), "AuthenticatedAt after a save = %v, want %v", e.read(cookie).AuthenticatedAt(), at)
	// AuthenticatedWithin tells time by the storage's clock.
	check(t, e.read(cookie).AuthenticatedWithin(2*time.Minute), "AuthenticatedWithin(2m) a minute after, by the storage's clock")
	e.clock.Advance(time.Minute)
	check(t, !e.read(cookie).AuthenticatedWithin(2*time.Minute), "AuthenticatedWithin(2m) two minutes after, by the storage's clock")
	check(t, e.read(cookie).AuthenticatedWithin(3*time.Minute), "AuthenticatedWithin(3m) two minutes after, by the storage's clock")
	cookie, _ = e.req(cookie, func(s *session.Session) { s.RegenerateID(true) })
	check(t, e.read(cookie).AuthenticatedAt().Equal(at), "AuthenticatedAt after RegenerateID(true) = %v, want %v", e.read(cookie).AuthenticatedAt(), at)
	e.req(cookie, func(s *session.Session) { s.Set("theme", "dark") })
	check(t, e.read(cookie).AuthenticatedAt().Equal(at), "AuthenticatedAt after another write = %v", e.read(cookie).AuthenticatedAt())
	cookie, _ = e.req(cookie, func(s *session.Session) {
		s.Destroy()
		s.Flash("notice", "signed out")
	})
	check(t, e.read(cookie).AuthenticatedAt().IsZero(), "a session started after Destroy keeps the authentication time")
}

// epochsOf returns the storage's Epochs.
func epochsOf(t *testing.T, st session.Storage) session.Epochs {
	t.Helper()
	ep, ok := st.(session.Epochs)
	require(t, ok, "the storage does not implement session.Epochs")
	return ep
}

// epochBumpServer: Bump ends every session of the user at once but the
// one kept (which stays signed in, under its id), leaves other users
// alone, and raises the epoch by one each time.
func epochBumpServer(t *testing.T, c Config) {
	e, ix := newUserEnv(t, c, nil)
	ep := epochsOf(t, e.st)
	ctx := context.Background()
	n, err := ep.Epoch(ctx, "alice")
	must(t, "Epoch", err)
	equal(t, "the epoch of a user never bumped", n, int64(0))
	mine, other, bob := e.login("", "alice", true), e.login("", "alice", true), e.login("", "bob", true)
	s := e.read(mine)
	n, err = ep.Bump(ctx, "alice", s)
	must(t, "Bump", err)
	equal(t, "the epoch after a Bump", n, int64(1))
	e.save(s)
	equal(t, "the user of the session kept", e.userOf(mine), "alice")
	equal(t, "the user of alice's other session after the Bump", e.userOf(other), "")
	equal(t, "the user of bob's session", e.userOf(bob), "bob")
	e.wantHandles(ix, "alice", e.handle(mine))
	n, err = ep.Bump(ctx, "alice", nil)
	must(t, "Bump", err)
	equal(t, "the epoch after a second Bump", n, int64(2))
	equal(t, "the user of the kept session after a Bump that keeps none", e.userOf(mine), "")
	n, err = ep.Epoch(ctx, "alice")
	must(t, "Epoch", err)
	equal(t, "Epoch after two Bumps", n, int64(2))
}

// plainCodec is a ClientCodec that carries the payload as it is.
type plainCodec struct{}

func (plainCodec) Encode(p []byte) (string, error) { return string(p), nil }
func (plainCodec) Decode(v string) (string, error) { return v, nil }

// epochStoreForCookies: the storage, as the ClientOptions.Epochs of a
// cookie storage, ends the user's cookie sessions when bumped (through
// the cookie storage, or itself with the cache off), not the one kept.
func epochStoreForCookies(t *testing.T, c Config) {
	e, _ := newUserEnv(t, c, nil)
	for _, ttl := range []time.Duration{-1, time.Minute} {
		cs, err := session.NewClientStorage(plainCodec{}, session.ClientOptions{UserKey: userKey, Epochs: epochsOf(t, e.st),
			EpochCacheTTL: ttl, Now: e.clock.Now, Logger: e.logs.Logger()})
		must(t, "NewClientStorage", err)
		ce := &env{t: t, c: c, st: cs, clock: e.clock, logs: e.logs, ids: map[string]bool{}}
		user := "carol" + ttl.String()
		mine, other := ce.login("", user, true), ce.login("", user, true)
		s := ce.read(mine)
		_, err = epochsOf(t, cs).Bump(context.Background(), user, s)
		must(t, "Bump", err)
		mine, _ = ce.save(s)
		equal(t, "the user of the cookie session kept", ce.userOf(mine), user)
		equal(t, "the user of another cookie session after the Bump", ce.userOf(other), "")
		fresh := ce.login("", user, true)
		equal(t, "the user of a cookie session signed in after the Bump", ce.userOf(fresh), user)
	}
}

// epochBumpCookie: a cookie storage with ClientOptions.Epochs stamps its
// sessions at sign-in and ends them on load once the epoch passed them.
func epochBumpCookie(t *testing.T, c Config) {
	clock := NewFakeClock(time.Time{})
	store, err := session.NewBackendStorage(NewBackend(clock.Now), session.Options{UserKey: userKey, Now: clock.Now})
	must(t, "NewBackendStorage", err)
	ep := epochsOf(t, store)
	e := newEnv(t, c, func(o *session.Options) { o.UserKey, o.Epochs = userKey, ep })
	mine, other := e.login("", "ada", true), e.login("", "ada", true)
	anon, _ := e.req("", func(s *session.Session) { s.Set("theme", "dark") })
	s := e.read(mine)
	_, err = epochsOf(t, e.st).Bump(context.Background(), "ada", s)
	must(t, "Bump", err)
	mine, _ = e.save(s)
	equal(t, "the user of the session kept", e.userOf(mine), "ada")
	equal(t, "the user of the other session after the Bump", e.userOf(other), "")
	equal(t, "an anonymous session after the Bump", e.read(anon).Get("theme"), any("dark"))
	// A Bump by another process: seen once the cache's time is over.
	_, err = ep.Bump(context.Background(), "ada", nil)
	must(t, "Bump", err)
	e.clock.Advance(session.DefaultEpochCacheTTL)
	equal(t, "the user of the kept session after a Bump elsewhere", e.userOf(mine), "")
}

// newLimitEnv signs alice in twice (a, then b a minute later) under a cap
// of 2 with policy, then writes to a, so that a is the oldest sign-in and b
// the least recently seen.
func newLimitEnv(t *testing.T, c Config, policy session.LimitPolicy) (e *env, ix session.UserIndex, a, b string) {
	e, ix = newUserEnv(t, c, func(o *session.Options) { o.MaxUserSessions, o.UserLimit = 2, policy })
	a = e.login("", "alice", true)
	e.clock.Advance(time.Minute)
	b = e.login("", "alice", true)
	e.clock.Advance(time.Minute)
	e.req(a, func(s *session.Session) { s.Set("theme", "dark") })
	e.clock.Advance(time.Minute)
	return e, ix, a, b
}

func limitOldest(t *testing.T, c Config) {
	limitEnds(t, c, session.LimitEndOldest, "the oldest sign-in")
}

func limitLeastRecent(t *testing.T, c Config) {
	limitEnds(t, c, session.LimitEndLeastRecent, "the least recently seen session")
}

// limitEnds: a sign-in past the limit of newLimitEnv ends, under policy,
// the oldest sign-in (a) or the session seen least recently (b), which
// ended names, and no other.
func limitEnds(t *testing.T, c Config, policy session.LimitPolicy, ended string) {
	e, ix, a, b := newLimitEnv(t, c, policy)
	gone, kept := a, b
	if policy == session.LimitEndLeastRecent {
		gone, kept = b, a
	}
	fresh := e.login("", "alice", true)
	equal(t, ended+" past the limit", e.userOf(gone), "")
	equal(t, "the other session", e.userOf(kept), "alice")
	equal(t, "the new sign-in", e.userOf(fresh), "alice")
	equal(t, "sessions listed", len(e.sessions(ix, "alice")), 2)
}

func limitRefuse(t *testing.T, c Config) {
	e, ix, a, b := newLimitEnv(t, c, session.LimitRefuse)
	ctx := context.Background()
	s := e.read("")
	s.Set(userKey, "alice")
	_, set, err := e.st.Save(ctx, s)
	e.saw(s.ID())
	require(t, errors.Is(err, session.ErrUserLimit), "a sign-in past the limit under LimitRefuse: Save error %v, want ErrUserLimit", err)
	check(t, !set, "a refused sign-in sent a cookie")
	equal(t, "a refused sign-in's session", e.userOf(s.ID()), "")
	equal(t, "the first session", e.userOf(a), "alice")
	equal(t, "the second session", e.userOf(b), "alice")
	equal(t, "sessions listed", len(e.sessions(ix, "alice")), 2)
	// A session that ends makes room.
	e.req(a, func(s *session.Session) { s.Destroy() })
	equal(t, "a sign-in after a sign-out", e.userOf(e.login("", "alice", true)), "alice")
}

// limitConcurrent: 64 sign-ins of one user at once, under each policy,
// leave at most the limit of sessions that load as the user.
func limitConcurrent(t *testing.T, c Config) {
	const limit, signIns = 3, 64
	for _, policy := range []session.LimitPolicy{session.LimitEndOldest, session.LimitEndLeastRecent, session.LimitRefuse} {
		e, _ := newUserEnv(t, c, func(o *session.Options) { o.MaxUserSessions, o.UserLimit = limit, policy })
		ctx := context.Background()
		cookies := make([]string, signIns)
		var wg sync.WaitGroup
		for i := range cookies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := e.st.Read(ctx, "")
				if err != nil {
					t.Errorf("Read: %v", err)
					return
				}
				s.RegenerateID(true)
				s.Set(userKey, "alice")
				e.saw(s.ID())
				v, set, err := e.st.Save(ctx, s)
				switch {
				case errors.Is(err, session.ErrUserLimit) && policy == session.LimitRefuse:
				case err != nil:
					t.Errorf("policy %d: Save: %v", policy, err)
				case set:
					cookies[i] = v
				}
			}()
		}
		wg.Wait()
		alive := 0
		for _, cookie := range cookies {
			if cookie != "" && e.userOf(cookie) == "alice" {
				alive++
			}
		}
		check(t, alive <= limit, "policy %d: %d of %d concurrent sign-ins are alive under a limit of %d", policy, alive, signIns, limit)
		check(t, alive > 0, "policy %d: none of %d concurrent sign-ins is alive", policy, signIns)
	}
}

// graceEnv is a storage with a 30-second grace window, and a session that
// signed in, then rotated its id with RegenerateID(true): the ids before
// and after the rotation.
func graceEnv(t *testing.T, c Config) (e *env, old, cookie string) {
	e = newEnv(t, c, func(o *session.Options) { o.RegenerateGrace = 30 * time.Second; o.UserKey = userKey })
	old = e.login("", "ada", true)
	cookie, _ = e.req(old, func(s *session.Session) { s.RegenerateID(true) })
	require(t, cookie != old, "RegenerateID(true) kept the id")
	return e, old, cookie
}

func graceRetry(t *testing.T, c Config) {
	e, old, cookie := graceEnv(t, c)
	e.clock.Advance(29 * time.Second)
	got, set := e.req(old, func(s *session.Session) { _ = s.Get(userKey) })
	check(t, set && got == cookie, "a request with the old id within the window: Set-Cookie %v %q, want the new id's", set, got)
	equal(t, "the user the old id loads within the window", e.userOf(old), "ada")
	// A retry of the rotation itself rotates again: the old id then
	// names the newest session.
	newer, _ := e.req(old, func(s *session.Session) { s.RegenerateID(true) })
	check(t, newer != cookie && newer != old, "a retried rotation kept an id")
	equal(t, "the user of the retried rotation", e.userOf(newer), "ada")
	e.clock.Advance(2 * time.Second)
	equal(t, "the user the old id loads after the window", e.userOf(old), "")
	equal(t, "the user of the session", e.userOf(newer), "ada")
}

// graceNotForPrivilege: a change of privilege gives its old id no window,
// so that whoever planted or stole it cannot follow: a sign-in (the
// anonymous id before it), a switch of user, a rotation in a request that
// authenticated, and one of a session a Bump kept.
func graceNotForPrivilege(t *testing.T, c Config) {
	e := newEnv(t, c, func(o *session.Options) { o.RegenerateGrace = 30 * time.Second; o.UserKey = userKey })
	planted, _ := e.req("", func(s *session.Session) { s.Set("theme", "dark") })
	signedIn := e.login(planted, "ada", true)
	equal(t, "the anonymous id after a sign-in, within the window", e.userOf(planted), "")
	switched := e.login(signedIn, "bob", true)
	equal(t, "the id before a switch of user, within the window", e.userOf(signedIn), "")
	reauth, _ := e.req(switched, func(s *session.Session) {
		s.RegenerateID(true)
		s.MarkAuthenticated(e.clock.Now())
	})
	equal(t, "the id before a re-authentication, within the window", e.userOf(switched), "")
	if ep, ok := e.st.(session.Epochs); ok {
		s := e.read(reauth)
		_, err := ep.Bump(context.Background(), "bob", s)
		must(t, "Bump", err)
		s.RegenerateID(true)
		e.save(s)
		equal(t, "the id before the rotation of a session a Bump kept, within the window", e.userOf(reauth), "")
	}
}

func graceEnds(t *testing.T, c Config) {
	e, old, cookie := graceEnv(t, c)
	e.req(cookie, func(s *session.Session) { s.Destroy() })
	equal(t, "the user the old id loads after a logout within the window", e.userOf(old), "")
	e, old, cookie = graceEnv(t, c)
	if ix, ok := e.st.(session.UserIndex); ok {
		must(t, "Revoke", ix.Revoke(context.Background(), "ada", e.handle(cookie)))
		equal(t, "the user the old id loads after a revoke within the window", e.userOf(old), "")
	}
	// Without a window, the old id is gone at once.
	e = newEnv(t, c, func(o *session.Options) { o.UserKey = userKey })
	old = e.login("", "ada", true)
	e.req(old, func(s *session.Session) { s.RegenerateID(true) })
	equal(t, "the old id without a window", e.userOf(old), "")
}

// graceEndsLater: a change of privilege of the rotated session in a later
// request, without a rotation of its own, ends the window of the id before
// the rotation: RevokeAll that keeps it, a Bump that keeps it, a
// re-authentication, a switch of user.
func graceEndsLater(t *testing.T, c Config) {
	ctx := context.Background()
	for _, change := range []struct {
		name string
		do   func(e *env, cookie string)
	}{
		{"RevokeAll that keeps it", func(e *env, cookie string) {
			if ix, ok := e.st.(session.UserIndex); ok {
				_, err := ix.RevokeAll(ctx, "ada", e.handle(cookie))
				must(t, "RevokeAll", err)
			}
		}},
		{"Bump that keeps it", func(e *env, cookie string) {
			if ep, ok := e.st.(session.Epochs); ok {
				s := e.read(cookie)
				_, err := ep.Bump(ctx, "ada", s)
				must(t, "Bump", err)
				e.save(s)
			}
		}},
		{"a re-authentication", func(e *env, cookie string) {
			e.clock.Advance(time.Millisecond)
			e.req(cookie, func(s *session.Session) { s.MarkAuthenticated(e.clock.Now()) })
		}},
		{"a switch of user", func(e *env, cookie string) {
			e.clock.Advance(time.Millisecond)
			e.req(cookie, func(s *session.Session) { s.Set(userKey, "bob") })
		}},
	} {
		e, old, cookie := graceEnv(t, c)
		e.clock.Advance(time.Millisecond)
		change.do(e, cookie)
		equal(t, "the old id within the window after "+change.name, e.userOf(old), "")
		check(t, e.userOf(cookie) != "", "the rotated session after %s is signed out", change.name)
	}
}

// graceRacingLogout: a retry with the old id and a logout with the new one
// at the same time, many times: afterwards neither id loads the user.
func graceRacingLogout(t *testing.T, c Config) {
	for range 20 {
		e, old, cookie := graceEnv(t, c)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			e.req(old, func(s *session.Session) { s.Set("seen", true) })
		}()
		go func() {
			defer wg.Done()
			e.req(cookie, func(s *session.Session) { s.Destroy() })
		}()
		wg.Wait()
		equal(t, "the old id after a retry racing a logout", e.userOf(old), "")
		equal(t, "the new id after a retry racing a logout", e.userOf(cookie), "")
	}
}
