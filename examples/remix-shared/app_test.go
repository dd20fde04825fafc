package remixshared

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const testSecret = "0123456789abcdef0123456789abcdef"

// goApp serves the Go app alone, with a client that keeps its cookies and
// does not follow redirects.
func goApp(t *testing.T) (*httptest.Server, *http.Client) {
	t.Helper()
	st, err := NewCookieStorage(testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewApp(Config{Secrets: []string{testSecret}, Storage: st, StorageName: "cookie", PeerURL: "http://127.0.0.1:3000", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return srv, client
}

func post(t *testing.T, c *http.Client, u string, form url.Values) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return string(body)
}

func whoami(t *testing.T, c *http.Client, base string) WhoAmIResponse {
	t.Helper()
	var w WhoAmIResponse
	if err := json.Unmarshal([]byte(get(t, c, base+"/whoami")), &w); err != nil {
		t.Fatal(err)
	}
	return w
}

func wantRedirect(t *testing.T, resp *http.Response, to string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != to {
		t.Fatalf("%s %s: %d to %q, want 303 to %q", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, resp.Header.Get("Location"), to)
	}
}

func TestGoAppFlow(t *testing.T) {
	srv, c := goApp(t)

	if w := whoami(t, c, srv.URL); w.App != "go" || w.User != "" || w.Storage != "cookie" || len(w.Session) != 8 {
		t.Fatalf("first visit: %+v", w)
	}
	wantRedirect(t, post(t, c, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"wrong"}}), "/")
	if page := get(t, c, srv.URL+"/"); !strings.Contains(page, `<p id="error" class="flash error">Wrong username or password.</p>`) || !strings.Contains(page, `data-user=""`) {
		t.Fatalf("after a wrong password:\n%s", page)
	}
	if page := get(t, c, srv.URL+"/"); strings.Contains(page, `id="error"`) {
		t.Fatal("the error flash showed twice")
	}

	before := whoami(t, c, srv.URL).Session
	wantRedirect(t, post(t, c, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}}), "/")
	page := get(t, c, srv.URL+"/")
	if !strings.Contains(page, `data-user="demo"`) || !strings.Contains(page, "Welcome, demo! Signed in on the Go app.") {
		t.Fatalf("after sign-in:\n%s", page)
	}
	w := whoami(t, c, srv.URL)
	if w.User != "demo" || w.Session == before {
		t.Fatalf("after sign-in: %+v, id before %s (sign-in regenerates it)", w, before)
	}

	// A flash is escaped, and "peer" sends the browser to the Node app.
	wantRedirect(t, post(t, c, srv.URL+"/flash", url.Values{"message": {"<script>x</script>"}, "show": {"self"}}), "/")
	if page := get(t, c, srv.URL+"/"); !strings.Contains(page, "&lt;script&gt;x&lt;/script&gt;") || strings.Contains(page, "<script>x") {
		t.Fatalf("flash not escaped:\n%s", page)
	}
	wantRedirect(t, post(t, c, srv.URL+"/flash", url.Values{"message": {"hi"}, "show": {"peer"}}), "http://127.0.0.1:3000/")

	// A long message is cut to 200 whole characters; an empty one still shows.
	long := strings.Repeat("é", 150) + strings.Repeat("日", 100)
	wantRedirect(t, post(t, c, srv.URL+"/flash", url.Values{"message": {long}, "show": {"self"}}), "/")
	if page := get(t, c, srv.URL+"/"); !strings.Contains(page, `class="flash">`+strings.Repeat("é", 150)+strings.Repeat("日", 50)+`</p>`) {
		t.Fatalf("long flash:\n%s", page)
	}
	wantRedirect(t, post(t, c, srv.URL+"/flash", url.Values{"message": {""}, "show": {"self"}}), "/")
	if page := get(t, c, srv.URL+"/"); !strings.Contains(page, `class="flash">(an empty flash)</p>`) {
		t.Fatalf("empty flash:\n%s", page)
	}

	id := whoami(t, c, srv.URL).Session
	wantRedirect(t, post(t, c, srv.URL+"/regenerate", nil), "/")
	if w := whoami(t, c, srv.URL); w.User != "demo" || w.Session == id {
		t.Fatalf("after regenerate: %+v, id before %s", w, id)
	}

	wantRedirect(t, post(t, c, srv.URL+"/logout", nil), "/")
	page = get(t, c, srv.URL+"/")
	if !strings.Contains(page, `data-user=""`) || !strings.Contains(page, "Signed out on the Go app.") {
		t.Fatalf("after sign-out:\n%s", page)
	}
}

func TestGoAppRefusesCrossOrigin(t *testing.T) {
	srv, c := goApp(t)
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "same-site"},     // a form on the Node app's port
		{"Sec-Fetch-Site": "cross-site"},    // anywhere else
		{"Origin": "http://127.0.0.1:3000"}, // an older browser, no Sec-Fetch-Site
		{"Origin": "http://evil.example"},   // and another site
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/logout", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /logout with %v: %d, want 403", h, resp.StatusCode)
		}
	}
	// GET /logout is not a route.
	resp, err := c.Get(srv.URL + "/logout")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: %d, want 405", resp.StatusCode)
	}
}

func TestNewAppRefusesBadConfig(t *testing.T) {
	st, err := NewCookieStorage(nil)
	if err != nil {
		t.Fatal(err)
	}
	ok := Config{Secrets: []string{testSecret}, Storage: st, PeerURL: "http://127.0.0.1:3000"}
	if _, err := NewApp(ok); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Config){
		"no secrets":    func(c *Config) { c.Secrets = nil },
		"empty secret":  func(c *Config) { c.Secrets = []string{""} },
		"no storage":    func(c *Config) { c.Storage = nil },
		"no peer":       func(c *Config) { c.PeerURL = "" },
		"relative peer": func(c *Config) { c.PeerURL = "/elsewhere" },
		"ftp peer":      func(c *Config) { c.PeerURL = "ftp://127.0.0.1" },
	} {
		cfg := ok
		change(&cfg)
		if _, err := NewApp(cfg); err == nil {
			t.Errorf("%s: NewApp accepted it", name)
		}
	}
}

func TestSplitSecrets(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "a,b": "a|b", ",a,,b,": "a|b"} {
		if got := strings.Join(SplitSecrets(in), "|"); got != want {
			t.Errorf("SplitSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStartNodeRefusesBadConfig(t *testing.T) {
	ok := NodeConfig{Dir: "node", Secrets: []string{testSecret}, PeerURL: "http://127.0.0.1:1", Storage: "redis", RedisAddr: "127.0.0.1:1"}
	for name, change := range map[string]func(*NodeConfig){
		"no storage":       func(c *NodeConfig) { c.Storage = "" },
		"unknown storage":  func(c *NodeConfig) { c.Storage = "memcache" },
		"redis, no server": func(c *NodeConfig) { c.RedisAddr = "" },
		"no secrets":       func(c *NodeConfig) { c.Secrets = nil },
	} {
		cfg := ok
		change(&cfg)
		if n, err := StartNode(cfg); err == nil {
			n.Stop()
			t.Errorf("%s: StartNode accepted it", name)
		}
	}
}

func TestStartNodeWithoutPackages(t *testing.T) {
	_, err := StartNode(NodeConfig{Dir: t.TempDir(), Secrets: []string{testSecret}, PeerURL: "http://127.0.0.1:1", Storage: "cookie"})
	if !errors.Is(err, ErrNodeMissing) {
		t.Fatalf("StartNode in an empty folder: %v, want ErrNodeMissing", err)
	}
}
