package redisstorage

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// steppedBackend is the Redis backend with triggers: a trigger registered
// for a key fires (once) when a call of its kind on that key returns, so
// that a test can start a concurrent operation at a chosen step of another.
type steppedBackend struct {
	*backend
	mu       sync.Mutex
	triggers map[string]*trigger
}

type trigger struct {
	op   string // "get", "put" or "delete"
	once sync.Once
	ch   chan struct{}
}

func (t *trigger) fire() { t.once.Do(func() { close(t.ch) }) }

// on returns a trigger that fires after the first op on key.
func (b *steppedBackend) on(key, op string) *trigger {
	tr := &trigger{op: op, ch: make(chan struct{})}
	b.mu.Lock()
	b.triggers[key] = tr
	b.mu.Unlock()
	return tr
}

func (b *steppedBackend) off(key string) {
	b.mu.Lock()
	delete(b.triggers, key)
	b.mu.Unlock()
}

func (b *steppedBackend) after(key, op string) {
	b.mu.Lock()
	tr := b.triggers[key]
	b.mu.Unlock()
	if tr != nil && tr.op == op {
		tr.fire()
	}
}

func (b *steppedBackend) Get(ctx context.Context, key string) ([]byte, session.Version, error) {
	defer b.after(key, "get")
	return b.backend.Get(ctx, key)
}

func (b *steppedBackend) Put(ctx context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	defer b.after(key, "put")
	return b.backend.Put(ctx, key, data, ttl, v)
}

func (b *steppedBackend) Delete(ctx context.Context, key string, v session.Version) error {
	defer b.after(key, "delete")
	return b.backend.Delete(ctx, key, v)
}

// revokeOutcome counts what the trials of revokeVsRegenerate came to.
type revokeOutcome struct {
	violations  atomic.Int64 // trials that left a signed-in session the index does not list
	loginKept   atomic.Int64 // the login's cookie still signed in (and listed)
	revoked     atomic.Int64 // the login's cookie reads an anonymous session
	loginErrors atomic.Int64 // the login's Read or Save returned an error
	// stepped counts the trials whose revoke started at its step of the
	// login, before the login returned (all but the free races).
	stepped atomic.Int64
}

// The moments at which the revoke of a trial starts, by trial number mod
// len(revokeStarts): with the login (free race), or once the login's
// Read returned, its save first read the index, first wrote the index, or
// deleted the old record.
var revokeStarts = []string{"free race", "after the login's Read", "after the save's first index read", "after the save's first index write", "after the save deleted the old record"}

// revokeVsRegenerate runs trials of a login racing a revoke of all of the
// user's sessions: user U<i> has a signed-in session; concurrently, (a) a
// login request reads it, calls RegenerateID(true) and saves, and (b)
// RevokeAll(U<i>) runs, started with the login or at one of its steps
// (revokeStarts). Afterwards, the session that the login's cookie (and the
// old cookie) reaches must be anonymous or fresh, or be listed by
// Sessions(U<i>), so that it can still be revoked; RevokeAll is not called
// again. A pool of workers runs the trials, each with its own user.
func revokeVsRegenerate(t *testing.T, c redis.UniversalClient, trials, workers int) *revokeOutcome {
	ctx := context.Background()
	prefix := freshPrefix()
	b := &steppedBackend{
		backend:  mustBackend(t, c, Options{KeyPrefix: prefix}),
		triggers: make(map[string]*trigger),
	}
	st := session.NewBackendStorage(b, session.Options{
		UserKey: "user", IdleTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler),
	})
	ix, ok := st.(session.UserIndex)
	if !ok {
		t.Fatal("the storage with UserKey is not a session.UserIndex")
	}
	var out revokeOutcome
	// check reports whether the session that cookie reaches is anonymous
	// (or fresh), or one that Sessions(user) lists; and whether it is
	// signed in as user.
	check := func(cookie, user string) (ok, signedIn bool, err error) {
		s, err := st.Read(ctx, cookie)
		if err != nil {
			return false, false, err
		}
		if s.ID() != cookie || s.Get("user") != user {
			return true, false, nil
		}
		list, err := ix.Sessions(ctx, user)
		if err != nil {
			return false, true, err
		}
		return slices.ContainsFunc(list, func(i session.SessionInfo) bool { return i.Handle == s.Handle() }), true, nil
	}

	// The harness's own checks: a login alone keeps its new session signed
	// in and listed; a signed-in record that the index does not hold (as
	// another program could write) is a violation.
	{
		old, err := signIn(ctx, st, "solo")
		if err != nil {
			t.Fatal(err)
		}
		nv := request(t, st, old, func(s *session.Session) { s.RegenerateID(true) })
		if ok, signedIn, err := check(nv, "solo"); err != nil || !ok || !signedIn {
			t.Fatalf("a login without a revoke: listed %v, signed in %v, %v; want both", ok, signedIn, err)
		}
		const unindexed = "unindexedSessionId0123456789abcdefghijklmno"
		if err := c.Set(ctx, prefix+unindexed, `[{"user":"solo"},{}]`, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		if ok, signedIn, err := check(unindexed, "solo"); err != nil || ok || !signedIn {
			t.Fatalf("an unindexed signed-in record: listed %v, signed in %v, %v; want a violation", ok, signedIn, err)
		}
	}

	trial := func(i int) error {
		user := fmt.Sprintf("U%d", i)
		old, err := signIn(ctx, st, user)
		if err != nil {
			return err
		}
		var start *trigger
		switch mode := i % len(revokeStarts); mode {
		case 0, 1:
			start = &trigger{ch: make(chan struct{})}
		case 2:
			start = b.on(b.IndexKey(user), "get")
		case 3:
			start = b.on(b.IndexKey(user), "put")
		case 4:
			start = b.on(b.Key(old), "delete")
		}
		defer b.off(b.IndexKey(user))
		defer b.off(b.Key(old))
		if i%len(revokeStarts) == 0 {
			start.fire()
		}
		var wg sync.WaitGroup
		var loginCookie string
		var loginErr, revokeErr error
		wg.Go(func() { // the login
			defer func() {
				select {
				case <-start.ch:
					if i%len(revokeStarts) != 0 {
						out.stepped.Add(1)
					}
				default:
					start.fire() // whatever happens, the revoke runs
				}
			}()
			s, err := st.Read(ctx, old)
			if i%len(revokeStarts) == 1 {
				start.fire()
			}
			if err != nil {
				loginErr = err
				return
			}
			s.RegenerateID(true)
			v, set, err := st.Save(ctx, s)
			switch {
			case err != nil:
				loginErr = err
			case set:
				loginCookie = v
			default:
				loginCookie = old
			}
		})
		wg.Go(func() { // the revoke
			<-start.ch
			_, revokeErr = ix.RevokeAll(ctx, user)
		})
		wg.Wait()
		if revokeErr != nil {
			return fmt.Errorf("RevokeAll: %w", revokeErr)
		}
		if loginErr != nil {
			out.loginErrors.Add(1)
		}
		bad := false
		if old != loginCookie {
			ok, _, err := check(old, user)
			if err != nil {
				return err
			}
			bad = !ok
		}
		if loginCookie != "" {
			ok, signedIn, err := check(loginCookie, user)
			if err != nil {
				return err
			}
			bad = bad || !ok
			if signedIn {
				out.loginKept.Add(1)
			} else {
				out.revoked.Add(1)
			}
		}
		if bad {
			out.violations.Add(1)
		}
		return nil
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if err := trial(i); err != nil && failed.Add(1) <= 5 {
					t.Errorf("trial %d: %v", i, err)
				}
			}
		})
	}
	for i := range trials {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return &out
}

// signIn stores a new session signed in as user and returns its cookie
// value.
func signIn(ctx context.Context, st session.Storage, user string) (string, error) {
	s, err := st.Read(ctx, "")
	if err != nil {
		return "", err
	}
	s.Set("user", user)
	v, _, err := st.Save(ctx, s)
	return v, err
}

// TestRevokeVsRegenerate: 1000 trials on a 3-master Cluster (300 on one
// node) of a login with RegenerateID(true) racing RevokeAll of its user, the
// revoke started with the login or at each step of it in turn: no trial may
// leave a signed-in session that Sessions does not list.
func TestRevokeVsRegenerate(t *testing.T) {
	for _, tc := range []struct {
		name            string
		client          func(t *testing.T) redis.UniversalClient
		trials, workers int
	}{
		{"cluster", func(t *testing.T) redis.UniversalClient { return newClusterClient(t, testserver.RedisCluster(t, 3)) }, 1000, 16},
		{"node", func(t *testing.T) redis.UniversalClient { return newClient(t, testserver.Redis(t).Addr()) }, 300, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out := revokeVsRegenerate(t, tc.client(t), tc.trials, tc.workers)
			t.Logf("%d trials (revoke started %q in turn) in %v: %d violations; the login's cookie was still signed in (and listed) %d times, anonymous %d times; %d logins returned an error",
				tc.trials, revokeStarts, time.Since(start).Round(time.Millisecond), out.violations.Load(), out.loginKept.Load(), out.revoked.Load(), out.loginErrors.Load())
			if want := int64(tc.trials - (tc.trials+len(revokeStarts)-1)/len(revokeStarts)); out.stepped.Load() != want {
				t.Errorf("the revoke started at its step of the login in %d trials, want %d (the login no longer takes that step?)", out.stepped.Load(), want)
			}
			if v := out.violations.Load(); v != 0 {
				t.Errorf("%d of %d trials left a signed-in session that Sessions does not list (so RevokeAll cannot end it)", v, tc.trials)
			}
		})
	}
}
