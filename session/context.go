package session

import "context"

type contextKey struct{}

// NewContext returns a copy of ctx that carries s. The session middleware
// calls it once per request. It panics when ctx already carries a different
// session: a second session middleware, or a handler that swaps the session,
// would make one of the two sessions' changes silently vanish.
func NewContext(ctx context.Context, s *Session) context.Context {
	if old := FromContext(ctx); old != nil && old != s {
		panic("session: NewContext: the context already carries a session; refusing to replace it (is the session middleware installed twice?)")
	}
	return context.WithValue(ctx, contextKey{}, s)
}

// FromContext returns the session that NewContext put in ctx (the session
// middleware does so for every request), or nil when there is none: a
// handler that the middleware does not wrap. Every method of a nil *Session
// panics with a message that names the missing middleware, so the mistake
// shows on the first request with its cause, not as a nil dereference. (It
// returns nil rather than panicking itself so that a middleware can ask
// whether a session is already there.)
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(contextKey{}).(*Session)
	return s
}
