package main

import (
	"bytes"
	"regexp"
	"strconv"
	"time"
)

// A record is one request of one user, as the client saw it.
type record struct {
	start, end time.Duration // since the run's clock started
	signIn     bool          // a POST /login; otherwise a GET /
	status     int           // the HTTP status; 0: no response (refused, reset, timed out)
	// What a GET / page said, when it answered 200:
	signedIn    bool // the page was a signed-in user's
	sessionLost bool // the user was signed in, nobody signed them out, and the page was anonymous
	lost        int  // acknowledged increments the page showed missing
	unacked     int  // increments that landed although their request failed
}

// failed reports whether the request failed from the user's point of view:
// no response, or a 5xx. A 429 (a sign-in throttle) is not a failure of
// the storage and is counted apart.
func (r record) failed() bool { return r.status == 0 || r.status >= 500 }

// A counter follows one user's visit counter, which every GET / of the
// example app increments and saves in the session, and finds lost writes:
// a 2xx response acknowledges its increment, so the next page must show one
// more than the last page did. A page that shows less reveals acknowledged
// increments that are gone (a lost write); one that shows more, increments
// that landed although their request failed (the client gave up, or the
// response was lost), which are not losses. Failed requests do not move it.
type counter struct {
	last int // the value the last 200 page showed: what the server holds, as far as the client knows
}

// reset starts over after a sign-in: a new session holds no visits.
func (c *counter) reset() { c.last = 0 }

// observe takes the value a 200 page showed (the stored value plus the
// increment of this request) and returns the acknowledged increments that
// are missing, and the unacknowledged ones that landed.
func (c *counter) observe(shown int) (lost, unacked int) {
	stored := shown - 1
	switch {
	case stored < c.last:
		lost = c.last - stored
	case stored > c.last:
		unacked = stored - c.last
	}
	c.last = shown
	return lost, unacked
}

// page is what the client reads from the example app's home page.
type page struct {
	visits   int  // "You have visited this page N times"; -1 when absent
	signedIn bool // the header has the "Sign out" button
}

var visitsRE = regexp.MustCompile(`id="visits">You have visited this page (\d+) time`)

// parsePage reads the home page of examples/app (page.go's templates): the
// visit counter and whether the session is a signed-in user's.
func parsePage(body []byte) page {
	p := page{visits: -1, signedIn: bytes.Contains(body, []byte(`id="signout"`))}
	if m := visitsRE.FindSubmatch(body); m != nil {
		if n, err := strconv.Atoi(string(m[1])); err == nil {
			p.visits = n
		}
	}
	return p
}
