package sessionmiddleware

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// testSecret is 32 bytes, so New logs no weak-secret warning.
const testSecret = "test-secret-0123456789abcdefghij"

// newCookie returns a signed cookie named name with o (Secrets defaulted).
func newCookie(t testing.TB, name string, o cookie.Options) *cookie.Cookie {
	t.Helper()
	if o.Secrets == nil {
		o.Secrets = []string{testSecret}
	}
	c, err := cookie.New(name, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// expectedCookie is the cookie the middleware derives from name and o: the
// same options, HttpOnly forced on unless scriptAccess.
func expectedCookie(t testing.TB, name string, o cookie.Options, scriptAccess bool) *cookie.Cookie {
	t.Helper()
	o.HTTPOnly = !scriptAccess
	return newCookie(t, name, o)
}

// serialize is the whole Set-Cookie line c writes for value.
func serialize(t testing.TB, c *cookie.Cookie, value string) string {
	t.Helper()
	line, err := c.Serialize(value)
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// logBuffer collects slog text output, safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLogger returns a text logger without timestamps and what it wrote.
func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	h := slog.NewTextHandler(buf, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	return slog.New(h), buf
}

// newMiddleware builds the middleware or fails the test.
func newMiddleware(t testing.TB, c *cookie.Cookie, s session.Storage, o Options) func(http.Handler) http.Handler {
	t.Helper()
	if o.Logger == nil {
		o.Logger, _ = newLogger()
	}
	mw, err := New(c, s, o)
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

// do runs one request through h with the given Cookie header ("" for none).
func do(h http.Handler, method, target, cookieHeader string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if cookieHeader != "" {
		req.Header.Set("Cookie", cookieHeader)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// pair returns the "name=value" part of a Set-Cookie line, what a browser
// sends back.
func pair(line string) string {
	p, _, _ := strings.Cut(line, ";")
	return p
}

// fakeStorage wraps a Storage and can fail reads or saves.
type fakeStorage struct {
	session.Storage
	readErr error
	saveErr error
	// saveValue, when set, replaces what the wrapped storage's Save
	// returns (with set=true).
	saveValue string
	reads     atomic.Int32
	saves     atomic.Int32
}

func (f *fakeStorage) Read(ctx context.Context, v string) (*session.Session, error) {
	f.reads.Add(1)
	if f.readErr != nil {
		return nil, f.readErr
	}
	return f.Storage.Read(ctx, v)
}

func (f *fakeStorage) Save(ctx context.Context, s *session.Session) (string, bool, error) {
	f.saves.Add(1)
	if f.saveErr != nil {
		return "", false, f.saveErr
	}
	if f.saveValue != "" {
		return f.saveValue, true, nil
	}
	return f.Storage.Save(ctx, s)
}

// storageCase is one storage every end-to-end test runs against.
type storageCase struct {
	name string
	// serverSide: the cookie holds only the id, so a destroyed or
	// regenerated id is dead (cookie storage cannot revoke a cookie).
	serverSide bool
	new        func(t testing.TB, cookieName string) session.Storage
}

// quiet is the storages' logger: their warnings are not under test here.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var testKey = []byte("0123456789abcdef0123456789abcdef")

func storageCases() []storageCase {
	return []storageCase{
		{"memory", true, func(t testing.TB, _ string) session.Storage {
			return session.NewMemoryStorage(session.Options{Logger: quiet})
		}},
		{"cookie-signed", false, func(t testing.TB, name string) session.Storage {
			st, err := session.NewCookieStorage(session.CookieStorageOptions{CookieName: name, Options: session.Options{Logger: quiet}})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
		{"cookie-sealed", false, func(t testing.TB, name string) session.Storage {
			st, err := session.NewCookieStorage(session.CookieStorageOptions{CookieName: name, Keys: [][]byte{testKey}, Options: session.Options{Logger: quiet}})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
		{"file", true, func(t testing.TB, _ string) session.Storage {
			st, err := session.NewFileStorage(t.TempDir(), session.Options{Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
	}
}

// stored reports whether st holds a record for id (a Read keeps the id).
func stored(t testing.TB, st session.Storage, id string) bool {
	t.Helper()
	s, err := st.Read(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID() == id
}

// counter is a handler that increments "count" and writes "Count: n".
func counter(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	n, _ := session.Value[int](s, "count")
	s.Set("count", n+1)
	w.Write([]byte("Count: " + strconv.Itoa(n+1)))
}
