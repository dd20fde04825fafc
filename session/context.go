package session

import "context"

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

// NewContext returns a copy of ctx that carries s. The session middleware
// calls it once per request. It panics when ctx already carries a different
// session: a second session middleware, or a handler that swaps the session,
// would make one of the two sessions' changes silently vanish.
func NewContext(ctx context.Context, s *Session) context.Context {
	if old := FromContext(ctx); old != nil && old != s {
		panic("session: NewContext: the context already carries a session; refusing to replace it (is the session middleware installed twice?)")
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
func FromContext(ctx context.Context) *Session {
	if c, ok := ctx.(*sessionContext); ok {
		return c.s
	}
	s, _ := ctx.Value(contextKey{}).(*Session)
	return s
}
