package sessionmiddleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// tokenApp is an API: who am I (with a flash notice), login (a new id and a
// notice), a counter, logout, and logout with a notice.
func tokenApp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		fmt.Fprintf(w, "user=%v notice=%v", orEmpty(s.Get("user")), orEmpty(s.Get("notice")))
	})
	mux.HandleFunc("GET /id", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, session.FromContext(r.Context()).ID())
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.RegenerateID(true)
		s.Set("user", r.URL.Query().Get("user"))
		s.Flash("notice", "welcome")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /count", counter)
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Destroy()
		if r.URL.Query().Has("notice") {
			s.Flash("notice", "bye")
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// apiClient is a script with no cookie jar: it keeps the last token it was
// given and sends it in the request header.
type apiClient struct {
	t      *testing.T
	url    string
	client *http.Client
	in     string // request header
	out    string // response header
	bearer bool
	token  string
}

func newAPIClient(t *testing.T, ts *httptest.Server) *apiClient {
	return &apiClient{t: t, url: ts.URL, client: ts.Client(), in: "Authorization", out: "Session-Token", bearer: true}
}

// apiResponse is what one request gave.
type apiResponse struct {
	status   int
	body     string
	header   http.Header
	gotToken bool // the response header was present
}

// do sends a request with the client's token (or with the request header
// value raw, when not "") and keeps a token the response hands over.
func (c *apiClient) do(method, path, raw string) apiResponse {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	switch {
	case raw != "":
		req.Header.Set(c.in, raw)
	case c.token != "" && c.bearer:
		req.Header.Set(c.in, "Bearer "+c.token)
	case c.token != "":
		req.Header.Set(c.in, c.token)
	}
	res, err := c.client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := apiResponse{status: res.StatusCode, body: string(body), header: res.Header}
	if v := res.Header.Values(c.out); len(v) > 0 {
		if len(v) != 1 {
			c.t.Errorf("%s %s: %d %s headers: %q", method, path, len(v), c.out, v)
		}
		r.gotToken = true
		c.token = v[0]
	}
	if v := res.Header.Values("Set-Cookie"); len(v) > 0 {
		c.t.Errorf("%s %s: the token middleware sent Set-Cookie %q", method, path, v)
	}
	return r
}

func newTokenServer(t *testing.T, c *cookie.Cookie, st session.Storage, o TokenOptions, h http.Handler) *httptest.Server {
	t.Helper()
	if o.Logger == nil {
		o.Logger, _ = newLogger()
	}
	mw, err := NewToken(c, st, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(mw(h))
	t.Cleanup(ts.Close)
	return ts
}

// A whole API session with a plain net/http client, for every storage: the
// token comes back only when it changes (login, logout), flash lives one
// request, RegenerateID kills the old token and Destroy kills the last one
// (server-side storages), and nothing ever goes through a cookie.
func TestTokenFlow(t *testing.T) {
	for _, sc := range storageCases() {
		t.Run(sc.name, func(t *testing.T) {
			st := sc.new(t, "sid")
			ts := newTokenServer(t, newCookie(t, "sid", cookie.Options{}), st, TokenOptions{}, tokenApp())
			c := newAPIClient(t, ts)

			r := c.do("GET", "/me", "")
			if r.body != "user= notice=" || r.gotToken {
				t.Fatalf("anonymous: %q, token sent %v", r.body, r.gotToken)
			}
			if got := r.header.Values("Vary"); len(got) != 1 || got[0] != "Authorization" {
				t.Errorf("a response that read the session: Vary %q, want Authorization", got)
			}
			r = c.do("POST", "/login?user=alice", "")
			if !r.gotToken || c.token == "" || r.status != http.StatusNoContent {
				t.Fatalf("login: status %d, token sent %v (%q)", r.status, r.gotToken, c.token)
			}
			if cc := r.header.Get("Cache-Control"); cc != `no-cache="Session-Token"` {
				t.Errorf("login: Cache-Control %q", cc)
			}
			loginToken := c.token
			if r = c.do("GET", "/me", ""); r.body != "user=alice notice=welcome" {
				t.Errorf("after login: %q", r.body)
			}
			if r.gotToken != !sc.serverSide {
				t.Errorf("clearing the flash: token sent %v, want %v (server-side ids do not change)", r.gotToken, !sc.serverSide)
			}
			if r = c.do("GET", "/me", ""); r.body != "user=alice notice=" || r.gotToken {
				t.Errorf("the flash outlived its request: %q, token sent %v", r.body, r.gotToken)
			}
			for i := 1; i <= 3; i++ {
				r = c.do("POST", "/count", "")
				if r.body != fmt.Sprintf("Count: %d", i) || r.gotToken != !sc.serverSide {
					t.Fatalf("count %d: %q, token sent %v", i, r.body, r.gotToken)
				}
			}
			// Logging in again regenerates the id: a new token, and the
			// old one is worth nothing on a server-side storage.
			before := c.token
			if r = c.do("POST", "/login?user=bob", ""); !r.gotToken || c.token == before {
				t.Fatal("a second login gave no new token")
			}
			if sc.serverSide {
				if r = c.do("GET", "/me", "Bearer "+before); r.body != "user= notice=" {
					t.Errorf("the token before RegenerateID(true) still works: %q", r.body)
				}
				c.token = loginToken
				if r = c.do("GET", "/me", ""); r.body != "user= notice=" {
					t.Errorf("the first login's token still works: %q", r.body)
				}
				c.token = before
				c.do("POST", "/login?user=bob", "") // back to a live token
			}
			// Logout: an empty token; the last token is dead.
			last := c.token
			r = c.do("POST", "/logout", "")
			if !r.gotToken || c.token != "" {
				t.Errorf("logout: token sent %v (%q), want an empty header", r.gotToken, c.token)
			}
			if sc.serverSide {
				if r = c.do("GET", "/me", "Bearer "+last); r.body != "user= notice=" {
					t.Errorf("the token survived logout: %q", r.body)
				}
			}
			// Logout with a notice: a fresh session holds it.
			c.do("POST", "/login?user=carol", "")
			c.do("GET", "/me", "")
			r = c.do("POST", "/logout?notice", "")
			if !r.gotToken || c.token == "" {
				t.Fatalf("logout with a notice: token sent %v (%q), want a new session's", r.gotToken, c.token)
			}
			if r = c.do("GET", "/me", ""); r.body != "user= notice=bye" {
				t.Errorf("after logout with a notice: %q", r.body)
			}
		})
	}
}

// The token middleware never reads cookies: a valid session cookie for the
// same storage and secret does not log a request in (a browser sends
// cookies by itself, tokens it must be told to send: no CSRF).
func TestTokenIgnoresCookies(t *testing.T) {
	st := newMemory(t, session.Options{Logger: quiet})
	c := newCookie(t, "sid", cookie.Options{})
	cookieSite := newMiddleware(t, c, st, Options{})(tokenApp())
	rec := do(cookieSite, "POST", "/login?user=alice", "")
	ck := pair(rec.Result().Header.Get("Set-Cookie"))
	if ck == "" {
		t.Fatal("no cookie from the cookie middleware")
	}
	ts := newTokenServer(t, c, st, TokenOptions{}, tokenApp())
	req, _ := http.NewRequest("GET", ts.URL+"/me", nil)
	req.Header.Set("Cookie", ck)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "user= notice=" {
		t.Errorf("a session cookie logged the token API in: %q", body)
	}
	if v := res.Header.Get("Vary"); v != "Authorization" {
		t.Errorf("Vary %q, want Authorization alone", v)
	}
	// The token is the cookie's value: the same session both ways.
	client := newAPIClient(t, ts)
	client.token = strings.TrimPrefix(ck, "sid=")
	if r := client.do("GET", "/me", ""); r.body != "user=alice notice=welcome" {
		t.Errorf("the cookie's value as a token: %q", r.body)
	}
}

// A forged, truncated, unsigned, expired or malformed token, another
// scheme, and a signed id the store does not know all give a fresh session
// with status 200, never an error, and the unknown id is never adopted.
func TestTokenBadTokensAreFreshSessions(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	st := newMemory(t, session.Options{Now: clock.Now, IdleTimeout: time.Hour, Logger: quiet})
	c := newCookie(t, "sid", cookie.Options{})
	ts := newTokenServer(t, c, st, TokenOptions{}, tokenApp())
	login := newAPIClient(t, ts)
	login.do("POST", "/login?user=alice", "")
	good := login.token
	expiring := newAPIClient(t, ts)
	expiring.do("POST", "/login?user=eve", "")

	unsigned, _ := mustCookie(t, "sid", cookie.Options{}).Encode(session.New().ID())
	otherSecret, _ := newCookie(t, "sid", cookie.Options{Secrets: []string{testSecret + "x"}}).Encode("abc")
	planted := "planted-id-planted-id-planted-id-planted-id"
	plantedToken, _ := c.Encode(planted)
	clock.Advance(2 * time.Hour)
	for name, header := range map[string]string{
		"forged":          "Bearer " + good[:len(good)-2] + "xx",
		"truncated":       "Bearer " + good[:10],
		"unsigned":        "Bearer " + unsigned,
		"another secret":  "Bearer " + otherSecret,
		"expired":         "Bearer " + expiring.token,
		"garbage":         "Bearer %%%#!.",
		"no scheme":       good,
		"Basic":           "Basic " + good,
		"Bearer alone":    "Bearer",
		"Bearer, spaces":  "Bearer    ",
		"oversized":       "Bearer " + strings.Repeat("A", 5000),
		"unknown id":      "Bearer " + plantedToken,
		"a cookie header": "Bearer sid=" + good,
	} {
		t.Run(name, func(t *testing.T) {
			cl := newAPIClient(t, ts)
			r := cl.do("GET", "/me", header)
			if r.status != http.StatusOK || r.body != "user= notice=" || r.gotToken {
				t.Errorf("GET /me: %d %q, token sent %v", r.status, r.body, r.gotToken)
			}
			if v := r.header.Get("Vary"); v != "Authorization" {
				t.Errorf("Vary %q, want Authorization", v)
			}
			r = cl.do("POST", "/count", header)
			if r.status != http.StatusOK || r.body != "Count: 1" || !r.gotToken {
				t.Fatalf("POST /count: %d %q, token sent %v", r.status, r.body, r.gotToken)
			}
			if id, _ := c.Decode(cl.token); id == planted {
				t.Error("the planted id was adopted")
			}
		})
	}
	if stored(t, st, planted) {
		t.Error("the planted id was stored")
	}
}

// The scheme is matched without regard to case, with any number of spaces.
func TestTokenBearerScheme(t *testing.T) {
	st := newMemory(t, session.Options{Logger: quiet})
	ts := newTokenServer(t, newCookie(t, "sid", cookie.Options{}), st, TokenOptions{}, tokenApp())
	c := newAPIClient(t, ts)
	c.do("POST", "/login?user=alice", "")
	c.do("GET", "/me", "") // clears the flash
	for _, h := range []string{"Bearer " + c.token, "bearer " + c.token, "BEARER   " + c.token} {
		if r := c.do("GET", "/me", h); r.body != "user=alice notice=" {
			t.Errorf("%q: %q", h[:10], r.body)
		}
	}
}

// Custom headers carry the token alone; Vary and Cache-Control name them.
func TestTokenCustomHeaders(t *testing.T) {
	st := newMemory(t, session.Options{Logger: quiet})
	ts := newTokenServer(t, newCookie(t, "sid", cookie.Options{}), st,
		TokenOptions{RequestHeader: "x-session", ResponseHeader: "x-new-session"}, tokenApp())
	c := newAPIClient(t, ts)
	c.in, c.out, c.bearer = "X-Session", "X-New-Session", false
	r := c.do("POST", "/login?user=alice", "")
	if !r.gotToken || r.header.Get("Vary") != "X-Session" || r.header.Get("Cache-Control") != `no-cache="X-New-Session"` {
		t.Errorf("login: token %v, Vary %q, Cache-Control %q", r.gotToken, r.header.Get("Vary"), r.header.Get("Cache-Control"))
	}
	if r = c.do("GET", "/me", ""); r.body != "user=alice notice=welcome" {
		t.Errorf("with the token alone in X-Session: %q", r.body)
	}
	if r = c.do("GET", "/me", "Bearer "+c.token); r.body != "user= notice=" {
		t.Errorf("a Bearer scheme in a custom header: %q, want a fresh session", r.body)
	}
}

// A token signed with an older secret is sent back re-signed, on a
// read-only request too; then the old secret can go.
func TestTokenRotation(t *testing.T) {
	st := newMemory(t, session.Options{Logger: quiet})
	oldTS := newTokenServer(t, newCookie(t, "sid", cookie.Options{Secrets: []string{testSecret}}), st, TokenOptions{}, tokenApp())
	c := newAPIClient(t, oldTS)
	c.do("POST", "/login?user=alice", "")
	c.do("GET", "/me", "")
	oldToken := c.token
	rotated := newTokenServer(t, newCookie(t, "sid", cookie.Options{Secrets: []string{testSecret + "-new", testSecret}}), st, TokenOptions{}, tokenApp())
	c.url = rotated.URL
	r := c.do("GET", "/me", "")
	if !r.gotToken || c.token == oldToken || r.body != "user=alice notice=" {
		t.Fatalf("rotated: %q, token sent %v", r.body, r.gotToken)
	}
	newOnly := newTokenServer(t, newCookie(t, "sid", cookie.Options{Secrets: []string{testSecret + "-new"}}), st, TokenOptions{}, tokenApp())
	c.url = newOnly.URL
	if r = c.do("GET", "/me", ""); r.body != "user=alice notice=" || r.gotToken {
		t.Errorf("the re-signed token with the new secret alone: %q, token sent %v", r.body, r.gotToken)
	}
}

// A storage error is the error response, with no token.
func TestTokenSaveError(t *testing.T) {
	fs := &fakeStorage{Storage: newMemory(t, session.Options{Logger: quiet}), saveErr: errors.New("store down")}
	ts := newTokenServer(t, newCookie(t, "sid", cookie.Options{}), fs, TokenOptions{}, tokenApp())
	c := newAPIClient(t, ts)
	if r := c.do("POST", "/login?user=alice", ""); r.status != http.StatusInternalServerError || r.gotToken {
		t.Errorf("save error: %d, token sent %v", r.status, r.gotToken)
	}
}

// Cookie storage works with tokens: the token is the whole session, sealed
// or signed, and changes with every save. A sealed storage with the Remix
// format is refused, as New refuses it.
func TestTokenCookieStorageSize(t *testing.T) {
	st, err := cookiestorage.New(cookiestorage.Options{Keys: [][]byte{testKey}, Session: session.ClientOptions{Logger: quiet}})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTokenServer(t, newCookie(t, "sid", cookie.Options{}), st, TokenOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("big", strings.Repeat("x", 4000))
	}))
	if r := newAPIClient(t, ts).do("GET", "/", ""); r.status != http.StatusInternalServerError || r.gotToken {
		t.Errorf("a session over 4096 bytes: %d, token sent %v; want the error response", r.status, r.gotToken)
	}
	remix := newCookie(t, "sid", cookie.Options{Format: cookie.Remix})
	sealed, _ := cookiestorage.New(cookiestorage.Options{Keys: [][]byte{testKey}})
	if _, err := NewToken(remix, sealed, TokenOptions{}); err == nil || !strings.Contains(err.Error(), "Remix format cannot carry") {
		t.Errorf("sealed cookie storage with a Remix token: %v", err)
	}
}

func TestNewTokenRefuses(t *testing.T) {
	mem := newMemory(t, session.Options{})
	signed := newCookie(t, "sid", cookie.Options{})
	unsigned := mustCookie(t, "sid", cookie.Options{})
	for _, tt := range []struct {
		name string
		c    *cookie.Cookie
		s    session.Storage
		o    TokenOptions
		want string
	}{
		{"nil cookie", nil, mem, TokenOptions{}, "sessionmiddleware: the token cookie is nil"},
		{"nil storage", signed, nil, TokenOptions{}, "sessionmiddleware: the session storage is nil"},
		{"unsigned", unsigned, mem, TokenOptions{}, "sessionmiddleware: the token cookie must be signed (cookie.Options.Secrets)"},
		{"Cookie in", signed, mem, TokenOptions{RequestHeader: "cookie"},
			"sessionmiddleware: TokenOptions.RequestHeader cannot be Cookie: tokens travel outside cookies, so that a browser never sends them by itself (CSRF); use New for cookies"},
		{"Set-Cookie out", signed, mem, TokenOptions{ResponseHeader: "SET-COOKIE"},
			"sessionmiddleware: TokenOptions.ResponseHeader cannot be Set-Cookie: tokens travel outside cookies, so that a browser never sends them by itself (CSRF); use New for cookies"},
		{"bad request header", signed, mem, TokenOptions{RequestHeader: "X Token"},
			`sessionmiddleware: TokenOptions.RequestHeader "X Token" is not a valid header name`},
		{"bad response header", signed, mem, TokenOptions{ResponseHeader: "Token:"},
			`sessionmiddleware: TokenOptions.ResponseHeader "Token:" is not a valid header name`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := NewToken(tt.c, tt.s, tt.o)
			if err == nil || err.Error() != tt.want || mw != nil {
				t.Errorf("NewToken = %v\nwant %s", err, tt.want)
			}
		})
	}
}

// The token middleware and the cookie middleware refuse to nest, in either
// order, as New does with itself.
func TestTokenInstalledTwice(t *testing.T) {
	st := newMemory(t, session.Options{Logger: quiet})
	c := newCookie(t, "sid", cookie.Options{})
	logger, _ := newLogger()
	tok, err := NewToken(c, st, TokenOptions{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ck := newMiddleware(t, c, st, Options{Logger: logger})
	rec := httptest.NewRecorder()
	tok(ck(tokenApp())).ServeHTTP(rec, httptest.NewRequest("GET", "/me", nil).WithContext(context.Background()))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("nested: status %d, want 500", rec.Code)
	}
}

func mustCookie(t testing.TB, name string, o cookie.Options) *cookie.Cookie {
	t.Helper()
	c, err := cookie.New(name, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
