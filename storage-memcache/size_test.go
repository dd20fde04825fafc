package memcachestorage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// largestValue finds by bisection the largest value memcached stores under
// key.
func largestValue(t *testing.T, client *memcache.Client, key string, upTo int) int {
	t.Helper()
	lo, hi := upTo-1024, upTo // lo is stored, hi+1 is not
	if err := client.Set(&memcache.Item{Key: key, Value: make([]byte, lo)}); err != nil {
		t.Fatalf("%d bytes: %v", lo, err)
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		err := client.Set(&memcache.Item{Key: key, Value: make([]byte, mid)})
		if err == nil {
			lo = mid
		} else if strings.Contains(err.Error(), "too large") {
			hi = mid - 1
		} else {
			t.Fatal(err)
		}
	}
	return lo
}

// TestItemSizeLimit checks itemOverhead against the real server: the largest
// record Save sends is one memcached stores, within a few bytes of the
// largest it would store.
func TestItemSizeLimit(t *testing.T) {
	for _, limit := range []struct {
		flag string
		size int
	}{{"", DefaultMaxItemSize}, {"2m", 2 << 20}} {
		t.Run(fmt.Sprint(limit.size), func(t *testing.T) {
			var extra []string
			if limit.flag != "" {
				extra = []string{"-I", limit.flag}
			}
			_, client := startMemcached(t, extra...)
			b := newTestBackend(t, client, Options{MaxItemSize: limit.size})
			for _, key := range []string{b.Key("x"), DefaultKeyPrefix + strings.Repeat("0", 64), strings.Repeat("k", MaxKeyLength)} {
				server := largestValue(t, client, key, limit.size)
				ours := limit.size - itemOverhead - len(key)
				if ours > server {
					t.Errorf("key of %d bytes: Save would send %d bytes, memcached stores at most %d", len(key), ours, server)
				}
				if server-ours > 32 {
					t.Errorf("key of %d bytes: Save refuses over %d bytes, memcached stores up to %d: the margin is too wide", len(key), ours, server)
				}
			}
		})
	}
}

// TestOversizedSave: a session over the item limit fails Save with an error
// that names the limit, and the session stored before stays intact, for a
// loaded session (replace) and a regenerated one (set). The first subtest
// pins the reason for checking before sending: memcached deletes the old
// item when an oversized set fails. Session.MaxRecordSize is off here, so
// that the item limit is the one that refuses (TestSizeLimits has both).
func TestOversizedSave(t *testing.T) {
	_, client := startMemcached(t)
	ctx := context.Background()
	big := strings.Repeat("x", DefaultMaxItemSize)

	t.Run("memcached drops the old item on an oversized set", func(t *testing.T) {
		key := testPrefix() + "k"
		if err := client.Set(&memcache.Item{Key: key, Value: []byte("old")}); err != nil {
			t.Fatal(err)
		}
		if err := client.Set(&memcache.Item{Key: key, Value: []byte(big)}); err == nil {
			t.Fatal("memcached stored an item over its limit")
		}
		if _, err := client.Get(key); !errors.Is(err, memcache.ErrCacheMiss) {
			t.Skipf("this memcached keeps the old item (%v); the check before sending still stands", err)
		}
	})

	for _, tc := range []struct {
		name   string
		change func(*session.Session)
	}{
		{"loaded session", func(s *session.Session) { s.Set("big", big) }},
		{"flash", func(s *session.Session) { s.Flash("big", big) }},
		{"regenerated", func(s *session.Session) { s.RegenerateID(true); s.Set("big", big) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := sessiontest.NewLogs()
			st, b := newStorage(t, client, Options{Session: session.Options{Logger: logs.Logger(), MaxRecordSize: -1}})
			id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
			before, err := client.Get(b.Key(id))
			if err != nil {
				t.Fatal(err)
			}
			s, err := st.Read(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(s)
			_, set, err := st.Save(ctx, s)
			if err == nil || set {
				t.Fatalf("Save of a session over 1 MB: set %v, err %v", set, err)
			}
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1048576-byte limit") {
				t.Errorf("Save: %v, want ErrTooLarge naming the 1048576-byte limit", err)
			}
			if strings.Contains(err.Error(), id) || strings.Contains(err.Error(), s.ID()) {
				t.Errorf("the error carries an id: %v", err)
			}
			after, err := client.Get(b.Key(id))
			if err != nil || !bytes.Equal(after.Value, before.Value) {
				t.Fatalf("the stored session changed: %v", err)
			}
			got, err := st.Read(ctx, id)
			if err != nil || got.ID() != id || got.Get("user") != "alice" || got.Has("big") {
				t.Errorf("the stored session after the failed save: %v %v", err, got.Data())
			}
			if strings.Contains(logs.String(), id) {
				t.Errorf("the logs carry the id: %s", logs)
			}
		})
	}

	t.Run("new session", func(t *testing.T) {
		st, _ := newStorage(t, client, Options{Session: session.Options{MaxRecordSize: -1}})
		s, _ := st.Read(ctx, "")
		s.Set("big", big)
		if _, _, err := st.Save(ctx, s); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Save: %v, want ErrTooLarge", err)
		}
	})
}

// TestSizeLimits: Options.MaxItemSize and Session.MaxRecordSize both apply,
// and the stricter one refuses a session, before anything is sent. With
// servers started with -I 2m, raising MaxItemSize alone leaves the 1 MiB
// default record limit in force, so a 1.5 MB session goes through only
// once the record limit is raised (or turned off) too.
func TestSizeLimits(t *testing.T) {
	srv, client := startMemcached(t, "-I", "2m")
	ctx := context.Background()
	value := strings.Repeat("y", 1536<<10)
	for _, tc := range []struct {
		name string
		o    Options
		want string // the limit that refuses the session; "": stored
	}{
		{"defaults", Options{}, "(Options.MaxRecordSize)"},
		{"item limit raised", Options{MaxItemSize: 2 << 20}, "(Options.MaxRecordSize)"},
		{"record limit raised", Options{Session: session.Options{MaxRecordSize: 2 << 20}}, "(Options.MaxItemSize, memcached -I)"},
		{"record limit off", Options{Session: session.Options{MaxRecordSize: -1}}, "(Options.MaxItemSize, memcached -I)"},
		{"both raised", Options{MaxItemSize: 2 << 20, Session: session.Options{MaxRecordSize: 2 << 20}}, ""},
		{"item limit raised, record limit off", Options{MaxItemSize: 2 << 20, Session: session.Options{MaxRecordSize: -1}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := newStorage(t, client, tc.o)
			s, err := st.Read(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			s.Set("v", value)
			sets := stats(t, srv.Addr())["cmd_set"]
			id, _, err := st.Save(ctx, s)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("a 1.5 MB session under 2 MB limits: %v", err)
				}
				if got, err := st.Read(ctx, id); err != nil || got.Get("v") != value {
					t.Errorf("a 1.5 MB session under 2 MB limits did not round-trip: %v", err)
				}
				return
			}
			if !errors.Is(err, session.ErrTooLarge) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Save of a 1.5 MB session: %v, want session.ErrTooLarge from %s", err, tc.want)
			}
			if n := stats(t, srv.Addr())["cmd_set"]; n != sets {
				t.Errorf("a refused session sent %d store commands", n-sets)
			}
		})
	}
}
