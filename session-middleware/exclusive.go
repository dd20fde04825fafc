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
	// Negative durations are refused.
	Lock session.LockOptions
	// RetryAfter is the Retry-After of the 503 response to a request that
	// waited Lock.Wait in vain, rounded up to whole seconds; 0: 1 second.
	// A negative RetryAfter is refused.
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
// Redis, Memcache, PostgreSQL; not cookie storage, where the session travels
// in the cookie and no stored record exists to lock).
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
//     names, waiting at most o.Lock.Wait (within a grace window,
//     session.Options.RegenerateGrace, a cookie with an id that RegenerateID
//     replaced takes the lock of the new id too, so requests with the old and
//     the new cookie run one at a time). A request without a session value
//     has nothing stored that another request could change, and runs without
//     a lock. When the wait ends in vain (session.ErrLockTimeout), or the
//     storage does not answer within o.Lock.Wait plus the middleware's
//     StorageTimeout (the wait, then the try that finds the lock free; the
//     lock call's context has that deadline), it logs a warning and answers
//     503 Service Unavailable with Retry-After (o.RetryAfter in whole
//     seconds) and "Cache-Control: no-store", without running the handler and
//     without saving the session. Any other error (a storage that cannot
//     lock, a backend error, no session middleware outside) is logged and
//     goes to the middleware's ErrorHandler (of Options or TokenOptions; a
//     plain 500 without the middleware);
//  2. reads the session from the storage, now that no other request of
//     the session runs (a read past the StorageTimeout gets the same 503,
//     and frees the lock). Sessions load on first use, so this is the
//     request's only read, unless something before Exclusive asked for the
//     session: that copy may be stale, and the new session replaces it for
//     the rest of the request (session.FromContext in the handler and the
//     middleware's save see it). Changes made to it before Exclusive ran
//     are lost (and logged as a warning): put Exclusive before anything
//     that changes the session;
//  3. runs the handler, and frees the lock just after the session
//     middleware saved the session (at the handler's first WriteHeader,
//     Write, Flush, ReadFrom or Hijack, or after it returns), whether the
//     save worked or not, and when the handler panics. A release that
//     takes longer than the StorageTimeout goes on in the background while
//     the response goes out (logged as a warning); the lock ends at its
//     TTL at the latest.
//
// A lock is held for at most o.Lock.TTL: a handler that runs longer, with
// its response not started, loses it, and another request of the session
// may run; a process that dies holding a lock blocks its session that long
// (with Redis or Memcache; file storage frees it at once).
// Keep the TTL above the slowest locked request, and the Wait plus the
// StorageTimeout below the server's and the client's timeouts. Exclusive
// twice on one route locks once.
//
// Exclusive returns an error for a negative Lock.TTL, Lock.Wait or
// RetryAfter.
func Exclusive(o ExclusiveOptions) (func(http.Handler) http.Handler, error) {
	for _, d := range []struct {
		field string
		d     time.Duration
	}{{"Lock.TTL", o.Lock.TTL}, {"Lock.Wait", o.Lock.Wait}, {"RetryAfter", o.RetryAfter}} {
		if d.d < 0 {
			return nil, fmt.Errorf("sessionmiddleware: ExclusiveOptions.%s is negative (%v)", d.field, d.d)
		}
	}
	secs := int64(1)
	if o.RetryAfter > 0 {
		secs = int64((o.RetryAfter + time.Second - 1) / time.Second)
	}
	wait := o.Lock.Wait
	if wait == 0 {
		wait = session.DefaultLockWait
	}
	x := &exclusive{lock: o.Lock, wait: wait, retryAfter: strconv.FormatInt(secs, 10)}
	return x.wrap, nil
}

// exclusive is Exclusive's configuration.
type exclusive struct {
	lock       session.LockOptions
	wait       time.Duration // lock.Wait, or its default
	retryAfter string        // the Retry-After value: whole seconds
}

// wrap is the route middleware that Exclusive returns.
func (x *exclusive) wrap(next http.Handler) http.Handler {
	if next == nil {
		panic("sessionmiddleware: Exclusive: nil handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x.serve(w, r, next)
	})
}

func (x *exclusive) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rw := requestState(r.Context())
	switch {
	case rw == nil:
		slog.Default().ErrorContext(r.Context(), errNoMiddleware.Error(), "method", r.Method, "path", r.URL.Path)
		noStore(w.Header())
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	case rw.release != nil:
		// Exclusive twice on one route: the lock is held already.
		next.ServeHTTP(w, r)
	case rw.state != statePending:
		// Something between the session middleware and Exclusive started
		// the response: the session was saved already (or the request
		// failed), and the handler's changes cannot be saved anyway.
		rw.m.logger.ErrorContext(r.Context(), "sessionmiddleware: Exclusive: the response was started before Exclusive ran, so the session was already saved; the handler runs without the lock (put Exclusive before anything that writes the response)",
			"cookie", rw.m.name, "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r)
	default:
		x.lockAndServe(w, r, rw, next)
	}
}

// lockAndServe takes the lock of the request's session and runs next under
// it (see serveLocked); a request without a session value runs without the
// lock, since its session is new and no other request can change it.
func (x *exclusive) lockAndServe(w http.ResponseWriter, r *http.Request, rw *responseWriter, next http.Handler) {
	m := rw.m
	lk, ok := m.storage.(session.Locking)
	if !ok {
		err := fmt.Errorf("sessionmiddleware: Exclusive needs a session storage that can lock (session.Locking), and %T cannot; cookie storage cannot lock, since the session travels in the cookie and there is no stored record to lock: use a server-side storage (memory, file, Redis, Memcache, PostgreSQL) or drop Exclusive", m.storage)
		m.logger.ErrorContext(r.Context(), err.Error(), "cookie", m.name)
		rw.state = stateSkipped
		m.fail(w, r, err)
		return
	}
	if rw.in.Value == "" {
		next.ServeHTTP(w, r)
		return
	}
	release, err := m.lockSession(r.Context(), rw, lk, rw.in.Value, x.lock, x.wait)
	if err != nil {
		x.lockFailed(w, r, rw, err)
		return
	}
	if release == nil {
		release = func() {}
	}
	rw.release = release
	x.serveLocked(w, r, rw, next)
}

// lockFailed answers a request whose session's lock could not be taken,
// without running the handler or saving the session: 503 with Retry-After
// when another request held the lock too long or the storage did not
// answer in time, the middleware's error response for any other error.
func (x *exclusive) lockFailed(w http.ResponseWriter, r *http.Request, rw *responseWriter, err error) {
	m := rw.m
	rw.state = stateSkipped
	var msg string
	switch {
	case errors.Is(err, session.ErrLockTimeout):
		msg = "sessionmiddleware: Exclusive: the session's lock is held by another request; answered 503 Service Unavailable"
	case timedOut(err):
		msg = "sessionmiddleware: Exclusive: the session storage did not answer the lock in time; answered 503 Service Unavailable"
	default:
		m.logger.ErrorContext(r.Context(), "sessionmiddleware: Exclusive: locking the session failed", "cookie", m.name, "error", err)
		m.fail(w, r, err)
		return
	}
	m.logger.WarnContext(r.Context(), msg, "cookie", m.name, "method", r.Method, "path", r.URL.Path, "error", err)
	unavailable(w, x.retryAfter)
}

// serveLocked runs next, with rw holding the session's lock, on the session
// read again under the lock. The save frees the lock (rw.save); when the
// read fails, or next panics, which skips the save, serveLocked does.
func (x *exclusive) serveLocked(w http.ResponseWriter, r *http.Request, rw *responseWriter, next http.Handler) {
	returned := false
	defer func() {
		if !returned {
			rw.unlock()
		}
	}()
	m := rw.m
	ctx := r.Context()
	old := rw.s
	if old != nil && changedBefore(old) {
		m.logger.WarnContext(ctx, "sessionmiddleware: Exclusive: the session was changed before Exclusive ran; the change is lost, since Exclusive reads the session again under its lock (put Exclusive before anything that changes the session)",
			"cookie", m.name, "method", r.Method, "path", r.URL.Path)
	}
	fresh, err := m.read(ctx, rw, rw.in.Value)
	if err != nil {
		// Free the lock before the error response reaches the client,
		// whose next request may need it.
		rw.unlock()
		rw.state = stateSkipped
		if timedOut(err) {
			m.logger.WarnContext(ctx, "sessionmiddleware: Exclusive: the session storage did not answer the read under the lock in time; answered 503 Service Unavailable",
				"cookie", m.name, "method", r.Method, "path", r.URL.Path, "error", err)
			unavailable(w, x.retryAfter)
			return
		}
		m.logger.ErrorContext(ctx, "sessionmiddleware: Exclusive: reading the session again under its lock failed", "cookie", m.name, "error", err)
		m.fail(w, r, err)
		return
	}
	if !rw.pending.Resolve(fresh) {
		// Something before Exclusive loaded the session: the context
		// carries that one, which fresh replaces.
		r = r.WithContext(&replacedContext{Context: ctx, old: old, s: fresh})
	}
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
	switch st := s.State(); {
	case st.Destroyed:
		return true
	case !st.Dirty:
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
