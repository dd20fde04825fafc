package memorystorage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

// savedSession stores a session holding values in st and returns its id.
func savedSession(t *testing.T, st session.Storage, values map[string]any, flash map[string]any) string {
	t.Helper()
	ctx := context.Background()
	s := session.New()
	for k, v := range values {
		s.Set(k, v)
	}
	for k, v := range flash {
		s.Flash(k, v)
	}
	id, set, err := st.Save(ctx, s)
	if err != nil || !set {
		t.Fatalf("Save = %q, %v, %v", id, set, err)
	}
	return id
}

func read(t *testing.T, st session.Storage, id string) *session.Session {
	t.Helper()
	s, err := st.Read(context.Background(), id)
	if err != nil || s.ID() != id {
		t.Fatalf("Read(%s) = %v, %v", id, s, err)
	}
	return s
}

// A change in one request, before or without a save, never shows in
// another, in values or in flash values.
func TestIsolation(t *testing.T) {
	st := newStorage(t)
	id := savedSession(t, st, map[string]any{"a": "1", "b": 2, "c": true}, nil)
	// The flash set above was none; a second record carries flash.
	flashID := savedSession(t, st, map[string]any{"a": "1"}, map[string]any{"msg": "hi", "n": 1})

	for _, tc := range []struct {
		name   string
		id     string
		change func(s *session.Session)
	}{
		{"Set of a present key", id, func(s *session.Session) { s.Set("a", "changed") }},
		{"Set of a new key", id, func(s *session.Session) { s.Set("z", "new") }},
		{"Set to nil", id, func(s *session.Session) { s.Set("b", nil) }},
		{"Unset", id, func(s *session.Session) { s.Unset("c") }},
		{"Unset of a flash value", flashID, func(s *session.Session) { s.Unset("msg") }},
		{"Destroy and Set", id, func(s *session.Session) { s.Destroy(); s.Set("a", "other") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := read(t, st, tc.id).Data()
			wantGet := fmt.Sprint(read(t, st, tc.id).Get("a"), read(t, st, tc.id).Get("msg"))
			a, b := read(t, st, tc.id), read(t, st, tc.id)
			tc.change(a)
			if got := fmt.Sprint(b.Get("a"), b.Get("msg")); got != wantGet {
				t.Fatalf("another request's session reads %s after the change; want %s", got, wantGet)
			}
			if got := read(t, st, tc.id).Data(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("a later read gives %v; want %v", got, want)
			}
			if !b.Has("a") || b.Len() != read(t, st, tc.id).Len() {
				t.Fatalf("another request's session changed: %v", b.Data())
			}
		})
	}
}

// A record holding a map or a slice is decoded afresh for each request: a
// change made inside a value (which the session cannot see) stays in its
// request.
func TestNestedValuesNotShared(t *testing.T) {
	st := newStorage(t)
	id := savedSession(t, st, map[string]any{"prefs": map[string]any{"theme": "dark"}, "tags": []any{"x"}}, nil)
	a := read(t, st, id)
	a.Get("prefs").(map[string]any)["theme"] = "light"
	a.Get("tags").([]any)[0] = "y"
	b := read(t, st, id)
	if got := b.Get("prefs").(map[string]any)["theme"]; got != "dark" {
		t.Fatalf("another request reads theme %v; want dark", got)
	}
	if got := b.Get("tags").([]any)[0]; got != "x" {
		t.Fatalf("another request reads tag %v; want x", got)
	}
}

// After a rewrite, readers get the new record.
func TestReadsFollowWrites(t *testing.T) {
	st := newStorage(t)
	id := savedSession(t, st, map[string]any{"n": 0}, nil)
	for i := 1; i <= 50; i++ {
		s := read(t, st, id)
		read(t, st, id) // a second reader of the same version
		s.Set("n", i)
		if _, _, err := st.Save(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		if n, _ := session.Value[int](read(t, st, id), "n"); n != i {
			t.Fatalf("after write %d, a read gives n=%d", i, n)
		}
	}
}

// Readers and writers of one record at once (run with -race): every read
// gives one of the written versions, whole, and changes stay private.
func TestConcurrentReadsAndWrites(t *testing.T) {
	st := newStorage(t)
	id := savedSession(t, st, map[string]any{"n": 0, "twice": 0}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				s, err := st.Read(context.Background(), id)
				if err != nil {
					errs <- err
					return
				}
				n, _ := session.Value[int](s, "n")
				twice, _ := session.Value[int](s, "twice")
				if twice != 2*n {
					errs <- fmt.Errorf("read n=%d twice=%d: a torn or shared-and-changed record", n, twice)
					return
				}
				if w%2 == 0 {
					s.Set("n", n+1)
					s.Set("twice", 2*(n+1))
					if _, _, err := st.Save(context.Background(), s); err != nil {
						errs <- err
						return
					}
				} else if i%3 == 0 {
					s.Set("twice", -1) // never saved: must not show elsewhere
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func newStorage(t *testing.T) session.Storage {
	t.Helper()
	st, err := memorystorage.New(memorystorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
