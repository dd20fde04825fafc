package filestorage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// The race tests stop early at raceBudget, so that a slow machine (or -race)
// bounds their time; they report how many rounds ran.
const (
	raceRounds = 1500
	raceBudget = 20 * time.Second
)

// raceSaves loads the session behind cookie twice, lets prepare change each
// copy, saves both at once, and reports whether the session's original id
// still loads afterwards.
func raceSaves(t *testing.T, st session.Storage, cookie string, first, second func(*session.Session)) (stillLoads bool) {
	t.Helper()
	ctx := context.Background()
	s1, err1 := st.Read(ctx, cookie)
	s2, err2 := st.Read(ctx, cookie)
	if err1 != nil || err2 != nil || s1.ID() != cookie || s2.ID() != cookie {
		t.Fatalf("loading %s twice: %v %v", logID(cookie), err1, err2)
	}
	first(s1)
	second(s2)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, s := range []*session.Session{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, _, err := st.Save(ctx, s); err != nil {
				t.Errorf("Save: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	s, err := st.Read(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID() == cookie
}

// Issue 8.1: a save racing a logout (Destroy) or a login (RegenerateID(true))
// of the same session must not bring the deleted record back.
func TestFileStorageNoResurrection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		second func(*session.Session)
	}{
		{"update vs destroy", func(s *session.Session) { s.Destroy() }},
		{"update vs regenerate", func(s *session.Session) { s.RegenerateID(true); s.Set("user", "ada") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := New(t.TempDir(), Options{Session: session.Options{Logger: sessiontest.NewLogs().Logger()}})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(raceBudget)
			rounds, resurrected := 0, 0
			for ; rounds < raceRounds && time.Now().Before(deadline); rounds++ {
				cookie, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
				if raceSaves(t, st, cookie, func(s *session.Session) { s.Set("n", 2) }, tc.second) {
					resurrected++
				}
			}
			t.Logf("%d rounds", rounds)
			if resurrected > 0 {
				t.Errorf("the deleted session came back in %d of %d rounds", resurrected, rounds)
			}
		})
	}
}

// The two-process test: this test binary, run again with envLockChild set,
// is the second process. It rewrites (Get, then Put over that version) the
// records the parent names on fd 3 (one round number per line) in a loop
// while the parent deletes them, reporting on fd 4.
const envLockChild = "SESSIONKIT_FILE_LOCK_CHILD"

func lockRoundID(i int) string { return "round-" + strconv.Itoa(i) }

// A compare-and-set Put in one process racing a Delete in another never
// brings the deleted record back: the shard's flock makes each one step.
func TestFileStorageTwoProcessesNoResurrection(t *testing.T) {
	if dir := os.Getenv(envLockChild); dir != "" {
		lockChild(t, dir)
		return
	}
	if !crossProcessLocking {
		t.Skip("no flock on this system: file storage locks records within a process only")
	}
	dir := t.TempDir()
	b, err := newFileBackend(dir, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	toChild, childIn, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	childOut, fromChild, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileStorageTwoProcessesNoResurrection$", "-test.count=1")
	cmd.Env = append(os.Environ(), envLockChild+"="+dir)
	cmd.ExtraFiles = []*os.File{toChild, fromChild} // fds 3 and 4
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChild.Close()
	fromChild.Close()
	replies := bufio.NewScanner(childOut)
	expect := func(want string) {
		t.Helper()
		if !replies.Scan() || replies.Text() != want {
			t.Fatalf("child said %q (%v), want %q", replies.Text(), replies.Err(), want)
		}
	}
	rec := []byte(`[{"n":1},{}]`)
	deadline := time.Now().Add(raceBudget)
	rounds, resurrected := 0, 0
	for ; rounds < raceRounds && time.Now().Before(deadline); rounds++ {
		key := b.Key(lockRoundID(rounds))
		if _, err := b.Put(ctx, key, rec, 0, session.Version{}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(childIn, rounds)
		expect("updating")
		if err := b.Delete(ctx, key, session.Version{}); err != nil {
			t.Fatal(err)
		}
		expect("done")
		if _, _, err := b.Get(ctx, key); err == nil {
			resurrected++
		} else if !errors.Is(err, session.ErrNotFound) {
			t.Fatal(err)
		}
	}
	childIn.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	t.Logf("%d rounds", rounds)
	if resurrected > 0 {
		t.Errorf("a record deleted by one process was brought back by the other's Put in %d of %d rounds", resurrected, rounds)
	}
}

// lockChild is the second process: for each round, rewrite the record over
// the version it read until it is gone (or a bound is reached).
func lockChild(t *testing.T, dir string) {
	b, err := newFileBackend(dir, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := bufio.NewScanner(os.NewFile(3, "from-parent"))
	out := os.NewFile(4, "to-parent")
	rec := []byte(`[{"n":2},{}]`)
	for in.Scan() {
		i, err := strconv.Atoi(in.Text())
		if err != nil {
			t.Fatal(err)
		}
		key := b.Key(lockRoundID(i))
		for n := 0; n < 200; n++ {
			_, v, err := b.Get(ctx, key)
			if errors.Is(err, session.ErrNotFound) {
				if n == 0 {
					t.Fatal("the record is not there")
				}
				break
			}
			if err == nil {
				_, err = b.Put(ctx, key, rec, 0, v)
			}
			if n == 0 {
				if err != nil {
					t.Fatalf("first update: %v", err)
				}
				fmt.Fprintln(out, "updating")
			}
			if err != nil && !errors.Is(err, session.ErrConflict) {
				t.Fatal(err)
			}
		}
		fmt.Fprintln(out, "done")
	}
}

// Session locks within a process: a held lock is not taken again (not even
// by its own token), Unlock with another token leaves it held, and past its
// ttl (by Options.Now) it is taken over.
func TestFileLockTokenAndTTL(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	b, err := newFileBackend(t.TempDir(), session.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	try := func(id, token string) bool {
		t.Helper()
		ok, err := b.TryLock(ctx, id, token, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !try("s", "a") {
		t.Fatal("a free lock was not taken")
	}
	if try("s", "b") || try("s", "a") {
		t.Error("a held lock was taken again")
	}
	if !try("other", "b") {
		t.Error("another session's lock is held too")
	}
	b.Unlock(ctx, "s", "b")
	if try("s", "c") {
		t.Error("Unlock with another token freed the lock")
	}
	clock.Advance(time.Minute - time.Millisecond)
	if try("s", "c") {
		t.Error("taken over before its ttl")
	}
	clock.Advance(time.Millisecond)
	if !try("s", "c") {
		t.Fatal("not taken over after its ttl")
	}
	b.Unlock(ctx, "s", "a") // the expired holder: does nothing
	if try("s", "d") {
		t.Error("the expired holder's Unlock freed its successor's lock")
	}
	b.Unlock(ctx, "s", "c")
	if !try("s", "d") {
		t.Error("Unlock by the holder did not free the lock")
	}
	// With no ttl, the lock is held until Unlock.
	if ok, _ := b.TryLock(ctx, "forever", "a", 0); !ok {
		t.Fatal("not taken")
	}
	clock.Advance(1000 * time.Hour)
	if try("forever", "b") {
		t.Error("a lock without ttl was taken over")
	}
}

// Two goroutines of one process exclude each other: flock alone would not
// (it belongs to the open file), the in-process map does.
func TestFileLockGoroutines(t *testing.T) {
	b, err := newFileBackend(t.TempDir(), session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var inside, overlaps, taken atomic.Int32
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token := fmt.Sprint("g", g)
			for range 300 {
				ok, err := b.TryLock(ctx, "s", token, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					runtime.Gosched()
					continue
				}
				taken.Add(1)
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				runtime.Gosched()
				inside.Add(-1)
				if err := b.Unlock(ctx, "s", token); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if overlaps.Load() > 0 {
		t.Errorf("both goroutines held the lock at once %d times", overlaps.Load())
	}
	if taken.Load() == 0 {
		t.Error("the lock was never taken")
	}
}

// The helper process of the cross-process lock tests: this test binary, run
// again with envLockHelper set to the storage directory, takes the lock of
// session envLockHelperID with ttl envLockHelperTTL, says "locked" on
// stdout, and exits without unlocking when its stdin closes.
const (
	envLockHelper    = "SESSIONKIT_FILE_LOCK_HELPER"
	envLockHelperID  = "SESSIONKIT_FILE_LOCK_HELPER_ID"
	envLockHelperTTL = "SESSIONKIT_FILE_LOCK_HELPER_TTL"
)

func TestFileLockHelperProcess(t *testing.T) {
	dir := os.Getenv(envLockHelper)
	if dir == "" {
		return // not the helper
	}
	ttl, err := time.ParseDuration(os.Getenv(envLockHelperTTL))
	if err != nil {
		t.Fatal(err)
	}
	b, err := newFileBackend(dir, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := b.TryLock(ctx, os.Getenv(envLockHelperID), "helper", ttl)
	if err != nil || !ok {
		t.Fatalf("helper: TryLock = %v, %v", ok, err)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
}

// startLockHelper starts the helper process holding id's lock in dir, and
// returns once it holds it; Wait (closing its stdin) makes it exit.
func startLockHelper(t *testing.T, dir, id string, ttl time.Duration) *testserver.Helper {
	t.Helper()
	h := testserver.StartHelper(t, "TestFileLockHelperProcess",
		envLockHelper+"="+dir, envLockHelperID+"="+id, envLockHelperTTL+"="+ttl.String())
	h.Expect("locked")
	return h
}

// Another process's lock (flock on the session's lock file) is held until
// that process exits, which releases it.
func TestFileLockAcrossProcesses(t *testing.T) {
	if !crossProcessLocking {
		t.Skip("no flock on this system: session locks hold within a process only")
	}
	dir := t.TempDir()
	b, err := newFileBackend(dir, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	helper := startLockHelper(t, dir, "s", time.Hour)
	for i := range 20 {
		if ok, err := b.TryLock(ctx, "s", fmt.Sprint("parent", i), time.Minute); ok || err != nil {
			t.Fatalf("TryLock of a lock another process holds = %v, %v", ok, err)
		}
		time.Sleep(time.Millisecond)
	}
	if ok, err := b.TryLock(ctx, "other", "parent", time.Minute); !ok || err != nil {
		t.Errorf("TryLock of another session = %v, %v", ok, err)
	}
	if err := helper.Wait(); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(ctx, "s", "parent", time.Minute); !ok || err != nil {
		t.Errorf("TryLock after the holder exited = %v, %v", ok, err)
	}
	// And the other way round: a lock this process holds excludes the
	// helper; it takes it once this process unlocks.
	b.Unlock(ctx, "s", "parent")
	startLockHelper(t, dir, "s", time.Hour)
	if ok, _ := b.TryLock(ctx, "s", "parent", time.Minute); ok {
		t.Error("both processes hold the lock")
	}
}

// A lock held past its ttl is released by the holding process's timer, so
// another process can take it while the holder still runs.
func TestFileLockTTLAcrossProcesses(t *testing.T) {
	if !crossProcessLocking {
		t.Skip("no flock on this system: session locks hold within a process only")
	}
	dir := t.TempDir()
	b, err := newFileBackend(dir, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 300 * time.Millisecond
	helper := startLockHelper(t, dir, "s", ttl)
	start := time.Now()
	if ok, _ := b.TryLock(ctx, "s", "parent", time.Minute); ok {
		t.Fatal("took the lock another process holds")
	}
	for {
		ok, err := b.TryLock(ctx, "s", "parent", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the lock was not released after its ttl")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !helper.Running() {
		t.Error("the helper exited: the lock was released by its exit, not its ttl")
	}
	if waited := time.Since(start); waited < ttl/2 {
		t.Errorf("the lock was free %v after the helper took it, before its ttl %v", waited, ttl)
	}
}

// Exclusive sessions through the Storage (Locking): a second Lock of a held
// session times out; after the release it is taken.
func TestFileStorageLocking(t *testing.T) {
	st, err := New(t.TempDir(), Options{Session: session.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	lk, ok := st.(session.Locking)
	if !ok {
		t.Fatal("file storage is not a Locking")
	}
	cookie, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	release, err := lk.Lock(ctx, cookie, session.LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lk.Lock(ctx, cookie, session.LockOptions{Wait: 20 * time.Millisecond}); !errors.Is(err, session.ErrLockTimeout) {
		t.Errorf("second Lock: %v, want ErrLockTimeout", err)
	}
	release()
	release2, err := lk.Lock(ctx, cookie, session.LockOptions{Wait: time.Second})
	if err != nil {
		t.Fatalf("Lock after the release: %v", err)
	}
	release2()
}

// A symlink where a session's lock file belongs is not followed: TryLock
// is an error, and the link's target is untouched.
func TestFileLockSymlink(t *testing.T) {
	if !crossProcessLocking {
		t.Skip("no lock files on this system")
	}
	parent := t.TempDir()
	b, err := newFileBackend(filepath.Join(parent, "store"), session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := fileSessionLockPath(b.root, "s")
	os.MkdirAll(filepath.Dir(p), 0o700)
	target := filepath.Join(parent, "target")
	if err := os.Symlink(target, p); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	if ok, err := b.TryLock(ctx, "s", "a", time.Minute); ok || err == nil {
		t.Errorf("TryLock over a symlink = %v, %v; want an error", ok, err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("TryLock created the symlink's target: %v", err)
	}
}
