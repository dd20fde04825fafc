package sessionmiddleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
)

// readHandler only reads the session.
func readHandler(w http.ResponseWriter, r *http.Request) {
	if session.FromContext(r.Context()).Get("count") == nil {
		panic("benchmark: the session was not loaded")
	}
	w.Write([]byte("ok"))
}

// writeHandler changes the session on every request.
func writeHandler(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	n, _ := s.Get("count").(float64)
	s.Set("count", n+1)
	w.Write([]byte("ok"))
}

// bareHandler does the same response work with no session: the baseline that
// the middleware's cost is measured against.
func bareHandler(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("ok"))
}

// BenchmarkMiddleware runs one whole request per iteration: a prebuilt
// request carrying a valid session cookie, a new httptest.ResponseRecorder,
// the middleware and the handler. "bare" is the same without the
// middleware; the difference is the middleware's cost. "memory-unbounded"
// is "memory" with StorageTimeout -1, no deadline: the difference is the
// cost of the bound. "memory-abandon" is "memory" with AbandonLateCalls,
// its storage calls handed to worker goroutines: the difference is the
// cost of the hand-off. "memory-done" is "memory" behind a storage that
// asks its context for Done on every call, as go-redis and pgx do, on a
// request whose context can end, as net/http's can: the difference is the
// cost of the bounded context's timer.
func BenchmarkMiddleware(b *testing.B) {
	storages := []struct {
		name    string
		new     func(b *testing.B) session.Storage
		timeout time.Duration
		abandon bool
	}{
		{"memory", func(b *testing.B) session.Storage { return newMemory(b, session.Options{}) }, 0, false},
		{"memory-done", func(b *testing.B) session.Storage { return doneAsker{newMemory(b, session.Options{})} }, 0, false},
		{"memory-unbounded", func(b *testing.B) session.Storage { return newMemory(b, session.Options{}) }, -1, false},
		{"memory-abandon", func(b *testing.B) session.Storage { return newMemory(b, session.Options{}) }, 0, true},
		{"cookie-signed", func(b *testing.B) session.Storage {
			st, err := cookiestorage.New(cookiestorage.Options{CookieName: "__sess"})
			if err != nil {
				b.Fatal(err)
			}
			return st
		}, 0, false},
		{"cookie-sealed", func(b *testing.B) session.Storage {
			st, err := cookiestorage.New(cookiestorage.Options{CookieName: "__sess", Keys: [][]byte{testKey}})
			if err != nil {
				b.Fatal(err)
			}
			return st
		}, 0, false},
	}

	b.Run("bare", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", "__sess=x")
		runBench(b, http.HandlerFunc(bareHandler), req)
	})
	for _, sc := range storages {
		for _, mode := range []struct {
			name    string
			handler http.HandlerFunc
		}{{"read", readHandler}, {"write", writeHandler}} {
			b.Run(sc.name+"-"+mode.name, func(b *testing.B) {
				c := newCookie(b, "__sess", cookie.Options{})
				logger, _ := newLogger()
				mw := newMiddleware(b, c, sc.new(b), Options{Logger: logger, StorageTimeout: sc.timeout, AbandonLateCalls: sc.abandon})
				// Create the session the benchmark's request carries.
				setup := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					session.FromContext(r.Context()).Set("count", 1)
				}))
				ck := pair(do(setup, "GET", "/", "").Result().Header.Get("Set-Cookie"))
				req := httptest.NewRequest("GET", "/", nil)
				if _, ok := sc.new(b).(doneAsker); ok {
					ctx, cancel := context.WithCancel(req.Context())
					b.Cleanup(cancel)
					req = req.WithContext(ctx)
				}
				req.Header.Set("Cookie", ck)
				h := mw(mode.handler)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if got := rec.Result().Header.Values("Set-Cookie"); (mode.name == "write") != (len(got) == 1) {
					b.Fatalf("%s: Set-Cookie %q", mode.name, got)
				}
				runBench(b, h, req)
			})
		}
	}
}

// doneAsker is a storage that asks its context for Done before each
// call, as go-redis does before it takes a connection.
type doneAsker struct{ session.Storage }

func (d doneAsker) Read(ctx context.Context, value string) (*session.Session, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	default:
	}
	return d.Storage.Read(ctx, value)
}

func (d doneAsker) Save(ctx context.Context, s *session.Session) (string, bool, error) {
	select {
	case <-ctx.Done():
		return "", false, ctx.Err()
	default:
	}
	return d.Storage.Save(ctx, s)
}

func runBench(b *testing.B, h http.Handler, req *http.Request) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
