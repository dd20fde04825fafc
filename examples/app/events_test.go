package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// serverSideRows are the storage rows that can revoke a session.
func serverSideRows() []string {
	var names []string
	for _, row := range storageRows {
		if row.storage != "cookie" {
			names = append(names, row.storage)
		}
	}
	return names
}

var signedOutAt = regexp.MustCompile(`You were signed out from another device at \d\d:\d\d UTC\.`)

// TestSignedOutMessage: a browser signed out from another device (one row's
// "Sign out", or "Sign out everywhere else") is told so on its next request,
// on the sign-in page it is sent to or on the home page; a browser that
// signed itself out is not.
func TestSignedOutMessage(t *testing.T) {
	for _, storage := range serverSideRows() {
		t.Run(storage, func(t *testing.T) {
			srv, a, _ := newTestServer(t, storage, false)
			b := newBrowser(t)
			signIn(t, srv.URL, a)
			signIn(t, srv.URL, b)
			_, bodyB := get(t, b, srv.URL+"/account")
			thisB, _ := deviceHandles(t, bodyB)

			post(t, a, srv.URL+"/account/sessions/sign-out", url.Values{"handle": {thisB}})
			_, bodyB = get(t, b, srv.URL+"/account")
			mustContain(t, bodyB, "<h1>Sign in</h1>", "Please sign in to see your account.")
			if !signedOutAt.MatchString(between(bodyB, `id="error">`, "</p>")) {
				t.Fatalf("B's sign-in page does not say it was signed out from another device:\n%s", bodyB)
			}
			// Said once: the next page is a plain sign-in page.
			_, bodyB = get(t, b, srv.URL+"/login")
			mustNotContain(t, bodyB, "signed out from another device at")

			// Sign out everywhere else; B opens the home page.
			signIn(t, srv.URL, b)
			post(t, a, srv.URL+"/account/sessions/sign-out-others", url.Values{})
			_, bodyB = get(t, b, srv.URL+"/")
			mustContain(t, bodyB, "<h1>Home</h1>", `class="flash error"`)
			if !signedOutAt.MatchString(bodyB) {
				t.Fatalf("B's home page does not say it was signed out from another device:\n%s", bodyB)
			}
			_, bodyB = get(t, b, srv.URL+"/")
			mustNotContain(t, bodyB, "signed out from another device at", `id="error"`)

			// A signs itself out: its old cookie, replayed, gets the plain
			// message.
			old := sessionCookie(t, a, srv)
			post(t, a, srv.URL+"/logout", nil)
			replay := newBrowser(t)
			u, _ := url.Parse(srv.URL)
			replay.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: old}})
			_, body := get(t, replay, srv.URL+"/account")
			mustContain(t, body, `id="error">Please sign in to see your account.</p>`)
		})
	}
}

// TestExpiredMessage: a session past its idle timeout, or its lifetime,
// says so when its browser comes back; cookie storage too.
func TestExpiredMessage(t *testing.T) {
	for _, storage := range []string{"memory", "file", "cookie"} {
		t.Run(storage, func(t *testing.T) {
			clock := sessiontest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			srv, cl, _ := newTestServerWith(t, testOptions{storage: storage, now: clock.Now})
			signIn(t, srv.URL, cl)
			clock.Advance(61 * time.Minute)
			_, body := get(t, cl, srv.URL+"/account")
			mustContain(t, body, `id="error">Your session expired after 1 hour without activity. Please sign in to see your account.</p>`)

			// Active for a day: every 50 minutes, until the lifetime ends it.
			signIn(t, srv.URL, cl)
			for range 28 { // 23 hours 20 minutes
				clock.Advance(50 * time.Minute)
				get(t, cl, srv.URL+"/")
			}
			clock.Advance(50 * time.Minute)
			_, body = get(t, cl, srv.URL+"/account")
			mustContain(t, body, `id="error">Your session reached its maximum age; please sign in again. Please sign in to see your account.</p>`)
		})
	}
}

// TestRecentEvents: the session panel lists the session's events, newest
// first, with the sign-in, and the history from before the sign-in's new
// id.
func TestRecentEvents(t *testing.T) {
	for _, row := range storageRows {
		t.Run(row.name, func(t *testing.T) {
			srv, cl, _ := newTestServer(t, row.storage, row.seal)
			_, body := get(t, cl, srv.URL+"/")
			mustContain(t, body, "<h2>Recent events of this session</h2>", "None yet: this session has not been saved.")
			get(t, cl, srv.URL+"/")
			_, body = get(t, cl, srv.URL+"/")
			events := between(body, `<ol class="events">`, "</ol>")
			if got := listedEvents(events); strings.Join(got, "|") != "saved|created" {
				t.Fatalf("events %q, want saved, created", got)
			}
			signIn(t, srv.URL, cl)
			_, body = get(t, cl, srv.URL+"/account")
			got := listedEvents(between(body, `<ol class="events">`, "</ol>"))
			// The save that read the welcome flash, the sign-in, and the
			// anonymous session's events before it.
			want := "saved|signed in as demo (new id)|saved ×2|created"
			if row.storage == "cookie" {
				want = "saved|new id|saved ×2|created" // no user index: events carry no user
			}
			if strings.Join(got, "|") != want {
				t.Fatalf("events %q, want %q", got, want)
			}
			mustContain(t, body, "page loads are not listed")
		})
	}
}

var eventItem = regexp.MustCompile(`<li><span class="mono muted">\d\d:\d\d:\d\d</span> ([^<]*)</li>`)

// listedEvents returns the texts of the listed events.
func listedEvents(list string) []string {
	var out []string
	for _, m := range eventItem.FindAllStringSubmatch(list, -1) {
		out = append(out, strings.ReplaceAll(m[1], "&#43;", "+"))
	}
	return out
}

// TestEventLogBounds: the log keeps at most eventsPerHandle events per
// session, counting repeats, and drops the session with the oldest event
// past its limit; it is safe for concurrent use.
func TestEventLogBounds(t *testing.T) {
	l := newEventLog(nil)
	l.max = 100
	ctx := context.Background()
	for i := range 20 {
		kind := session.EventSaved
		if i%2 == 0 {
			kind = session.EventCreated
		}
		l.Observe(ctx, session.Event{Kind: kind, Handle: "h"})
	}
	l.Observe(ctx, session.Event{Kind: session.EventSaved, Handle: "h"})
	h := l.events("h")
	if len(h) != eventsPerHandle || h[len(h)-1].Count != 2 {
		t.Fatalf("%d events, the last %+v; want %d, the last counted twice", len(h), h[len(h)-1], eventsPerHandle)
	}
	l.Observe(ctx, session.Event{Kind: session.EventLoaded, Handle: "loaded-only"})
	if l.events("loaded-only") != nil {
		t.Fatal("a page load made a history")
	}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				l.Observe(ctx, session.Event{Kind: session.EventSaved, Handle: fmt.Sprintf("g%d-%d", g, i)})
				l.events("h")
			}
		})
	}
	wg.Wait()
	if n := l.handles(); n != 100 {
		t.Fatalf("%d sessions kept, want 100", n)
	}
	if l.events("h") != nil {
		t.Fatal("the session with the oldest event was kept")
	}
}

// TestEndedReason: what the page says for each way a session ends, from the
// events the storage reported.
func TestEndedReason(t *testing.T) {
	now := time.Date(2026, 1, 2, 14, 2, 11, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, tc := range []struct {
		name    string
		history []session.Event // earlier requests
		read    session.Event   // this request's Read
		want    string
	}{
		{"revoke", []session.Event{{Kind: session.EventCreated}, {Kind: session.EventRevoked, Cause: session.CauseRevoke}},
			session.Event{Kind: session.EventMissing}, "You were signed out from another device at 14:02 UTC."},
		{"revoke all", []session.Event{{Kind: session.EventRevoked, Cause: session.CauseRevokeAll}},
			session.Event{Kind: session.EventMissing}, "You were signed out from another device at 14:02 UTC."},
		{"cap", []session.Event{{Kind: session.EventRevoked, Cause: session.CauseCap}},
			session.Event{Kind: session.EventMissing}, "You were signed out because this account signed in on too many devices."},
		{"epoch, server-side", []session.Event{{Kind: session.EventCreated}, {Kind: session.EventRevoked, Cause: session.CauseEpoch}},
			session.Event{Kind: session.EventMissing}, "You were signed out because the password was changed or someone chose to sign out everywhere, at 14:02 UTC."},
		// Cookie storage finds the stamp below the epoch as it reads.
		{"epoch, cookie", nil, session.Event{Kind: session.EventRevoked, Cause: session.CauseEpoch},
			"You were signed out because the password was changed or someone chose to sign out everywhere."},
		{"own sign-out", []session.Event{{Kind: session.EventCreated}, {Kind: session.EventDestroyed}},
			session.Event{Kind: session.EventMissing}, ""},
		{"idle", nil, session.Event{Kind: session.EventExpired, Cause: session.CauseIdle}, "Your session expired after 30 minutes without activity."},
		{"lifetime", nil, session.Event{Kind: session.EventExpired, Cause: session.CauseLifetime}, "Your session reached its maximum age; please sign in again."},
		{"unknown", nil, session.Event{Kind: session.EventMissing}, ""},
		{"loaded", []session.Event{{Kind: session.EventRevoked}}, session.Event{Kind: session.EventLoaded}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{cfg: appConfig{idle: 30 * time.Minute}, events: newEventLog(clock)}
			for _, e := range tc.history {
				e.Handle = "h"
				a.events.Observe(context.Background(), e)
			}
			var got string
			req, _ := http.NewRequest(http.MethodGet, "/", nil)
			a.events.collect(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				tc.read.Handle = "h"
				a.events.Observe(r.Context(), tc.read)
				got = a.endedReason(r.Context())
			})).ServeHTTP(nil, req)
			if got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}

	// A request that loaded its session and then ended others (a password
	// change, a sign-in past the cap): their revokes are not this
	// request's reason.
	a := &app{events: newEventLog(clock)}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	a.events.collect(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		a.events.Observe(r.Context(), session.Event{Kind: session.EventLoaded, Handle: "this"})
		a.events.Observe(r.Context(), session.Event{Kind: session.EventRevoked, Cause: session.CauseEpoch, Handle: "other"})
		if got := a.endedReason(r.Context()); got != "" {
			t.Errorf("a request that revoked another session: %q, want none", got)
		}
	})).ServeHTTP(nil, req)

	// A store that dropped the record by its own expiry (Redis, memcached):
	// missing, last saved more than the idle timeout ago.
	at := now
	a = &app{cfg: appConfig{idle: 30 * time.Minute}, events: newEventLog(func() time.Time { return at })}
	a.events.Observe(context.Background(), session.Event{Kind: session.EventSaved, Handle: "h"})
	at = at.Add(31 * time.Minute)
	if got := a.missingMessage(eventRecord{Kind: session.EventMissing, Handle: "h", At: at}); got != "Your session expired after 30 minutes without activity." {
		t.Fatalf("missing after the idle timeout: %q", got)
	}
}

var metricLine = regexp.MustCompile(`(?m)^(session_(read|save)_duration_seconds_count)\{([^}]*)\} (\d+)$`)

// TestMetrics: with -metrics, GET /metrics serves the session metrics in
// the Prometheus text format, without touching a session; without, there is
// no such route.
func TestMetrics(t *testing.T) {
	srv, cl, _ := newTestServerWith(t, testOptions{storage: "memory", metrics: true})
	get(t, cl, srv.URL+"/")
	get(t, cl, srv.URL+"/")
	signIn(t, srv.URL, cl)

	resp, body := do(t, newBrowser(t), http.MethodGet, srv.URL+"/metrics", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Fatalf("GET /metrics set a cookie: %q", sc)
	}
	mustHaveHistograms(t, body)
	mustContain(t, body, `session_storage="memory"`)

	plain, cl2, _ := newTestServer(t, "memory", false)
	if code, _ := get(t, cl2, plain.URL+"/metrics"); code != http.StatusNotFound {
		t.Fatalf("without -metrics, GET /metrics: status %d, want 404", code)
	}
}

// mustHaveHistograms checks a scrape of /metrics: the session read and save
// durations are Prometheus histograms in seconds (the exporter's names for
// session.read.duration and session.save.duration, unit s), with counts.
func mustHaveHistograms(t *testing.T, body string) {
	t.Helper()
	mustContain(t, body, "# TYPE session_read_duration_seconds histogram", "# TYPE session_save_duration_seconds histogram",
		"session_read_duration_seconds_bucket{", "session_save_duration_seconds_bucket{",
		"session_read_duration_seconds_sum{", "session_save_duration_seconds_sum{")
	counts := map[string]bool{}
	for _, m := range metricLine.FindAllStringSubmatch(body, -1) {
		if m[4] != "0" {
			counts[m[2]] = true
		}
	}
	if !counts["read"] || !counts["save"] {
		t.Fatalf("no read and save counts in:\n%s", body)
	}
}
