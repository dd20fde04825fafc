package session

import (
	"context"
	"sync"
)

type contextKey struct{}

// sessionContext is the context that NewContext returns: its parent with
// the session. It lives inside the Session (Session.ctx), so that the
// context costs no allocation of its own, as context.WithValue's would; in
// turn a Session kept after its request keeps that request's context.
type sessionContext struct {
	context.Context
	s *Session
}

// Value returns the session for the package's key, and asks the parent for
// any other.
func (c *sessionContext) Value(key any) any {
	if key == (contextKey{}) {
		return c.s
	}
	return c.Context.Value(key)
}

// String names the context as context.WithValue's do, for debugging.
func (c *sessionContext) String() string {
	return "session.NewContext"
}

// errReplace is NewContext's panic for a context that carries a session.
const errReplace = "session: NewContext: the context already carries a session; refusing to replace it (is the session middleware installed twice?)"

// NewContext returns a copy of ctx that carries s. The session middleware
// calls it once per request. It panics when ctx already carries a different
// session: a second session middleware, or a handler that swaps the session,
// would make one of the two sessions' changes silently vanish.
func NewContext(ctx context.Context, s *Session) context.Context {
	if ctx.Value(pendingKey{}) != nil {
		panic(errReplace)
	}
	if old := FromContext(ctx); old != nil && old != s {
		panic(errReplace)
	}
	if s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ctx.s == nil {
			// The first context made for s is the one inside it;
			// any later one (rare: a second NewContext with the same
			// session) gets its own.
			s.ctx = sessionContext{Context: ctx, s: s}
			return &s.ctx
		}
	}
	return &sessionContext{Context: ctx, s: s}
}

// FromContext returns the session that NewContext put in ctx (the session
// middleware does so for every request), or nil when there is none: a
// handler that the middleware does not wrap. Every method of a nil *Session
// panics with a message that names the missing middleware, so the mistake
// shows on the first request with its cause, not as a nil dereference. (It
// returns nil rather than panicking itself so that a middleware can ask
// whether a session is already there.)
//
// When the session middleware has not loaded the session yet, FromContext
// loads it (see Pending); if that fails, it panics with *LoadError, which
// the middleware recovers to answer the request. Call it on the request's
// goroutine, or use Load.
func FromContext(ctx context.Context) *Session {
	switch c := ctx.(type) {
	case *sessionContext:
		return c.s
	case *pendingContext:
		return c.session()
	}
	s, _ := ctx.Value(contextKey{}).(*Session)
	return s
}

// Sessions loaded on first use. The session middleware does not read the
// session before the handler runs: it puts a Pending in the request's
// context, and the first FromContext (or Load) reads it from the storage.
// A request whose handler never asks for its session (a static file, a
// health check, an API call that needs none) costs no storage round trip.

// Loader loads a request's session (Pending.Context): the session
// middleware implements it, reading the session cookie's session from its
// storage.
type Loader interface {
	LoadSession() (*Session, error)
}

// LoadError is what FromContext panics with when the request's session
// could not be loaded (the storage failed, or did not answer in time). The
// session middleware recovers it and answers as it answers any failed read:
// 503 Service Unavailable with Retry-After when the storage did not answer
// in time, its error response otherwise. A handler that would rather handle
// the error itself calls Load.
type LoadError struct {
	Err error
}

// Error describes the failed load.
func (e *LoadError) Error() string { return "session: loading the session failed: " + e.Err.Error() }

// Unwrap returns the storage's error.
func (e *LoadError) Unwrap() error { return e.Err }

// Pending is a request's session that is loaded when a handler first asks
// for it. Its zero value is ready for one request: keep it in a value that
// lives as long as the request (the session middleware keeps it in its
// per-request state), so that it costs no allocation. It is safe for
// concurrent use.
type Pending struct {
	c pendingContext
}

// pendingKey is the context key under which a pendingContext answers with
// itself, so that InContext and Load find it without loading.
type pendingKey struct{}

// pendingContext is the context that Pending.Context returns.
type pendingContext struct {
	context.Context
	l Loader

	mu     sync.Mutex
	loaded bool
	s      *Session
	err    error
}

// Context returns a copy of parent that carries the session l loads the
// first time FromContext or Load asks ctx for it; later calls get the same
// session, or the same error. Call it once per Pending.
func (p *Pending) Context(parent context.Context, l Loader) context.Context {
	p.c.Context, p.c.l = parent, l
	return &p.c
}

// Session returns the session once it was loaded (or Resolve set it), and
// whether it was: false before, and after a failed load.
func (p *Pending) Session() (*Session, bool) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.c.s, p.c.loaded && p.c.err == nil
}

// Resolve sets the session of a Pending that was not loaded yet, as if its
// Loader had returned s, and reports whether it did: false when the
// session was loaded already. The session middleware's Exclusive uses it
// to hand the handler the session it read under the session's lock.
func (p *Pending) Resolve(s *Session) bool {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	if p.c.loaded {
		return false
	}
	p.c.loaded, p.c.s = true, s
	return true
}

// load returns the session, loading it on the first call.
func (c *pendingContext) load() (*Session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		c.s, c.err = c.l.LoadSession()
		c.loaded = true
	}
	return c.s, c.err
}

// session is load for FromContext: it panics with *LoadError on an error.
func (c *pendingContext) session() *Session {
	s, err := c.load()
	if err != nil {
		panic(&LoadError{Err: err})
	}
	return s
}

// Value returns the session for the package's key (loading it), itself for
// pendingKey, and asks the parent for any other key.
func (c *pendingContext) Value(key any) any {
	switch key {
	case contextKey{}:
		return c.session()
	case pendingKey{}:
		return c
	}
	return c.Context.Value(key)
}

// String names the context, for debugging.
func (c *pendingContext) String() string { return "session.Pending" }

// Load returns the request's session as FromContext does, loading it if
// nothing asked for it yet, but returns the load's error instead of
// panicking: (nil, nil) when ctx carries no session.
func Load(ctx context.Context) (*Session, error) {
	if c, ok := ctx.Value(pendingKey{}).(*pendingContext); ok {
		if _, err := c.load(); err != nil {
			return nil, err
		}
	}
	return FromContext(ctx), nil
}

// InContext reports whether ctx carries a session, loaded or not, without
// loading it: for a middleware that must not run inside another session
// middleware.
func InContext(ctx context.Context) bool {
	if ctx.Value(pendingKey{}) != nil {
		return true
	}
	switch c := ctx.(type) {
	case *sessionContext:
		return c.s != nil
	}
	s, _ := ctx.Value(contextKey{}).(*Session)
	return s != nil
}
