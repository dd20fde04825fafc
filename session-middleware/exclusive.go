package sessionmiddleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// ExclusiveOptions configure Exclusive. The zero value is ready to use.
type ExclusiveOptions struct {
	// Lock is how long a request holds the session's lock at most (TTL;
	// 0: session.DefaultLockTTL, 30 s) and how long it waits for a lock
	// that another request holds (Wait; 0: session.DefaultLockWait, 5 s).
	Lock session.LockOptions
	// RetryAfter is the Retry-After of the 503 response to a request that
	// waited Lock.Wait in vain, rounded up to whole seconds; 0 (or less):
	// 1 second.
	RetryAfter time.Duration
}

// errNoMiddleware is reported when Exclusive runs without the session
// middleware outside it.
var errNoMiddleware = errors.New("sessionmiddleware: Exclusive found no session middleware in the request context; install the middleware of New or NewToken outside Exclusive (Exclusive is a route middleware that goes inside it)")

// Exclusive returns route middleware that makes the requests of one session
// run one at a time through the handlers it wraps, across the processes that
// share the storage: for a
// handler that reads a value of the session and writes it back (a counter, a
// cart), where of two concurrent requests the later save would win. It goes
// INSIDE the session middleware (New or NewToken), around the routes that
// need it, and needs a storage that can lock (session.Locking: memory, file,
// Redis, Memcache; not cookie storage, where the session travels in the
// cookie and no stored record exists to lock).
//
// Exclusive is off by default, and meant for few routes: every request that
// holds the lock makes the next request of the same user wait, and when
// every request locks, one slow request makes all of that user's requests
// queue behind it (the cascading timeouts that Laravel's and ASP.NET's
// locking sessions are known for). Without it, concurrent saves are merged
// (see session.NewBackendStorage), which keeps concurrent changes to
// different keys; only the read-modify-write of one key needs the lock.
//
// For each request Exclusive:
//
//  1. takes the lock of the session that the request's cookie (or token)
//     names, waiting at most o.Lock.Wait. A request without a session value
//     has nothing stored that another request could change, and runs
//     without a lock. When the wait ends in vain (session.ErrLockTimeout),
//     it logs a warning and answers 503 Service Unavailable with
//     Retry-After (o.RetryAfter in whole seconds) and
//     "Cache-Control: no-store", without running the handler and without
//     saving the session. Any other error (a storage that cannot lock, a
//     backend error, no session middleware outside) is logged and goes to
//     the middleware's Options.ErrorHandler (a plain 500 without the
//     middleware);
//  2. reads the session again from the storage, now that no other request
//     of the session runs: the one the session middleware read before the
//     lock may be stale. The new session replaces it for the rest of the
//     request: session.FromContext in the handler and the middleware's save
//     see it. Changes made to the session before Exclusive ran are lost
//     (and logged as a warning): put Exclusive before anything that changes
//     the session;
//  3. runs the handler, and frees the lock just after the session
//     middleware saved the session (at the handler's first WriteHeader,
//     Write, Flush, ReadFrom or Hijack, or after it returns), whether the
//     save worked or not, and when the handler panics.
//
// A lock is held for at most o.Lock.TTL: a handler that runs longer, with
// its response not started, loses it, and another request of the session
// may run; a process that dies holding a lock blocks its session that long
// (with Redis or Memcache; file storage frees it at once).
// Keep the TTL above the slowest locked request, and the Wait below the
// server's and the client's timeouts. Exclusive twice on one route locks
// once.
func Exclusive(o ExclusiveOptions) func(http.Handler) http.Handler {
	secs := int64(1)
	if o.RetryAfter > 0 {
		secs = int64((o.RetryAfter + time.Second - 1) / time.Second)
	}
	x := &exclusive{lock: o.Lock, retryAfter: strconv.FormatInt(secs, 10)}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("sessionmiddleware: Exclusive: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x.serve(w, r, next)
		})
	}
}

// exclusive is Exclusive's configuration.
type exclusive struct {
	lock       session.LockOptions
	retryAfter string // the Retry-After value: whole seconds
}

func (x *exclusive) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	ctx := r.Context()
	rw := requestState(ctx)
	if rw == nil {
		slog.Default().ErrorContext(ctx, errNoMiddleware.Error(), "method", r.Method, "path", r.URL.Path)
		h := w.Header()
		h["Cache-Control"] = []string{"no-store"}
		delete(h, "Expires")
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	m := rw.m
	switch {
	case rw.release != nil:
		// Exclusive twice on one route: the lock is held already.
		next.ServeHTTP(w, r)
		return
	case rw.state != statePending:
		// Something between the session middleware and Exclusive started
		// the response: the session was saved already (or the request
		// failed), and the handler's changes cannot be saved anyway.
		m.logger.ErrorContext(ctx, "sessionmiddleware: Exclusive: the response was started before Exclusive ran, so the session was already saved; the handler runs without the lock (put Exclusive before anything that writes the response)",
			"cookie", m.name, "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r)
		return
	}
	lk, ok := m.storage.(session.Locking)
	if !ok {
		err := fmt.Errorf("sessionmiddleware: Exclusive needs a session storage that can lock (session.Locking), and %T cannot; cookie storage cannot lock, since the session travels in the cookie and there is no stored record to lock: use a server-side storage (memory, file, Redis, Memcache) or drop Exclusive", m.storage)
		m.logger.ErrorContext(ctx, err.Error(), "cookie", m.name)
		rw.state = stateSkipped
		m.fail(w, r, err)
		return
	}
	if rw.in.Value == "" {
		// No session value: the session is new, and no other request can
		// change what it holds.
		next.ServeHTTP(w, r)
		return
	}
	release, err := lk.Lock(ctx, rw.in.Value, x.lock)
	if err != nil {
		rw.state = stateSkipped
		if errors.Is(err, session.ErrLockTimeout) {
			m.logger.WarnContext(ctx, "sessionmiddleware: Exclusive: the session's lock is held by another request; answered 503 Service Unavailable",
				"cookie", m.name, "method", r.Method, "path", r.URL.Path, "error", err)
			h := w.Header()
			h.Set("Retry-After", x.retryAfter)
			h["Cache-Control"] = []string{"no-store"}
			delete(h, "Expires")
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
			return
		}
		m.logger.ErrorContext(ctx, "sessionmiddleware: Exclusive: locking the session failed", "cookie", m.name, "error", err)
		m.fail(w, r, err)
		return
	}
	if release == nil {
		release = func() {}
	}
	rw.release = release
	// From here the lock is freed by the save (rw.save), or below when
	// the handler panics (or an error ends the request).
	returned := false
	defer func() {
		if !returned {
			rw.unlock()
		}
	}()

	old := rw.s
	if changedBefore(old) {
		m.logger.WarnContext(ctx, "sessionmiddleware: Exclusive: the session was changed before Exclusive ran; the change is lost, since Exclusive reads the session again under its lock (put Exclusive before anything that changes the session)",
			"cookie", m.name, "method", r.Method, "path", r.URL.Path)
	}
	fresh, err := m.storage.Read(ctx, rw.in.Value)
	if err == nil && fresh == nil {
		err = errors.New("sessionmiddleware: the storage returned no session and no error")
	}
	if err != nil {
		rw.unlock()
		m.logger.ErrorContext(ctx, "sessionmiddleware: Exclusive: reading the session again under its lock failed", "cookie", m.name, "error", err)
		rw.state = stateSkipped
		m.fail(w, r, err)
		returned = true
		return
	}
	if m.persistByDefault {
		fresh.PersistByDefault(true)
	}
	r = r.WithContext(&replacedContext{Context: ctx, old: old, s: fresh})
	rw.s, rw.r = fresh, r
	next.ServeHTTP(w, r)
	returned = true
}

// changedBefore reports whether s, as the session middleware read it, was
// changed since: changes that reading it again drops. Dirty alone cannot
// tell, since flash values loaded with a session make it dirty too (its
// save clears them). A dirty session counts as changed when it shows no
// loaded flash (Len counts no more keys than it has values) or holds flash
// set in this request; so a change to a session that carries flash from the
// previous request may go unreported.
func changedBefore(s *session.Session) bool {
	if s.Destroyed() {
		return true
	}
	if !s.Dirty() {
		return false
	}
	// Reading s marks it accessed; it is dropped anyway.
	d := s.Data()
	return len(d.Flash) > 0 || s.Len() == len(d.Values)
}

// replacedContext is the request's context once Exclusive read the session
// again: its parent, with the new session s wherever the parent carries the
// old one (session.FromContext finds s). session.NewContext cannot be
// used: it refuses to replace a session.
type replacedContext struct {
	context.Context
	old, s *session.Session
}

// Value returns the parent's value for key, or s for the old session.
func (c *replacedContext) Value(key any) any {
	v := c.Context.Value(key)
	if s, ok := v.(*session.Session); ok && s == c.old {
		return c.s
	}
	return v
}

// String names the context, as context.WithValue's do, for debugging.
func (c *replacedContext) String() string { return "sessionmiddleware.Exclusive" }
