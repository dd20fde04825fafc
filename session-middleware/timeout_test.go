package sessionmiddleware

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// stallingStorage wraps a locking storage. The operations it is told to
// stall ("read", "save", "lock", "release") block until unstall: ignoring
// their context, as a backend that does not honour deadlines does, or, with
// honour set, until the context ends, returning its error. It records the
// deadline of the context each call got.
type stallingStorage struct {
	session.Locking
	honour bool

	mu      sync.Mutex
	stalled map[string]bool
	gate    chan struct{} // closed by unstall
	// deadlines are those of the last call's context of each operation
	// (zero: none).
	deadlines map[string]time.Time

	// goroutine is the goroutine (goid) of the last call received.
	goroutine atomic.Uint64

	calls    atomic.Int32 // calls received
	blocked  atomic.Int32 // calls blocked now
	inflight atomic.Int32 // calls not returned yet
}

func newStallingStorage(t testing.TB) *stallingStorage {
	return &stallingStorage{Locking: locking(t, newMemory(t, session.Options{Logger: quiet})), gate: make(chan struct{})}
}

// stall makes the given operations block from now on.
func (ss *stallingStorage) stall(ops ...string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.stalled != nil {
		close(ss.gate)
	}
	ss.stalled = map[string]bool{}
	for _, op := range ops {
		ss.stalled[op] = true
	}
	ss.gate = make(chan struct{})
}

// unstall lets the blocked calls go on, and the next ones through.
func (ss *stallingStorage) unstall() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.stalled != nil {
		ss.stalled = nil
		close(ss.gate)
	}
}

// enter records a call of op with ctx and blocks while op is stalled. The
// caller calls ss.inflight.Add(-1) when it returns.
func (ss *stallingStorage) enter(ctx context.Context, op string) error {
	ss.calls.Add(1)
	ss.inflight.Add(1)
	ss.goroutine.Store(goid())
	ss.mu.Lock()
	stalled, gate := ss.stalled[op], ss.gate
	if ss.deadlines == nil {
		ss.deadlines = map[string]time.Time{}
	}
	ss.deadlines[op], _ = ctx.Deadline()
	ss.mu.Unlock()
	if !stalled {
		return nil
	}
	ss.blocked.Add(1)
	defer ss.blocked.Add(-1)
	if !ss.honour {
		<-gate
		return nil
	}
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deadline returns the deadline of the context of op's last call, and
// whether it had one.
func (ss *stallingStorage) deadline(op string) (time.Time, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	d := ss.deadlines[op]
	return d, !d.IsZero()
}

// idle reports whether every call returned.
func (ss *stallingStorage) idle() bool { return ss.inflight.Load() == 0 }

func (ss *stallingStorage) Read(ctx context.Context, v string) (*session.Session, error) {
	defer ss.inflight.Add(-1)
	if err := ss.enter(ctx, "read"); err != nil {
		return nil, err
	}
	return ss.Locking.Read(ctx, v)
}

func (ss *stallingStorage) Save(ctx context.Context, s *session.Session) (string, bool, error) {
	defer ss.inflight.Add(-1)
	if err := ss.enter(ctx, "save"); err != nil {
		return "", false, err
	}
	return ss.Locking.Save(ctx, s)
}

func (ss *stallingStorage) Lock(ctx context.Context, v string, o session.LockOptions) (func(), error) {
	defer ss.inflight.Add(-1)
	if err := ss.enter(ctx, "lock"); err != nil {
		return nil, err
	}
	release, err := ss.Locking.Lock(ctx, v, o)
	if err != nil {
		return nil, err
	}
	return func() {
		defer ss.inflight.Add(-1)
		_ = ss.enter(context.Background(), "release")
		release()
	}, nil
}

// settledGoroutines waits until idle storage workers of earlier tests have
// ended, and returns how many goroutines run then.
func settledGoroutines(t *testing.T) int {
	t.Helper()
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(3 * workerIdle)
		m := runtime.NumGoroutine()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}

// waitGoroutines waits until at most n goroutines run, or fails the test.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines still run, want at most %d (leak)", runtime.NumGoroutine(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// timed runs one request and returns the response and how long it took.
func timed(h http.Handler, req *http.Request) (*httptest.ResponseRecorder, time.Duration) {
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, req)
	return rec, time.Since(start)
}

// cookieRequest is a GET / with the Cookie header ck ("" for none).
func cookieRequest(ck string) *http.Request {
	req := httptest.NewRequest("GET", "/", nil)
	if ck != "" {
		req.Header.Set("Cookie", ck)
	}
	return req
}

// want503 checks the response to a request whose storage call timed out:
// 503 with Retry-After retryAfter, no-store, no cookie of any kind.
func want503(t *testing.T, what string, rec *httptest.ResponseRecorder, retryAfter string) {
	t.Helper()
	want := http.Header{
		"Retry-After":            {retryAfter},
		"Cache-Control":          {"no-store"},
		"Content-Type":           {"text/plain; charset=utf-8"},
		"X-Content-Type-Options": {"nosniff"},
	}
	if got := rec.Result().Header; rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "Service Unavailable\n" || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %d %q %q, want 503 with %q", what, rec.Code, rec.Body.String(), got, want)
	}
}

// slack is how much later than its bound a timed-out request may be
// answered on a loaded machine; the storage stays blocked far longer.
const slack = time.Second

// boundModes are the ways a storage call is bounded, for a storage that
// honours its context or ignores it: inline (the default) for one that
// honours it, on a worker (AbandonLateCalls) for both. The default with a
// storage that ignores its context waits for it:
// TestStorageTimeoutInlineWaitsForIgnoringStorage.
var boundModes = []struct {
	name            string
	honour, abandon bool
}{
	{"honours-context", true, false},
	{"honours-context-abandon", true, true},
	{"ignores-context-abandon", false, true},
}

// A storage that does not answer the read makes the request wait no longer
// than StorageTimeout when it honours its context, or with
// AbandonLateCalls also when it ignores it: 503 with Retry-After, no
// handler, no cookie, and the user is still signed in once the storage
// answers again.
func TestStorageTimeoutRead(t *testing.T) {
	for _, mode := range boundModes {
		t.Run(mode.name, func(t *testing.T) {
			ss := newStallingStorage(t)
			ss.honour = mode.honour
			logger, logs := newLogger()
			const bound = 50 * time.Millisecond
			mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), ss, Options{Logger: logger, StorageTimeout: bound, AbandonLateCalls: mode.abandon})
			ck, _ := newSession(t, mw, 1)
			ran := false
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context())
				ran = true
				counter(w, r)
			}))

			ss.stall("read")
			defer ss.unstall()
			rec, took := timed(h, cookieRequest(ck))
			want503(t, "stalled read", rec, "1")
			if ran {
				t.Error("the handler got past session.FromContext without a session")
			}
			if took < bound || took > bound+slack {
				t.Errorf("answered after %v, want about %v", took, bound)
			}
			if got := logs.String(); !strings.HasPrefix(got, `level=WARN msg="sessionmiddleware: the session storage did not answer the read in time; answered 503 Service Unavailable" cookie=__sess method=GET path=/ error=`) {
				t.Errorf("log %q", got)
			}

			ss.unstall()
			if rec := do(h, "GET", "/", ck); rec.Code != 200 || rec.Body.String() != "Count: 2" {
				t.Errorf("after the stall: %d %q, want the same session (Count: 2)", rec.Code, rec.Body.String())
			}
		})
	}
}

// A save past the bound replaces the handler's response (it has not gone
// out: the save comes first) with the 503, without the handler's cookie
// or body headers. The client keeps its cookie, and its session: the save
// that outlived its bound may still land when the storage ignores the
// context (with AbandonLateCalls), and does not when it honours it (by
// default, on the request's goroutine).
func TestStorageTimeoutSave(t *testing.T) {
	tests := []struct {
		name   string
		honour bool
		write  bool // the handler writes (the save runs then), or only returns
		want   string
	}{
		{"ignores-context-abandon-write", false, true, "Count: 3"},
		{"ignores-context-abandon-return", false, false, "Count: 3"},
		{"honours-context-write", true, true, "Count: 2"},
		{"honours-context-return", true, false, "Count: 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := newStallingStorage(t)
			ss.honour = tt.honour
			logger, logs := newLogger()
			mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), ss, Options{Logger: logger, StorageTimeout: 50 * time.Millisecond, AbandonLateCalls: !tt.honour})
			ck, id := newSession(t, mw, 1)
			var ran atomic.Bool
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran.Store(true)
				s := session.FromContext(r.Context())
				n, _ := session.Value[int](s, "count")
				s.Set("count", n+1)
				w.Header().Set("Set-Cookie", "theme=dark")
				w.Header().Set("Location", "/next")
				if tt.write {
					w.WriteHeader(http.StatusSeeOther)
					w.Write([]byte("see other"))
				}
			}))

			ss.stall("save")
			rec := do(h, "POST", "/", ck)
			want503(t, "stalled save", rec, "1")
			if !ran.Load() {
				t.Error("the handler did not run")
			}
			if got := logs.String(); !strings.HasPrefix(got, `level=WARN msg="sessionmiddleware: the session storage did not answer the save in time; the response is replaced by 503 Service Unavailable" cookie=__sess method=POST path=/ error=`) {
				t.Errorf("log %q", got)
			}
			if tt.honour {
				// The save ends at its deadline: unstalled before it
				// saw the deadline, it could go either way.
				waitFor(t, "the save's end", ss.idle)
			}
			ss.unstall()
			waitFor(t, "the late save", ss.idle)
			rec = do(mw(http.HandlerFunc(counter)), "GET", "/", ck)
			if rec.Code != 200 || rec.Body.String() != tt.want || !stored(t, ss, id) {
				t.Errorf("after the stall: %d %q, want the same session (%s)", rec.Code, rec.Body.String(), tt.want)
			}
		})
	}
}

// waitFor polls cond until it holds, or fails the test after 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still waiting after 5 s", what)
		}
	}
}

// A request with a deadline of its own that comes before the storage
// timeout's ends the wait at that deadline, with the default options too:
// the storage gets the earlier deadline, and the request its 503 then.
func TestStorageTimeoutRequestDeadlineWins(t *testing.T) {
	ss := newStallingStorage(t)
	ss.honour = true
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), ss, Options{})
	ck, _ := newSession(t, mw, 1)
	h := mw(http.HandlerFunc(counter))
	ss.stall("read")
	// Unblocks the storage when the middleware did not stop waiting.
	defer time.AfterFunc(3*time.Second, ss.unstall).Stop()
	defer ss.unstall()

	const own = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), own)
	defer cancel()
	rec, took := timed(h, cookieRequest(ck).WithContext(ctx))
	if rec.Code != http.StatusServiceUnavailable || took > own+slack {
		t.Errorf("answered %d after %v, want 503 after about %v", rec.Code, took, own)
	}
	want, _ := ctx.Deadline()
	if got, ok := ss.deadline("read"); !ok || !got.Equal(want) {
		t.Errorf("storage deadline %v (%v), want the request's %v", got, ok, want)
	}
}

// The storage's context gets the deadline StorageTimeout from the call's
// start (DefaultStorageTimeout for 0), and none with a negative one.
func TestStorageTimeoutDeadline(t *testing.T) {
	for _, tt := range []struct {
		timeout time.Duration
		want    time.Duration // 0: no deadline
	}{{0, DefaultStorageTimeout}, {300 * time.Millisecond, 300 * time.Millisecond}, {-1, 0}} {
		ss := newStallingStorage(t)
		mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), ss, Options{StorageTimeout: tt.timeout})
		start := time.Now()
		if rec := do(mw(http.HandlerFunc(counter)), "GET", "/", ""); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		end := time.Now()
		for _, op := range []string{"read", "save"} {
			got, ok := ss.deadline(op)
			switch {
			case tt.want == 0 && ok:
				t.Errorf("StorageTimeout %v: %s deadline %v, want none", tt.timeout, op, got)
			case tt.want != 0 && (!ok || got.Before(start.Add(tt.want)) || got.After(end.Add(tt.want))):
				t.Errorf("StorageTimeout %v: %s deadline %v from the start (%v), want %v", tt.timeout, op, got.Sub(start), ok, tt.want)
			}
		}
	}
}

// NewToken bounds its storage calls the same way: a stalled read or save
// gets the 503, and no token goes out.
func TestStorageTimeoutToken(t *testing.T) {
	for _, mode := range boundModes {
		t.Run(mode.name, func(t *testing.T) { testStorageTimeoutToken(t, mode.honour, mode.abandon) })
	}
}

func testStorageTimeoutToken(t *testing.T, honour, abandon bool) {
	ss := newStallingStorage(t)
	ss.honour = honour
	c := mustCookie(t, "api", cookie.Options{Secrets: []string{testSecret}})
	logger, _ := newLogger()
	mw, err := NewToken(c, ss, TokenOptions{Logger: logger, StorageTimeout: 50 * time.Millisecond, AbandonLateCalls: abandon})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(counter))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	token := rec.Header().Get(DefaultResponseHeader)
	if token == "" {
		t.Fatal("no token")
	}
	for _, op := range []string{"read", "save"} {
		ss.stall(op)
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec, took := timed(h, req)
		want503(t, "stalled "+op, rec, "1")
		if took > 50*time.Millisecond+slack {
			t.Errorf("stalled %s: answered after %v", op, took)
		}
		ss.unstall()
		waitFor(t, "the late "+op, ss.idle)
	}
}

// With AbandonLateCalls, a storage that ignores its context leaves, for
// each timed-out call, a goroutine until it returns, and no longer: its
// late result reaches no response, and a lock it took late is freed.
func TestStorageTimeoutNoLeak(t *testing.T) {
	ss := newStallingStorage(t)
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), ss, Options{StorageTimeout: 30 * time.Millisecond, AbandonLateCalls: true})
	ck, id := newSession(t, mw, 1)
	x := newExclusive(t, ExclusiveOptions{Lock: session.LockOptions{Wait: 20 * time.Millisecond}})
	plain, locked := mw(http.HandlerFunc(counter)), mw(x(http.HandlerFunc(counter)))
	before := settledGoroutines(t)

	const n = 20
	recs := make([]*httptest.ResponseRecorder, 2*n)
	for _, op := range []string{"read", "save", "lock"} {
		ss.stall(op)
		var wg sync.WaitGroup
		for i := range recs {
			h := plain
			if op == "lock" || i%2 == 1 {
				h = locked
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				recs[i] = do(h, "GET", "/", ck)
			}()
		}
		wg.Wait()
		if got := ss.blocked.Load(); got == 0 || got > 2*n {
			t.Errorf("stalled %s: %d calls blocked, want 1 to %d", op, got, 2*n)
		}
		snap := snapshot(recs)
		ss.unstall()
		waitGoroutines(t, before)
		if after := snapshot(recs); !reflect.DeepEqual(after, snap) {
			t.Errorf("stalled %s: a late result changed a response:\n%q\nthen\n%q", op, snap, after)
		}
		for _, r := range snap {
			if !strings.HasPrefix(r, "503 ") {
				t.Errorf("stalled %s: response %q, want 503", op, r)
				break
			}
		}
	}
	// The locks taken late were freed.
	release, err := ss.Locking.Lock(context.Background(), id, session.LockOptions{Wait: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("the session's lock is still held: %v", err)
	}
	release()
}

// snapshot returns each response's status, headers and body.
func snapshot(recs []*httptest.ResponseRecorder) []string {
	out := make([]string, len(recs))
	for i, rec := range recs {
		out[i] = itoa(rec.Code) + " " + headerString(rec.Header()) + " " + rec.Body.String()
	}
	return out
}

func headerString(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}

// With AbandonLateCalls, past maxLateCalls calls still running after their
// deadline, requests are answered 503 at once, without calling the
// storage, until they return.
func TestStorageTimeoutLateCallLimit(t *testing.T) {
	defer func(n int64) { maxLateCalls = n }(maxLateCalls)
	maxLateCalls = 3
	ss := newStallingStorage(t)
	logger, logs := newLogger()
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), ss, Options{Logger: logger, StorageTimeout: 20 * time.Millisecond, AbandonLateCalls: true})
	ck, _ := newSession(t, mw, 1)
	h := mw(http.HandlerFunc(counter))
	ss.stall("read")
	defer ss.unstall()
	for i := range 3 {
		if rec := do(h, "GET", "/", ck); rec.Code != 503 {
			t.Fatalf("request %d: %d, want 503", i, rec.Code)
		}
	}
	calls := ss.calls.Load()
	logs.b.Reset()
	rec, took := timed(h, cookieRequest(ck))
	want503(t, "past the limit", rec, "1")
	if ss.calls.Load() != calls || took >= 20*time.Millisecond {
		t.Errorf("the storage was called (%d calls before, %d after; %v)", calls, ss.calls.Load(), took)
	}
	if got := logs.String(); !strings.Contains(got, `error="sessionmiddleware: 3 calls of the session storage still run past their deadline; the read was not tried"`) {
		t.Errorf("log %q", got)
	}
	ss.unstall()
	waitFor(t, "the late calls", ss.idle)
	waitFor(t, "a request served", func() bool { return do(h, "GET", "/", ck).Code == 200 })
}

// Exclusive's lock waits its Lock.Wait plus StorageTimeout, then gets
// Exclusive's 503; a read under the lock past the bound gets it too, and
// frees the lock; a release past the bound lets the response go out (the
// release takes no context, and runs on a worker in every mode).
func TestStorageTimeoutExclusive(t *testing.T) {
	for _, mode := range boundModes {
		t.Run(mode.name, func(t *testing.T) { testStorageTimeoutExclusive(t, mode.honour, mode.abandon) })
	}
}

func testStorageTimeoutExclusive(t *testing.T, honour, abandon bool) {
	ss := newStallingStorage(t)
	ss.honour = honour
	logger, logs := newLogger()
	const bound, wait = 40 * time.Millisecond, 60 * time.Millisecond
	o := Options{Logger: logger, StorageTimeout: bound, AbandonLateCalls: abandon}
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), ss, o)
	ck, id := newSession(t, mw, 1)
	x := newExclusive(t, ExclusiveOptions{Lock: session.LockOptions{Wait: wait}, RetryAfter: 3 * time.Second})
	h := mw(x(http.HandlerFunc(counter)))

	ss.stall("lock")
	start := time.Now()
	rec, took := timed(h, cookieRequest(ck))
	want503(t, "stalled lock", rec, "3")
	if took < wait+bound || took > wait+bound+slack {
		t.Errorf("stalled lock: answered after %v, want about %v", took, wait+bound)
	}
	if got, ok := ss.deadline("lock"); !ok || got.Sub(start) < wait+bound || got.Sub(start) > wait+bound+slack {
		t.Errorf("the lock's deadline is %v from the start, want %v", got.Sub(start), wait+bound)
	}
	if got := logs.String(); !strings.Contains(got, `msg="sessionmiddleware: Exclusive: the session storage did not answer the lock in time; answered 503 Service Unavailable"`) {
		t.Errorf("log %q", got)
	}
	ss.unstall()
	waitFor(t, "the late lock", ss.idle)

	// The read under the lock, the request's only read, stalls.
	ss.stall("read")
	rec = do(h, "GET", "/", ck)
	want503(t, "stalled read under the lock", rec, "3")
	ss.unstall()
	waitFor(t, "the late read", ss.idle)
	release, err := ss.Locking.Lock(context.Background(), id, session.LockOptions{Wait: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("the lock was not freed after the stalled read: %v", err)
	}
	release()

	ss.stall("release")
	logs.b.Reset()
	rec, took = timed(h, cookieRequest(ck))
	if rec.Code != 200 || rec.Body.String() != "Count: 2" || took > bound+slack {
		t.Errorf("stalled release: %d %q after %v, want Count: 2 after about %v", rec.Code, rec.Body.String(), took, bound)
	}
	if got := logs.String(); !strings.Contains(got, `msg="sessionmiddleware: Exclusive: releasing the session's lock takes longer than the storage timeout; the response goes out, and the release goes on in the background"`) {
		t.Errorf("log %q", got)
	}
	ss.unstall()
	waitFor(t, "the late release", ss.idle)
}

// panickingStorage panics in Read with its value.
type panickingStorage struct {
	session.Storage
	value any
}

func (p panickingStorage) Read(context.Context, string) (*session.Session, error) { panic(p.value) }

// A storage that panics panics the request's goroutine with its value,
// where net/http (or the application's recovery) catches it; the process
// does not end. With AbandonLateCalls, the call ran on a worker: its
// panic is caught there and raised again on the request's goroutine, and
// the storage's stack, which that panic no longer shows, is logged, except
// for http.ErrAbortHandler. By default the panic is the storage's own, on
// the request's goroutine, and nothing is logged.
func TestStoragePanic(t *testing.T) {
	for _, abandon := range []bool{false, true} {
		for _, value := range []any{"storage bug", http.ErrAbortHandler} {
			testStoragePanic(t, abandon, value)
		}
	}
}

func testStoragePanic(t *testing.T, abandon bool, value any) {
	t.Helper()
	logger, logs := newLogger()
	st := panickingStorage{Storage: newMemory(t, session.Options{}), value: value}
	h := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{Logger: logger, AbandonLateCalls: abandon})(http.HandlerFunc(counter))
	got := func() (p any) {
		defer func() { p = recover() }()
		do(h, "GET", "/", "")
		return nil
	}()
	if got != value {
		t.Errorf("AbandonLateCalls %v: panic %v, want %v", abandon, got, value)
	}
	logged := strings.Contains(logs.String(), `msg="sessionmiddleware: the session storage panicked" cookie=__sess op=read panic="storage bug" stack=`)
	if wantLog := abandon && value != http.ErrAbortHandler; logged != wantLog || wantLog && !strings.Contains(logs.String(), "panickingStorage") {
		t.Errorf("AbandonLateCalls %v, %v: log %q", abandon, value, logs.String())
	}
}

// A storage error at the deadline (a network timeout from a socket
// deadline set from the context) is a timeout too: 503, not the
// ErrorHandler.
func TestStorageTimeoutErrorAtDeadline(t *testing.T) {
	st := &deadlineErrStorage{Storage: newMemory(t, session.Options{})}
	errorHandler := false
	h := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{
		StorageTimeout: 30 * time.Millisecond,
		ErrorHandler:   func(http.ResponseWriter, *http.Request, error) { errorHandler = true },
	})(http.HandlerFunc(counter))
	rec := do(h, "GET", "/", "")
	want503(t, "error at the deadline", rec, "1")
	if errorHandler {
		t.Error("the ErrorHandler answered")
	}
}

// deadlineErrStorage's Read sleeps until its context's deadline and
// returns an error of its own, as a socket deadline does.
type deadlineErrStorage struct{ session.Storage }

func (d *deadlineErrStorage) Read(ctx context.Context, _ string) (*session.Session, error) {
	dl, _ := ctx.Deadline()
	time.Sleep(time.Until(dl))
	return nil, errors.New("read tcp: i/o timeout")
}

// A bounded request allocates no more than an unbounded one: the call's
// context lives in the request's writer, and with AbandonLateCalls the
// worker, its call, channel and timer are pooled.
func TestStorageTimeoutAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	allocs := func(timeout time.Duration, abandon bool) float64 {
		mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), newMemory(t, session.Options{}), Options{StorageTimeout: timeout, AbandonLateCalls: abandon})
		ck, _ := newSession(t, mw, 1)
		h := mw(http.HandlerFunc(counter))
		req := cookieRequest(ck)
		return testing.AllocsPerRun(1000, func() { h.ServeHTTP(httptest.NewRecorder(), req) })
	}
	unbounded := allocs(-1, false)
	for _, abandon := range []bool{false, true} {
		if bounded := allocs(time.Second, abandon); bounded > unbounded {
			t.Errorf("AbandonLateCalls %v: %v allocations per request with a bound, %v without", abandon, bounded, unbounded)
		}
	}
}

// goid returns the id of the calling goroutine, from its stack trace's
// first line ("goroutine 18 [running]:").
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	f := strings.Fields(string(buf[:n]))
	id, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		panic("goid: " + string(buf[:n]))
	}
	return id
}

// By default each storage call runs on the request's goroutine: no
// goroutine is handed the call, in time or stalled, and a storage that
// honours its context is answered 503 at the deadline all the same. With
// AbandonLateCalls the calls run on another goroutine.
func TestStorageTimeoutInline(t *testing.T) {
	for _, abandon := range []bool{false, true} {
		ss := newStallingStorage(t)
		ss.honour = true
		const bound = 50 * time.Millisecond
		mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), ss, Options{StorageTimeout: bound, AbandonLateCalls: abandon})
		ck, _ := newSession(t, mw, 1)
		h := mw(http.HandlerFunc(counter))
		me := goid()
		for _, op := range []string{"read", "save"} {
			if rec := do(h, "GET", "/", ck); rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			// The last call of a request is its save.
			if inline := ss.goroutine.Load() == me; inline == abandon {
				t.Errorf("AbandonLateCalls %v: the save ran on the request's goroutine: %v", abandon, inline)
			}
			ss.stall(op)
			rec, took := timed(h, cookieRequest(ck))
			want503(t, "stalled "+op, rec, "1")
			if took < bound || took > bound+slack {
				t.Errorf("AbandonLateCalls %v: stalled %s answered after %v, want about %v", abandon, op, took, bound)
			}
			if inline := ss.goroutine.Load() == me; inline == abandon {
				t.Errorf("AbandonLateCalls %v: the stalled %s ran on the request's goroutine: %v", abandon, op, inline)
			}
			ss.unstall()
			waitFor(t, "the late "+op, ss.idle)
		}
	}
}

// The trade-off of the default: a storage that ignores its context holds
// the request past StorageTimeout, until it returns, since nothing can make
// the request's goroutine leave the call; its result, come late, is used.
// AbandonLateCalls is the option for such a storage.
func TestStorageTimeoutInlineWaitsForIgnoringStorage(t *testing.T) {
	ss := newStallingStorage(t)
	const bound, stall = 30 * time.Millisecond, 200 * time.Millisecond
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), ss, Options{StorageTimeout: bound})
	ck, _ := newSession(t, mw, 1)
	h := mw(http.HandlerFunc(counter))
	ss.stall("read")
	defer time.AfterFunc(stall, ss.unstall).Stop()
	rec, took := timed(h, cookieRequest(ck))
	if rec.Code != 200 || rec.Body.String() != "Count: 2" || took < stall {
		t.Errorf("%d %q after %v, want the session (Count: 2) after the storage's %v", rec.Code, rec.Body.String(), took, stall)
	}
}

// A storage that asks its context for Done on every call (go-redis, pgx),
// on a request whose context can end (net/http's), costs no allocation
// for the bound: the Done channel and its timer come from a pool.
func TestStorageTimeoutDoneAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	allocs := func(st session.Storage, timeout time.Duration) float64 {
		mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{StorageTimeout: timeout})
		ck, _ := newSession(t, mw, 1)
		h := mw(http.HandlerFunc(counter))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req := cookieRequest(ck).WithContext(ctx)
		return testing.AllocsPerRun(1000, func() { h.ServeHTTP(httptest.NewRecorder(), req) })
	}
	unbounded := allocs(newMemory(t, session.Options{}), -1)
	if bounded := allocs(doneAsker{newMemory(t, session.Options{})}, time.Second); bounded > unbounded {
		t.Errorf("%v allocations per request of a storage that asks for Done, with a bound; %v without either", bounded, unbounded)
	}
}

// The pooled Done of one call never ends another's: many requests whose
// every call waits on Done a little end in time, and a call that stalls
// still ends at its own deadline, however many timers were recycled
// before it.
func TestStorageTimeoutDoneReuse(t *testing.T) {
	const bound = 80 * time.Millisecond
	st := &waitingStorage{Storage: newMemory(t, session.Options{}), wait: time.Millisecond}
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{StorageTimeout: bound})
	ck, _ := newSession(t, mw, 1)
	h := mw(http.HandlerFunc(counter))
	concurrentRequests(t, h, ck, 4, 50)
	st.stallSave.Store(true)
	rec, took := timed(h, cookieRequest(ck))
	want503(t, "a save that waits past its deadline", rec, "1")
	if took < bound || took > bound+slack {
		t.Errorf("the stalled save was answered after %v, want about %v", took, bound)
	}
}

// waitingStorage waits wait on its context's Done before each call, and a
// save forever (until the deadline) while stallSave is set.
type waitingStorage struct {
	session.Storage
	wait      time.Duration
	stallSave atomic.Bool
}

func (w *waitingStorage) pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (w *waitingStorage) Read(ctx context.Context, v string) (*session.Session, error) {
	if err := w.pause(ctx, w.wait); err != nil {
		return nil, err
	}
	return w.Storage.Read(ctx, v)
}

func (w *waitingStorage) Save(ctx context.Context, s *session.Session) (string, bool, error) {
	d := w.wait
	if w.stallSave.Load() {
		d = time.Hour
	}
	if err := w.pause(ctx, d); err != nil {
		return "", false, err
	}
	return w.Storage.Save(ctx, s)
}

// A storage that derives a child context on every call, as pgx does, gets a
// call context that the context package watches from a goroutine of its
// own, which may read it after the call returned: the next call must not
// reuse it (go test -race checks this), and every request still gets its
// session.
func TestStorageTimeoutChildContexts(t *testing.T) {
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), childContexts{newMemory(t, session.Options{})}, Options{StorageTimeout: time.Second})
	ck, _ := newSession(t, mw, 1)
	h := mw(http.HandlerFunc(counter))
	concurrentRequests(t, h, ck, 4, 100)
}

// concurrentRequests sends n requests with cookie ck from each of g
// goroutines, one after the other, each of which must be answered 200.
func concurrentRequests(t *testing.T, h http.Handler, ck string, g, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if rec := do(h, "GET", "/", ck); rec.Code != 200 {
					t.Errorf("status %d, want 200", rec.Code)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// childContexts runs each call on a child of its context that it cancels
// when the call returns.
type childContexts struct{ session.Storage }

func (c childContexts) Read(ctx context.Context, v string) (*session.Session, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return c.Storage.Read(ctx, v)
}

func (c childContexts) Save(ctx context.Context, s *session.Session) (string, bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return c.Storage.Save(ctx, s)
}
