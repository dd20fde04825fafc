package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// The session work of a request with cookie storage and no HTTP: parse and
// verify the cookie, read, change, save, sign and serialize. This is the
// figure the session module's targets speak of (signed ≤ 2.5 µs, sealed
// ≤ 3 µs); the session package's own benchmarks leave the cookie codec out.
func benchCookieStorage(b *testing.B, keys [][]byte) {
	ctx := context.Background()
	c, err := cookie.New("session", cookie.Options{Secrets: []string{secret32}})
	if err != nil {
		b.Fatal(err)
	}
	st, err := session.NewCookieStorage(session.CookieStorageOptions{CookieName: "session", Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	s, _ := st.Read(ctx, "")
	s.Set("user_id", 42)
	s.Set("name", "alice")
	v, _, _ := st.Save(ctx, s)
	line, _ := c.Serialize(v)
	header, _, _ := strings.Cut(line, ";")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		value, _ := c.Parse(header)
		s, err := st.Read(ctx, value)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := session.Value[int](s, "counter")
		s.Set("counter", n+1)
		v, set, err := st.Save(ctx, s)
		if err != nil || !set {
			b.Fatal(err)
		}
		if _, err := c.Serialize(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCookieStorageSigned(b *testing.B) { benchCookieStorage(b, nil) }
func BenchmarkCookieStorageSealed(b *testing.B) { benchCookieStorage(b, [][]byte{key32}) }
