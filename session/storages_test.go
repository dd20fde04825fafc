package session_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/filestorage"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

// What every storage of the module must do alike with values: the
// conformance suite (sessiontest) covers the rest.

// everyStorage returns one of each storage of the session module.
func everyStorage(t *testing.T) map[string]session.Storage {
	t.Helper()
	memory, err := memorystorage.New(memorystorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	file, err := filestorage.New(t.TempDir(), filestorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Large enough for the deep values of TestSaveDepthLimit.
	plain, err := cookiestorage.New(cookiestorage.Options{MaxSize: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := cookiestorage.New(cookiestorage.Options{MaxSize: 1 << 16, Keys: [][]byte{make([]byte, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]session.Storage{"memory": memory, "file": file, "cookie": plain, "sealed cookie": sealed}
}

// saveAndReload saves s to st and reads it back as the next request would.
func saveAndReload(t *testing.T, st session.Storage, s *session.Session) *session.Session {
	t.Helper()
	ctx := context.Background()
	v, set, err := st.Save(ctx, s)
	if err != nil || !set {
		t.Fatalf("Save: %v, set %v", err, set)
	}
	next, err := st.Read(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if next.ID() != s.ID() {
		t.Fatalf("the saved session did not load (a fresh session %s)", next.ID())
	}
	return next
}

// Integers are exact through every storage, across the whole int64 and
// uint64 ranges, while small numbers still load as float64.
func TestValueExactIntegersThroughStorages(t *testing.T) {
	ints := []int64{0, 1, -1, 1<<53 - 1, 1 << 53, 1<<53 + 1, -(1<<53 + 1), 1234567890123456789, -1234567890123456789,
		math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1}
	uints := []uint64{0, 1, 1<<53 + 1, math.MaxInt64, 1 << 63, 1<<63 + 1, 12345678901234567890, math.MaxUint64 - 1, math.MaxUint64}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		u := rnd.Uint64() >> rnd.IntN(64)
		uints = append(uints, u)
		ints = append(ints, int64(u), -int64(u>>1))
	}
	for name, st := range everyStorage(t) {
		t.Run(name, func(t *testing.T) {
			s, _ := st.Read(context.Background(), "")
			s.Set("uid", int64(1234567890123456789))
			s.Set("small", 42)
			for i, n := range ints {
				s.Set("i"+strconv.Itoa(i), n)
			}
			for i, n := range uints {
				s.Set("u"+strconv.Itoa(i), n)
			}
			s = saveAndReload(t, st, s)
			if n, ok := session.Value[int64](s, "uid"); !ok || n != 1234567890123456789 {
				t.Errorf("session.Value[int64](uid) = %d, %v; want 1234567890123456789", n, ok)
			}
			if got := s.Get("uid"); got != int64(1234567890123456789) {
				t.Errorf("Get(uid) = %#v, want int64(1234567890123456789)", got)
			}
			if got := s.Get("small"); got != 42.0 {
				t.Errorf("Get(small) = %#v, want float64 42", got)
			}
			if _, ok := session.Value[float64](s, "uid"); ok {
				t.Error("session.Value[float64](uid) succeeded: float64 cannot hold it")
			}
			for i, want := range ints {
				if n, ok := session.Value[int64](s, "i"+strconv.Itoa(i)); !ok || n != want {
					t.Errorf("session.Value[int64] of %d = %d, %v", want, n, ok)
				}
				if n, ok := session.Value[uint64](s, "i"+strconv.Itoa(i)); ok != (want >= 0) || ok && n != uint64(want) {
					t.Errorf("session.Value[uint64] of %d = %d, %v", want, n, ok)
				}
			}
			for i, want := range uints {
				if n, ok := session.Value[uint64](s, "u"+strconv.Itoa(i)); !ok || n != want {
					t.Errorf("session.Value[uint64] of %d = %d, %v", want, n, ok)
				}
				if n, ok := session.Value[int64](s, "u"+strconv.Itoa(i)); ok != (want <= math.MaxInt64) || ok && n != int64(want) {
					t.Errorf("session.Value[int64] of %d = %d, %v", want, n, ok)
				}
				if n, ok := session.Value[uint32](s, "u"+strconv.Itoa(i)); ok != (want <= math.MaxUint32) || ok && uint64(n) != want {
					t.Errorf("session.Value[uint32] of %d = %d, %v", want, n, ok)
				}
			}
		})
	}
}

// nestedSlices returns leaf inside n levels of slices.
func nestedSlices(n int, leaf any) any {
	v := leaf
	for range n {
		v = []any{v}
	}
	return v
}

func sliceDepth(v any) int {
	if l, ok := v.([]any); ok && len(l) == 1 {
		return 1 + sliceDepth(l[0])
	}
	return 0
}

// A value nested deeper than the decoder reads fails the save with
// session.ErrTooDeep, naming the limit, and leaves the stored session as it was;
// the deepest value the limit allows saves and loads. A value that holds
// itself is an error too.
func TestSaveDepthLimit(t *testing.T) {
	ctx := context.Background()
	for name, st := range everyStorage(t) {
		t.Run(name, func(t *testing.T) {
			s, _ := st.Read(ctx, "")
			s.Set("deepest", nestedSlices(session.MaxDepth-1, "leaf")) // the values map is the first level
			s.Set("user", "alice")
			v, _, err := st.Save(ctx, s)
			if err != nil {
				t.Fatalf("saving a value %d levels deep: %v", session.MaxDepth-1, err)
			}
			s, _ = st.Read(ctx, v)
			if got := sliceDepth(s.Get("deepest")); got != session.MaxDepth-1 || s.Get("user") != "alice" {
				t.Fatalf("loaded a value %d levels deep and user %v, want %d and alice", got, s.Get("user"), session.MaxDepth-1)
			}

			for what, change := range map[string]func(*session.Session){
				"Set":   func(s *session.Session) { s.Set("deep", nestedSlices(session.MaxDepth, "leaf")) },
				"Flash": func(s *session.Session) { s.Flash("deep", nestedSlices(session.MaxDepth, "leaf")) },
				"cycle": func(s *session.Session) {
					m := map[string]any{}
					m["self"] = m
					s.Set("loop", m)
				},
			} {
				s, _ := st.Read(ctx, v)
				s.Set("user", "mallory")
				change(s)
				_, _, err := st.Save(ctx, s)
				if !errors.Is(err, session.ErrTooDeep) {
					t.Fatalf("%s: saving a value nested too deeply: %v, want session.ErrTooDeep", what, err)
				}
				if !strings.Contains(err.Error(), "10000") {
					t.Errorf("%s: error %q does not name the limit", what, err)
				}
				if s, _ := st.Read(ctx, v); s.ID() == "" || s.Get("user") != "alice" {
					t.Errorf("%s: after the failed save the stored session has user %v, want alice", what, s.Get("user"))
				}
			}
		})
	}
}
