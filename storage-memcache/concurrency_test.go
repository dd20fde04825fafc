package memcachestorage

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// Concurrent requests of one session and one user, through
// session.NewBackendStorage over real memcached processes.

// TestMerge64: 64 requests read the same session, each sets its own key,
// and all save at once. Every save but the first finds the item changed
// (its cas fails), reads it again and re-applies its own key: every save
// succeeds and the session ends up with all 64 keys.
func TestMerge64(t *testing.T) {
	t.Run("one server", func(t *testing.T) {
		srv, client := startMemcached(t)
		client.MaxIdleConns = 64
		before := stats(t, srv.Addr())
		merge64(t, client)
		after := stats(t, srv.Addr())
		if bad := after["cas_badval"] - before["cas_badval"]; bad < 63 {
			t.Errorf("%d cas conflicts, want at least 63: the saves did not race", bad)
		} else {
			t.Logf("%d cas conflicts, %d cas stored", bad, after["cas_hits"]-before["cas_hits"])
		}
	})
	t.Run("three servers", func(t *testing.T) {
		merge64(t, startPool(t, 3).client)
	})
}

func merge64(t *testing.T, client *memcache.Client) {
	t.Helper()
	st, _ := newStorage(t, client, Options{})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("base", "kept") })
	sessiontest.ConcurrentSaves(t, st, id, 64, nil)
}

// TestRevokeVsRegenerate races, 1000 times over three servers, a login that
// regenerates the id of a signed-in session with RevokeAll of its user, the
// revoke started with the login or at each step of it in turn
// (sessiontest.RevokeRace). Whichever wins, the session the login's cookie
// reaches afterwards is either not signed in or listed by Sessions, where a
// revoke finds it; and the old cookie never loads a signed-in session that
// is not listed.
func TestRevokeVsRegenerate(t *testing.T) {
	p := startPool(t, 3)
	start := time.Now()
	r := sessiontest.RevokeRace(t, newTestBackend(t, p.client, Options{}), 1000, 8)
	t.Logf("%d trials in %v: %d violations; the login failed in %d, kept a signed-in (listed) session in %d, ended signed out in %d",
		r.Trials, time.Since(start).Round(time.Millisecond), r.Violations, r.LoginErrors, r.LoginKept, r.Revoked)
}

// TestFailedSaveChangesNothingLive: a login in place (the user set on a
// loaded session) whose save cannot reach the server of the user's index
// fails, and leaves the stored record as it was: the cookie still loads the
// anonymous session, never a signed-in one missing from the index. After
// the server is back the login works.
func TestFailedSaveChangesNothingLive(t *testing.T) {
	for _, regenerate := range []bool{false, true} {
		t.Run(fmt.Sprintf("regenerate=%v", regenerate), func(t *testing.T) {
			p := startPool(t, 3)
			st, b := newStorage(t, p.client, Options{Session: session.Options{UserKey: "user"}})
			ix := st.(session.UserIndex)
			ctx := context.Background()
			id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("cart", 1) })
			recSrv := p.serverFor(t, b.Key(id))
			var user string
			for i := 0; user == ""; i++ {
				if u := fmt.Sprintf("user%d", i); p.serverFor(t, b.IndexKey(u)) != recSrv {
					user = u
				}
			}
			ixSrv := p.serverFor(t, b.IndexKey(user))
			before := raw(t, p.client, b.Key(id))
			if before == nil {
				t.Fatal("the anonymous session is not stored")
			}

			s, err := st.Read(ctx, id)
			if err != nil || s.ID() != id {
				t.Fatalf("Read: %v", err)
			}
			if regenerate {
				s.RegenerateID(true)
			}
			s.Set("user", user)
			if err := p.srvs[ixSrv].Kill(); err != nil {
				t.Fatal(err)
			}
			if v, set, err := st.Save(ctx, s); err == nil {
				t.Fatalf("Save with the index's server down: (%.10q, %v, nil), want an error", v, set)
			}
			after := raw(t, p.client, b.Key(id))
			if after == nil || !bytes.Equal(after.Value, before.Value) || after.CasID != before.CasID {
				t.Fatalf("the stored record changed: %q, then %v", before.Value, after)
			}
			if got, err := st.Read(ctx, id); err != nil || got.ID() != id || got.Get("user") != nil || got.Get("cart") != float64(1) {
				t.Fatalf("the cookie after the failed login: %v, %v", err, got)
			}
			if regenerate && s.ID() != id && p.serverFor(t, b.Key(s.ID())) != ixSrv {
				if it := raw(t, p.client, b.Key(s.ID())); it != nil && len(it.Value) > 0 {
					t.Errorf("the failed login left a record under its new id: %q", it.Value)
				}
			}

			if err := p.srvs[ixSrv].Restart(); err != nil {
				t.Fatal(err)
			}
			s, err = st.Read(ctx, id)
			if err != nil || s.ID() != id {
				t.Fatalf("Read after the restart: %v", err)
			}
			if regenerate {
				s.RegenerateID(true)
			}
			s.Set("user", user)
			cookie, set, err := st.Save(ctx, s)
			if err != nil {
				t.Fatalf("the login after the restart: %v", err)
			}
			if !set {
				cookie = id
			}
			got, err := st.Read(ctx, cookie)
			if err != nil || got.Get("user") != user || got.Get("cart") != float64(1) {
				t.Fatalf("the session after the login: %v, %v", err, got)
			}
			list, err := ix.Sessions(ctx, user)
			if err != nil || len(list) != 1 || list[0].Handle != got.Handle() {
				t.Fatalf("Sessions after the login: %v, %v", list, err)
			}
		})
	}
}

// TestExclusive: requests of one session that each hold its lock
// (session.Locking) for a read-modify-write of one key run one at a time,
// whichever of two storages (two processes: their own clients, the same
// servers and prefix) they go through: no increment is lost, on one server
// and across three.
func TestExclusive(t *testing.T) {
	for _, servers := range []int{1, 3} {
		t.Run(fmt.Sprint(servers), func(t *testing.T) {
			p := startPool(t, servers)
			prefix := testPrefix()
			var sts [2]session.Storage
			for i := range sts {
				client := newClient(p.addrs...)
				client.MaxIdleConns = 16
				sts[i], _ = newStorage(t, client, Options{KeyPrefix: prefix})
			}
			ctx := context.Background()
			id, _ := sessiontest.Request(t, sts[0], "", func(s *session.Session) { s.Set("n", 0) })
			const n = 16
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for i := range n {
				st := sts[i%2]
				lk, ok := st.(session.Locking)
				if !ok {
					t.Fatal("the storage is not a session.Locking")
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					release, err := lk.Lock(ctx, id, session.LockOptions{Wait: 30 * time.Second})
					if err != nil {
						errs <- err
						return
					}
					defer release()
					s, err := st.Read(ctx, id)
					if err != nil {
						errs <- err
						return
					}
					n, _ := s.Get("n").(float64)
					s.Set("n", n+1)
					_, _, err = st.Save(ctx, s)
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if s, err := sts[1].Read(ctx, id); err != nil || s.Get("n") != float64(n) {
				t.Fatalf("n = %v after %d locked increments (%v)", s.Get("n"), n, err)
			}
		})
	}
}
