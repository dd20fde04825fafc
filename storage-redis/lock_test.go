package redisstorage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// The environment of the helper process of TestExclusiveTwoProcesses.
const (
	envLockAddr   = "REDISSTORAGE_TEST_LOCK_ADDR"
	envLockPrefix = "REDISSTORAGE_TEST_LOCK_PREFIX"
	envLockCookie = "REDISSTORAGE_TEST_LOCK_COOKIE"
)

// increments adds 1 to the counter "n" of the session that cookie names n
// times, in workers goroutines, each increment under the session's lock
// (Lock, Read, Set, Save, release), and records in "who" which process made
// the last one and in "switches" how often that changed.
func increments(ctx context.Context, st session.Storage, cookie string, n, workers int) error {
	if _, ok := st.(session.Locking); !ok {
		return errors.New("the storage is not a session.Locking")
	}
	jobs := make(chan struct{})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range jobs {
				if err := increment(ctx, st, cookie); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	err := feed(jobs, errs, n)
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// feed sends n jobs, or stops at the first error from a worker.
func feed(jobs chan<- struct{}, errs <-chan error, n int) error {
	for range n {
		select {
		case jobs <- struct{}{}:
		case err := <-errs:
			return err
		}
	}
	return nil
}

// increment is one locked increment of increments.
func increment(ctx context.Context, st session.Storage, cookie string) error {
	release, err := st.(session.Locking).Lock(ctx, cookie, session.LockOptions{Wait: 30 * time.Second})
	if err != nil {
		return fmt.Errorf("Lock: %w", err)
	}
	defer release()
	s, err := st.Read(ctx, cookie)
	if err != nil {
		return fmt.Errorf("Read: %w", err)
	}
	if s.ID() != cookie {
		return errors.New("Read returned a new session")
	}
	v, _ := session.Value[int](s, "n")
	s.Set("n", v+1)
	me := strconv.Itoa(os.Getpid())
	if who, _ := session.Value[string](s, "who"); who != me {
		sw, _ := session.Value[int](s, "switches")
		s.Set("switches", sw+1)
		s.Set("who", me)
	}
	if _, _, err := st.Save(ctx, s); err != nil {
		return fmt.Errorf("Save: %w", err)
	}
	return nil
}

// TestExclusiveTwoProcesses increments one counter in one session 200
// times, 100 from this process and 100 from a second one (this test binary
// again, running TestExclusiveHelperProcess), each in 8 goroutines, every
// increment under the session's lock (session.Locking over the backend's
// SET NX PX): the counter ends at exactly 200.
func TestExclusiveTwoProcesses(t *testing.T) {
	srv := testserver.Redis(t)
	c := newClient(t, srv.Addr())
	ctx := context.Background()
	prefix := freshPrefix()
	st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{IdleTimeout: time.Hour}})
	cookie := request(t, st, "", func(s *session.Session) { s.Set("n", 0) })

	// The child says "ready" once connected, and both start together when
	// it reads "go".
	child := testserver.StartHelper(t, "TestExclusiveHelperProcess",
		envLockAddr+"="+srv.Addr(), envLockPrefix+"="+prefix, envLockCookie+"="+cookie)
	child.Expect("ready")
	child.Send("go")
	parentErr := increments(ctx, st, cookie, 100, 8)
	childErr := child.Wait()
	if parentErr != nil {
		t.Errorf("this process: %v", parentErr)
	}
	if childErr != nil {
		t.Error(childErr)
	}
	s, err := st.Read(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := session.Value[int](s, "n")
	sw, _ := session.Value[int](s, "switches")
	t.Logf("counter %d; the lock passed between the two processes %d times", n, sw)
	if n != 200 {
		t.Errorf("the counter is %d after 200 locked increments from two processes, want 200", n)
	}
	if sw < 2 {
		t.Errorf("the lock passed between the processes %d times: they did not run at the same time", sw)
	}
	if n := countKeys(c, prefix+"lock:*"); n != 0 {
		t.Errorf("%d lock keys left after every release", n)
	}
}

// TestExclusiveHelperProcess is the second process of
// TestExclusiveTwoProcesses; run alone, it skips.
func TestExclusiveHelperProcess(t *testing.T) {
	addr := os.Getenv(envLockAddr)
	if addr == "" {
		t.Skip("the helper process of TestExclusiveTwoProcesses")
	}
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, PoolSize: 8})
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	st := mustNew(t, c, Options{KeyPrefix: os.Getenv(envLockPrefix), Session: session.Options{IdleTimeout: time.Hour}})
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() != "go" {
		t.Fatal("no go from the parent")
	}
	if err := increments(ctx, st, os.Getenv(envLockCookie), 100, 8); err != nil {
		t.Fatal(err)
	}
}

// TestLostUpdateWithoutLock is the control of TestExclusiveTwoProcesses:
// two requests that read the counter before either saves both write the
// same next value, so one increment is lost when they do not lock (merged
// saves keep different keys, not a read-modify-write of one key).
func TestLostUpdateWithoutLock(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	st := mustNew(t, c, Options{KeyPrefix: freshPrefix(), Session: session.Options{Logger: slog.New(slog.DiscardHandler)}})
	cookie := request(t, st, "", func(s *session.Session) { s.Set("n", 0) })
	a, b := read(t, st, cookie), read(t, st, cookie)
	for _, s := range []*session.Session{a, b} {
		v, _ := session.Value[int](s, "n")
		s.Set("n", v+1)
	}
	save(t, st, a)
	save(t, st, b)
	s := read(t, st, cookie)
	if n, _ := session.Value[int](s, "n"); n != 1 {
		t.Errorf("two unlocked increments read before either saved: counter %d, want 1 (one lost)", n)
	}
}

// TestLockWaits: a second Lock of a held session waits until the first is
// released, and times out with ErrLockTimeout past its Wait.
func TestLockWaits(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	ctx := context.Background()
	prefix := freshPrefix()
	st := mustNew(t, c, Options{KeyPrefix: prefix})
	lk := st.(session.Locking)
	cookie := request(t, st, "", func(s *session.Session) { s.Set("n", 0) })
	release, err := lk.Lock(ctx, cookie, session.LockOptions{})
	must(t, err)
	if tok, ok := stored(t, c, prefix+"lock:"+session.HashID(cookie)); !ok || tok == "" {
		t.Fatalf("no lock key %s (%q)", prefix+"lock:"+session.HashID(cookie), tok)
	}
	start := time.Now()
	_, err = lk.Lock(ctx, cookie, session.LockOptions{Wait: 100 * time.Millisecond})
	wantIs(t, "Lock of a held session", err, session.ErrLockTimeout)
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Errorf("Lock gave up after %v with a 100ms Wait", d)
	}
	got := make(chan error, 1)
	go func() { got <- lockAndRelease(ctx, lk, cookie) }()
	release()
	if err := <-got; err != nil {
		t.Errorf("Lock after the holder's release: %v", err)
	}
	if n := countKeys(c, prefix+"lock:*"); n != 0 {
		t.Errorf("%d lock keys left after every release", n)
	}
}

// lockAndRelease takes the lock of session cookie, waiting up to 30 s, and
// releases it.
func lockAndRelease(ctx context.Context, lk session.Locking, cookie string) error {
	release, err := lk.Lock(ctx, cookie, session.LockOptions{Wait: 30 * time.Second})
	if err == nil {
		release()
	}
	return err
}
