package session_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// BenchmarkSaveUserKey is a signed-in request that changes a value but not
// the user (Read, Set, Save), with and without Options.UserKey: the index
// costs such a save nothing.
func BenchmarkSaveUserKey(b *testing.B) {
	for _, kind := range []string{"memory", "file"} {
		for _, key := range []string{"", "user"} {
			name := kind + "/without"
			if key != "" {
				name = kind + "/with"
			}
			b.Run(name, func(b *testing.B) {
				sessiontest.Benchmark(b, benchUserStorage(b, kind, key), true)
			})
		}
	}
}

// BenchmarkSessions lists a user's sessions (UserIndex.Sessions) with 3 and
// 30 of them, among sessions of 100 other users.
func BenchmarkSessions(b *testing.B) {
	ctx := context.Background()
	for _, kind := range []string{"memory", "file"} {
		for _, n := range []int{3, 30} {
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				st := benchUserStorage(b, kind, "user")
				ix := st.(session.UserIndex)
				login := func(user string) {
					s, _ := st.Read(ctx, "")
					s.Set("user", user)
					s.Set("count", 1)
					if _, _, err := st.Save(ctx, s); err != nil {
						b.Fatal(err)
					}
				}
				for i := range 100 {
					login(fmt.Sprint("other", i))
				}
				for range n {
					login("alice@example.com")
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					list, err := ix.Sessions(ctx, "alice@example.com")
					if err != nil || len(list) != n {
						b.Fatal(len(list), err)
					}
				}
			})
		}
	}
}

func benchUserStorage(b *testing.B, kind, key string) session.Storage {
	if kind == "memory" {
		return benchMemory(b, key)
	}
	return benchFile(b, key)
}

// BenchmarkLogin is a sign-in with UserKey: an anonymous session regenerated
// and given a user (the index read and written, the record written, the
// index read again, the old record deleted).
func BenchmarkLogin(b *testing.B) {
	ctx := context.Background()
	for _, kind := range []string{"memory", "file"} {
		b.Run(kind, func(b *testing.B) {
			st := benchUserStorage(b, kind, "user")
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s, _ := st.Read(ctx, "")
				s.Set("cart", 1)
				anon, _, err := st.Save(ctx, s)
				if err != nil {
					b.Fatal(err)
				}
				s, _ = st.Read(ctx, anon)
				s.RegenerateID(true)
				s.Set("user", fmt.Sprint("user", i))
				if _, _, err := st.Save(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
