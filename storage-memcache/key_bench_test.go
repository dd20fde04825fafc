package memcachestorage

import (
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
)

func BenchmarkKey(b *testing.B) {
	be, err := newBackend(memcache.New("127.0.0.1:1"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	id := "zQy3Jv0m1lW6m0qPZ9bqJ2v7vOq3qkq8m4b0T6m3rA0"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = be.Key(id)
	}
}
