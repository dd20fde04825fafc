package sessionmiddleware

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// flowCookie is the session cookie of the end-to-end tests: the OWASP
// recommendation, over TLS.
const flowCookie = "__Host-sess"

var flowOptions = cookie.Options{Secure: true}

// browser is a client with a cookie jar that does not follow redirects, so
// each response can be inspected.
type browser struct {
	t   *testing.T
	ts  *httptest.Server
	c   *http.Client
	jar *cookiejar.Jar
}

func newBrowser(t *testing.T, ts *httptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// ts.Client() is shared: the browser gets its own client on its transport.
	c := &http.Client{
		Transport:     ts.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &browser{t: t, ts: ts, c: c, jar: jar}
}

type response struct {
	code      int
	body      string
	location  string
	setCookie []string
}

func (b *browser) do(method, path string, form url.Values, cookieHeader string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.ts.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := b.c
	if cookieHeader != "" {
		// A replayed cookie, outside the jar (ts.Client() has none).
		c = &http.Client{
			Transport:     b.ts.Client().Transport,
			CheckRedirect: b.c.CheckRedirect,
		}
		req.Header.Set("Cookie", cookieHeader)
	}
	res, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{res.StatusCode, string(data), res.Header.Get("Location"), res.Header.Values("Set-Cookie")}
}

func (b *browser) get(path string) response { return b.do("GET", path, nil, "") }

// sessionCookie is the "name=value" the jar holds for the server, or "".
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.ts.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == flowCookie {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

// flowApp is a small site: a counter, a login form with a flash on failure,
// an account page, logout with a "logged out" flash, and "forget me".
func flowApp() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count", counter)
	mux.HandleFunc("GET /id", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, session.FromContext(r.Context()).ID())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "home: %v", orEmpty(session.FromContext(r.Context()).Get("message")))
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "login: %v", orEmpty(session.FromContext(r.Context()).Get("error")))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		if r.FormValue("user") != "alice" || r.FormValue("password") != "wonderland" {
			s.Flash("error", "invalid credentials")
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		s.RegenerateID(true)
		s.Set("user", "alice")
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /account", func(w http.ResponseWriter, r *http.Request) {
		user, ok := session.Value[string](session.FromContext(r.Context()), "user")
		if !ok {
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "hello %s", user)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Destroy()
		s.Flash("message", "logged out")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /forget", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Destroy()
		io.WriteString(w, "forgotten")
	})
	return mux
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func newFlowServer(t *testing.T, st session.Storage, h http.Handler) *httptest.Server {
	c := newCookie(t, flowCookie, flowOptions)
	ts := httptest.NewTLSServer(newMiddleware(t, c, st, Options{})(h))
	t.Cleanup(ts.Close)
	return ts
}

func TestLoginFlow(t *testing.T) {
	for _, sc := range storageCases() {
		t.Run(sc.name, func(t *testing.T) {
			st := sc.new(t, flowCookie)
			ts := newFlowServer(t, st, flowApp())
			b := newBrowser(t, ts)
			expect := func(what string, got response, code int, body string) {
				t.Helper()
				if got.code != code || got.body != body {
					t.Fatalf("%s: %d %q, want %d %q", what, got.code, got.body, code, body)
				}
			}

			// An anonymous visitor counts; a read-only page sends no cookie.
			if res := b.get("/"); res.setCookie != nil {
				t.Errorf("home on a first visit sent %q", res.setCookie)
			}
			for i := 1; i <= 3; i++ {
				expect("count", b.get("/count"), 200, fmt.Sprintf("Count: %d", i))
			}
			anonID := b.get("/id").body
			anonCookie := b.sessionCookie()

			// A failed login flashes an error, shown exactly once.
			res := b.do("POST", "/login", url.Values{"user": {"alice"}, "password": {"wrong"}}, "")
			if res.code != http.StatusSeeOther || res.location != "/login" || len(res.setCookie) != 1 {
				t.Fatalf("failed login: %+v", res)
			}
			expect("login page", b.get("/login"), 200, "login: invalid credentials")
			expect("login page again", b.get("/login"), 200, "login: ")

			// A successful login regenerates the id and keeps the data.
			res = b.do("POST", "/login", url.Values{"user": {"alice"}, "password": {"wonderland"}}, "")
			if res.code != http.StatusSeeOther || res.location != "/account" || len(res.setCookie) != 1 {
				t.Fatalf("login: %+v", res)
			}
			expect("account", b.get("/account"), 200, "hello alice")
			userID := b.get("/id").body
			if userID == anonID {
				t.Fatal("the id did not change on login")
			}
			expect("count after login", b.get("/count"), 200, "Count: 4")
			userCookie := b.sessionCookie()

			// The pre-login cookie is dead on server-side storages: replaying
			// it gives a fresh session. A cookie storage cannot revoke it; it
			// still holds only the anonymous session, never the login.
			replayed := b.do("GET", "/id", nil, anonCookie).body
			if replayed == userID {
				t.Fatal("the pre-login cookie loads the logged-in session")
			}
			if sc.serverSide {
				if replayed == anonID {
					t.Error("the pre-login id still loads after RegenerateID(true)")
				}
				expect("replayed count", b.do("GET", "/count", nil, anonCookie), 200, "Count: 1")
			}
			expect("replayed account", b.do("GET", "/account", nil, anonCookie), 401, "not logged in\n")

			// Logout destroys the session and flashes on a fresh one.
			res = b.do("POST", "/logout", nil, "")
			if res.code != http.StatusSeeOther || res.location != "/" || len(res.setCookie) != 1 || strings.HasPrefix(res.setCookie[0], flowCookie+"=;") {
				t.Fatalf("logout: %+v", res)
			}
			expect("home after logout", b.get("/"), 200, "home: logged out")
			expect("home again", b.get("/"), 200, "home: ")
			expect("account after logout", b.get("/account"), 401, "not logged in\n")
			if b.get("/id").body == userID {
				t.Error("the logged-in id survived the logout")
			}
			if sc.serverSide {
				expect("replayed logged-in cookie", b.do("GET", "/account", nil, userCookie), 401, "not logged in\n")
			}

			// Destroy alone expires the cookie in the browser.
			b.get("/count")
			if b.sessionCookie() == "" {
				t.Fatal("no cookie before forget")
			}
			res = b.do("POST", "/forget", nil, "")
			want := flowCookie + "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Lax; Secure"
			if len(res.setCookie) != 1 || res.setCookie[0] != want {
				t.Errorf("forget: Set-Cookie %q, want %q", res.setCookie, want)
			}
			if ck := b.sessionCookie(); ck != "" {
				t.Errorf("the browser kept %q", ck)
			}
			expect("count after forget", b.get("/count"), 200, "Count: 1")
		})
	}
}

// Streaming: the cookie goes out with the first flush, while the handler is
// still running.
func TestStreaming(t *testing.T) {
	for _, sc := range storageCases() {
		for _, h2 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/http2=%v", sc.name, h2), func(t *testing.T) {
				release := make(chan struct{})
				c := newCookie(t, flowCookie, flowOptions)
				ts := httptest.NewUnstartedServer(newMiddleware(t, c, sc.new(t, flowCookie), Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					session.FromContext(r.Context()).Set("streamed", true)
					io.WriteString(w, "first;")
					w.(http.Flusher).Flush()
					<-release
					io.WriteString(w, "second")
				})))
				ts.EnableHTTP2 = h2
				ts.StartTLS()
				defer ts.Close()
				defer func() {
					select {
					case <-release:
					default:
						close(release)
					}
				}()
				res, err := ts.Client().Get(ts.URL)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				if h2 != (res.ProtoMajor == 2) {
					t.Fatalf("protocol %s", res.Proto)
				}
				// The headers arrived before the handler finished.
				lines := res.Header.Values("Set-Cookie")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], flowCookie+"=") || !strings.HasSuffix(lines[0], "; HttpOnly; Path=/; SameSite=Lax; Secure") {
					t.Errorf("Set-Cookie %q", lines)
				}
				if res.Header.Get("Vary") != "Cookie" || res.Header.Get("Cache-Control") != `no-cache="Set-Cookie"` {
					t.Errorf("headers %v", res.Header)
				}
				first := make([]byte, len("first;"))
				if _, err := io.ReadFull(res.Body, first); err != nil || string(first) != "first;" {
					t.Fatalf("first chunk %q, %v", first, err)
				}
				close(release)
				rest, _ := io.ReadAll(res.Body)
				if string(rest) != "second" {
					t.Errorf("rest %q", rest)
				}
			})
		}
	}
}

// A handler that hijacks the connection: the session is saved before the
// hijack, and the handler can send the Set-Cookie line itself.
func TestHijackingHandler(t *testing.T) {
	for _, sc := range storageCases() {
		t.Run(sc.name, func(t *testing.T) {
			mux := flowApp()
			mux.HandleFunc("GET /raw", func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Set("count", 41)
				conn, buf, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer conn.Close()
				buf.WriteString("HTTP/1.1 200 OK\r\n")
				for _, line := range w.Header().Values("Set-Cookie") {
					buf.WriteString("Set-Cookie: " + line + "\r\n")
				}
				buf.WriteString("Content-Length: 8\r\nConnection: close\r\n\r\nhijacked")
				buf.Flush()
			})
			b := newBrowser(t, newFlowServer(t, sc.new(t, flowCookie), mux))
			res := b.get("/raw")
			if res.body != "hijacked" || len(res.setCookie) != 1 {
				t.Fatalf("raw: %+v", res)
			}
			if res := b.get("/count"); res.body != "Count: 42" {
				t.Errorf("count after hijack: %q", res.body)
			}
		})
	}
}

// http.ResponseController through the wrapper on a real connection, and
// io.Copy (ReadFrom, sendfile for a file) and an empty handler.
func TestRealConnectionWriters(t *testing.T) {
	file := filepath.Join(t.TempDir(), "body.txt")
	if err := os.WriteFile(file, []byte(strings.Repeat("f", 10000)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sc := range storageCases() {
		t.Run(sc.name, func(t *testing.T) {
			mux := flowApp()
			mux.HandleFunc("GET /controller", func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				if err := rc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Error(err)
				}
				if err := rc.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Error(err)
				}
				session.FromContext(r.Context()).Set("count", 10)
				if err := rc.Flush(); err != nil {
					t.Error(err)
				}
				io.WriteString(w, "controlled")
			})
			mux.HandleFunc("GET /copy", func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Set("count", 20)
				io.Copy(w, struct{ io.Reader }{strings.NewReader("copied")})
			})
			mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Set("count", 30)
				f, err := os.Open(file)
				if err != nil {
					t.Error(err)
					return
				}
				defer f.Close()
				w.Header().Set("Content-Type", "text/plain")
				io.Copy(w, f)
			})
			mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Set("count", 40)
			})
			b := newBrowser(t, newFlowServer(t, sc.new(t, flowCookie), mux))
			for _, tt := range []struct {
				path, body, count string
			}{
				{"/controller", "controlled", "Count: 11"},
				{"/copy", "copied", "Count: 21"},
				{"/file", strings.Repeat("f", 10000), "Count: 31"},
				{"/empty", "", "Count: 41"},
			} {
				res := b.get(tt.path)
				if res.code != 200 || res.body != tt.body || len(res.setCookie) != 1 {
					t.Errorf("%s: %d %.20q %q", tt.path, res.code, res.body, res.setCookie)
				}
				if res := b.get("/count"); res.body != tt.count {
					t.Errorf("%s: then %q, want %q", tt.path, res.body, tt.count)
				}
			}
		})
	}
}
