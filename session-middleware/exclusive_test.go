package sessionmiddleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/filestorage"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// locking returns st as a session.Locking, or fails the test: the storage
// does not lock yet.
func locking(t testing.TB, st session.Storage) session.Locking {
	t.Helper()
	lk, ok := st.(session.Locking)
	if !ok {
		t.Fatalf("%T does not implement session.Locking", st)
	}
	return lk
}

// recordingStorage wraps a session.Locking: it logs what the middleware
// asks of it, in order ("read", "lock", "save", "release"), and can fail
// Lock or Save.
type recordingStorage struct {
	session.Locking
	lockErr error
	saveErr atomic.Pointer[error]
	// locking, when set, receives a value when Lock is called, before it
	// waits.
	locking chan struct{}

	mu     sync.Mutex
	events []string
}

func newRecordingStorage(t testing.TB, st session.Storage) *recordingStorage {
	return &recordingStorage{Locking: locking(t, st)}
}

func (rs *recordingStorage) record(e string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.events = append(rs.events, e)
}

// take returns the events so far and forgets them.
func (rs *recordingStorage) take() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	e := rs.events
	rs.events = nil
	return e
}

func (rs *recordingStorage) failSaves(err error) { rs.saveErr.Store(&err) }

func (rs *recordingStorage) Read(ctx context.Context, v string) (*session.Session, error) {
	rs.record("read")
	return rs.Locking.Read(ctx, v)
}

func (rs *recordingStorage) Save(ctx context.Context, s *session.Session) (string, bool, error) {
	rs.record("save")
	if p := rs.saveErr.Load(); p != nil && *p != nil {
		return "", false, *p
	}
	return rs.Locking.Save(ctx, s)
}

func (rs *recordingStorage) Lock(ctx context.Context, v string, o session.LockOptions) (func(), error) {
	rs.record("lock")
	if rs.locking != nil {
		rs.locking <- struct{}{}
	}
	if rs.lockErr != nil {
		return nil, rs.lockErr
	}
	release, err := rs.Locking.Lock(ctx, v, o)
	if err != nil {
		rs.record("lock failed")
		return nil, err
	}
	var released atomic.Bool
	return func() {
		if released.Swap(true) {
			panic("release called twice")
		}
		rs.record("release")
		release()
	}, nil
}

// newSession runs one request through h that sets count to n, and returns
// the session's cookie ("name=value") and id.
func newSession(t testing.TB, mw func(http.Handler) http.Handler, n int) (ck, id string) {
	t.Helper()
	rec := do(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Set("count", n)
		id = s.ID()
	})), "GET", "/", "")
	ck = pair(rec.Result().Header.Get("Set-Cookie"))
	if ck == "" {
		t.Fatal("no session cookie")
	}
	return ck, id
}

// newExclusive returns Exclusive's middleware for o, or fails the test.
func newExclusive(t testing.TB, o ExclusiveOptions) func(http.Handler) http.Handler {
	t.Helper()
	x, err := Exclusive(o)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// counterMux serves POST /count (counter, wrapped in Exclusive with o), GET
// /count (the count, unlocked) and POST /start (count 0).
func counterMux(t testing.TB, o ExclusiveOptions) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("count", 0)
	})
	mux.Handle("POST /count", newExclusive(t, o)(http.HandlerFunc(counter)))
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		n, _ := session.Value[int](session.FromContext(r.Context()), "count")
		fmt.Fprint(w, n)
	})
	return mux
}

// request sends one request with the Cookie header ck to url and returns
// the status and body.
func request(c *http.Client, method, url, ck string) (int, string, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Cookie", ck)
	res, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

// increment runs n concurrent POST /count with the cookie ck, the i-th
// against urls[i%len(urls)], and checks that each saw a different count,
// 1 to n: each request read what the one before it saved.
func increment(t *testing.T, c *http.Client, urls []string, ck string, n int) {
	t.Helper()
	counts := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, err := request(c, "POST", urls[i%len(urls)]+"/count", ck)
			if err != nil || code != 200 {
				t.Errorf("request %d: %d %q %v", i, code, body, err)
				return
			}
			counts[i], err = strconv.Atoi(strings.TrimPrefix(body, "Count: "))
			if err != nil {
				t.Errorf("request %d: body %q", i, body)
			}
		}()
	}
	wg.Wait()
	slices.Sort(counts)
	for i, got := range counts {
		if got != i+1 {
			t.Fatalf("the %d-th lowest count is %d, want %d: two requests read the same count", i+1, got, i+1)
		}
	}
	for _, u := range urls {
		if code, body, err := request(c, "GET", u+"/count", ck); err != nil || code != 200 || body != strconv.Itoa(n) {
			t.Errorf("GET %s/count: %d %q %v, want %d", u, code, body, err, n)
		}
	}
}

// 200 concurrent increments of one session's counter, through a real
// server: with Exclusive, none is lost. It also shows that the lock is
// freed only after the save: otherwise a request could read the count
// before the previous one stored it.
func TestExclusiveCounter(t *testing.T) {
	st := newMemory(t, session.Options{Logger: quiet})
	locking(t, st)
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{})
	ck, _ := newSession(t, mw, 0)
	ts := httptest.NewServer(mw(counterMux(t, ExclusiveOptions{Lock: session.LockOptions{Wait: time.Minute}})))
	defer ts.Close()
	increment(t, ts.Client(), []string{ts.URL}, ck, 200)
}

// Environment of TestExclusiveHelperProcess, the second server of
// TestExclusiveTwoProcesses.
const (
	helperDirEnv    = "SESSIONKIT_EXCLUSIVE_DIR"
	helperSecretEnv = "SESSIONKIT_EXCLUSIVE_SECRET"
	helperPortEnv   = "SESSIONKIT_EXCLUSIVE_PORT_FILE"
)

// exclusiveFileServer is the handler both processes of
// TestExclusiveTwoProcesses serve: file storage in dir, the session cookie
// signed with secret, counterMux.
func exclusiveFileServer(t testing.TB, dir, secret string) http.Handler {
	st, err := filestorage.New(dir, filestorage.Options{Session: session.Options{Logger: quiet}})
	if err != nil {
		t.Fatal(err)
	}
	locking(t, st)
	c := newCookie(t, "__sess", cookie.Options{Secrets: []string{secret}})
	mw := newMiddleware(t, c, st, Options{})
	return mw(counterMux(t, ExclusiveOptions{Lock: session.LockOptions{Wait: time.Minute}}))
}

// TestExclusiveHelperProcess is not a test: TestExclusiveTwoProcesses runs
// the test binary again with it, as a second server on the same file
// storage. It writes its address to the port file, then "ready" to stdout,
// and serves until its stdin closes.
func TestExclusiveHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("the second process of TestExclusiveTwoProcesses")
	}
	h := exclusiveFileServer(t, dir, os.Getenv(helperSecretEnv))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	portFile := os.Getenv(helperPortEnv)
	if err := os.WriteFile(portFile+".tmp", []byte(ln.Addr().String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(portFile+".tmp", portFile); err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
	srv.Close()
	if err := <-done; err != http.ErrServerClosed {
		t.Fatal(err)
	}
}

// Two processes serve one file storage directory; 200 concurrent increments
// of one session, split across them, give 200: the lock holds across
// processes.
func TestExclusiveTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second process")
	}
	dir := t.TempDir()
	portFile := filepath.Join(t.TempDir(), "port")
	const secret = "two-processes-secret-0123456789abcdef"

	// The second server prints "ready" once its port file is written (or
	// exits, on an error); closing its stdin (Wait) stops it.
	second := testserver.StartHelper(t, "TestExclusiveHelperProcess",
		helperDirEnv+"="+dir, helperSecretEnv+"="+secret, helperPortEnv+"="+portFile)
	second.Expect("ready")
	addr, err := os.ReadFile(portFile)
	if err != nil {
		t.Fatal(err)
	}

	ts := httptest.NewServer(exclusiveFileServer(t, dir, secret))
	defer ts.Close()
	urls := []string{ts.URL, "http://" + string(addr)}
	// The session starts in this process, at count 0; its cookie works
	// with both servers (the same secret signs it).
	res, err := ts.Client().Post(ts.URL+"/start", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	ck := pair(res.Header.Get("Set-Cookie"))
	if res.StatusCode != 200 || ck == "" {
		t.Fatalf("POST /start: %d, cookie %q", res.StatusCode, ck)
	}
	increment(t, ts.Client(), urls, ck, 200)
	if err := second.Wait(); err != nil {
		t.Error(err)
	}
}

// A request that waits for the lock longer than Lock.Wait gets 503 with
// Retry-After and Cache-Control: no-store; its handler does not run and
// nothing is saved. Once the holder frees the lock, the next request runs.
func TestExclusiveLockTimeout(t *testing.T) {
	rs := newRecordingStorage(t, newMemory(t, session.Options{Logger: quiet}))
	logger, logs := newLogger()
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), rs, Options{Logger: logger})
	ck, id := newSession(t, mw, 1)
	h := mw(counterMux(t, ExclusiveOptions{Lock: session.LockOptions{Wait: 50 * time.Millisecond}, RetryAfter: 1500 * time.Millisecond}))

	release, err := rs.Locking.Lock(context.Background(), id, session.LockOptions{Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rs.take()
	logs.b.Reset()
	rec := do(h, "POST", "/count", ck)
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "Service Unavailable\n" {
		t.Errorf("response %d %q, want 503", rec.Code, rec.Body.String())
	}
	want := http.Header{
		"Retry-After":            {"2"},
		"Cache-Control":          {"no-store"},
		"Content-Type":           {"text/plain; charset=utf-8"},
		"X-Content-Type-Options": {"nosniff"},
	}
	if got := rec.Result().Header; !reflect.DeepEqual(got, want) {
		t.Errorf("headers %q, want %q", got, want)
	}
	if got, want := rs.take(), []string{"lock", "lock failed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("storage calls %q, want %q (no save)", got, want)
	}
	if got := logs.String(); !strings.HasPrefix(got, `level=WARN msg="sessionmiddleware: Exclusive: the session's lock is held by another request; answered 503 Service Unavailable" cookie=__sess method=POST path=/count error=`) ||
		!strings.Contains(got, "timed out") || strings.Count(got, "\n") != 1 {
		t.Errorf("log %q", got)
	}

	release()
	rec = do(h, "POST", "/count", ck)
	if rec.Code != 200 || rec.Body.String() != "Count: 2" {
		t.Errorf("after release: %d %q, want Count: 2", rec.Code, rec.Body.String())
	}
	if got, want := rs.take(), []string{"lock", "read", "save", "release"}; !reflect.DeepEqual(got, want) {
		t.Errorf("storage calls %q, want %q", got, want)
	}
}

// Exclusive refuses negative durations, which no lock or Retry-After can
// mean, instead of quietly using a default.
func TestExclusiveRefuses(t *testing.T) {
	for _, tt := range []struct {
		o    ExclusiveOptions
		want string
	}{
		{ExclusiveOptions{Lock: session.LockOptions{TTL: -time.Second}}, "sessionmiddleware: ExclusiveOptions.Lock.TTL is negative (-1s)"},
		{ExclusiveOptions{Lock: session.LockOptions{Wait: -time.Second}}, "sessionmiddleware: ExclusiveOptions.Lock.Wait is negative (-1s)"},
		{ExclusiveOptions{RetryAfter: -time.Second}, "sessionmiddleware: ExclusiveOptions.RetryAfter is negative (-1s)"},
	} {
		x, err := Exclusive(tt.o)
		if err == nil || err.Error() != tt.want || x != nil {
			t.Errorf("Exclusive(%+v) = %v, want %q", tt.o, err, tt.want)
		}
	}
}

// The default Retry-After is 1 second; a RetryAfter is rounded up.
func TestExclusiveRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{0, "1"}, {time.Millisecond, "1"}, {time.Second, "1"}, {10 * time.Second, "10"}, {10*time.Second + 1, "11"}} {
		st := locking(t, newMemory(t, session.Options{Logger: quiet}))
		mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{})
		ck, id := newSession(t, mw, 1)
		release, err := st.Lock(context.Background(), id, session.LockOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rec := do(mw(newExclusive(t, ExclusiveOptions{Lock: session.LockOptions{Wait: time.Millisecond}, RetryAfter: tt.d})(http.HandlerFunc(counter))), "GET", "/", ck)
		if got := rec.Result().Header.Get("Retry-After"); rec.Code != 503 || got != tt.want {
			t.Errorf("RetryAfter %v: %d Retry-After %q, want 503 %q", tt.d, rec.Code, got, tt.want)
		}
		release()
	}
}

// The lock is freed after the save: when the handler writes, when it
// returns without writing, when the save fails, and when the handler
// panics (before or after it wrote); and the next request is not blocked.
func TestExclusiveReleasesAfterSave(t *testing.T) {
	errSave := errors.New("disk full")
	tests := []struct {
		name    string
		handler http.HandlerFunc
		failing bool
		panics  bool
		code    int
		events  []string
	}{
		{"write", counter, false, false, 200, []string{"lock", "read", "save", "release"}},
		{"no write", func(w http.ResponseWriter, r *http.Request) {
			session.FromContext(r.Context()).Set("x", 1)
		}, false, false, 200, []string{"lock", "read", "save", "release"}},
		{"failed save", counter, true, false, 500, []string{"lock", "read", "save", "release"}},
		{"panic", func(w http.ResponseWriter, r *http.Request) {
			session.FromContext(r.Context()).Set("x", 1)
			panic(http.ErrAbortHandler)
		}, false, true, 200, []string{"lock", "read", "release"}},
		{"panic after writing", func(w http.ResponseWriter, r *http.Request) {
			counter(w, r)
			panic(http.ErrAbortHandler)
		}, false, true, 200, []string{"lock", "read", "save", "release"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRecordingStorage(t, newMemory(t, session.Options{Logger: quiet}))
			logger, logs := newLogger()
			var handlerErr error
			mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), rs, Options{Logger: logger, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				handlerErr = err
				http.Error(w, "failed", http.StatusInternalServerError)
			}})
			ck, _ := newSession(t, mw, 1)
			x := newExclusive(t, ExclusiveOptions{Lock: session.LockOptions{Wait: 50 * time.Millisecond}})
			h := mw(x(tt.handler))
			rs.take()
			if tt.failing {
				rs.failSaves(errSave)
			}
			rec := httptest.NewRecorder()
			func() {
				defer func() {
					if p := recover(); (p != nil) != tt.panics {
						t.Errorf("panic %v", p)
					}
				}()
				req := httptest.NewRequest("GET", "/", nil)
				req.Header.Set("Cookie", ck)
				h.ServeHTTP(rec, req)
			}()
			if rec.Code != tt.code {
				t.Errorf("status %d, want %d", rec.Code, tt.code)
			}
			if tt.failing && handlerErr != errSave {
				t.Errorf("ErrorHandler got %v", handlerErr)
			}
			if got := rs.take(); !reflect.DeepEqual(got, tt.events) {
				t.Errorf("storage calls %q, want %q", got, tt.events)
			}
			// The next request takes the lock at once.
			rs.failSaves(nil)
			logs.b.Reset()
			rec = do(mw(x(http.HandlerFunc(counter))), "GET", "/", ck)
			if rec.Code != 200 {
				t.Errorf("next request: %d %q (log %s)", rec.Code, rec.Body.String(), logs.String())
			}
		})
	}
}

// Under the lock, Exclusive reads the session again: the one the middleware
// read before may be stale. The handler, and the middleware's save, get the
// new session; the context keeps the values of middleware in between.
func TestExclusiveReadsAgain(t *testing.T) {
	rs := newRecordingStorage(t, newMemory(t, session.Options{Logger: quiet}))
	logger, logs := newLogger()
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), rs, Options{Logger: logger})
	ck, id := newSession(t, mw, 1)

	type ctxKey struct{}
	var before, seen *session.Session
	var routeValue any
	between := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			before = session.FromContext(r.Context())
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, "route")))
		})
	}
	h := mw(between(newExclusive(t, ExclusiveOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = session.FromContext(r.Context())
		routeValue = r.Context().Value(ctxKey{})
		counter(w, r)
	}))))

	// Hold the lock, send the request, and change the session while it
	// waits.
	release, err := rs.Locking.Lock(context.Background(), id, session.LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs.locking = make(chan struct{})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- do(h, "GET", "/", ck) }()
	<-rs.locking
	rs.locking = nil
	if rec := do(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("count", 10)
	})), "GET", "/", ck); rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	release()
	rec := <-done
	if rec.Body.String() != "Count: 11" {
		t.Errorf("body %q, want Count: 11 (the session read again)", rec.Body.String())
	}
	if seen == nil || seen == before {
		t.Error("the handler got the session read before the lock")
	}
	if routeValue != "route" {
		t.Errorf("context value %v, want the one set in between", routeValue)
	}
	if n, _ := session.Value[int](mustRead(t, rs, id), "count"); n != 11 {
		t.Errorf("stored count %d, want 11", n)
	}
	if logs.String() != "" {
		t.Errorf("log %q", logs.String())
	}
}

func mustRead(t testing.TB, st session.Storage, id string) *session.Session {
	t.Helper()
	s, err := st.Read(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A change made before Exclusive ran is lost with the stale session: it is
// logged. Loaded flash values (which make a session dirty) are not a
// change. The middleware's "changed after the headers were sent" warning
// looks at the session Exclusive read, not the one it dropped.
func TestExclusiveWarnings(t *testing.T) {
	const lost = `level=WARN msg="sessionmiddleware: Exclusive: the session was changed before Exclusive ran; the change is lost, since Exclusive reads the session again under its lock (put Exclusive before anything that changes the session)" cookie=__sess method=GET path=/` + "\n"
	const late = `level=WARN msg="sessionmiddleware: the session changed after the response headers were sent; the change is lost (change the session before writing the response)" cookie=__sess method=GET path=/` + "\n"
	tests := []struct {
		name    string
		flash   bool
		before  func(s *session.Session)
		handler func(w http.ResponseWriter, s *session.Session)
		want    string
	}{
		{"nothing", false, func(s *session.Session) {}, func(w http.ResponseWriter, s *session.Session) {}, ""},
		{"loaded flash", true, func(s *session.Session) { s.Get("x") }, func(w http.ResponseWriter, s *session.Session) {}, ""},
		{"Set before", false, func(s *session.Session) { s.Set("x", 1) }, func(w http.ResponseWriter, s *session.Session) {}, lost},
		{"Flash before", true, func(s *session.Session) { s.Flash("x", 1) }, func(w http.ResponseWriter, s *session.Session) {}, lost},
		{"Destroy before", false, func(s *session.Session) { s.Destroy() }, func(w http.ResponseWriter, s *session.Session) {}, lost},
		{"RegenerateID before", false, func(s *session.Session) { s.RegenerateID(true) }, func(w http.ResponseWriter, s *session.Session) { w.Write([]byte("x")) }, lost},
		{"Set after Write", false, func(s *session.Session) {}, func(w http.ResponseWriter, s *session.Session) {
			w.Write([]byte("x"))
			s.Set("late", 1)
		}, late},
		{"Set before, Write", false, func(s *session.Session) { s.Set("x", 1) }, func(w http.ResponseWriter, s *session.Session) {
			w.Write([]byte("x"))
		}, lost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := locking(t, newMemory(t, session.Options{Logger: quiet}))
			logger, logs := newLogger()
			mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{Logger: logger})
			ck, _ := newSession(t, mw, 1)
			if tt.flash {
				rec := do(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					session.FromContext(r.Context()).Flash("message", "hello")
				})), "GET", "/", ck)
				if rec.Code != 200 {
					t.Fatal(rec.Code)
				}
			}
			logs.b.Reset()
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.before(session.FromContext(r.Context()))
				newExclusive(t, ExclusiveOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					tt.handler(w, session.FromContext(r.Context()))
				})).ServeHTTP(w, r)
			}))
			do(h, "GET", "/", ck)
			if got := logs.String(); got != tt.want {
				t.Errorf("log %q, want %q", got, tt.want)
			}
		})
	}
}

// Exclusive without the session middleware is an error (logged, 500), not
// a panic and not a request without its lock.
func TestExclusiveWithoutMiddleware(t *testing.T) {
	logger, logs := newLogger()
	old := slog.Default()
	slog.SetDefault(logger)
	defer slog.SetDefault(old)
	ran := false
	h := newExclusive(t, ExclusiveOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true }))
	rec := do(h, "GET", "/cart", "")
	if ran {
		t.Error("the handler ran")
	}
	if rec.Code != 500 || rec.Body.String() != "Internal Server Error\n" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("response %d %q %q", rec.Code, rec.Body.String(), rec.Header())
	}
	const want = `level=ERROR msg="sessionmiddleware: Exclusive found no session middleware in the request context; install the middleware of New or NewToken outside Exclusive (Exclusive is a route middleware that goes inside it)" method=GET path=/cart` + "\n"
	if got := logs.String(); got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}

// A storage that cannot lock (cookie storage) is an error naming the
// storage: logged and sent to the ErrorHandler; the handler does not run and
// nothing is saved.
func TestExclusiveCookieStorage(t *testing.T) {
	for _, sc := range storageCases() {
		if sc.serverSide {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			st := &fakeStorage{Storage: sc.new(t, "__sess")}
			logger, logs := newLogger()
			var handlerErr error
			mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{Logger: logger, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				handlerErr = err
				http.Error(w, "no lock", http.StatusInternalServerError)
			}})
			ck, _ := newSession(t, mw, 1)
			st.saves.Store(0)
			logs.b.Reset()
			ran := false
			rec := do(mw(newExclusive(t, ExclusiveOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true }))), "GET", "/", ck)
			if ran {
				t.Error("the handler ran")
			}
			want := "sessionmiddleware: Exclusive needs a session storage that can lock (session.Locking), and *sessionmiddleware.fakeStorage cannot; cookie storage cannot lock, since the session travels in the cookie and there is no stored record to lock: use a server-side storage (memory, file, Redis, Memcache, PostgreSQL) or drop Exclusive"
			if handlerErr == nil || handlerErr.Error() != want {
				t.Errorf("ErrorHandler got %v, want %q", handlerErr, want)
			}
			if rec.Code != 500 || rec.Body.String() != "no lock\n" || rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Set-Cookie") != "" {
				t.Errorf("response %d %q %q", rec.Code, rec.Body.String(), rec.Header())
			}
			if st.saves.Load() != 0 {
				t.Errorf("%d saves", st.saves.Load())
			}
			if got := logs.String(); got != fmt.Sprintf("level=ERROR msg=%q cookie=__sess\n", want) {
				t.Errorf("log %q", got)
			}
		})
	}
	// The storage itself is named too.
	st, err := cookiestorage.New(cookiestorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var handlerErr error
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		handlerErr = err
	}})
	do(mw(newExclusive(t, ExclusiveOptions{})(http.HandlerFunc(counter))), "GET", "/", "")
	if want := fmt.Sprintf("and %T cannot; cookie storage cannot lock", st); handlerErr == nil || !strings.Contains(handlerErr.Error(), want) {
		t.Errorf("ErrorHandler got %v, want it to contain %q", handlerErr, want)
	}
}

// A storage error from Lock, or from the second read, goes to the
// ErrorHandler; nothing is saved and the lock is freed.
func TestExclusiveStorageErrors(t *testing.T) {
	errDown := errors.New("connection refused")
	t.Run("Lock", func(t *testing.T) {
		rs := newRecordingStorage(t, newMemory(t, session.Options{Logger: quiet}))
		rs.lockErr = errDown
		logger, logs := newLogger()
		var handlerErr error
		mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), rs, Options{Logger: logger, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			handlerErr = err
			http.Error(w, "down", http.StatusBadGateway)
		}})
		ck, _ := newSession(t, mw, 1)
		rs.take()
		logs.b.Reset()
		rec := do(mw(counterMux(t, ExclusiveOptions{})), "POST", "/count", ck)
		if handlerErr != errDown || rec.Code != http.StatusBadGateway {
			t.Errorf("ErrorHandler got %v; response %d", handlerErr, rec.Code)
		}
		if got, want := rs.take(), []string{"lock"}; !reflect.DeepEqual(got, want) {
			t.Errorf("storage calls %q, want %q", got, want)
		}
		if want := `level=ERROR msg="sessionmiddleware: Exclusive: locking the session failed" cookie=__sess error="connection refused"` + "\n"; logs.String() != want {
			t.Errorf("log %q, want %q", logs.String(), want)
		}
	})
	t.Run("Read", func(t *testing.T) {
		rs := newRecordingStorage(t, newMemory(t, session.Options{Logger: quiet}))
		st := &failReads{recordingStorage: rs, err: errDown}
		logger, logs := newLogger()
		var handlerErr error
		mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{Logger: logger, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			handlerErr = err
			http.Error(w, "down", http.StatusBadGateway)
		}})
		ck, _ := newSession(t, mw, 1)
		rs.take()
		st.failing.Store(true)
		logs.b.Reset()
		rec := do(mw(counterMux(t, ExclusiveOptions{})), "POST", "/count", ck)
		if handlerErr != errDown || rec.Code != http.StatusBadGateway {
			t.Errorf("ErrorHandler got %v; response %d", handlerErr, rec.Code)
		}
		if got, want := rs.take(), []string{"lock", "release"}; !reflect.DeepEqual(got, want) {
			t.Errorf("storage calls %q, want %q", got, want)
		}
		if want := `level=ERROR msg="sessionmiddleware: Exclusive: reading the session again under its lock failed" cookie=__sess error="connection refused"` + "\n"; logs.String() != want {
			t.Errorf("log %q, want %q", logs.String(), want)
		}
	})
}

// failReads fails every Read once failing is set: the read Exclusive makes
// under the lock is the request's only one.
type failReads struct {
	*recordingStorage
	failing atomic.Bool
	err     error
}

func (f *failReads) Read(ctx context.Context, v string) (*session.Session, error) {
	if f.failing.Load() {
		return nil, f.err
	}
	return f.recordingStorage.Read(ctx, v)
}

// A request without a session cookie has nothing to lock; Exclusive twice
// on one route locks once.
func TestExclusiveLocksOnlyWhenNeeded(t *testing.T) {
	rs := newRecordingStorage(t, newMemory(t, session.Options{Logger: quiet}))
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), rs, Options{})
	x := newExclusive(t, ExclusiveOptions{})
	h := mw(x(x(http.HandlerFunc(counter))))
	rec := do(h, "GET", "/", "")
	if rec.Body.String() != "Count: 1" {
		t.Fatalf("body %q", rec.Body.String())
	}
	if got, want := rs.take(), []string{"read", "save"}; !reflect.DeepEqual(got, want) {
		t.Errorf("no cookie: storage calls %q, want %q", got, want)
	}
	rec = do(h, "GET", "/", pair(rec.Result().Header.Get("Set-Cookie")))
	if rec.Body.String() != "Count: 2" {
		t.Fatalf("body %q", rec.Body.String())
	}
	if got, want := rs.take(), []string{"lock", "read", "save", "release"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Exclusive twice: storage calls %q, want %q", got, want)
	}
}

// Exclusive works behind NewToken too.
func TestExclusiveToken(t *testing.T) {
	st := newMemory(t, session.Options{Logger: quiet})
	locking(t, st)
	mw, err := NewToken(newCookie(t, "api", cookie.Options{}), st, TokenOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(counterMux(t, ExclusiveOptions{Lock: session.LockOptions{Wait: time.Minute}}))
	rec := do(h, "POST", "/count", "")
	token := rec.Header().Get("Session-Token")
	if token == "" {
		t.Fatal("no token")
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", "/count", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Errorf("%d %q", rec.Code, rec.Body.String())
			}
		}()
	}
	wg.Wait()
	req := httptest.NewRequest("GET", "/count", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "21" {
		t.Errorf("count %q, want 21", rec.Body.String())
	}
}
