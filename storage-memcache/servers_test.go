package memcachestorage

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// TestThreeServers: sessions spread over three memcached processes and are
// each found again; with one killed, the sessions on the other two keep
// working and those on the dead one are errors, not new sessions (which
// would sign their users out); after a restart fresh sessions work on all
// three.
func TestThreeServers(t *testing.T) {
	var srvs []*testserver.Server
	var addrs []string
	var singles []*memcache.Client
	for i := 0; i < 3; i++ {
		srv := testserver.Memcached(t)
		srvs = append(srvs, srv)
		addrs = append(addrs, srv.Addr())
		singles = append(singles, newClient(srv.Addr()))
	}
	client := newClient(addrs...)
	logs := sessiontest.NewLogs()
	st, b := newStorage(t, client, Options{Session: session.Options{Logger: logs.Logger()}})
	ctx := context.Background()

	const n = 90
	ids := make([]string, n)
	where := make([]int, n)
	perServer := make([]int, 3)
	for i := range ids {
		ids[i], _ = sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("i", i) })
		where[i] = serverOf(t, singles, b.Key(ids[i]))
		if where[i] < 0 {
			t.Fatalf("session %d is on no server", i)
		}
		perServer[where[i]]++
	}
	for i, c := range perServer {
		if c < n/10 {
			t.Errorf("server %d holds %d of %d sessions: %v", i, c, n, perServer)
		}
	}
	for i, id := range ids {
		s, err := st.Read(ctx, id)
		if err != nil || s.ID() != id || s.Get("i") != float64(i) {
			t.Fatalf("session %d not found again: %v", i, err)
		}
	}

	const dead = 1
	if err := srvs[dead].Kill(); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		s, err := st.Read(ctx, id)
		if where[i] == dead {
			if err == nil {
				t.Errorf("session %d on the dead server: Read gave session %q and no error (a logout)", i, s.ID())
			} else if strings.Contains(err.Error(), id) {
				t.Errorf("the error carries the id: %v", err)
			}
			continue
		}
		if err != nil || s.ID() != id || s.Get("i") != float64(i) {
			t.Fatalf("session %d on a live server: %v", i, err)
		}
		s.Set("after", true)
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatalf("session %d on a live server: Save: %v", i, err)
		}
		if got, _ := st.Read(ctx, id); !got.Has("after") {
			t.Errorf("session %d: the save while a server was down was lost", i)
		}
	}
	// New sessions whose ids hash to the dead server fail to save; the rest
	// work.
	failed := 0
	for i := 0; i < 30; i++ {
		s, _ := st.Read(ctx, "")
		s.Set("new", i)
		if _, _, err := st.Save(ctx, s); err != nil {
			failed++
		}
	}
	if failed == 0 || failed == 30 {
		t.Errorf("%d of 30 new sessions failed to save with one of three servers down", failed)
	}

	if err := srvs[dead].Restart(); err != nil {
		t.Fatal(err)
	}
	singles[dead] = newClient(addrs[dead]) // its idle connections died with the server
	// The restarted server is empty: its sessions are gone (a cache lost
	// them), the others are untouched, and new sessions work everywhere.
	for i, id := range ids {
		s, err := st.Read(ctx, id)
		if err != nil {
			t.Fatalf("session %d after the restart: %v", i, err)
		}
		if (s.ID() == id) == (where[i] == dead) {
			t.Errorf("session %d (server %d) after the restart: loaded %v", i, where[i], s.ID() == id)
		}
	}
	onRestarted := 0
	for i := 0; i < 30; i++ {
		id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("fresh", i) })
		if serverOf(t, singles, b.Key(id)) == dead {
			onRestarted++
		}
		if s, err := st.Read(ctx, id); err != nil || s.Get("fresh") != float64(i) {
			t.Fatalf("fresh session %d: %v", i, err)
		}
	}
	if onRestarted == 0 {
		t.Error("no fresh session landed on the restarted server")
	}
	for _, id := range ids {
		if strings.Contains(logs.String(), id) {
			t.Fatalf("the logs carry an id: %s", logs)
		}
	}
}

// TestRestartUnnoticed: after memcached restarts between two requests, the
// client's idle connections to it are dead; the next request still works
// (the command is sent again on a new connection) instead of failing once
// per idle connection.
func TestRestartUnnoticed(t *testing.T) {
	srv, client := startMemcached(t)
	st, _ := newStorage(t, client, Options{})
	ctx := context.Background()
	// Leave idle connections in the client's pool.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _ := st.Read(ctx, "")
			s.Set("n", 1)
			st.Save(ctx, s)
		}()
	}
	wg.Wait()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		s, err := st.Read(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		s.Set("n", i)
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatalf("save %d after the restart: %v", i, err)
		}
		if _, err := st.Read(ctx, s.ID()); err != nil {
			t.Fatalf("read %d after the restart: %v", i, err)
		}
	}
}

// TestNoResurrection races a logout with a save of the same session, 1500
// times: whichever runs first, the session stays deleted, because a save of
// a loaded session is a cas at the version it read, which fails on a deleted
// item, and a save that then finds the record gone drops its changes
// (logged) instead of writing it again.
func TestNoResurrection(t *testing.T) {
	_, client := startMemcached(t)
	logs := sessiontest.NewLogs()
	st, b := newStorage(t, client, Options{Session: session.Options{Logger: logs.Logger()}})
	ctx := context.Background()
	const rounds = 1500
	for round := 0; round < rounds; round++ {
		id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
		a, err := st.Read(ctx, id)
		if err != nil || a.ID() != id {
			t.Fatalf("round %d: %v", round, err)
		}
		logout, err := st.Read(ctx, id)
		if err != nil || logout.ID() != id {
			t.Fatalf("round %d: %v", round, err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		errs := make(chan error, 2)
		go func() {
			defer wg.Done()
			logout.Destroy()
			_, _, err := st.Save(ctx, logout)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			a.Set("cart", round)
			_, _, err := st.Save(ctx, a)
			errs <- err
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if _, err := client.Get(b.Key(id)); !errors.Is(err, memcache.ErrCacheMiss) {
			t.Fatalf("round %d: the logged-out session is back (%v)", round, err)
		}
	}
	if logs.Warnings() == 0 {
		t.Error("no save was dropped in 1500 races: the race was not exercised")
	}
}

// TestServerDown: with the server gone, every kind of save of a session
// loaded before fails with an error (a change, a sliding refresh, a
// destroy), and so does a read: nothing is silently dropped or turned into
// a new session.
func TestServerDown(t *testing.T) {
	srv, client := startMemcached(t)
	clock := sessiontest.NewFakeClock(time.Time{})
	st, _ := newStorage(t, client, Options{Session: session.Options{IdleTimeout: time.Hour, Now: clock.Now}})
	ctx := context.Background()
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
	clock.Advance(10 * time.Minute) // a refresh is due
	changed, _ := st.Read(ctx, id)
	refresh, _ := st.Read(ctx, id)
	destroy, _ := st.Read(ctx, id)
	if changed.ID() != id || refresh.ID() != id || destroy.ID() != id {
		t.Fatal("the session did not load")
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	changed.Set("cart", 1)
	destroy.Destroy()
	for name, s := range map[string]*session.Session{"change": changed, "refresh": refresh, "destroy": destroy} {
		if v, set, err := st.Save(ctx, s); err == nil {
			t.Errorf("%s with the server down: Save = (%q, %v, nil), want an error", name, v, set)
		} else if strings.Contains(err.Error(), id) {
			t.Errorf("%s: the error carries the id: %v", name, err)
		}
	}
	if s, err := st.Read(ctx, id); err == nil {
		t.Errorf("Read with the server down: session %q, no error", s.ID())
	}
}
