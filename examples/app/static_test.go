package main

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// readCounter counts the session reads of a storage.
type readCounter struct {
	session.Storage
	reads atomic.Int64
}

func (c *readCounter) Read(ctx context.Context, v string) (*session.Session, error) {
	c.reads.Add(1)
	return c.Storage.Read(ctx, v)
}

// The page's stylesheet and icon go through the session middleware like
// every route, but never ask for the session: a signed-in visitor's
// asset costs no storage read, and its response carries no session header
// and stays cacheable; the page itself reads the session once.
func TestStaticAssetsLoadNoSession(t *testing.T) {
	srv, cl, rec := newTestServer(t, "memory", false)
	counter := &readCounter{Storage: rec.Storage}
	rec.Storage = counter
	if code, body := get(t, cl, srv.URL+"/"); code != 200 || !strings.Contains(body, `href="/static/app.css"`) {
		t.Fatalf("home: %d, no stylesheet link", code)
	}
	if sessionCookie(t, cl, srv) == "" {
		t.Fatal("no session cookie after the first page")
	}
	counter.reads.Store(0)
	for _, asset := range []string{"/static/app.css", "/static/favicon.svg"} {
		resp, body := do(t, cl, "GET", srv.URL+asset, nil, nil)
		h := resp.Header
		if resp.StatusCode != 200 || body == "" || h.Get("Set-Cookie") != "" || h.Get("Vary") != "" || h.Get("Cache-Control") != "public, max-age=3600" {
			t.Errorf("%s: %d, headers %q; want 200, cacheable, no session headers", asset, resp.StatusCode, h)
		}
	}
	if n := counter.reads.Load(); n != 0 {
		t.Errorf("%d session reads for the assets, want none", n)
	}
	if code, _ := get(t, cl, srv.URL+"/"); code != 200 || counter.reads.Load() != 1 {
		t.Errorf("home: %d, %d session reads; want 1", code, counter.reads.Load())
	}
	if resp, _ := do(t, cl, "GET", srv.URL+"/static/missing.css", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing asset: %d, want 404", resp.StatusCode)
	}
}
