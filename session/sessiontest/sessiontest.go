// Package sessiontest is the conformance suite that every session.Storage
// runs: memorystorage, filestorage and cookiestorage, the storage modules,
// and every Backend written elsewhere. It also offers the pieces their unit
// tests need: a FakeClock, a log capture (Logs), a recording,
// fault-injecting Backend, Request, which plays one request the way the
// session middleware does, and Benchmark, one request's session work.
//
// It imports nothing but the standard library and package session, so a
// storage module can use it without new dependencies:
//
//	func TestConformance(t *testing.T) {
//		sessiontest.Run(t, sessiontest.Config{
//			Backend: func(t *testing.T, o session.Options) session.Backend {
//				return newRedisBackend(t) // a fresh key prefix per call
//			},
//		})
//	}
//
// A storage not built on session.NewBackendStorage sets Config.New instead.
package sessiontest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Config tells Run how to make and inspect the storage under test.
type Config struct {
	// New returns a fresh, empty storage with the options o. The suite sets
	// o.Now to a FakeClock, o.Logger to a capture, and o.UseUnknownIDs,
	// o.IdleTimeout and o.Lifetime as each scenario needs; New must pass
	// them all through; an error fails the test. New or Backend is
	// required.
	New func(t *testing.T, o session.Options) (session.Storage, error)

	// Backend, instead of New, serves a storage built with
	// session.NewBackendStorage, as every server-side storage is: it
	// returns a fresh, empty backend, and the suite wraps it with each
	// scenario's options. ServerSide is then implied, and the backend
	// itself provides Put (a Set without expiry) and Get unless those hooks
	// are given, and Count when it has a Len() int method.
	Backend func(t *testing.T, o session.Options) session.Backend

	// ServerSide is true when the cookie holds only the session id and the
	// records live in a store (memory, file, Redis, Memcache); false for a
	// storage that keeps the session in the cookie. Server-side storages
	// must return the id as the cookie value, honour Options.UseUnknownIDs
	// and delete records on Destroy and RegenerateID(true).
	ServerSide bool

	// ClockControlsExpiry is true when the store's own expiry follows
	// Options.Now (memory, file, cookie). A real Redis or Memcache expires
	// keys by real time: set it false and the suite leaves out (and lists in
	// its log) the scenarios that need the store to drop records when the
	// fake clock moves (idle timeouts, sliding refresh); Lifetime, which is
	// checked against the record's metadata, is still tested.
	ClockControlsExpiry bool

	// UserIndex is true for a storage that implements session.UserIndex when
	// Options.UserKey is set (every storage of session.NewBackendStorage:
	// implied with Backend): the per-user scenarios then run. False: one
	// scenario checks that the storage does not offer it.
	UserIndex bool

	// Locks is true for a storage that implements session.Locking (one of
	// session.NewBackendStorage over a session.Locker): the exclusive-
	// session scenarios then run. With Backend they run too, and check
	// that the storage implements session.Locking exactly when the
	// backend is a session.Locker.
	Locks bool

	// Count, optional (server-side only), returns how many records the
	// storage holds. It enables the checks that a read never creates a
	// record (T-FX1), that an anonymous request storm stores nothing
	// (T-MEM1) and that Destroy deletes. With Backend, a backend that has a
	// Len() int method counts by itself.
	Count func(t *testing.T, st session.Storage) int

	// Put, optional (server-side only), stores a raw record under id as
	// another program (Remix) would, with no expiry. It enables the Remix
	// interoperability and corrupt-record scenarios.
	Put func(t *testing.T, st session.Storage, id string, record []byte)

	// Get, optional (server-side only), returns the raw record stored under
	// id, and whether there is one. It enables the record-format checks and
	// the checks that an unchanged session is not rewritten.
	Get func(t *testing.T, st session.Storage, id string) ([]byte, bool)

	// backendOf returns the backend that Config.Backend made for a
	// storage (set by withBackend).
	backendOf func(session.Storage) session.Backend
}

// Request plays one request against st the way the session middleware does:
// Read with cookieValue ("" for no cookie), fn (if not nil) on the session,
// then Save. It returns the cookie the browser holds afterwards (the value
// Save set, "" when it expired the cookie, otherwise cookieValue unchanged)
// and whether a Set-Cookie was sent. Any error fails the test.
func Request(t testing.TB, st session.Storage, cookieValue string, fn func(*session.Session)) (newCookieValue string, set bool) {
	t.Helper()
	ctx := context.Background()
	s, err := st.Read(ctx, cookieValue)
	if err != nil {
		t.Fatalf("Read(%.40q): %v", cookieValue, err)
	}
	require(t, s != nil, "Read(%.40q) returned a nil session and no error", cookieValue)
	if fn != nil {
		fn(s)
	}
	value, set, err := st.Save(ctx, s)
	must(t, "Save", err)
	if !set {
		check(t, value == "", "Save returned value %.40q with set=false", value)
		return cookieValue, false
	}
	return value, true
}

// Run runs every scenario of the suite against the storage c describes, each
// as a subtest. Scenarios that do not apply to the kind of storage (server-
// side or not, Config.UserIndex, Config.Locks) are not run, and those that
// need what the Config does not give (ClockControlsExpiry, Put, Get) are
// listed in one log line instead of skipping.
func Run(t *testing.T, c Config) {
	t.Helper()
	if c.Backend != nil {
		c = c.withBackend(t)
	}
	require(t, c.New != nil, "sessiontest: Config.New and Config.Backend are nil")
	var omitted []string
	for _, sc := range scenarios {
		if !sc.appliesTo(c) {
			continue
		}
		if why := sc.missing(c); why != "" {
			omitted = append(omitted, sc.name+" ("+why+")")
			continue
		}
		t.Run(sc.name, func(t *testing.T) { sc.run(t, c) })
	}
	if len(omitted) > 0 {
		t.Logf("sessiontest: %d scenarios need what this Config does not give: %s", len(omitted), strings.Join(omitted, "; "))
	}
}

// appliesTo reports whether sc tests the kind of storage that c describes:
// whether the storage is all that sc requires it to be.
func (sc scenario) appliesTo(c Config) bool {
	backend := c.backendOf != nil
	for _, r := range []struct{ requires, is bool }{
		{sc.serverSide, c.ServerSide},
		{sc.cookieSide, !c.ServerSide},
		// With a Backend, the scenario checks that the storage is a
		// session.Locking exactly when the backend is a session.Locker.
		{sc.locks, c.Locks || backend},
		{sc.backend, backend},
		{sc.userIndex, c.UserIndex},
		{sc.noUserIndex, !c.UserIndex},
	} {
		if r.requires && !r.is {
			return false
		}
	}
	return true
}

// missing says what the scenario needs that c lacks, or "".
func (sc scenario) missing(c Config) string {
	switch {
	case sc.clock && !c.ClockControlsExpiry:
		return "the store's expiry does not follow Options.Now: Config.ClockControlsExpiry"
	case sc.put && c.Put == nil:
		return "Config.Put is nil"
	case sc.get && c.Get == nil:
		return "Config.Get is nil"
	}
	return ""
}

type scenario struct {
	name       string
	serverSide bool // only for server-side storages
	cookieSide bool // only for storages that keep the session in the cookie
	clock      bool // needs the store's expiry to follow the fake clock
	locks      bool // needs session.Locking (Config.Locks, or a Backend that may lock)
	backend    bool // tests the Backend itself (Config.Backend)
	put, get   bool // needs Config.Put / Config.Get
	userIndex  bool // needs a per-user index (Config.UserIndex)
	// noUserIndex: only for a storage without one
	noUserIndex bool
	run         func(t *testing.T, c Config)
}

// env is one scenario's storage with its clock and log capture. It remembers
// every session id it saw, and at the end of the test checks that none of
// them was logged (T-LOG1: ids are bearer credentials).
type env struct {
	t     *testing.T
	c     Config
	st    session.Storage
	clock *FakeClock
	logs  *Logs
	opts  session.Options

	mu  sync.Mutex
	ids map[string]bool
}

func newEnv(t *testing.T, c Config, configure func(*session.Options)) *env {
	t.Helper()
	e := &env{t: t, c: c, clock: NewFakeClock(time.Time{}), logs: NewLogs(), ids: map[string]bool{}}
	e.opts = session.Options{Now: e.clock.Now, Logger: e.logs.Logger()}
	if configure != nil {
		configure(&e.opts)
	}
	st, err := c.New(t, e.opts)
	must(t, "Config.New", err)
	require(t, st != nil, "Config.New returned nil")
	e.st = st
	t.Cleanup(e.checkLogs)
	return e
}

func (e *env) checkLogs() {
	logs := e.logs.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	for id := range e.ids {
		check(e.t, id == "" || !strings.Contains(logs, id), "T-LOG1: a raw session id %q appears in the logs:\n%s", id, logs)
	}
}

func (e *env) saw(ids ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range ids {
		e.ids[id] = true
	}
}

// req is Request that also remembers the session's ids for the log check.
func (e *env) req(cookie string, fn func(*session.Session)) (string, bool) {
	e.t.Helper()
	return Request(e.t, e.st, cookie, func(s *session.Session) {
		e.saw(s.ID())
		if fn != nil {
			fn(s)
		}
		e.saw(s.ID(), s.State().ReplacedID)
	})
}

// read reads the session cookie names without saving it.
func (e *env) read(cookie string) *session.Session {
	e.t.Helper()
	s, err := e.st.Read(context.Background(), cookie)
	must(e.t, "Read", err)
	require(e.t, s != nil, "Read returned a nil session and no error")
	e.saw(s.ID())
	return s
}

func (e *env) save(s *session.Session) (string, bool) {
	e.t.Helper()
	v, set, err := e.st.Save(context.Background(), s)
	must(e.t, "Save", err)
	e.saw(s.ID(), s.State().ReplacedID)
	return v, set
}

// canCount reports whether the scenario can count the stored records: with
// Config.Count, or a Config.Backend whose backend has a Len method (asked of
// the scenario's own backend, so the suite never builds one just to probe).
func (e *env) canCount() bool {
	if e.c.Count != nil {
		return true
	}
	if e.c.backendOf == nil {
		return false
	}
	_, ok := e.c.backendOf(e.st).(interface{ Len() int })
	return ok
}

func (e *env) count() int {
	e.t.Helper()
	if e.c.Count != nil {
		return e.c.Count(e.t, e.st)
	}
	return e.c.backendOf(e.st).(interface{ Len() int }).Len()
}

// incr is the Remix suites' request handler: count = count + 1.
func incr(s *session.Session) {
	n, _ := session.Value[int](s, "count")
	s.Set("count", n+1)
}

// countReq runs an incrementing request and returns the new cookie and the
// count the handler saw after incrementing.
func (e *env) countReq(cookie string, also func(*session.Session)) (string, int) {
	e.t.Helper()
	var n int
	v, set := e.req(cookie, func(s *session.Session) {
		if also != nil {
			also(s)
		}
		incr(s)
		n, _ = session.Value[int](s, "count")
	})
	require(e.t, set, "an incrementing request sent no Set-Cookie")
	return v, n
}

// countIs runs an incrementing request on cookie, checks that the count
// it saw is want, and returns the new cookie; what names the request.
func (e *env) countIs(what, cookie string, want int) string {
	e.t.Helper()
	v, n := e.countReq(cookie, nil)
	equal(e.t, what+": count", n, want)
	return v
}

// mustCount is countIs that stops the scenario on another count, when the
// rest of it builds on the session.
func (e *env) mustCount(what, cookie string, want int) string {
	e.t.Helper()
	v, n := e.countReq(cookie, nil)
	mustEqual(e.t, what+": count", n, want)
	return v
}

// wantRecords checks that n records are stored, when the scenario can
// count them; what says which.
func (e *env) wantRecords(what string, n int) {
	e.t.Helper()
	if e.canCount() {
		equal(e.t, what, e.count(), n)
	}
}

// wantNoRecord checks that no record is stored under id, when Config.Get
// can tell; failure describes the record that is.
func (e *env) wantNoRecord(id, failure string) {
	e.t.Helper()
	if e.c.Get == nil {
		return
	}
	_, ok := e.c.Get(e.t, e.st, id)
	check(e.t, !ok, "%s", failure)
}

// withBackend fills in New, Put and Get from c.Backend, keeping any hook c
// already has, and lets the scenarios count through the backend.
func (c Config) withBackend(t *testing.T) Config {
	var mu sync.Mutex
	backends := map[session.Storage]session.Backend{}
	backend := func(st session.Storage) session.Backend {
		mu.Lock()
		defer mu.Unlock()
		return backends[st]
	}
	newBackend := c.Backend
	if c.New == nil {
		c.New = func(t *testing.T, o session.Options) (session.Storage, error) {
			b := newBackend(t, o)
			st, err := session.NewBackendStorage(b, o)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			backends[st] = b
			mu.Unlock()
			return st, nil
		}
	}
	c.ServerSide, c.UserIndex = true, true
	ctx := context.Background()
	if c.Put == nil {
		c.Put = func(t *testing.T, st session.Storage, id string, rec []byte) {
			must(t, "Put", Overwrite(ctx, backend(st), id, rec))
		}
	}
	if c.Get == nil {
		c.Get = func(t *testing.T, st session.Storage, id string) ([]byte, bool) {
			b := backend(st)
			rec, _, err := b.Get(ctx, b.Key(id))
			return rec, err == nil
		}
	}
	c.backendOf = backend
	return c
}

// Overwrite stores rec as id's record with no expiry whatever is stored
// there, as another program (a Remix app's plain SET) would: over the
// version it reads, again if that changed meanwhile.
func Overwrite(ctx context.Context, b session.Backend, id string, rec []byte) error {
	key := b.Key(id)
	for {
		_, v, err := b.Get(ctx, key)
		if err != nil && !errors.Is(err, session.ErrNotFound) && !errors.Is(err, session.ErrCorruptRecord) {
			return err
		}
		_, err = b.Put(ctx, key, rec, 0, v)
		if !errors.Is(err, session.ErrConflict) {
			return err
		}
	}
}
