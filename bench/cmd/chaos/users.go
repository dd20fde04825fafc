package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
)

// loadConfig is how the users behave.
type loadConfig struct {
	users   int
	relogin bool          // a user whose session was lost signs in again (otherwise stops)
	backoff time.Duration // pause after a failed request
	timeout time.Duration // a request's limit in the client
}

// A user is one signed-in visitor of the example app: its own cookie jar,
// one request at a time, no think time.
type user struct {
	jar        atomic.Pointer[cookiejar.Jar] // read by sessionIDs while the user runs
	lastFailed atomic.Bool
	stopped    atomic.Bool
	client     *http.Client
	signedIn   bool
	keep       bool // the run's clock started: records are kept
	ctr        counter
	records    []record
}

// load drives the users against one app URL.
type load struct {
	cfg       loadConfig
	base      *url.URL
	transport *http.Transport
	users     []*user
	clock     time.Time // set before start is closed
	start     chan struct{}
	stopping  atomic.Bool // no new request: the run is over
	signedIn  sync.WaitGroup
	done      sync.WaitGroup
	errMu     sync.Mutex
	errs      map[string]int // error messages of the run, counted
	setupErrs map[string]int // those of the sign-ins before the run
	setupTook time.Duration  // how long signing every user in took
}

func newLoad(rawURL string, cfg loadConfig) (*load, error) {
	base, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	l := &load{
		cfg:       cfg,
		base:      base,
		start:     make(chan struct{}),
		errs:      map[string]int{},
		setupErrs: map[string]int{},
		transport: &http.Transport{
			MaxIdleConns:        cfg.users,
			MaxIdleConnsPerHost: cfg.users,
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		},
	}
	for range cfg.users {
		l.users = append(l.users, &user{})
	}
	return l, nil
}

// run starts every user, waits until all have signed in, then starts the
// run's clock and lets them load the app until ctx is done (wait).
func (l *load) run(ctx context.Context, signInTimeout time.Duration) error {
	began := time.Now()
	for _, u := range l.users {
		l.signedIn.Add(1)
		l.done.Add(1)
		go l.loop(ctx, u)
	}
	all := make(chan struct{})
	go func() { l.signedIn.Wait(); close(all) }()
	select {
	case <-all:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(signInTimeout):
		return fmt.Errorf("the users did not all sign in within %v: %s", signInTimeout, l.setupSummary())
	}
	l.clock = time.Now()
	l.setupTook = l.clock.Sub(began)
	close(l.start)
	return nil
}

// stop tells the users to send no more requests; those in flight finish
// (and count), so that the end of the run breaks none of them.
func (l *load) stop() { l.stopping.Store(true) }

// wait waits for every user to stop (after stop, or after ctx is done).
func (l *load) wait() {
	l.done.Wait()
	l.transport.CloseIdleConnections()
}

func (l *load) since() time.Duration { return time.Since(l.clock) }

func (l *load) loop(ctx context.Context, u *user) {
	defer l.done.Done()
	for !u.signedIn && ctx.Err() == nil {
		l.signIn(ctx, u)
	}
	l.signedIn.Done()
	select {
	case <-l.start:
	case <-ctx.Done():
		return
	}
	u.keep = true
	for ctx.Err() == nil && !u.stopped.Load() && !l.stopping.Load() {
		if u.signedIn {
			l.visit(ctx, u)
		} else {
			l.signIn(ctx, u)
		}
	}
}

// signIn posts the sign-in form as the demo user with a fresh cookie jar,
// so the session starts empty (the counter at 0).
func (l *load) signIn(ctx context.Context, u *user) {
	jar, _ := cookiejar.New(nil)
	u.jar.Store(jar)
	u.client = &http.Client{
		Transport:     l.transport,
		Jar:           jar,
		Timeout:       l.cfg.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	form := url.Values{"username": {"demo"}, "password": {"password"}}
	rec := record{signIn: true}
	resp, body, err := l.do(ctx, u, &rec, http.MethodPost, "/login", strings.NewReader(form.Encode()))
	if ctx.Err() != nil {
		return
	}
	switch {
	case err != nil || rec.failed():
		l.noteFailure(u.keep, rec.status, body, err)
		sleep(ctx, l.cfg.backoff)
	case resp.StatusCode == http.StatusTooManyRequests:
		l.note(u.keep, "sign-in: 429 Too Many Requests")
		sleep(ctx, retryAfter(resp.Header.Get("Retry-After"), l.cfg.backoff))
	case resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/account":
		u.signedIn = true
		u.ctr.reset()
	default:
		l.note(u.keep, fmt.Sprintf("sign-in answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location")))
		sleep(ctx, l.cfg.backoff)
	}
	u.finish(rec)
}

// visit loads the home page, which increments the session's counter.
func (l *load) visit(ctx context.Context, u *user) {
	var rec record
	_, body, err := l.do(ctx, u, &rec, http.MethodGet, "/", nil)
	if ctx.Err() != nil {
		return // cut by the end of the run: not counted
	}
	switch {
	case err != nil || rec.failed():
		l.noteFailure(true, rec.status, body, err)
		sleep(ctx, l.cfg.backoff)
	case rec.status != http.StatusOK:
		l.note(true, fmt.Sprintf("GET / answered %d", rec.status))
		sleep(ctx, l.cfg.backoff)
	default:
		l.readPage(u, &rec, parsePage(body))
	}
	u.finish(rec)
}

// readPage checks a 200 home page against what the user expects.
func (l *load) readPage(u *user, rec *record, p page) {
	switch {
	case !p.signedIn:
		// Nobody signs these users out: an anonymous page is a lost
		// session.
		rec.sessionLost = true
		u.signedIn = false
		if !l.cfg.relogin {
			u.stopped.Store(true)
		}
	case p.visits < 0:
		l.note(true, "GET /: no visit counter on the page")
	default:
		rec.signedIn = true
		rec.lost, rec.unacked = u.ctr.observe(p.visits)
	}
}

func (u *user) finish(rec record) {
	u.lastFailed.Store(rec.failed())
	if u.keep {
		u.records = append(u.records, rec)
	}
}

// do sends one request and reads the whole answer, timing it into rec.
func (l *load) do(ctx context.Context, u *user, rec *record, method, path string, body io.Reader) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, l.base.JoinPath(path).String(), body)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec.start = time.Since(l.clock)
	resp, err := u.client.Do(req)
	if err != nil {
		rec.end = time.Since(l.clock)
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	rec.end = time.Since(l.clock)
	if err != nil {
		return nil, nil, err
	}
	rec.status = resp.StatusCode
	return resp, data, nil
}

// noteFailure counts a failed request's error by message, in the run's
// errors or (run false) the sign-ins' before it.
func (l *load) noteFailure(run bool, status int, body []byte, err error) {
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		l.note(run, err.Error())
		return
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 100 {
		msg = msg[:100] + "…"
	}
	l.note(run, fmt.Sprintf("%d %s", status, msg))
}

func (l *load) note(run bool, msg string) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if run {
		l.errs[msg]++
	} else {
		l.setupErrs[msg]++
	}
}

// errorSummary lists the n most frequent error messages of the run with
// their counts.
func (l *load) errorSummary(n int) string {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return topCounts(l.errs, n)
}

// setupSummary says how the sign-ins before the run went.
func (l *load) setupSummary() string {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	failed := 0
	for _, n := range l.setupErrs {
		failed += n
	}
	out := fmt.Sprintf("Signing the %d users in, all at once before the run, took %.2f s", len(l.users), l.setupTook.Seconds())
	if failed == 0 {
		return out + ", every sign-in at the first attempt."
	}
	return fmt.Sprintf("%s and %d failed attempts, tried again: %s.", out, failed, topCounts(l.setupErrs, 3))
}

func topCounts(m map[string]int, n int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	var parts []string
	for i, e := range all {
		if i == n {
			parts = append(parts, fmt.Sprintf("%d more kinds", len(all)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%d× %q", e.v, e.k))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// failing counts the users still running whose last request failed.
func (l *load) failing() int {
	n := 0
	for _, u := range l.users {
		if !u.stopped.Load() && u.lastFailed.Load() {
			n++
		}
	}
	return n
}

// sessionIDs returns each user's current session id, read from its cookie
// jar and verified with the app's secret ("" when it has none).
func (l *load) sessionIDs(c *cookie.Cookie) []string {
	ids := make([]string, len(l.users))
	for i, u := range l.users {
		jar := u.jar.Load()
		if jar == nil {
			continue
		}
		for _, ck := range jar.Cookies(l.base) {
			if ck.Name != c.Name() {
				continue
			}
			if id, ok := c.Parse(ck.Name + "=" + ck.Value); ok {
				ids[i] = id
			}
		}
	}
	return ids
}

// outcome collects the users' records once they stopped.
func (l *load) records() (recs [][]record, stopped []bool) {
	for _, u := range l.users {
		recs = append(recs, u.records)
		stopped = append(stopped, u.stopped.Load())
	}
	return recs, stopped
}

// retryAfter reads a Retry-After of whole seconds, at most 10 s.
func retryAfter(h string, fallback time.Duration) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return fallback
	}
	return min(time.Duration(n)*time.Second, 10*time.Second)
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
