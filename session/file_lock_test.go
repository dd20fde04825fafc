package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
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
		t.Fatalf("loading %s twice: %v %v", session.LogID(cookie), err1, err2)
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
			st, err := session.NewFileStorage(t.TempDir(), session.Options{Logger: sessiontest.NewLogs().Logger()})
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
// is the second process. It updates the records the parent names on fd 3
// (one round number per line) in a loop while the parent deletes them,
// reporting on fd 4.
const envLockChild = "SESSIONKIT_FILE_LOCK_CHILD"

func lockRoundID(i int) string { return "round-" + strconv.Itoa(i) }

func TestFileStorageTwoProcessesNoResurrection(t *testing.T) {
	if dir := os.Getenv(envLockChild); dir != "" {
		lockChild(t, dir)
		return
	}
	if !session.FileCrossProcessLocking {
		t.Skip("no flock on this system: file storage locks records within a process only")
	}
	dir := t.TempDir()
	b, err := session.NewFileBackendForTest(dir, session.Options{})
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
		id := lockRoundID(rounds)
		if err := b.Set(ctx, id, rec, 0); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(childIn, rounds)
		expect("updating")
		if err := b.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		expect("done")
		if _, err := b.Get(ctx, id); err == nil {
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
		t.Errorf("a record deleted by one process was brought back by the other's update in %d of %d rounds", resurrected, rounds)
	}
}

// lockChild is the second process: for each round, Update the record until
// it is gone (or a bound is reached).
func lockChild(t *testing.T, dir string) {
	b, err := session.NewFileBackendForTest(dir, session.Options{})
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
		id := lockRoundID(i)
		for n := 0; n < 200; n++ {
			err := b.Update(ctx, id, rec, 0)
			if n == 0 {
				if err != nil {
					t.Fatalf("first update: %v", err)
				}
				fmt.Fprintln(out, "updating")
			}
			if errors.Is(err, session.ErrNotFound) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintln(out, "done")
	}
}
