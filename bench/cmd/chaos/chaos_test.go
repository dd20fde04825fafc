package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCounter(t *testing.T) {
	var c counter
	steps := []struct {
		shown, lost, unacked int
	}{
		{1, 0, 0}, // first page after the sign-in
		{2, 0, 0},
		{3, 0, 0},
		{2, 2, 0}, // the server held 1, not 3: the increments to 2 and 3 are gone
		{3, 0, 0}, // counting goes on from what the server holds
		{5, 0, 1}, // a failed request's increment landed (4), then this one (5)
		{5, 1, 0}, // the server held 4, not 5
	}
	for i, s := range steps {
		lost, unacked := c.observe(s.shown)
		if lost != s.lost || unacked != s.unacked {
			t.Errorf("step %d: observe(%d) = %d lost, %d unacked; want %d, %d", i, s.shown, lost, unacked, s.lost, s.unacked)
		}
	}
	c.reset()
	if lost, unacked := c.observe(1); lost != 0 || unacked != 0 {
		t.Errorf("after reset: %d lost, %d unacked", lost, unacked)
	}
}

// TestAppFlags: the app starts on the scenario's storage with its servers'
// flags and a per-user cap of -users, since every user signs in as demo.
func TestAppFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-users", "50"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := findScenario("memcache-kill")
	got := strings.Join(appFlags(cfg, sc, []string{"-memcache", "a,b,c"}), " ")
	if want := "-storage memcache -max-user-sessions 50 -memcache a,b,c"; got != want {
		t.Errorf("app flags %q, want %q", got, want)
	}
	if cfg, _ = parseFlags(nil, io.Discard); !strings.Contains(strings.Join(appFlags(cfg, sc, nil), " "), "-max-user-sessions 200") {
		t.Errorf("default -users: app flags %q, want -max-user-sessions 200", appFlags(cfg, sc, nil))
	}
}

func TestParsePage(t *testing.T) {
	signedIn := `<header><form method="post" action="/logout"><button type="submit" id="signout">Sign out</button></form></header>
<p id="visits">You have visited this page 42 times in this session.</p>`
	if p := parsePage([]byte(signedIn)); p.visits != 42 || !p.signedIn {
		t.Errorf("signed-in page: %+v", p)
	}
	anon := `<a href="/login" id="signin">Sign in</a><p id="visits">You have visited this page 1 time in this session.</p>`
	if p := parsePage([]byte(anon)); p.visits != 1 || p.signedIn {
		t.Errorf("anonymous page: %+v", p)
	}
	if p := parsePage([]byte("<p>Account</p>")); p.visits != -1 {
		t.Errorf("no counter: %+v", p)
	}
}

func ms2d(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// req is a GET / of a signed-in user, from a to b milliseconds.
func req(a, b float64, status int) record {
	return record{start: ms2d(a), end: ms2d(b), status: status, signedIn: status == 200}
}

func TestAnalyze(t *testing.T) {
	lostWrite := req(1500, 1510, 200)
	lostWrite.lost = 2
	lostSession := req(1600, 1610, 200)
	lostSession.sessionLost, lostSession.signedIn = true, false
	o := &outcome{
		faultAt: ms2d(1000), recoAt: ms2d(2000), end: ms2d(3000),
		bound:    ms2d(500),
		faulted:  "a",
		serverOf: []string{"a", "b"},
		events:   []event{{eventFault, ms2d(1000), "kill"}, {eventReady, ms2d(2100), "ok again"}},
		users: [][]record{
			{ // on the faulted server: fails from 990 ms to 2200 ms
				req(0, 10, 200), req(10, 990, 200),
				req(990, 1010, 500), // in flight at the fault: counts in during
				req(1100, 1900, 0),  // no response, over the bound
				req(1900, 2200, 503),
				req(2200, 2210, 200),
				req(2210, 2300, 200),
			},
			{ // elsewhere: one lost write, one lost session, then a 429 sign-in
				req(0, 500, 200), lostWrite, lostSession,
				{start: ms2d(1610), end: ms2d(1620), status: 429, signIn: true},
				{start: ms2d(2500), end: ms2d(2510), status: 303, signIn: true},
			},
		},
	}
	s := analyze(o)
	if got := []int{s.phases[0].requests, s.phases[1].requests, s.phases[2].requests}; got[0] != 3 || got[1] != 6 || got[2] != 3 {
		t.Errorf("requests per phase %v, want [3 6 3]", got)
	}
	during := s.phases[1]
	// The 503 started at 1900 ms, in the during phase, and counts there.
	if during.status5xx != 2 || during.noResponse != 1 || during.throttled != 1 || during.overBound != 1 || s.phases[2].status5xx != 0 {
		t.Errorf("during: %+v; after: %+v", during, s.phases[2])
	}
	if during.writesLost != 2 || during.sessionsLost != 1 || during.lostOnFaulted != 0 {
		t.Errorf("during: writes lost %d, sessions lost %d (%d on the faulted server)", during.writesLost, during.sessionsLost, during.lostOnFaulted)
	}
	if s.usersLost != 1 || s.usersLostFaulted != 0 || s.usersOnFaulted != 1 {
		t.Errorf("users lost %d (%d on the faulted server of %d)", s.usersLost, s.usersLostFaulted, s.usersOnFaulted)
	}
	if !s.anyErr || s.firstErr != ms2d(990) || s.lastErr != ms2d(2200) {
		t.Errorf("errors %v to %v", s.firstErr, s.lastErr)
	}
	if s.oneUser != ms2d(2210-990) || s.oneUserOpen {
		t.Errorf("one user's outage %v (open %v), want 1.22s", s.oneUser, s.oneUserOpen)
	}
	if s.failingAtEnd != 0 {
		t.Errorf("%d failing at the end", s.failingAtEnd)
	}
	// Successes end at 10, 500, 990, 1510, 1610, 2210, 2300, 2510: the
	// longest gap is 1610 → 2210.
	if s.noService != ms2d(600) {
		t.Errorf("no service %v, want 600ms", s.noService)
	}
	if during.maxL != ms2d(800) {
		t.Errorf("max latency during %v, want 800ms", during.maxL)
	}
	table := s.table(o, true, false)
	for _, want := range []string{
		"| requests | 3 | 6 | 3 | 12 |",
		"| 5xx | 0 | 2 | 0 | 2 |",
		"| sessions lost (of users on the faulted server) | 0 (0) | 1 (0) | 0 (0) | 1 user (0 of the 1 on the faulted server; 1 elsewhere) |",
		"1.21 s: −0.01 s to +1.20 s after the fault, the last +0.10 s after ok again",
		"| longest outage, one user |  |  |  | 1.22 s |",
		"| every session recovered, app not restarted |  |  |  | yes |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	row := s.summaryRow("x", true, []check{doneWhen("a", true, ""), doneWhen("b", false, ""), {what: "c", info: true}})
	if want := "| x | 12 | 2 | 1 | 1 (1 elsewhere) | 2 | 1.21 s | 1.22 s | 980.0 ms / 800.0 ms / 90.0 ms | yes | 1 of 2: not b |"; row != want {
		t.Errorf("summary row\n%s\nwant\n%s", row, want)
	}
}

func TestUserOutageOpen(t *testing.T) {
	recs := []record{req(0, 10, 200), req(10, 20, 500), req(120, 130, 0)}
	d, open, failing := userOutage(recs, ms2d(1000))
	if d != ms2d(990) || !open || !failing {
		t.Errorf("userOutage = %v, open %v, failing %v", d, open, failing)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i))
	}
	if p := percentile(d, 99); p != 198 {
		t.Errorf("p99 of 1..200 = %d, want 198", p)
	}
	if p := percentile(d[:1], 99); p != 1 {
		t.Errorf("p99 of one = %d", p)
	}
	if p := percentile(nil, 99); p != 0 {
		t.Errorf("p99 of none = %d", p)
	}
}

func TestParseClusterNodes(t *testing.T) {
	out := `e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
9c2b 127.0.0.1:30002@40002 master,fail - 1700000000 1700000000 2 disconnected
a1f3 127.0.0.1:30005@40005 master - 0 1700000000 7 connected 5461-10922
77aa 127.0.0.1:30004@40004 slave e7d1 0 1700000000 1 connected
`
	nodes := parseClusterNodes(out)
	if len(nodes) != 4 {
		t.Fatalf("%d nodes", len(nodes))
	}
	if n := nodes[1]; n.addr != "127.0.0.1:30002" || !n.master || !n.failed || n.slots != 0 {
		t.Errorf("failed master: %+v", n)
	}
	if n := nodes[2]; n.failed || n.slots != 1 {
		t.Errorf("promoted replica: %+v", n)
	}
	if n := nodes[3]; n.master {
		t.Errorf("replica: %+v", n)
	}
}

func TestLogCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	log := `time=2026-01-01T00:00:00Z level=INFO msg="sessionkit example listening"
time=2026-01-01T00:00:01Z level=ERROR msg="sessionmiddleware: reading the session failed" error="session: read id-sha256:10e7cfdff887: redisstorage: get: connection refused"
time=2026-01-01T00:00:01Z level=ERROR msg="sessionmiddleware: reading the session failed" error="session: read id-sha256:81b526becb99: redisstorage: get: connection refused"
time=2026-01-01T00:00:02Z level=WARN msg=plain
`
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	counts, err := logCounts(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "2× \"ERROR sessionmiddleware: reading the session failed: session: read id-sha256:…: redisstorage: get: connection refused\"; 1× \"WARN plain\""
	if got := topCounts(counts, 3); got != want {
		t.Errorf("topCounts = %s\nwant %s", got, want)
	}
}

func TestWholeFile(t *testing.T) {
	for _, c := range []struct {
		name, data string
		ok         bool
	}{
		{strings.Repeat("a", 62), `[{"user":"demo"},{},{"c":1}]`, true},
		{strings.Repeat("a", 62), `[{"user":"de`, false},
		{"u-" + strings.Repeat("a", 62), "sessionkit-index 1\nid - 1 2 ab/cd\n", true},
		{"u-" + strings.Repeat("a", 62), "sessionkit-index 1\nid - 1", false},
	} {
		if got := wholeFile(c.name, []byte(c.data)); got != c.ok {
			t.Errorf("wholeFile(%q, %q) = %v", c.name, c.data, got)
		}
	}
}
