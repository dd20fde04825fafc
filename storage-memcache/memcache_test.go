package memcachestorage

import (
	"context"
	"errors"
	"maps"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

func TestConformance(t *testing.T) {
	_, client := startMemcached(t)
	sessiontest.Run(t, sessiontest.Config{
		Backend: func(t *testing.T, o session.Options) session.Backend {
			return newTrackingBackend(t, client, Options{})
		},
		// memcached expires items by its own clock, not Options.Now.
		ClockControlsExpiry: false,
	})
}

func TestNewOptions(t *testing.T) {
	client := memcache.New("127.0.0.1:1")
	for _, tc := range []struct {
		name string
		o    Options
		want string // "" for success
	}{
		{"zero", Options{}, ""},
		{"longest prefix", Options{KeyPrefix: strings.Repeat("p", MaxKeyPrefixLength)}, ""},
		{"every printable", Options{KeyPrefix: "!~{}:/.-_#"}, ""},
		{"prefix too long", Options{KeyPrefix: strings.Repeat("p", MaxKeyPrefixLength+1)}, "187 bytes; at most 186"},
		{"space", Options{KeyPrefix: "my app:"}, "byte 0x20 at 2"},
		{"tab", Options{KeyPrefix: "a\tb"}, "byte 0x09 at 1"},
		{"newline", Options{KeyPrefix: "a\r\nset x"}, "byte 0x0d at 1"},
		{"NUL", Options{KeyPrefix: "a\x00"}, "byte 0x00 at 1"},
		{"DEL", Options{KeyPrefix: "a\x7f"}, "byte 0x7f at 1"},
		{"non-ASCII", Options{KeyPrefix: "sé:"}, "byte 0xc3 at 1"},
		{"item size too small", Options{MaxItemSize: 1023}, "MaxItemSize 1023"},
		{"item size negative", Options{MaxItemSize: -1}, "MaxItemSize -1"},
		{"smallest item size", Options{MaxItemSize: 1024}, ""},
		{"negative idle", Options{Session: session.Options{IdleTimeout: -1}}, "IdleTimeout is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := New(client, tc.o)
			if tc.want == "" {
				if err != nil || st == nil {
					t.Fatalf("New: %v, %v", st, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(nil, Options{}); err == nil || !strings.Contains(err.Error(), "nil memcache client") {
		t.Errorf("New(nil): %v", err)
	}
}

func TestExpiration(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	const day = 24 * time.Hour
	for _, tc := range []struct {
		ttl  time.Duration
		want int32
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Nanosecond, 1}, // never 0, which would mean no expiry
		{time.Millisecond, 1},
		{time.Second, 1},
		{1500 * time.Millisecond, 2},
		{time.Hour, 3600},
		{30 * day, 2_592_000}, // the longest relative time
		{30*day + time.Millisecond, 1_800_000_000 + 2_592_001}, // absolute from here on
		{60 * day, 1_800_000_000 + 5_184_000},
		{100 * 365 * day, math.MaxInt32}, // past 2038: the largest int32
		{time.Duration(math.MaxInt64), math.MaxInt32},
	} {
		if got := expiration(tc.ttl, now); got != tc.want {
			t.Errorf("expiration(%v) = %d, want %d", tc.ttl, got, tc.want)
		}
	}
}

// TestExpiryOnServer checks the expiration times memcached records for the
// items of sessions with each kind of expiry, the 30-day boundary included.
func TestExpiryOnServer(t *testing.T) {
	srv, client := startMemcached(t)
	const day = 24 * time.Hour
	for _, tc := range []struct {
		name      string
		o         session.Options
		wantAfter time.Duration // -1: never expires
	}{
		{"no expiry", session.Options{Lifetime: -1}, -1},
		{"default lifetime", session.Options{}, session.DefaultLifetime},
		{"idle timeout", session.Options{IdleTimeout: time.Hour}, time.Hour},
		{"lifetime", session.Options{Lifetime: 2 * time.Hour}, 2 * time.Hour},
		{"idle shorter than lifetime", session.Options{IdleTimeout: time.Hour, Lifetime: 60 * day}, time.Hour},
		{"30 days", session.Options{Lifetime: 30 * day}, 30 * day},
		{"31 days", session.Options{Lifetime: 31 * day}, 31 * day},
		{"60 days", session.Options{IdleTimeout: 60 * day, Lifetime: -1}, 60 * day},
		{"400 days", session.Options{Lifetime: 400 * day}, 400 * day},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := newStorage(t, client, Options{Session: tc.o})
			before := time.Now().Unix()
			id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
			after := time.Now().Unix()
			if _, err := client.Get(b.Key(id)); err != nil {
				t.Fatalf("the item is not on the server (expired at once?): %v", err)
			}
			exp := expirationOf(t, srv.Addr(), b.Key(id))
			if tc.wantAfter < 0 {
				if exp != -1 {
					t.Errorf("exp = %d, want -1 (never)", exp)
				}
			} else {
				secs := int64(tc.wantAfter / time.Second)
				if exp < before+secs-1 || exp > after+secs+1 {
					t.Errorf("exp = %d, want %d (+%v)", exp, before+secs, tc.wantAfter)
				}
			}
			got, err := st.Read(context.Background(), id)
			if err != nil || got.ID() != id || got.Get("user") != "alice" {
				t.Errorf("the session did not load: %v", err)
			}
		})
	}
	// What Remix 0.1.1 does with ttlSeconds over 30 days: memcached reads
	// 2678400 as a Unix time in 1970 and the item is gone at once.
	if err := client.Set(&memcache.Item{Key: "remix-31-days", Value: []byte("[{},{}]"), Expiration: 31 * 24 * 3600}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get("remix-31-days"); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Errorf("a relative 31-day expiration: %v, want the item gone at once", err)
	}
}

// TestExpiresByServerClock: an item expires when memcached's clock passes
// its time, and the session is then a new one. (The conformance suite's
// idle scenarios use a fake clock that memcached does not follow.)
func TestExpiresByServerClock(t *testing.T) {
	_, client := startMemcached(t)
	st, _ := newStorage(t, client, Options{Session: session.Options{IdleTimeout: time.Second}})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := st.Read(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if s.ID() != id {
			if s.Len() != 0 {
				t.Errorf("the expired session's data is back: %v", s.Data())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the session with a 1 s idle timeout still loads after 5 s")
		}
		time.Sleep(100 * time.Millisecond) // polling the server's clock, not a goroutine
	}
}

// TestCommands counts the commands the server receives for each kind of
// request: one gets to read; none to save an unchanged session; one touch
// for a sliding refresh; one add to save a new session; one cas to save a
// changed one; one delete to destroy it.
func TestCommands(t *testing.T) {
	srv, client := startMemcached(t)
	clock := sessiontest.NewFakeClock(time.Time{})
	st, b := newStorage(t, client, Options{Session: session.Options{IdleTimeout: time.Hour, Now: clock.Now}})
	ctx := context.Background()
	delta := func(step func()) map[string]int64 {
		t.Helper()
		before := stats(t, srv.Addr())
		step()
		after := stats(t, srv.Addr())
		d := map[string]int64{}
		for _, k := range []string{"cmd_get", "cmd_set", "cmd_touch", "cas_hits", "cas_badval", "cas_misses", "delete_hits", "delete_misses"} {
			if n := after[k] - before[k]; n != 0 {
				d[k] = n
			}
		}
		return d
	}
	check := func(name string, got map[string]int64, want map[string]int64) {
		t.Helper()
		if !maps.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s: commands %v, want %v", name, got, want)
		}
	}
	var id string
	check("new session (add)", delta(func() {
		id, _ = sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	}), map[string]int64{"cmd_set": 1})
	expBefore := expirationOf(t, srv.Addr(), b.Key(id))

	var s *session.Session
	check("read (gets)", delta(func() {
		var err error
		if s, err = st.Read(ctx, id); err != nil || s.ID() != id {
			t.Fatalf("Read: %v", err)
		}
	}), map[string]int64{"cmd_get": 1})
	check("unchanged save", delta(func() {
		if _, set, err := st.Save(ctx, s); err != nil || set {
			t.Fatalf("Save: %v, %v", set, err)
		}
	}), nil)

	clock.Advance(7 * time.Minute) // past a tenth of the idle timeout
	s, _ = st.Read(ctx, id)
	check("sliding refresh (touch)", delta(func() {
		if _, set, err := st.Save(ctx, s); err != nil || set {
			t.Fatalf("Save: %v, %v", set, err)
		}
	}), map[string]int64{"cmd_touch": 1})
	if v, _ := client.Get(b.Key(id)); v == nil || !strings.Contains(string(v.Value), `"n":1`) {
		t.Errorf("the touched item: %v", v)
	}
	if exp := expirationOf(t, srv.Addr(), b.Key(id)); exp < expBefore {
		t.Errorf("touch moved the expiration from %d to %d", expBefore, exp)
	}

	s, _ = st.Read(ctx, id)
	check("throttled refresh", delta(func() { st.Save(ctx, s) }), nil)

	s, _ = st.Read(ctx, id)
	s.Set("n", 2)
	check("changed session (cas)", delta(func() {
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}), map[string]int64{"cmd_set": 1, "cas_hits": 1})

	s, _ = st.Read(ctx, id)
	s.Destroy()
	check("destroy (delete)", delta(func() {
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}), map[string]int64{"delete_hits": 1})
	if _, err := client.Get(b.Key(id)); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Errorf("the destroyed session's item: %v, want a miss", err)
	}
}

// TestDone: a context that is already done fails every call before it is
// sent.
func TestDone(t *testing.T) {
	_, client := startMemcached(t)
	st, _ := newStorage(t, client, Options{})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Read(ctx, id); !errors.Is(err, context.Canceled) {
		t.Errorf("Read: %v", err)
	}
	s, _ := st.Read(context.Background(), id)
	s.Set("n", 2)
	if _, _, err := st.Save(ctx, s); !errors.Is(err, context.Canceled) {
		t.Errorf("Save: %v", err)
	}
}

// TestTimeout: a server that accepts connections and never answers makes
// Read and Save fail after client.Timeout, never start a new session.
func TestTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	})
	client := memcache.New(l.Addr().String())
	client.Timeout = 100 * time.Millisecond
	logs := sessiontest.NewLogs()
	st, err := New(client, Options{Session: session.Options{Logger: logs.Logger()}})
	if err != nil {
		t.Fatal(err)
	}
	id := session.New().ID()
	s, err := st.Read(context.Background(), id)
	if err == nil {
		t.Fatalf("Read from a server that does not answer: session %v, no error", s)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Read: %v, want a timeout", err)
	}
	if strings.Contains(err.Error(), id) {
		t.Errorf("the error carries the id: %v", err)
	}
	s = session.New()
	s.Set("n", 1)
	if _, _, err := st.Save(context.Background(), s); err == nil {
		t.Error("Save to a server that does not answer: no error")
	} else if strings.Contains(err.Error(), s.ID()) {
		t.Errorf("the error carries the id: %v", err)
	}
	if strings.Contains(logs.String(), id) || strings.Contains(logs.String(), s.ID()) {
		t.Errorf("the logs carry an id: %s", logs)
	}
}
