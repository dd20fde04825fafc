package session

import (
	"testing"

	"github.com/sessionkit/sessionkit/session/internal/wire"
)

// The sealing and opening of cookie storage on their own (the storage
// benchmarks measure them inside a whole load+save).

func sealBenchStorage(b *testing.B) *cookieStorage {
	st, err := NewCookieStorage(CookieStorageOptions{Keys: [][]byte{make([]byte, 32)}})
	if err != nil {
		b.Fatal(err)
	}
	return st.(*cookieStorage)
}

var sealBenchValues = wire.FieldsOf(map[string]any{"user": "alice@example.com", "count": 1, "roles": []any{"admin", "editor"}})

func BenchmarkCookieEncodeSealed(b *testing.B) {
	st := sealBenchStorage(b)
	id, m := newID(), meta{Created: 1700000000000, Saved: 1700000000000}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := st.encode(id, sealBenchValues, nil, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCookieOpen(b *testing.B) {
	st := sealBenchStorage(b)
	sealed, err := st.encode(newID(), sealBenchValues, nil, meta{Created: 1700000000000, Saved: 1700000000000})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, ok := st.open(sealed); !ok {
			b.Fatal("does not open")
		}
	}
}
