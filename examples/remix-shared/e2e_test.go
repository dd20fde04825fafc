package remixshared

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/sessionkit/sessionkit/examples/internal/browsertest"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// e2eEnv turns the browser test on; `make e2e` and .ci/run set it.
const e2eEnv = browsertest.Env

// e2eOutEnv overrides where the screenshots go (default e2e-output/ beside
// this file, which .gitignore leaves out).
const e2eOutEnv = "SESSIONKIT_E2E_OUT"

// testTimeout bounds the whole browser test: Chromium and every flow.
const testTimeout = 150 * time.Second

// need skips the test when a tool is missing, or fails it when
// SESSIONKIT_REQUIRE_SERVERS=1 says every tool must be there.
func need(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if testserver.Required() {
		t.Fatalf("%s: %v (%s=1: required)", what, err, testserver.RequireEnv)
	}
	t.Skipf("%s: %v", what, err)
}

// TestBrowserSharedLogin drives the Go app and the real Remix app side by
// side in headless Chromium, for each storage both can share: sign in on
// Node, seen on Go; a flash set on Go shows once on Node; regenerating the
// id on either side; signing out on Node, seen on Go.
func TestBrowserSharedLogin(t *testing.T) {
	if !browsertest.Enabled() {
		t.Skipf("browser test: set %s=1 to run it (make e2e does); it needs chromium, node and redis-server", e2eEnv)
	}
	chromium, err := browsertest.Chromium()
	need(t, "chromium", err)
	_, err = exec.LookPath("node")
	need(t, "node", err)
	if _, err := os.Stat(filepath.Join("node", "node_modules", "@remix-run", "session-middleware")); err != nil {
		need(t, "the Node app's packages", fmt.Errorf("not installed: run cd examples/remix-shared/node && npm ci (make deps does)"))
	}
	out := os.Getenv(e2eOutEnv)
	if out == "" {
		out = "e2e-output"
	}
	browser := startBrowser(t, chromium)
	for _, mode := range storageModes {
		t.Run(mode.name, func(t *testing.T) {
			start := time.Now()
			shots := filepath.Join(out, mode.name)
			if err := os.RemoveAll(shots); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(shots, 0o755); err != nil {
				t.Fatal(err)
			}
			f := startFlow(t, browser, mode, shots)
			f.run()
			t.Logf("%s: flow done in %v, screenshots in %s", mode.name, time.Since(start).Round(time.Millisecond), shots)
		})
	}
}

// startBrowser starts headless Chromium with a fresh profile for the whole
// test; each storage's flow runs in a browser context of its own (cookies
// not shared). It is stopped when the test ends.
func startBrowser(t *testing.T, chromium string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return browsertest.Start(t, ctx, chromium, 900, 700, chromedp.WithErrorf(newTestLog(t).Logf))
}

// storageMode is one way both apps share sessions.
type storageMode struct {
	name string
	// revokes: the storage forgets an id (regenerated, destroyed), so a
	// replayed old cookie no longer loads it. Cookie storage cannot: the
	// old cookie carries the whole session.
	revokes bool
	// goStorage starts what the storage needs and returns the Go side's
	// storage and the Node app's --redis address ("" for none).
	goStorage func(t *testing.T) (session.Storage, string)
	// ttl asks the storage's server for the time left on an id's record:
	// -2 (as Redis's PTTL) when there is none, -1 when it never expires.
	// nil: the storage has no server to ask.
	ttl func(ctx context.Context, id string) (time.Duration, error)
}

var storageModes = []storageMode{
	{
		name: "cookie",
		goStorage: func(t *testing.T) (session.Storage, string) {
			st, err := NewCookieStorage(testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			return st, ""
		},
	},
	redisMode(),
}

// redisMode shares sessions through a redis-server that the test starts on
// a free port and stops by its PID.
func redisMode() storageMode {
	var client *redis.Client
	return storageMode{
		name:    "redis",
		revokes: true,
		goStorage: func(t *testing.T) (session.Storage, string) {
			srv := testserver.Redis(t)
			client = NewRedisClient(srv.Addr())
			t.Cleanup(func() { client.Close() })
			st, err := NewRedisStorage(client, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			return st, srv.Addr()
		},
		ttl: func(ctx context.Context, id string) (time.Duration, error) {
			ms, err := client.Do(ctx, "PTTL", RedisPrefix+id).Int64()
			if ms < 0 {
				return time.Duration(ms), err
			}
			return time.Duration(ms) * time.Millisecond, err
		},
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(newTestLog(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testLog sends output from other goroutines and processes (the Node app,
// Chromium, the Go app's warnings) to the test log until the test's
// cleanups have run, and drops what comes later: testing panics on a log
// after the test has ended.
type testLog struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

// newTestLog must be called before the cleanups of whatever writes to it
// are registered, so that it closes last.
func newTestLog(t *testing.T) *testLog {
	l := &testLog{t: t}
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.done = true
	})
	return l
}

func (l *testLog) Write(p []byte) (int, error) {
	l.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (l *testLog) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf(format, args...)
	}
}

type flow struct {
	t       *testing.T
	mode    storageMode
	goURL   string
	nodeURL string
	secrets []string
	ctx     context.Context
	shots   string
	nshot   int
}

func startFlow(t *testing.T, browser context.Context, mode storageMode, shots string) *flow {
	log := newTestLog(t)
	var b [32]byte
	rand.Read(b[:])
	secrets := []string{base64.RawURLEncoding.EncodeToString(b[:])}
	st, redisAddr := mode.goStorage(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	goURL := "http://" + ln.Addr().String()
	node, err := StartNode(NodeConfig{
		Dir: "node", Secrets: secrets, PeerURL: goURL,
		Storage: mode.name, RedisAddr: redisAddr, Log: log,
	})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := node.Stop(); err != nil {
			t.Errorf("stopping the Node app (pid %d): %v", node.PID(), err)
		}
	})
	h, err := NewApp(Config{Secrets: secrets, Storage: st, StorageName: mode.name, PeerURL: node.URL, Logger: testLogger(t)})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	t.Logf("Go app %s, Node app %s (pid %d)", goURL, node.URL, node.PID())

	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return &flow{t: t, mode: mode, goURL: goURL, nodeURL: node.URL, secrets: secrets, ctx: ctx, shots: shots}
}

// pageState is what a page of either app shows.
type pageState struct {
	URL    string  `json:"url"`
	Title  string  `json:"title"`
	User   *string `json:"user"`   // data-user of #who; nil when the page has none
	SID    string  `json:"sid"`    // the short id
	Notice *string `json:"notice"` // nil: no flash shown
	Error  *string `json:"error"`
}

const readPage = `(() => {
  const text = (id) => { const e = document.getElementById(id); return e ? e.textContent : null }
  const who = document.getElementById('who')
  return {url: location.href, title: document.title, user: who ? who.dataset.user : null,
    sid: text('sid') ?? '', notice: text('notice'), error: text('error')}
})()`

func (f *flow) state() pageState {
	f.t.Helper()
	st, err := chromedp.Run(f.ctx, chromedp.Evaluate[pageState](readPage))
	if err != nil {
		f.t.Fatalf("reading the page: %v", err)
	}
	if st.User == nil {
		f.t.Fatalf("%s (%s) is not an app page", st.URL, st.Title)
	}
	return st
}

// open loads url and returns what the page shows.
func (f *flow) open(url, shot string) pageState {
	f.t.Helper()
	resp, err := chromedp.Run(f.ctx, chromedp.NavigateResponse(url))
	f.checkResponse(url, resp, err)
	return f.shot(shot)
}

// submit fills the fields, clicks the button and waits for the page the
// form's redirect leads to.
func (f *flow) submit(button string, fields map[string]string, shot string) pageState {
	f.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for id, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.ID(id), v))
	}
	steps = append(steps, chromedp.Click(chromedp.ID(button)))
	resp, err := chromedp.RunResponse(f.ctx, steps...)
	f.checkResponse("#"+button, resp, err)
	return f.shot(shot)
}

func (f *flow) checkResponse(what string, resp *network.Response, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != http.StatusOK {
		f.t.Fatalf("%s: %s answered %d", what, resp.URL, resp.Status)
	}
}

func (f *flow) shot(name string) pageState {
	f.t.Helper()
	st := f.state()
	png, err := chromedp.Run(f.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		f.t.Fatalf("screenshot: %v", err)
	}
	f.nshot++
	if err := os.WriteFile(filepath.Join(f.shots, fmt.Sprintf("%02d-%s.png", f.nshot, name)), png, 0o644); err != nil {
		f.t.Fatal(err)
	}
	return st
}

// cookie is the browser's session cookie value for the apps' host.
func (f *flow) cookie() string {
	f.t.Helper()
	res, err := chromedp.Call(f.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{f.goURL, f.nodeURL}})
	if err != nil {
		f.t.Fatalf("reading cookies: %v", err)
	}
	value, n := "", 0
	for _, c := range res.Cookies {
		if c.Name == CookieName {
			value = c.Value
			n++
		}
	}
	if n != 1 {
		f.t.Fatalf("the browser holds %d %q cookies for %s and %s, want one shared by both: %+v", n, CookieName, f.goURL, f.nodeURL, res.Cookies)
	}
	return value
}

// sessionID reads the session id out of a cookie value with the Go cookie
// codec: the id itself for Redis, the "i" of the JSON payload for cookie
// storage.
func (f *flow) sessionID(value string) string {
	f.t.Helper()
	c, err := NewCookie(f.secrets)
	if err != nil {
		f.t.Fatal(err)
	}
	v, ok := c.Parse(CookieName + "=" + value)
	if !ok || v == "" {
		f.t.Fatalf("cookie %q does not verify or is empty", value)
	}
	if !strings.HasPrefix(v, "{") {
		return v
	}
	var payload struct {
		I string `json:"i"`
	}
	if err := json.Unmarshal([]byte(v), &payload); err != nil || payload.I == "" {
		f.t.Fatalf("cookie payload %q has no id: %v", v, err)
	}
	return payload.I
}

// whoami asks an app who a cookie belongs to, with a plain HTTP client
// (no browser, no cookie jar).
func (f *flow) whoami(base, cookieValue string) WhoAmIResponse {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, base+"/whoami", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if cookieValue != "" {
		req.Header.Set("Cookie", CookieName+"="+cookieValue)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var w WhoAmIResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &w) != nil {
		f.t.Fatalf("GET %s/whoami: %d %s", base, resp.StatusCode, body)
	}
	return w
}

func (f *flow) wantUser(where string, st pageState, user string) {
	f.t.Helper()
	if *st.User != user {
		f.t.Fatalf("%s: the page shows user %q, want %q (%s)", where, *st.User, user, st.URL)
	}
}

func (f *flow) wantNotice(where string, st pageState, notice string) {
	f.t.Helper()
	got := "(none)"
	if st.Notice != nil {
		got = *st.Notice
	}
	if got != notice {
		f.t.Fatalf("%s: flash %q, want %q", where, got, notice)
	}
}

func (f *flow) recordTTL(id string) time.Duration {
	f.t.Helper()
	ttl, err := f.mode.ttl(f.ctx, id)
	if err != nil {
		f.t.Fatalf("asking for the TTL of the record: %v", err)
	}
	return ttl
}

// checkRecord checks that the storage holds the current session, expiring
// within the idle timeout that both apps set (Node: ttl, Go: IdleTimeout).
func (f *flow) checkRecord(what string) {
	f.t.Helper()
	if f.mode.ttl == nil {
		return
	}
	if ttl := f.recordTTL(f.sessionID(f.cookie())); ttl <= 0 || ttl > IdleTimeout {
		f.t.Errorf("%s: the session's record has TTL %v, want (0, %v]", what, ttl, IdleTimeout)
	}
}

// checkOldCookie replays a cookie the browser no longer holds on both apps.
func (f *flow) checkOldCookie(what, old, oldID string) {
	f.t.Helper()
	if f.mode.ttl != nil {
		if ttl := f.recordTTL(oldID); ttl != -2 {
			f.t.Errorf("%s: the storage still holds the old id's record (TTL %v)", what, ttl)
		}
	}
	for _, base := range []string{f.goURL, f.nodeURL} {
		w := f.whoami(base, old)
		if f.mode.revokes {
			if w.User != "" || w.Session == ShortID(oldID) {
				f.t.Errorf("%s: the old cookie still loads session %s of %q on %s (%s)", what, w.Session, w.User, w.App, base)
			}
			continue
		}
		// Cookie storage cannot forget a cookie: the old one still carries
		// the whole session. The README says so; this pins it.
		if w.User != "demo" || w.Session != ShortID(oldID) {
			f.t.Errorf("%s: cookie storage: the old cookie loads %s of %q on %s, want the old session %s of demo", what, w.Session, w.User, w.App, ShortID(oldID))
		}
	}
}

func (f *flow) run() {
	t := f.t
	welcome := "Welcome, demo! Signed in on the Node app."
	renewed := RegeneratedNotice(f.mode.name)

	// Sign in on the Node app.
	st := f.open(f.nodeURL+"/", "node-visitor")
	f.wantUser("Node, first visit", st, "")
	st = f.submit("login", map[string]string{"username": "demo", "password": "password"}, "node-signed-in")
	f.wantUser("Node, after sign-in", st, "demo")
	f.wantNotice("Node, after sign-in", st, welcome)
	nodeSID := st.SID
	f.checkRecord("written by Node")

	// The Go app sees the same session and user.
	st = f.open(f.goURL+"/", "go-sees-user")
	f.wantUser("Go, after sign-in on Node", st, "demo")
	f.wantNotice("Go, after sign-in on Node", st, "(none)")
	if st.SID != nodeSID {
		t.Fatalf("Go shows session %s, Node showed %s", st.SID, nodeSID)
	}

	// A flash set on the Go app shows once, on the Node app.
	msg := `Hello from Go <b>&</b> "quotes"`
	st = f.submit("flash-peer", map[string]string{"message": msg}, "node-shows-go-flash")
	if !strings.HasPrefix(st.URL, f.nodeURL+"/") {
		t.Fatalf("the flash form led to %s, want the Node app", st.URL)
	}
	f.wantNotice("Node, flash from Go", st, msg)
	f.wantUser("Node, flash from Go", st, "demo")
	st = f.open(f.nodeURL+"/", "node-flash-gone")
	f.wantNotice("Node, reloaded", st, "(none)")
	st = f.open(f.goURL+"/", "go-flash-gone")
	f.wantNotice("Go, after Node showed the flash", st, "(none)")

	// Regenerate on the Go app: a new id on both sides, the old one dead
	// (Redis) or, with cookie storage, still carried by the old cookie.
	old := f.cookie()
	oldID := f.sessionID(old)
	st = f.submit("regenerate", nil, "go-regenerated")
	f.wantNotice("Go, regenerated", st, renewed)
	f.wantUser("Go, regenerated", st, "demo")
	f.checkRecord("regenerated by Go")
	newID := f.sessionID(f.cookie())
	if newID == oldID || st.SID != ShortID(newID) {
		t.Fatalf("Go regenerated: cookie id %s (was %s), page shows %s", ShortID(newID), ShortID(oldID), st.SID)
	}
	st = f.open(f.nodeURL+"/", "node-sees-go-regenerated")
	f.wantUser("Node, after Go regenerated", st, "demo")
	if st.SID != ShortID(newID) {
		t.Fatalf("Node shows %s after Go regenerated to %s", st.SID, ShortID(newID))
	}
	f.checkOldCookie("after regenerating on Go", old, oldID)

	// Regenerate on the Node app.
	old, oldID = f.cookie(), newID
	st = f.submit("regenerate", nil, "node-regenerated")
	f.wantNotice("Node, regenerated", st, renewed)
	f.checkRecord("regenerated by Node")
	newID = f.sessionID(f.cookie())
	if newID == oldID || st.SID != ShortID(newID) {
		t.Fatalf("Node regenerated: cookie id %s (was %s), page shows %s", ShortID(newID), ShortID(oldID), st.SID)
	}
	st = f.open(f.goURL+"/", "go-sees-node-regenerated")
	f.wantUser("Go, after Node regenerated", st, "demo")
	if st.SID != ShortID(newID) {
		t.Fatalf("Go shows %s after Node regenerated to %s", st.SID, ShortID(newID))
	}
	f.checkOldCookie("after regenerating on Node", old, oldID)

	// Neither app takes a form posted from the other's origin.
	f.crossOriginRefused(f.goURL, f.nodeURL)
	f.crossOriginRefused(f.nodeURL, f.goURL)

	// Sign out on the Node app: the Go app shows a signed-out visitor.
	old, oldID = f.cookie(), newID
	f.open(f.nodeURL+"/", "node-before-sign-out")
	st = f.submit("logout", nil, "node-signed-out")
	f.wantUser("Node, signed out", st, "")
	st = f.open(f.goURL+"/", "go-sees-signed-out")
	f.wantUser("Go, after sign-out on Node", st, "")
	if st.SID == ShortID(oldID) {
		t.Fatalf("Go still shows the signed-out session %s", st.SID)
	}
	f.checkOldCookie("after signing out on Node", old, oldID)

	// And the other way round: sign in on the Go app, seen on Node; sign
	// out on Go (whose flash starts a fresh session), seen on Node.
	st = f.submit("login", map[string]string{"username": "demo", "password": "password"}, "go-signed-in")
	f.wantUser("Go, after sign-in", st, "demo")
	f.wantNotice("Go, after sign-in", st, "Welcome, demo! Signed in on the Go app.")
	goSID := st.SID
	f.checkRecord("written by Go")
	st = f.open(f.nodeURL+"/", "node-sees-go-user")
	f.wantUser("Node, after sign-in on Go", st, "demo")
	if st.SID != goSID {
		t.Fatalf("Node shows session %s, Go showed %s", st.SID, goSID)
	}
	old = f.cookie()
	oldID = f.sessionID(old)
	f.open(f.goURL+"/", "go-before-sign-out")
	st = f.submit("logout", nil, "go-signed-out")
	f.wantUser("Go, signed out", st, "")
	f.wantNotice("Go, signed out", st, "Signed out on the Go app.")
	st = f.open(f.nodeURL+"/", "node-sees-signed-out")
	f.wantUser("Node, after sign-out on Go", st, "")
	f.wantNotice("Node, after sign-out on Go", st, "(none)")
	f.checkOldCookie("after signing out on Go", old, oldID)
}

// crossOriginRefused posts to target's /logout as a browser would from a
// form on other: refused with 403.
func (f *flow) crossOriginRefused(target, other string) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, target+"/logout", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Origin", other)
	req.Header.Set("Sec-Fetch-Site", "same-site") // another port of the same host
	req.Header.Set("Cookie", CookieName+"="+f.cookie())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		f.t.Errorf("POST %s/logout from %s: %d, want 403", target, other, resp.StatusCode)
	}
}
