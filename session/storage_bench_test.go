package session

import (
	"context"
	"testing"
)

// The benchmarks measure the session work of one request: Read, the
// handler's Get/Set, Save. No HTTP scaffolding (see session-middleware and
// bench/ for full requests).

func benchStorage(b *testing.B, st Storage, write bool) {
	ctx := context.Background()
	s, _ := st.Read(ctx, "")
	s.Set("user", "alice@example.com")
	s.Set("count", 1)
	s.Set("roles", []any{"admin", "editor"})
	value, _, err := st.Save(ctx, s)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := st.Read(ctx, value)
		if err != nil {
			b.Fatal(err)
		}
		if s.Get("user") == nil {
			b.Fatal("session lost")
		}
		if write {
			n, _ := Value[int](s, "count")
			s.Set("count", n+1)
		}
		v, set, err := st.Save(ctx, s)
		if err != nil || set != write {
			b.Fatal(err, set)
		}
		if write && v != value && v != "" {
			value = v
		}
	}
}

func BenchmarkMemoryLoadSave(b *testing.B) { benchStorage(b, NewMemoryStorage(Options{}), true) }
func BenchmarkMemoryReadOnly(b *testing.B) { benchStorage(b, NewMemoryStorage(Options{}), false) }

func BenchmarkFileLoadSave(b *testing.B) {
	st, err := NewFileStorage(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchStorage(b, st, true)
}

func BenchmarkFileReadOnly(b *testing.B) {
	st, err := NewFileStorage(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchStorage(b, st, false)
}

func BenchmarkCookieLoadSave(b *testing.B) {
	st, _ := NewCookieStorage(CookieStorageOptions{})
	benchStorage(b, st, true)
}

func BenchmarkCookieSealedLoadSave(b *testing.B) {
	st, _ := NewCookieStorage(CookieStorageOptions{Keys: [][]byte{make([]byte, 32)}})
	benchStorage(b, st, true)
}

func BenchmarkCookieReadOnly(b *testing.B) {
	st, _ := NewCookieStorage(CookieStorageOptions{})
	benchStorage(b, st, false)
}
