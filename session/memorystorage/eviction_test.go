package memorystorage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// Issue 22.4: at MaxSessions, a flood of anonymous requests (no cookie:
// each stores a new session, as a home page or a failed sign-in's flash
// does) evicted the signed-in users, whose sessions were the oldest and so
// the closest to expiry. Now the flood evicts its own sessions: a session
// read again after the request that stored it is never evicted while one
// that was not waits on probation.
func TestMemoryFloodKeepsReturningSessions(t *testing.T) {
	const maxSessions, users = 100, 20
	clock := sessiontest.NewFakeClock(time.Time{})
	logs := sessiontest.NewLogs()
	o := session.Options{IdleTimeout: 30 * time.Minute, UserKey: "user", Now: clock.Now, Logger: logs.Logger()}
	b := newBackend(Options{MaxSessions: maxSessions, Session: o})
	st, err := session.NewBackendStorage(b, o)
	if err != nil {
		t.Fatal(err)
	}
	cookies := make([]string, users)
	for i := range cookies {
		// Sign in (a new id), then a request that reads the session.
		cookies[i], _ = sessiontest.Request(t, st, "", func(s *session.Session) {
			s.RegenerateID(true)
			s.Set("user", fmt.Sprint("user", i))
		})
		cookies[i], _ = sessiontest.Request(t, st, cookies[i], nil)
	}
	for n := range 10 * maxSessions {
		clock.Advance(time.Second) // the flood's sessions expire after the users'
		sessiontest.Request(t, st, "", func(s *session.Session) { s.Flash("error", "Wrong password") })
		if n%100 == 0 {
			// The users go on making requests (reads, and writes
			// over the version read) during the flood.
			for i, c := range cookies {
				cookies[i], _ = sessiontest.Request(t, st, c, func(s *session.Session) { s.Set("seen", n) })
			}
		}
	}
	wantLen(t, b, maxSessions)
	for i, c := range cookies {
		stillSignedIn(t, st, c, fmt.Sprint("user", i))
	}
	wantOneWarning(t, logs)
	b.check(t)
}

// stillSignedIn checks that the session of cookie is user's, and the only
// one their index lists.
func stillSignedIn(t *testing.T, st session.Storage, cookie, user string) {
	t.Helper()
	sessiontest.Request(t, st, cookie, func(s *session.Session) {
		if s.ID() != cookie || s.Get("user") != user {
			t.Errorf("%s was signed out by the flood", user)
		}
	})
	list, err := st.(session.UserIndex).Sessions(context.Background(), user)
	if err != nil || len(list) != 1 {
		t.Errorf("%s's index lists %d sessions (%v), want 1", user, len(list), err)
	}
}

// The per-user index documents are kept apart from the records: however
// many records MaxSessions evicts, no document goes (a session missing from
// its user's index could not be revoked).
func TestMemoryIndexDocumentsNeverEvicted(t *testing.T) {
	const maxSessions, users = 3, 50
	o := session.Options{UserKey: "user", Logger: sessiontest.NewLogs().Logger()}
	b := newBackend(Options{MaxSessions: maxSessions, Session: o})
	st, err := session.NewBackendStorage(b, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range users {
		// Users who sign in and never come back, and a flood after each.
		sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", fmt.Sprint("user", i)) })
		for range 2 * maxSessions {
			sessiontest.Request(t, st, "", func(s *session.Session) { s.Flash("error", "Wrong password") })
		}
	}
	ctx := context.Background()
	for i := range users {
		if _, _, err := b.Get(ctx, b.IndexKey(fmt.Sprint("user", i))); err != nil {
			t.Errorf("user%d's index document: %v", i, err)
		}
	}
	wantLen(t, b, maxSessions)
	b.check(t)
}

// The eviction order, step by step, at MaxSessions 3. Each step is one
// backend call on a fake clock:
//
//	put ID TTL     Put of a new record (TTL 0: no expiry)
//	get ID         Get (must find it)
//	over ID TTL    Put over the version Get returns
//	touch ID TTL   Touch
//	del ID         Delete
//	wait D         the clock advances by D
//
// live lists the records left after the steps.
func TestMemoryBackendEvictionOrder(t *testing.T) {
	for _, tc := range []struct {
		name, steps string
		live        []string
	}{
		{"never used again: stored first goes first, whatever its expiry",
			"put a 1h; put b 1m; put c 2h; put d 1h", []string{"b", "c", "d"}},
		{"a flood evicts only its own kind",
			"put a 1m; get a; put b 1h; put c 1h; put d 1h; put e 1h; put f 1h", []string{"a", "e", "f"}},
		{"a read takes a record off probation",
			"put a 1h; put b 1h; put c 1h; get a; put d 1h", []string{"a", "c", "d"}},
		{"a write over the version read takes a record off probation",
			"put a 1h; put b 1h; put c 1h; over a 1h; put d 1h", []string{"a", "c", "d"}},
		{"a touch takes a record off probation",
			"put a 1h; put b 1h; put c 1h; touch a 1h; put d 1h", []string{"a", "c", "d"}},
		{"expired first, even off probation",
			"put a 1m; get a; put b 1h; put c 1h; wait 2m; put d 1h", []string{"b", "c", "d"}},
		{"off probation, all of them: closest to expiry goes",
			"put a 1h; put b 1m; put c 2h; get a; get b; get c; put d 1h", []string{"a", "c", "d"}},
		{"off probation, all of them: no expiry goes last",
			"put a 0; put b 2h; put c 1h; get a; get b; get c; put d 3h; get d; put e 3h", []string{"a", "d", "e"}},
		{"a touch moves a record away from expiry",
			"put a 1h; put b 1m; put c 2h; get a; get b; get c; touch b 3h; put d 1h", []string{"b", "c", "d"}},
		{"the newest record is on probation until its next request",
			"put a 1h; get a; put b 1h; get b; put c 1h; put d 1h", []string{"a", "b", "d"}},
		{"an expired id stored again is a new session",
			"put a 1m; get a; put b 1h; get b; wait 2m; put a 1h; put c 1h; put d 1h", []string{"b", "c", "d"}},
		{"a deleted record leaves probation",
			"put a 1h; put b 1h; del a; put c 1h; put d 1h; put e 1h", []string{"c", "d", "e"}},
		{"never used again and never expiring: still the first to go",
			"put a 0; put b 1m; put c 1h; put d 1h", []string{"b", "c", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := sessiontest.NewFakeClock(time.Time{})
			b := newBackend(Options{MaxSessions: 3, Session: session.Options{Now: clock.Now, Logger: sessiontest.NewLogs().Logger()}})
			for _, step := range strings.Split(tc.steps, ";") {
				b.step(t, clock, strings.Fields(step))
				b.check(t)
			}
			var live []string
			for id := range b.records {
				if _, _, err := b.Get(context.Background(), id); err == nil {
					live = append(live, id)
				}
			}
			slices.Sort(live)
			if !slices.Equal(live, tc.live) {
				t.Errorf("live %v, want %v", live, tc.live)
			}
		})
	}
}

// step runs one step of TestMemoryBackendEvictionOrder.
func (m *backend) step(t *testing.T, clock *sessiontest.FakeClock, f []string) {
	t.Helper()
	ctx := context.Background()
	d, _ := time.ParseDuration(f[len(f)-1]) // 0 for a step with none
	var err error
	switch f[0] {
	case "put":
		_, err = m.Put(ctx, f[1], []byte(f[1]), d, session.Version{})
	case "get":
		_, _, err = m.Get(ctx, f[1])
	case "over":
		err = m.writeOver(ctx, f[1], d)
	case "touch":
		err = m.Touch(ctx, f[1], d)
	case "del":
		err = m.Delete(ctx, f[1], session.Version{})
	case "wait":
		clock.Advance(d)
	default:
		err = errors.New("unknown step")
	}
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(f, " "), err)
	}
}

// writeOver writes the record of id over the version Get returns.
func (m *backend) writeOver(ctx context.Context, id string, ttl time.Duration) error {
	_, v, err := m.Get(ctx, id)
	if err == nil {
		_, err = m.Put(ctx, id, []byte(id), ttl, v)
	}
	return err
}

// check verifies the backend's structures: every record is in the map and
// in the heap at its index, the heap is ordered, and the probation list is
// linked both ways and holds exactly the records flagged on probation.
func (m *backend) check(t testing.TB) {
	t.Helper()
	m.mu.RLock()
	defer m.mu.RUnlock()
	require(t, len(m.byExpiry) == len(m.records), "%d records in the heap, %d in the map", len(m.byExpiry), len(m.records))
	for i, r := range m.byExpiry {
		require(t, r.index == i && m.records[r.id] == r, "heap entry %d: %s is at index %d or not in the map", i, r.id, r.index)
		require(t, i == 0 || !m.byExpiry.Less(i, (i-1)/2), "heap entry %d expires before its parent", i)
	}
	listed := map[*memoryRecord]bool{}
	var prev *memoryRecord
	for r := m.probation.head; r != nil && !listed[r]; prev, r = r, r.next {
		listed[r] = true
		require(t, r.prev == prev && m.records[r.id] == r, "probation list broken at %s", r.id)
	}
	require(t, m.probation.tail == prev, "probation list: wrong tail")
	for _, r := range m.records {
		require(t, r.onProbation == listed[r], "%s: flagged on probation %v, listed %v", r.id, r.onProbation, listed[r])
	}
}

// require fails the test now unless ok.
func require(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}

// wantOneWarning checks that the cap's warning was logged, once.
func wantOneWarning(t testing.TB, logs *sessiontest.Logs) {
	t.Helper()
	if logs.Warnings() != 1 || !logs.Contains("memory storage is full") {
		t.Errorf("want one warning about the cap, got:\n%s", logs)
	}
}

// wantLen checks that b holds n records.
func wantLen(t testing.TB, b *backend, n int) {
	t.Helper()
	if got := b.Len(); got != n {
		t.Errorf("%d records, want %d", got, n)
	}
}

// Users reading and writing their sessions while floods of new sessions run
// in parallel (run with -race): no user is evicted, the cap holds, the
// structures stay consistent and the warning is logged once.
func TestMemoryBackendConcurrentFlood(t *testing.T) {
	const maxSessions, users, flooders, perFlooder = 200, 20, 4, 2000
	ctx := context.Background()
	logs := sessiontest.NewLogs()
	b := newBackend(Options{MaxSessions: maxSessions, Session: session.Options{Logger: logs.Logger()}})
	for i := range users {
		id := fmt.Sprint("user", i)
		b.set(ctx, id, []byte("signed in"), time.Hour)
		b.Get(ctx, id) // the user's second request
	}
	var wg sync.WaitGroup
	errs := make(chan error, users+flooders)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- userRequests(ctx, b, fmt.Sprint("user", i), 500)
		}()
	}
	for f := range flooders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- flood(ctx, b, fmt.Sprint("flood", f, "-"), perFlooder)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	require(t, b.Len() <= maxSessions, "%d records, over the cap %d", b.Len(), maxSessions)
	wantOneWarning(t, logs)
	b.check(t)
}

// flood stores n new sessions, ids prefix and a number; one in seven comes
// back once, then signs out.
func flood(ctx context.Context, b *backend, prefix string, n int) error {
	for i := range n {
		id := prefix + fmt.Sprint(i)
		if _, err := b.Put(ctx, id, []byte("x"), time.Hour, session.Version{}); err != nil {
			return err
		}
		if i%7 == 0 {
			b.Get(ctx, id) // may have been evicted already: nothing to promote
			b.Delete(ctx, id, session.Version{})
		}
	}
	return nil
}

// userRequests plays n requests of the user with session id: each reads the
// record, and every other one writes it over the version read (a conflict
// is a concurrent write of the same session, not a loss).
func userRequests(ctx context.Context, b *backend, id string, n int) error {
	for i := range n {
		_, v, err := b.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("%s, request %d: %w", id, i, err)
		}
		if i%2 == 0 {
			continue
		}
		if _, err := b.Put(ctx, id, []byte(fmt.Sprint("request ", i)), time.Hour, v); err != nil && !errors.Is(err, session.ErrConflict) {
			return fmt.Errorf("%s, request %d: %w", id, i, err)
		}
	}
	return nil
}
