package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// A change made while a save runs is not reported saved: the session stays
// dirty (so the middleware warns about it when the headers are out), and the
// next save writes it over the record the first one wrote.
func TestChangeDuringSaveKeepsTheSessionDirty(t *testing.T) {
	for _, regenerate := range []bool{false, true} {
		b := sessiontest.NewBackend(nil)
		st := mustStorage(t, b, session.Options{})
		id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		s, _ := st.Read(ctx, id)
		s.Set("a", 2)
		if regenerate {
			s.RegenerateID(true)
		}
		b.Before(sessiontest.OpPut, func(string) { s.Set("late", 1) })
		v, set, err := st.Save(ctx, s)
		b.Before(sessiontest.OpPut, nil)
		if err != nil || !set {
			t.Fatalf("Save = (%v, %v)", set, err)
		}
		if !s.State().Dirty {
			t.Errorf("regenerate %v: a change made during the save left the session clean", regenerate)
		}
		if rec, _ := b.Record(v); string(rec[:8]) != `[{"a":2}` {
			t.Errorf("the first save wrote %s", rec)
		}
		if v2, _, err := st.Save(ctx, s); err != nil || v2 != v {
			t.Fatalf("the second save = %.12q, %v; want the same id", v2, err)
		}
		if got, _ := st.Read(ctx, v); got.Get("late") != 1.0 || got.Get("a") != 2.0 {
			t.Errorf("regenerate %v: after the second save %v", regenerate, got.Data())
		}
		if _, ok := b.Record(id); regenerate && ok {
			t.Error("the old id's record survived the regeneration")
		}
	}
}

// A record that changes under every attempt ends the save with an error
// wrapping ErrConflict, after a bounded number of attempts; a context that
// ends stops it sooner.
func TestSaveGivesUpOnEndlessConflicts(t *testing.T) {
	b := sessiontest.NewBackend(nil)
	st := mustStorage(t, b, session.Options{})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	s, _ := st.Read(ctx, id)
	s.Set("b", 2)
	b.Before(sessiontest.OpPut, func(key string) {
		if rec, ok := b.Record(key); ok {
			b.Store(key, rec) // another writer, every time
		}
	})
	_, _, err := st.Save(ctx, s)
	if !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save under endless conflicts = %v, want ErrConflict", err)
	}
	if n := b.CallCount(sessiontest.OpPut); n < 64 || n > 200 {
		t.Errorf("%d attempts", n)
	}
	if !s.State().Dirty {
		t.Error("the failed save marked the session clean")
	}
	c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, _, err := st.Save(c, s); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Save past its deadline = %v, want DeadlineExceeded", err)
	}
}

// An unchanged session costs one Get and nothing else; a change costs one
// Put; a merge one Get and one Put more.
func TestMergeCost(t *testing.T) {
	b := sessiontest.NewBackend(nil)
	st := mustStorage(t, b, session.Options{})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	b.ResetCalls()
	sessiontest.Request(t, st, id, nil)
	if calls := b.Calls(); len(calls) != 1 {
		t.Errorf("unchanged: %+v", calls)
	}
	b.ResetCalls()
	sessiontest.Request(t, st, id, func(s *session.Session) { s.Set("a", 2) })
	if calls := b.Calls(); len(calls) != 2 || calls[1].Op != sessiontest.OpPut {
		t.Errorf("changed: %+v", calls)
	}
	x, y := mustRead(t, st, id), mustRead(t, st, id)
	x.Set("x", 1)
	y.Set("y", 1)
	st.Save(ctx, x)
	b.ResetCalls()
	st.Save(ctx, y)
	if calls := b.Calls(); len(calls) != 3 || calls[0].Op != sessiontest.OpPut || calls[1].Op != sessiontest.OpGet || calls[2].Op != sessiontest.OpPut {
		t.Errorf("merged: %+v, want Put (conflict), Get, Put", calls)
	}
}

func mustRead(t *testing.T, st session.Storage, id string) *session.Session {
	t.Helper()
	s, err := st.Read(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
