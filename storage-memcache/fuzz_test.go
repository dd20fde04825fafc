package memcachestorage

import (
	"math"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// FuzzKeyPrefix: New accepts a prefix exactly when every key built from it
// (a record's, an index document's, a lock's) is a legal memcache key (at
// most 250 bytes, no space, control character or DEL) made of ASCII only,
// as Remix requires.
func FuzzKeyPrefix(f *testing.F) {
	for _, s := range []string{"", "remix:session:", "a b", "a\x00", "\x7f", "é", "~!", string(make([]byte, 187))} {
		f.Add(s)
	}
	client := memcache.New("127.0.0.1:1")
	f.Fuzz(func(t *testing.T, prefix string) {
		b, err := newBackend(client, Options{KeyPrefix: prefix})
		legal := len(prefix) <= MaxKeyPrefixLength
		for i := 0; i < len(prefix); i++ {
			if prefix[i] <= ' ' || prefix[i] >= 0x7f {
				legal = false
			}
		}
		if (err == nil) != legal {
			t.Fatalf("prefix %q: New error %v, want legal=%v", prefix, err, legal)
		}
		if err != nil {
			return
		}
		for _, k := range []string{b.Key("some-session-id"), b.IndexKey("some user"), b.lockKey("some-session-id")} {
			if len(k) > MaxKeyLength || (prefix != "" && k[:len(prefix)] != prefix) {
				t.Fatalf("key %q", k)
			}
		}
	})
}

// FuzzExpiration: a TTL is never sent as 0 (no expiry), relative times stay
// within 30 days and cover the TTL, and absolute times cover it too (up to
// the int32 cap).
func FuzzExpiration(f *testing.F) {
	for _, d := range []int64{0, 1, int64(time.Second), int64(30 * 24 * time.Hour), int64(30*24*time.Hour) + 1, math.MaxInt64} {
		f.Add(d, int64(1_800_000_000))
	}
	f.Fuzz(func(t *testing.T, ttl int64, unix int64) {
		if unix < 0 || unix > math.MaxInt32 {
			return
		}
		now := time.Unix(unix, 0)
		d := time.Duration(ttl)
		e := int64(expiration(d, now))
		switch {
		case d <= 0:
			if e != 0 {
				t.Fatalf("expiration(%v) = %d, want 0", d, e)
			}
		case e <= 0:
			t.Fatalf("expiration(%v) = %d: a positive TTL must expire", d, e)
		case e <= maxRelativeExpiration:
			if time.Duration(e)*time.Second < d || time.Duration(e-1)*time.Second >= d {
				t.Fatalf("expiration(%v) = %d s: not the TTL rounded up", d, e)
			}
		default:
			if e != math.MaxInt32 && (time.Duration(e-unix)*time.Second < d || e-unix <= maxRelativeExpiration) {
				t.Fatalf("expiration(%v) at %d = %d: the absolute time does not cover the TTL", d, unix, e)
			}
		}
	})
}
