package cookiestorage_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

var ctx = context.Background()

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func cookieConfig(keys [][]byte) sessiontest.Config {
	return sessiontest.Config{
		New: func(t *testing.T, o session.Options) (session.Storage, error) {
			return cookiestorage.New(cookiestorage.Options{Session: o.Client(), Keys: keys, CookieName: "__session"})
		},
		ClockControlsExpiry: true,
	}
}

func TestCookieStorageConformancePlain(t *testing.T) { sessiontest.Run(t, cookieConfig(nil)) }
func TestCookieStorageConformanceSealed(t *testing.T) {
	sessiontest.Run(t, cookieConfig([][]byte{testKey(1), testKey(2)}))
}

func newCookieStorage(t *testing.T, o cookiestorage.Options) session.Storage {
	t.Helper()
	st, err := cookiestorage.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// With no keys the value is the Remix payload {"i":id,"d":[values,flash,meta]}.
func TestCookieStoragePlainPayload(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := newCookieStorage(t, cookiestorage.Options{Session: session.ClientOptions{Now: clock.Now}})
	var id string
	v, set := sessiontest.Request(t, st, "", func(s *session.Session) {
		id = s.ID()
		s.Set("count", 1)
		s.Flash("msg", "hi")
	})
	ms := clock.Now().UnixMilli()
	want := fmt.Sprintf(`{"i":"%s","d":[{"count":1},{"msg":"hi"},{"c":%d,"s":%d}]}`, id, ms, ms)
	if !set || v != want {
		t.Fatalf("value %s, want %s", v, want)
	}
	// What @remix-run/session's cookie storage does with it: JSON.parse, then
	// the id and the first two elements.
	var remix struct {
		I string `json:"i"`
		D []any  `json:"d"`
	}
	if err := json.Unmarshal([]byte(v), &remix); err != nil || remix.I != id || len(remix.D) < 2 {
		t.Errorf("not Remix-readable: %+v, %v", remix, err)
	}
}

// Payloads written by @remix-run/session (remix-behaviour.md §1.4).
func TestCookieStorageReadsRemixPayloads(t *testing.T) {
	logs := sessiontest.NewLogs()
	st := newCookieStorage(t, cookiestorage.Options{Session: session.ClientOptions{Logger: logs.Logger()}})
	for _, tc := range []struct {
		in     string
		id     string // "" for a new id
		values map[string]any
	}{
		{`{"i":"6ddda97e-5d4b-4a5e-9b7e-0123456789ab","d":[{"count":1},{}]}`, "6ddda97e-5d4b-4a5e-9b7e-0123456789ab", map[string]any{"count": 1.0}},
		{`{"i":"myid"}`, "myid", nil},
		{`{"i":"myid","d":[{"a":1}]}`, "myid", map[string]any{"a": 1.0}},
		{`{"i":"myid","d":null}`, "myid", nil},
		{`{"d":[{"a":1},{}]}`, "", map[string]any{"a": 1.0}},
		{`{"i":5,"d":[{"a":1},{}]}`, "", map[string]any{"a": 1.0}},
		{`{"i":"../x","d":[{"a":1},{}]}`, "", map[string]any{"a": 1.0}},
		{`garbage`, "", nil},
		{`null`, "", nil},
		{`[]`, "", nil},
		{`123`, "", nil},
		{`"str"`, "", nil},
		{`{}`, "", nil},
		{`{"i":"myid","d":5}`, "", nil},
	} {
		s, err := st.Read(ctx, tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if tc.id != "" && s.ID() != tc.id || tc.id == "" && (!session.ValidID(s.ID()) || len(s.ID()) != 43) {
			t.Errorf("%s: id %q, want %q", tc.in, s.ID(), tc.id)
		}
		if got := s.Data().Values; len(got) != len(tc.values) || len(got) > 0 && fmt.Sprint(got) != fmt.Sprint(tc.values) {
			t.Errorf("%s: values %v, want %v", tc.in, got, tc.values)
		}
	}
}

func TestCookieStorageKeys(t *testing.T) {
	for _, keys := range [][][]byte{{testKey(1)[:16]}, {testKey(1), make([]byte, 31)}, {testKey(1), testKey(2), make([]byte, 64)}, {nil}} {
		_, err := cookiestorage.New(cookiestorage.Options{Keys: keys})
		idx := fmt.Sprintf("Keys[%d]", len(keys)-1)
		if err == nil || !strings.Contains(err.Error(), idx) {
			t.Errorf("keys of lengths %d: err %v, want one naming %s", len(keys[len(keys)-1]), err, idx)
		}
	}
	if _, err := cookiestorage.New(cookiestorage.Options{MaxSize: -1}); err == nil {
		t.Error("negative MaxSize accepted")
	}
	if _, err := cookiestorage.New(cookiestorage.Options{Session: session.ClientOptions{IdleTimeout: -1}}); err == nil {
		t.Error("negative IdleTimeout accepted")
	}
}

func TestCookieStorageSealed(t *testing.T) {
	logs := sessiontest.NewLogs()
	o := cookiestorage.Options{Session: session.ClientOptions{Logger: logs.Logger()}, Keys: [][]byte{testKey(1)}, CookieName: "sid"}
	st := newCookieStorage(t, o)
	var id string
	v1, _ := sessiontest.Request(t, st, "", func(s *session.Session) { id = s.ID(); s.Set("secret", "s3cr3t") })
	v2, _ := sessiontest.Request(t, st, v1, func(s *session.Session) { s.Set("n", 1) })
	for _, v := range []string{v1, v2} {
		if strings.Contains(v, "s3cr3t") || strings.Contains(v, id) || strings.Contains(v, `"i"`) {
			t.Errorf("sealed value is readable: %q", v)
		}
	}
	// Same content sealed twice differs (random nonce).
	s, _ := st.Read(ctx, v1)
	s.Set("secret", "s3cr3t")
	if v3, _, _ := st.Save(ctx, s); v3 == v1 {
		t.Error("two seals of the same payload are equal: nonce reused")
	}

	reject := func(name, value string, st session.Storage) {
		t.Helper()
		before := logs.Warnings()
		s, err := st.Read(ctx, value)
		if err != nil || s.ID() == id || s.Has("secret") {
			t.Errorf("%s: opened (id %q, err %v)", name, s.ID(), err)
		}
		if logs.Warnings() != before+1 {
			t.Errorf("%s: %d warnings, want 1 more", name, logs.Warnings()-before)
		}
	}
	plain := fmt.Sprintf(`{"i":"%s","d":[{"secret":"s3cr3t"},{}]}`, id)
	reject("plain payload", plain, st)
	raw := []byte(v1)
	for _, i := range []int{0, 12, len(raw) / 2, len(raw) - 1} {
		bad := bytes.Clone(raw)
		bad[i] ^= 1
		reject(fmt.Sprintf("byte %d flipped", i), string(bad), st)
	}
	reject("truncated", string(raw[:20]), st)
	reject("trailing byte", v1+"!", st)
	reject("base64 of the sealed value", base64.RawURLEncoding.EncodeToString(raw), st)

	// AAD: a value sealed for cookie "sid" does not open as "other".
	o2 := o
	o2.CookieName = "other"
	reject("other cookie name", v1, newCookieStorage(t, o2))
	// Another key does not open it.
	o3 := o
	o3.Keys = [][]byte{testKey(9)}
	reject("other key", v1, newCookieStorage(t, o3))
	if logs.Contains(id) {
		t.Errorf("T-LOG1: the id was logged: %s", logs)
	}
}

// Rotation: Keys[0] seals, every key opens.
func TestCookieStorageKeyRotation(t *testing.T) {
	old := newCookieStorage(t, cookiestorage.Options{Keys: [][]byte{testKey(1)}})
	v1, _ := sessiontest.Request(t, old, "", func(s *session.Session) { s.Set("n", 1) })
	rotated := newCookieStorage(t, cookiestorage.Options{Keys: [][]byte{testKey(2), testKey(1)}})
	v2, _ := sessiontest.Request(t, rotated, v1, func(s *session.Session) {
		if s.Get("n") != 1.0 {
			t.Errorf("the old key's cookie does not open after rotation: %v", s.Data())
		}
		s.Set("n", 2)
	})
	onlyNew := newCookieStorage(t, cookiestorage.Options{Keys: [][]byte{testKey(2)}})
	sessiontest.Request(t, onlyNew, v2, func(s *session.Session) {
		if s.Get("n") != 2.0 {
			t.Error("a rotated storage did not seal with Keys[0]")
		}
	})
	sessiontest.Request(t, onlyNew, v1, func(s *session.Session) {
		if s.Has("n") {
			t.Error("a retired key still opens")
		}
	})
}

// ErrTooLarge when name=value plus the signature would pass MaxSize.
func TestCookieStorageTooLarge(t *testing.T) {
	for _, keys := range [][][]byte{nil, {testKey(1)}} {
		const name = "__session"
		st := newCookieStorage(t, cookiestorage.Options{Keys: keys, CookieName: name})
		s, _ := st.Read(ctx, "")
		s.Set("big", strings.Repeat("x", 4000))
		v, set, err := st.Save(ctx, s)
		if !errors.Is(err, session.ErrTooLarge) || set || v != "" {
			t.Errorf("keys %d: Save = (%d bytes, %v, %v), want ErrTooLarge", len(keys), len(v), set, err)
		}
		if !s.State().Dirty {
			t.Error("a failed save marked the session clean")
		}
		// The boundary: find the largest value that fits, check the formula.
		lo, hi := 0, 4000
		for lo < hi {
			mid := (lo + hi + 1) / 2
			s.Set("big", strings.Repeat("x", mid))
			if _, _, err := st.Save(ctx, s); err == nil {
				lo = mid
				s.Set("big", "reset") // dirty again
			} else {
				hi = mid - 1
			}
		}
		s.Set("big", strings.Repeat("x", lo))
		v, _, err = st.Save(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		size := len(name) + 1 + base64.StdEncoding.EncodedLen(len(v)) + 44
		if size > 4096 || size <= 4096-4-len("x") {
			t.Errorf("keys %d: the largest accepted cookie is %d bytes by the formula, want just under 4096", len(keys), size)
		}
	}
	st := newCookieStorage(t, cookiestorage.Options{MaxSize: 200})
	s, _ := st.Read(ctx, "")
	s.Set("v", strings.Repeat("y", 100))
	if _, _, err := st.Save(ctx, s); !errors.Is(err, session.ErrTooLarge) || !strings.Contains(err.Error(), "200") {
		t.Errorf("MaxSize 200: %v", err)
	}
	// An oversized incoming value is a new session, not a parse.
	if s, err := st.Read(ctx, strings.Repeat("a", 401)); err != nil || s.Len() != 0 {
		t.Errorf("oversized value: %v, %v", s, err)
	}
}

// T-EXP3: expiry rides inside the payload, so a replayed old cookie is
// refused after its lifetime or idle timeout even if the browser sends it.
func TestCookieStorageReplayAfterExpiry(t *testing.T) {
	for _, keys := range [][][]byte{nil, {testKey(1)}} {
		clock := sessiontest.NewFakeClock(time.Time{})
		st := newCookieStorage(t, cookiestorage.Options{Keys: keys, Session: session.ClientOptions{Now: clock.Now, Lifetime: time.Hour, IdleTimeout: 20 * time.Minute}})
		v1, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
		clock.Advance(15 * time.Minute)
		v2, _ := sessiontest.Request(t, st, v1, func(s *session.Session) { s.Set("n", 1) })
		clock.Advance(10 * time.Minute)
		// v1 is idle for 25 min: refused; v2 for 10: fine.
		if s, _ := st.Read(ctx, v1); s.Has("user") {
			t.Error("an idle-expired cookie was accepted on replay")
		}
		v3, _ := sessiontest.Request(t, st, v2, func(s *session.Session) {
			if !s.Has("user") {
				t.Error("a live cookie was refused")
			}
			s.Set("n", 2)
		})
		for i := 0; i < 3; i++ {
			clock.Advance(12 * time.Minute)
			v3, _ = sessiontest.Request(t, st, v3, func(s *session.Session) { s.Set("n", i) })
		}
		// 61 min after creation, with continuous activity: refused.
		if s, _ := st.Read(ctx, v3); s.Has("user") {
			t.Error("a cookie past its lifetime was accepted")
		}
	}
}

// A destroyed session's cookie is expired; the old value itself stays valid
// (no server state: V6), bounded only by Lifetime/IdleTimeout.
func TestCookieStorageDestroyCannotRevoke(t *testing.T) {
	st := newCookieStorage(t, cookiestorage.Options{})
	v1, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
	if v, set := sessiontest.Request(t, st, v1, func(s *session.Session) { s.Destroy() }); !set || v != "" {
		t.Fatalf("destroy = (%q, %v)", v, set)
	}
	if s, _ := st.Read(ctx, v1); !s.Has("user") {
		t.Error("documented limitation changed: a replayed cookie no longer loads after Destroy")
	}
}

// Cookie storage cannot end the old cookie of a regenerated session: it
// says so once, at Info (it is how the storage works, not a fault), and
// names no session.
func TestCookieStorageRegenerateNoteOnce(t *testing.T) {
	logs := sessiontest.NewLogs()
	st := newCookieStorage(t, cookiestorage.Options{Session: session.ClientOptions{Logger: logs.Logger()}})
	v1, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	var old []string
	for range 3 {
		s, _ := st.Read(ctx, v1)
		old = append(old, s.ID())
		s.RegenerateID(true)
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if logs.Warnings() != 0 || strings.Count(logs.String(), "cannot end") != 1 {
		t.Errorf("want one Info line and no warning, got: %s", logs)
	}
	for _, id := range old {
		if logs.Contains(id) {
			t.Errorf("the log names the session id %s: %s", id, logs)
		}
	}
}
