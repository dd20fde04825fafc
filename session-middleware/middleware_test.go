package sessionmiddleware

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/filestorage"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

func TestNewRefuses(t *testing.T) {
	signed := newCookie(t, "__sess", cookie.Options{})
	unsigned, err := cookie.New("__sess", cookie.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mem := newMemory(t, session.Options{})
	tests := []struct {
		name    string
		cookie  *cookie.Cookie
		storage session.Storage
		want    string
	}{
		{"nil cookie", nil, mem, "sessionmiddleware: the session cookie is nil"},
		{"nil storage", signed, nil, "sessionmiddleware: the session storage is nil"},
		// T-MW1, upstream "throws if the session cookie is not signed".
		{"unsigned cookie", unsigned, mem, "sessionmiddleware: the session cookie must be signed (cookie.Options.Secrets)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := New(tt.cookie, tt.storage, Options{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("New error = %v, want %q", err, tt.want)
			}
			if mw != nil {
				t.Error("New returned middleware with an error")
			}
		})
	}
}

func TestNewWarnings(t *testing.T) {
	tests := []struct {
		name         string
		secrets      []string
		scriptAccess bool
		want         string
	}{
		{"strong secret", []string{testSecret}, false, ""},
		{"short secret", []string{testSecret, "old-and-short"}, false,
			`level=WARN msg="sessionmiddleware: session cookie \"__sess\": secret 1 is shorter than 32 bytes; use 32 or more random bytes" cookie=__sess secret_index=1 secret_len=13` + "\n"},
		// Upstream "respects and warns about explicitly disabling HTTP-only":
		// one warning naming the cookie.
		{"script access", []string{testSecret}, true,
			`level=WARN msg="sessionmiddleware: session cookie \"__sess\" is sent without HttpOnly (Options.AllowScriptAccess) and may be accessible to client-side JavaScript" cookie=__sess` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := newLogger()
			c := newCookie(t, "__sess", cookie.Options{Secrets: tt.secrets})
			if _, err := New(c, newMemory(t, session.Options{}), Options{Logger: logger, AllowScriptAccess: tt.scriptAccess}); err != nil {
				t.Fatal(err)
			}
			if got := logs.String(); got != tt.want {
				t.Errorf("log:\n%s\nwant:\n%s", got, tt.want)
			}
			if strings.Contains(logs.String(), "old-and-short") {
				t.Error("a secret was logged")
			}
		})
	}
}

// TestSessionCookieAttributes pins the whole Set-Cookie line: HttpOnly is
// forced on (upstream "defaults session cookies to HTTP-only") unless
// AllowScriptAccess, and every other attribute comes from the cookie.
func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		name         string
		opts         cookie.Options
		scriptAccess bool
		attrs        string
	}{
		{"defaults", cookie.Options{}, false, "; HttpOnly; Path=/; SameSite=Lax"},
		{"HTTPOnly false in the cookie is overridden", cookie.Options{HTTPOnly: false}, false, "; HttpOnly; Path=/; SameSite=Lax"},
		{"script access", cookie.Options{HTTPOnly: true}, true, "; Path=/; SameSite=Lax"},
		{"secure strict", cookie.Options{Secure: true, SameSite: http.SameSiteStrictMode}, false, "; HttpOnly; Path=/; SameSite=Strict; Secure"},
		{"everything", cookie.Options{Domain: "example.com", Path: "/app", MaxAge: 3600, Partitioned: true, SameSite: http.SameSiteNoneMode, Secure: true}, false,
			"; Domain=example.com; HttpOnly; Max-Age=3600; Partitioned; Path=/app; SameSite=None; Secure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCookie(t, "__sess", tt.opts)
			logger, _ := newLogger()
			mw := newMiddleware(t, c, newMemory(t, session.Options{}), Options{AllowScriptAccess: tt.scriptAccess, Logger: logger})
			var id string
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromContext(r.Context())
				s.Set("user", "alice")
				id = s.ID()
			}))
			rec := do(h, "GET", "/", "")
			want := []string{serialize(t, expectedCookie(t, "__sess", tt.opts, tt.scriptAccess), id)}
			if got := rec.Result().Header.Values("Set-Cookie"); !reflect.DeepEqual(got, want) {
				t.Fatalf("Set-Cookie = %q, want %q", got, want)
			}
			if _, attrs, _ := strings.Cut(want[0], ";"); ";"+attrs != tt.attrs {
				t.Errorf("attributes %q, want %q", ";"+attrs, tt.attrs)
			}
		})
	}
}

// Upstream "persists session data across requests", for every storage.
func TestCountAcrossRequests(t *testing.T) {
	for _, sc := range storageCases() {
		t.Run(sc.name, func(t *testing.T) {
			c := newCookie(t, "__sess", cookie.Options{})
			h := newMiddleware(t, c, sc.new(t, "__sess"), Options{})(http.HandlerFunc(counter))
			cookieHeader := ""
			for i := 1; i <= 3; i++ {
				rec := do(h, "GET", "/", cookieHeader)
				if got, want := rec.Body.String(), fmt.Sprintf("Count: %d", i); got != want {
					t.Fatalf("request %d: body %q, want %q", i, got, want)
				}
				lines := rec.Result().Header.Values("Set-Cookie")
				if len(lines) != 1 {
					t.Fatalf("request %d: Set-Cookie = %q, want one line", i, lines)
				}
				if !strings.HasSuffix(lines[0], "; HttpOnly; Path=/; SameSite=Lax") {
					t.Errorf("request %d: Set-Cookie = %q", i, lines[0])
				}
				cookieHeader = pair(lines[0])
			}
		})
	}
}

// Upstream "throws at request time if the session is already started".
func TestInstalledTwice(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	st := &fakeStorage{Storage: newMemory(t, session.Options{})}
	logger, logs := newLogger()
	var handlerErr error
	mw := newMiddleware(t, c, st, Options{Logger: logger, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		handlerErr = err
		http.Error(w, "nested", http.StatusInternalServerError)
	}})
	ran := false
	h := mw(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran = true
		session.FromContext(r.Context()).Set("x", 1)
	})))
	rec := do(h, "GET", "/", "")
	const want = "sessionmiddleware: a session is already in the request context; is the middleware installed twice?"
	if handlerErr == nil || handlerErr.Error() != want {
		t.Errorf("ErrorHandler got %v, want %q", handlerErr, want)
	}
	if ran {
		t.Error("the handler ran")
	}
	if rec.Code != 500 || rec.Body.String() != "nested\n" {
		t.Errorf("response %d %q", rec.Code, rec.Body.String())
	}
	// The outer middleware saves its (clean) session: no cookie at all.
	if got := rec.Result().Header.Values("Set-Cookie"); got != nil {
		t.Errorf("Set-Cookie = %q, want none", got)
	}
	if st.reads.Load() != 0 {
		t.Errorf("%d storage reads, want none (the inner middleware must not read, and no handler asked the outer one)", st.reads.Load())
	}
	if got := logs.String(); got != `level=ERROR msg="`+want+`" cookie=__sess`+"\n" {
		t.Errorf("log: %s", got)
	}
}

// Upstream "throws at request time if the session is modified by another
// middleware/handler": session.NewContext panics, and the panic propagates
// through the middleware, which saves nothing.
func TestReplacingSessionPanics(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	st := newMemory(t, session.Options{})
	var id string
	h := newMiddleware(t, c, st, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Set("x", 1)
		id = s.ID()
		session.NewContext(r.Context(), session.New())
	}))
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			const want = "session: NewContext: the context already carries a session; refusing to replace it (is the session middleware installed twice?)"
			if p := recover(); p != want {
				t.Errorf("panic %v, want %q", p, want)
			}
		}()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	}()
	if got := rec.Result().Header.Values("Set-Cookie"); got != nil {
		t.Errorf("Set-Cookie = %q after a panic", got)
	}
	if stored(t, st, id) {
		t.Error("the session was saved although the handler panicked")
	}
}

// A handler panic (the Go form of a thrown handler error, §4.7) propagates
// unchanged and saves nothing.
func TestHandlerPanicSavesNothing(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	st := &fakeStorage{Storage: newMemory(t, session.Options{})}
	h := newMiddleware(t, c, st, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("x", 1)
		panic(http.ErrAbortHandler)
	}))
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("panic %v, want http.ErrAbortHandler", p)
			}
		}()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	}()
	if st.saves.Load() != 0 {
		t.Errorf("%d saves after a panic", st.saves.Load())
	}
	if got := rec.Result().Header.Values("Set-Cookie"); got != nil {
		t.Errorf("Set-Cookie = %q after a panic", got)
	}
}

// Upstream "does not overwrite cookies set by other middleware/handlers":
// the handler's cookies stay, in order, and the session cookie comes last.
func TestDoesNotOverwriteOtherCookies(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	var id string
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "outer=1; Path=/")
			next.ServeHTTP(w, r)
		})
	}
	h := outer(newMiddleware(t, c, newMemory(t, session.Options{}), Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "count", Value: "1"})
		s := session.FromContext(r.Context())
		s.Set("count", 1)
		id = s.ID()
		w.Write([]byte("ok"))
	})))
	rec := do(h, "GET", "/", "")
	want := []string{"outer=1; Path=/", "count=1", serialize(t, expectedCookie(t, "__sess", cookie.Options{}, false), id)}
	if got := rec.Result().Header.Values("Set-Cookie"); !reflect.DeepEqual(got, want) {
		t.Errorf("Set-Cookie = %q, want %q", got, want)
	}
}

// Probes of §4.7 and the request cycle of §3.3: which responses carry the
// session cookie.
func TestWhenTheCookieIsSent(t *testing.T) {
	opts := cookie.Options{}
	c := newCookie(t, "__sess", opts)
	exp := expectedCookie(t, "__sess", opts, false)
	st := newMemory(t, session.Options{})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /read", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		fmt.Fprintf(w, "count=%v msg=%v", s.Get("count"), s.Get("msg"))
	})
	mux.HandleFunc("POST /inc", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n, _ := session.Value[int](s, "count")
		s.Set("count", n+1)
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("POST /flash", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Flash("msg", "hi")
		http.Redirect(w, r, "/read?from=flash", http.StatusFound)
	})
	mux.HandleFunc("POST /error", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("failed", true)
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	h := newMiddleware(t, c, st, Options{})(mux)

	// A clean first visit gets no cookie; the handler read the session, so
	// the page may depend on it: Vary: Cookie.
	rec := do(h, "GET", "/read", "")
	assertVaryOnly(t, "first visit", rec)
	if rec.Body.String() != "count=<nil> msg=<nil>" {
		t.Errorf("body %q", rec.Body.String())
	}
	// An untouched 404 gets no cookie.
	rec = do(h, "GET", "/missing", "")
	if rec.Code != 404 {
		t.Fatalf("status %d", rec.Code)
	}
	assertNoSessionHeaders(t, "404", rec)

	rec = do(h, "POST", "/inc", "")
	line := rec.Result().Header.Get("Set-Cookie")
	v, _ := exp.Parse(pair(line))
	if line != serialize(t, exp, v) || v == "" {
		t.Fatalf("Set-Cookie %q", line)
	}
	ck := pair(line)

	// Reading a stored session sends no cookie, only Vary: Cookie.
	rec = do(h, "GET", "/read", ck)
	assertVaryOnly(t, "read", rec)
	if rec.Body.String() != "count=1 msg=<nil>" {
		t.Errorf("body %q", rec.Body.String())
	}

	// A redirect keeps its status and Location, with the cookie appended.
	rec = do(h, "POST", "/flash", ck)
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/read?from=flash" {
		t.Errorf("redirect: %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	if got, want := rec.Result().Header.Values("Set-Cookie"), []string{serialize(t, exp, v)}; !reflect.DeepEqual(got, want) {
		t.Errorf("redirect Set-Cookie = %q, want %q", got, want)
	}
	// The flash shows once; reading it clears it (a save, a Set-Cookie).
	rec = do(h, "GET", "/read", ck)
	if rec.Body.String() != "count=1 msg=hi" {
		t.Errorf("body %q", rec.Body.String())
	}
	if got, want := rec.Result().Header.Values("Set-Cookie"), []string{serialize(t, exp, v)}; !reflect.DeepEqual(got, want) {
		t.Errorf("flash read Set-Cookie = %q, want %q", got, want)
	}
	rec = do(h, "GET", "/read", ck)
	if rec.Body.String() != "count=1 msg=<nil>" {
		t.Errorf("body %q", rec.Body.String())
	}
	assertVaryOnly(t, "after flash", rec)

	// T-MW5: a handler's own 5xx still saves (Remix parity): the handler
	// chose to answer 500 after changing the session. A panic does not.
	rec = do(h, "POST", "/error", ck)
	if rec.Code != 500 || rec.Result().Header.Get("Set-Cookie") != serialize(t, exp, v) {
		t.Errorf("500: %d Set-Cookie %q", rec.Code, rec.Result().Header.Get("Set-Cookie"))
	}
}

// assertVaryOnly checks a response to a request that carried a session but
// changed nothing: no cookie, no Cache-Control, but "Vary: Cookie", since the
// page may show the session.
func assertVaryOnly(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Result().Header
	for _, k := range []string{"Set-Cookie", "Cache-Control"} {
		if v := h.Values(k); v != nil {
			t.Errorf("%s: %s = %q, want none", what, k, v)
		}
	}
	if v := h.Values("Vary"); !reflect.DeepEqual(v, []string{"Cookie"}) {
		t.Errorf("%s: Vary = %q, want [Cookie]", what, v)
	}
}

func assertNoSessionHeaders(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Result().Header
	for _, k := range []string{"Set-Cookie", "Vary", "Cache-Control"} {
		if v := h.Values(k); v != nil {
			t.Errorf("%s: %s = %q, want none", what, k, v)
		}
	}
}

// T-EXP4: Destroy deletes the record and sends a real deletion cookie with
// the cookie's Domain, Path and other attributes, so the browser matches it.
func TestDestroySendsDeletionCookie(t *testing.T) {
	for _, sc := range storageCases() {
		t.Run(sc.name, func(t *testing.T) {
			opts := cookie.Options{Domain: "example.com", Path: "/app", MaxAge: 60, Secure: true, SameSite: http.SameSiteStrictMode}
			c := newCookie(t, "s", opts)
			st := sc.new(t, "s")
			mux := http.NewServeMux()
			var id string
			mux.HandleFunc("POST /app/login", func(w http.ResponseWriter, r *http.Request) {
				s := session.FromContext(r.Context())
				s.Set("user", "alice")
				id = s.ID()
			})
			mux.HandleFunc("POST /app/logout", func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Destroy()
				http.Redirect(w, r, "/app/", http.StatusSeeOther)
			})
			h := newMiddleware(t, c, st, Options{})(mux)
			rec := do(h, "POST", "/app/login", "")
			ck := pair(rec.Result().Header.Get("Set-Cookie"))
			if sc.serverSide && !stored(t, st, id) {
				t.Fatal("login did not store the session")
			}
			rec = do(h, "POST", "/app/logout", ck)
			want := []string{"s=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/app; SameSite=Strict; Secure"}
			if got := rec.Result().Header.Values("Set-Cookie"); !reflect.DeepEqual(got, want) {
				t.Errorf("Set-Cookie = %q, want %q", got, want)
			}
			if rec.Code != http.StatusSeeOther {
				t.Errorf("status %d", rec.Code)
			}
			if sc.serverSide && stored(t, st, id) {
				t.Error("the record survived Destroy")
			}
		})
	}
}

// T-EXP5 (V9): a response that sets the session cookie says so to caches.
func TestVaryAndCacheControl(t *testing.T) {
	tests := []struct {
		name         string
		vary, cc     []string
		wantVary     []string
		wantCC       []string
		touchSession bool
	}{
		{"none set", nil, nil, []string{"Cookie"}, []string{`no-cache="Set-Cookie"`}, true},
		{"others set", []string{"Accept-Encoding"}, []string{"max-age=60"},
			[]string{"Accept-Encoding", "Cookie"}, []string{`max-age=60, no-cache="Set-Cookie"`}, true},
		{"already there", []string{"Accept-Encoding, cookie"}, []string{`private, No-Cache="Set-Cookie"`},
			[]string{"Accept-Encoding, cookie"}, []string{`private, No-Cache="Set-Cookie"`}, true},
		{"vary star", []string{"*"}, []string{"no-store"}, []string{"*"}, []string{`no-store, no-cache="Set-Cookie"`}, true},
		{"two Cache-Control lines", nil, []string{"public", "max-age=60"},
			[]string{"Cookie"}, []string{"private", `max-age=60, no-cache="Set-Cookie"`}, true},
		// No shared cache may store a response that sets the session
		// cookie: public becomes private, max-age stays for the browser.
		{"public", nil, []string{"public, max-age=600"},
			[]string{"Cookie"}, []string{`private, max-age=600, no-cache="Set-Cookie"`}, true},
		{"PUBLIC twice, spaced", nil, []string{" max-age=600 ,PUBLIC,  public"},
			[]string{"Cookie"}, []string{`max-age=600, private, no-cache="Set-Cookie"`}, true},
		{"public and private", nil, []string{"public", "private, max-age=600"},
			[]string{"Cookie"}, []string{`private, max-age=600, no-cache="Set-Cookie"`}, true},
		{"s-maxage", nil, []string{"s-maxage=600, max-age=60"},
			[]string{"Cookie"}, []string{`private, s-maxage=600, max-age=60, no-cache="Set-Cookie"`}, true},
		{"private for one field is not private", nil, []string{`private="X-Token", public`},
			[]string{"Cookie"}, []string{`private="X-Token", private, no-cache="Set-Cookie"`}, true},
		{"quoted comma", nil, []string{`no-cache="Set-Cookie, X-Public", public`},
			[]string{"Cookie"}, []string{`no-cache="Set-Cookie, X-Public", private, no-cache="Set-Cookie"`}, true},
		{"public without a cookie: untouched", nil, []string{"public, max-age=600"},
			nil, []string{"public, max-age=600"}, false},
		{"no cookie sent: untouched", []string{"Accept-Encoding"}, []string{"max-age=60"},
			[]string{"Accept-Encoding"}, []string{"max-age=60"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCookie(t, "__sess", cookie.Options{})
			h := newMiddleware(t, c, newMemory(t, session.Options{}), Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for _, v := range tt.vary {
					w.Header().Add("Vary", v)
				}
				for _, v := range tt.cc {
					w.Header().Add("Cache-Control", v)
				}
				if tt.touchSession {
					session.FromContext(r.Context()).Set("k", "v")
				}
				w.Write([]byte("body"))
			}))
			res := do(h, "GET", "/", "").Result()
			if got := res.Header.Values("Vary"); !reflect.DeepEqual(got, tt.wantVary) {
				t.Errorf("Vary = %q, want %q", got, tt.wantVary)
			}
			if got := res.Header.Values("Cache-Control"); !reflect.DeepEqual(got, tt.wantCC) {
				t.Errorf("Cache-Control = %q, want %q", got, tt.wantCC)
			}
		})
	}
}

// T-FX1: a well-formed id the store does not know gets a new id, and no
// record is created for the supplied one, not even once the session is
// written.
func TestUnknownIDIsNotAdopted(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	exp := expectedCookie(t, "__sess", cookie.Options{}, false)
	st := newMemory(t, session.Options{})
	const planted = "attacker-chosen-id-0123456789abcdefghijklmno"
	var seen string
	write := false
	h := newMiddleware(t, c, st, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		seen = s.ID()
		if write {
			s.Set("user", "victim")
		}
	}))
	ck := pair(serialize(t, exp, planted))
	rec := do(h, "GET", "/", ck)
	if seen == planted || seen == "" {
		t.Fatalf("session id %q: the planted id was adopted", seen)
	}
	assertVaryOnly(t, "read", rec) // the cookie verified; its id is unknown
	write = true
	rec = do(h, "GET", "/", ck)
	if seen == planted {
		t.Fatal("the planted id was adopted")
	}
	if got, want := rec.Result().Header.Get("Set-Cookie"), serialize(t, exp, seen); got != want {
		t.Errorf("Set-Cookie = %q, want %q", got, want)
	}
	if stored(t, st, planted) {
		t.Error("a record was created for the planted id")
	}
}

// T-EX1: ids in the URL or a form are ignored; only the cookie counts.
func TestIDOutsideTheCookieIsIgnored(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	st := newMemory(t, session.Options{})
	var ids []string
	h := newMiddleware(t, c, st, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Set("n", len(ids))
		ids = append(ids, s.ID())
	}))
	rec := do(h, "GET", "/", "")
	victim := ids[0]
	value := pair(rec.Result().Header.Get("Set-Cookie"))
	signed := strings.TrimPrefix(value, "__sess=")
	for _, target := range []string{
		"/?sid=" + victim,
		"/?__sess=" + url.QueryEscape(signed),
		"/;__sess=" + signed,
	} {
		do(h, "GET", target, "")
		if got := ids[len(ids)-1]; got == victim {
			t.Errorf("%s loaded the session of another client", target)
		}
	}
	req := httptest.NewRequest("POST", "/", strings.NewReader(url.Values{"__sess": {signed}, "sid": {victim}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got := ids[len(ids)-1]; got == victim {
		t.Error("a form field loaded the session of another client")
	}
	// The cookie still works.
	do(h, "GET", "/", value)
	if got := ids[len(ids)-1]; got != victim {
		t.Errorf("cookie loaded %q, want %q", got, victim)
	}
}

// T-FAIL1 (V17): a storage that cannot read fails the request closed: the
// handler does not run, the error handler answers, and no cookie is sent.
func TestReadErrorFailsClosed(t *testing.T) {
	errDown := errors.New("store down")
	var custom error
	tests := []struct {
		name     string
		handler  func(http.ResponseWriter, *http.Request, error)
		wantCode int
		wantBody string
	}{
		{"default", nil, 500, "Internal Server Error\n"},
		{"custom", func(w http.ResponseWriter, r *http.Request, err error) {
			custom = err
			http.Error(w, "try later", http.StatusServiceUnavailable)
		}, 503, "try later\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCookie(t, "__sess", cookie.Options{})
			st := &fakeStorage{Storage: newMemory(t, session.Options{}), readErr: errDown}
			logger, logs := newLogger()
			ran := false
			h := newMiddleware(t, c, st, Options{Logger: logger, ErrorHandler: tt.handler})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := session.FromContext(r.Context())
				ran = true
				s.Set("x", 1)
			}))
			rec := do(h, "GET", "/", "")
			if ran {
				t.Error("the handler got a session")
			}
			if rec.Code != tt.wantCode || rec.Body.String() != tt.wantBody {
				t.Errorf("response %d %q, want %d %q", rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
			if got := rec.Result().Header.Values("Set-Cookie"); got != nil {
				t.Errorf("Set-Cookie = %q", got)
			}
			if st.saves.Load() != 0 {
				t.Error("saved after a failed read")
			}
			if want := `level=ERROR msg="sessionmiddleware: reading the session failed" cookie=__sess error="store down"` + "\n"; logs.String() != want {
				t.Errorf("log %q, want %q", logs.String(), want)
			}
		})
	}
	if custom != errDown {
		t.Errorf("ErrorHandler got %v", custom)
	}
}

// A storage that returns neither a session nor an error is a bug in the
// storage; the request fails instead of a nil-pointer panic in a handler.
func TestReadNilSession(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	h := newMiddleware(t, c, nilStorage{}, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context())
		t.Error("the handler got past session.FromContext")
	}))
	if rec := do(h, "GET", "/", ""); rec.Code != 500 {
		t.Errorf("status %d", rec.Code)
	}
}

type nilStorage struct{}

func (nilStorage) Read(context.Context, string) (*session.Session, error) { return nil, nil }
func (nilStorage) Save(context.Context, *session.Session) (string, bool, error) {
	return "", false, nil
}

// T-FAIL2: saving fails after the handler ran. The session is saved before
// the headers go out, so the handler's response can still be replaced by the
// error response, with no session cookie and none of the handler's body,
// cache or cookie headers (its remember-me cookie must not go out with a
// failure), and "Cache-Control: no-store"; the ErrorHandler already sees the
// cleared headers. Cookies set outside, before the middleware ran, stay. The
// handler's writes report success and vanish.
func TestSaveErrorReplacesResponse(t *testing.T) {
	errSave := errors.New("disk full")
	type result struct {
		n   int
		err error
		rf  int64
	}
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, res *result)
	}{
		{"Write", func(w http.ResponseWriter, res *result) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", "5")
			res.n, res.err = w.Write([]byte("hello"))
		}},
		{"WriteHeader redirect", func(w http.ResponseWriter, res *result) {
			w.Header().Set("Location", "/next")
			w.WriteHeader(http.StatusSeeOther)
			res.n, res.err = w.Write([]byte("see other"))
		}},
		{"ReadFrom", func(w http.ResponseWriter, res *result) {
			w.Header().Set("Content-Disposition", "attachment")
			w.Header().Set("Etag", `"v1"`)
			res.rf, res.err = w.(io.ReaderFrom).ReadFrom(strings.NewReader("12345678"))
		}},
		{"Flush", func(w http.ResponseWriter, res *result) {
			w.(http.Flusher).Flush()
			res.n, res.err = w.Write([]byte("late"))
		}},
		{"nothing written", func(w http.ResponseWriter, res *result) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCookie(t, "__sess", cookie.Options{})
			st := &fakeStorage{Storage: newMemory(t, session.Options{}), saveErr: errSave}
			logger, logs := newLogger()
			var gotErr error
			var res result
			var seen http.Header
			h := newMiddleware(t, c, st, Options{Logger: logger, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				gotErr = err
				seen = w.Header().Clone()
				if session.FromContext(r.Context()) == nil {
					t.Error("ErrorHandler's request has no session")
				}
				http.Error(w, "could not save", http.StatusInternalServerError)
			}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Set-Cookie", "remember_me=alice; Max-Age=2592000; HttpOnly")
				w.Header().Set("Cache-Control", "public, max-age=600")
				w.Header().Set("Expires", "Thu, 01 Jan 2037 00:00:00 GMT")
				session.FromContext(r.Context()).Set("x", 1)
				tt.handler(w, &res)
			}))
			// A compressing middleware outside owns Content-Encoding, and
			// compresses the error response too: it stays.
			h = compressing(h)
			rec := do(h, "GET", "/", "")
			if gotErr != errSave {
				t.Errorf("ErrorHandler got %v", gotErr)
			}
			if rec.Code != 500 || rec.Body.String() != "could not save\n" {
				t.Errorf("response %d %q", rec.Code, rec.Body.String())
			}
			wantSeen := http.Header{
				"Set-Cookie":       {"outer=1"}, // set outside: never touched
				"Content-Encoding": {"gzip"},
				"Cache-Control":    {"no-store"},
			}
			if !reflect.DeepEqual(seen, wantSeen) {
				t.Errorf("ErrorHandler saw headers %q, want %q", seen, wantSeen)
			}
			want := http.Header{
				"Content-Type":           {"text/plain; charset=utf-8"},
				"X-Content-Type-Options": {"nosniff"},
				"Set-Cookie":             {"outer=1"},
				"Content-Encoding":       {"gzip"},
				"Cache-Control":          {"no-store"},
			}
			if got := rec.Result().Header; !reflect.DeepEqual(got, want) {
				t.Errorf("headers %q, want %q", got, want)
			}
			if res.err != nil || res.n != 0 && res.n != len("hello") && res.n != len("see other") && res.n != len("late") || tt.name == "ReadFrom" && res.rf != 8 {
				t.Errorf("handler's write returned %d/%d, %v", res.n, res.rf, res.err)
			}
			if st.saves.Load() != 1 {
				t.Errorf("%d saves", st.saves.Load())
			}
			if want := `level=ERROR msg="sessionmiddleware: saving the session failed; the response is replaced by the error response" cookie=__sess error="disk full"` + "\n"; logs.String() != want {
				t.Errorf("log %q, want %q", logs.String(), want)
			}
		})
	}
}

// compressing stands for middleware outside the session middleware: it owns
// Content-Encoding and sets a cookie of its own before calling next.
func compressing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Set-Cookie", "outer=1")
		next.ServeHTTP(w, r)
	})
}

// A value too large for a cookie is a save error (cookie.ErrTooLarge from
// Serialize, session.ErrTooLarge from cookie storage), never a cookie the
// browser would drop without a word.
func TestTooLargeIsASaveError(t *testing.T) {
	sealed, err := cookiestorage.New(cookiestorage.Options{CookieName: "__sess", Keys: [][]byte{testKey}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		storage session.Storage
		want    error
	}{
		{"Serialize", &fakeStorage{Storage: newMemory(t, session.Options{}), saveValue: strings.Repeat("x", 4000)}, cookie.ErrTooLarge},
		{"cookie storage", sealed, session.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCookie(t, "__sess", cookie.Options{})
			var gotErr error
			h := newMiddleware(t, c, tt.storage, Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				gotErr = err
				w.WriteHeader(http.StatusInsufficientStorage)
			}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Set("big", strings.Repeat("y", 5000))
				w.Write([]byte("ok"))
			}))
			rec := do(h, "GET", "/", "")
			if !errors.Is(gotErr, tt.want) {
				t.Errorf("ErrorHandler got %v, want %v", gotErr, tt.want)
			}
			if rec.Code != http.StatusInsufficientStorage || rec.Body.Len() != 0 {
				t.Errorf("response %d %q", rec.Code, rec.Body.String())
			}
			if got, want := rec.Result().Header, (http.Header{"Cache-Control": {"no-store"}}); !reflect.DeepEqual(got, want) {
				t.Errorf("headers %q, want %q", got, want)
			}
		})
	}
}

// Changes after the headers went out cannot be saved: they are logged.
func TestLateChangeIsLogged(t *testing.T) {
	const warn = `level=WARN msg="sessionmiddleware: the session changed after the response headers were sent; the change is lost (change the session before writing the response)" cookie=__sess method=GET path=/late` + "\n"
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, s *session.Session)
		want    string
	}{
		{"Set after Write", func(w http.ResponseWriter, s *session.Session) {
			w.Write([]byte("x"))
			s.Set("late", 1)
		}, warn},
		{"Destroy after WriteHeader", func(w http.ResponseWriter, s *session.Session) {
			s.Set("user", "alice")
			w.WriteHeader(200)
			s.Destroy()
		}, warn},
		{"Set before Write", func(w http.ResponseWriter, s *session.Session) {
			s.Set("early", 1)
			w.Write([]byte("x"))
		}, ""},
		{"Destroy before Write", func(w http.ResponseWriter, s *session.Session) {
			s.Destroy()
			w.Write([]byte("x"))
		}, ""},
		{"Set with nothing written", func(w http.ResponseWriter, s *session.Session) {
			s.Set("fine", 1)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCookie(t, "__sess", cookie.Options{})
			logger, logs := newLogger()
			h := newMiddleware(t, c, newMemory(t, session.Options{}), Options{Logger: logger})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.handler(w, session.FromContext(r.Context()))
			}))
			do(h, "GET", "/late", "")
			if got := logs.String(); got != tt.want {
				t.Errorf("log %q, want %q", got, tt.want)
			}
		})
	}
}

// HTTP/2 may send one Cookie field per cookie; they are read as one header.
func TestSplitCookieHeader(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	h := newMiddleware(t, c, newMemory(t, session.Options{}), Options{})(http.HandlerFunc(counter))
	ck := pair(do(h, "GET", "/", "").Result().Header.Get("Set-Cookie"))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header["Cookie"] = []string{"a=1", ck, "b=2"}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "Count: 2" {
		t.Errorf("body %q, want Count: 2", rec.Body.String())
	}
}

// A forged or tampered cookie is a fresh session, not an error.
func TestForgedCookieIsFreshSession(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	other := newCookie(t, "__sess", cookie.Options{Secrets: []string{"another-secret-0123456789abcdefgh"}})
	h := newMiddleware(t, c, newMemory(t, session.Options{}), Options{})(http.HandlerFunc(counter))
	ck := pair(do(h, "GET", "/", "").Result().Header.Get("Set-Cookie"))
	v, _ := expectedCookie(t, "__sess", cookie.Options{}, false).Parse(ck)
	for _, bad := range []string{
		ck + "x",
		ck[:len(ck)-2],
		pair(serialize(t, other, v)),
		"__sess=" + v,
		"__sess=",
	} {
		rec := do(h, "GET", "/", bad)
		if rec.Code != 200 || rec.Body.String() != "Count: 1" {
			t.Errorf("%q: %d %q, want a fresh session", bad, rec.Code, rec.Body.String())
		}
	}
}

// -race: parallel requests, each client with its own cookie, counting.
func TestParallelRequests(t *testing.T) {
	for _, sc := range storageCases() {
		t.Run(sc.name, func(t *testing.T) {
			c := newCookie(t, "__sess", cookie.Options{})
			h := newMiddleware(t, c, sc.new(t, "__sess"), Options{})(http.HandlerFunc(counter))
			var wg sync.WaitGroup
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ck := ""
					for n := 1; n <= 3; n++ {
						rec := do(h, "GET", "/", ck)
						if want := fmt.Sprintf("Count: %d", n); rec.Body.String() != want {
							t.Errorf("body %q, want %q", rec.Body.String(), want)
							return
						}
						ck = pair(rec.Result().Header.Get("Set-Cookie"))
					}
				}()
			}
			wg.Wait()
		})
	}
}

// Test helpers shared by every test file.

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

// newMemory returns a memory storage with the session options o, or fails
// the test.
func newMemory(t testing.TB, o session.Options) session.Storage {
	t.Helper()
	st, err := memorystorage.New(memorystorage.Options{Session: o})
	if err != nil {
		t.Fatal(err)
	}
	return st
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
			return newMemory(t, session.Options{Logger: quiet})
		}},
		{"cookie-signed", false, func(t testing.TB, name string) session.Storage {
			st, err := cookiestorage.New(cookiestorage.Options{CookieName: name, Session: session.ClientOptions{Logger: quiet}})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
		{"cookie-sealed", false, func(t testing.TB, name string) session.Storage {
			st, err := cookiestorage.New(cookiestorage.Options{CookieName: name, Keys: [][]byte{testKey}, Session: session.ClientOptions{Logger: quiet}})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
		{"file", true, func(t testing.TB, _ string) session.Storage {
			st, err := filestorage.New(t.TempDir(), filestorage.Options{Session: session.Options{Logger: quiet}})
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
