// Package sessionmiddleware gives every request its session, loaded from
// the storage when a handler first asks for it (session.FromContext), and
// saves it just before the response headers go out, for any net/http
// handler. A request whose handler never asks costs no storage call.
//
// A session needs a signed cookie (package cookie) to carry its id or
// payload, and a session.Storage to keep it, here a memory storage (package
// session/memorystorage):
//
//	sessionCookie, err := cookie.New("__Host-session", cookie.Options{
//		Secure:  true,
//		Secrets: []string{os.Getenv("SESSION_SECRET")}, // 32+ random bytes
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	storage, err := memorystorage.New(memorystorage.Options{
//		Session: session.Options{IdleTimeout: 30 * time.Minute},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	withSession, err := sessionmiddleware.New(sessionCookie, storage, sessionmiddleware.Options{})
//	if err != nil {
//		log.Fatal(err) // an unsigned cookie, a nil storage
//	}
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
//		s := session.FromContext(r.Context())
//		n, _ := session.Value[int](s, "count")
//		s.Set("count", n+1)
//		fmt.Fprintf(w, "Count: %d", n+1)
//	})
//	log.Fatal(http.ListenAndServe(":8080", withSession(mux)))
//
// Handlers find the session with session.FromContext. Logging in, a handler
// calls RegenerateID(true) so that an id planted before the login is worth
// nothing afterwards; logging out, it calls Destroy, and may then Flash a
// message, which starts a fresh session for the next page:
//
//	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
//		s := session.FromContext(r.Context())
//		if !checkPassword(r.FormValue("user"), r.FormValue("password")) {
//			s.Flash("error", "Invalid user or password")
//			http.Redirect(w, r, "/login", http.StatusSeeOther)
//			return
//		}
//		s.RegenerateID(true)
//		s.Set("user", r.FormValue("user"))
//		http.Redirect(w, r, "/", http.StatusSeeOther)
//	})
//	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
//		s := session.FromContext(r.Context())
//		s.Destroy()
//		s.Flash("message", "You are logged out")
//		http.Redirect(w, r, "/", http.StatusSeeOther)
//	})
//
// # When the session is saved
//
// The middleware saves the session at the first WriteHeader, Write, Flush,
// ReadFrom or Hijack of the handler, or after the handler returns if it wrote
// nothing: the last moment a Set-Cookie header can still be sent. Change the
// session before writing the response. A change made later cannot reach the
// client and is lost; the middleware logs a warning when it sees one.
//
// A session that was not changed is not written and gets no Set-Cookie, not
// even on a first visit. A destroyed session gets a Set-Cookie that deletes
// the cookie (Max-Age=0 and an Expires in the past).
//
// # Remember me
//
// With the cookie's MaxAge left at 0, a session's cookie has no Max-Age and
// no Expires: it lasts for the browser session. A handler makes a session
// persistent with Session.Persist(true) (a "Remember me" checkbox); its
// cookie then carries Max-Age = the time the server leaves the session
// (Session.ExpiresIn: the smaller of the idle timeout and the lifetime left,
// in whole seconds rounded down, at least 1), and is sent again whenever a
// sliding refresh extends the session, at the same throttled cadence. For
// server-side storages a refresh of a persistent session sends a
// Set-Cookie; a refresh of another session still sends none. With a cookie
// MaxAge above 0, sessions start persistent (Session.PersistByDefault) and
// Persist(false) opts one out, and Max-Age is at most MaxAge. With no
// server-side limit at all, a persistent cookie's Max-Age is the cookie's
// MaxAge, or 400 days without one.
//
// # Tokens
//
// NewToken carries the same sessions in headers, for API clients without a
// cookie jar: "Authorization: Bearer <token>" in, "Session-Token" out (only
// when the token changes; empty after Destroy). It never reads or sets
// cookies. A forged, expired or unknown token is a fresh session; ids the
// store does not know are never adopted. See NewToken and TokenOptions.
//
// # Caches
//
// When the session cookie is set, the response gets one Set-Cookie for it,
// added after any the handler set, "Vary: Cookie", and
// `Cache-Control: no-cache="Set-Cookie"` (appended to the handler's
// Cache-Control), so that no shared cache hands one user's cookie to
// another. Such a response must not be stored by a shared cache at all, so a
// "public" in the handler's Cache-Control becomes "private", and "private"
// is added to one with "s-maxage"; max-age and the other directives stay,
// for the browser's own cache. A response gets "Vary: Cookie" without a
// Set-Cookie too when the request carried a valid session cookie or the
// handler read the session (Get, Has, Value, Len or Data; see
// session.State.Accessed), even for a visitor without a cookie: the page
// may show that session (a name, a flash message, "not signed in"). The
// middleware never writes into the handler's header slices, which a handler
// may share between requests: it adds to copies.
//
// # Secret rotation
//
// A session cookie that verifies with an older secret (cookie.Options.Secrets
// past the first) is signed again with Secrets[0] on the next response, as a
// Set-Cookie with the same value, even when the handler only reads the
// session. Once every active client has made a request, the old secret can be
// removed without logging anyone out. A secret that leaked must be removed at
// once instead: while it verifies, a cookie forged with it is accepted, and
// re-signed.
//
// # Cookie storage
//
// With cookie storage (package session/cookiestorage), the whole session
// travels in the cookie, and the storage must know that cookie. New tells it
// (session.CookieBinder): sealed payloads are bound to the cookie's name,
// and the size check counts the cookie's own encoding and signature exactly,
// so an oversized session is found by the storage. New returns an error, at
// start-up rather than as a 500 on every request, when sealed cookie storage
// (cookiestorage.Options.Keys) meets a cookie in the cookie.Remix format,
// which carries only text; when cookiestorage.Options.CookieName names
// another cookie; and when the storage already serves another cookie.
//
// # Exclusive sessions
//
// Concurrent requests of one session each save their changes, and saves are
// merged, so changes to different keys are kept; the read-modify-write of
// one key (a counter, a cart) is not: both requests read 3 and write 4.
// Exclusive, route middleware placed inside the session middleware around
// such routes, makes the requests of one session run one at a time there,
// with the storage's lock (session.Locking; cookie storage cannot lock). It
// is off by default, and meant for few routes: every locked request of a
// user waits for the previous one, and when every request locks, one slow
// request makes all of that user's requests queue behind it. A request that
// waits longer than its Lock.Wait gets 503 Service Unavailable with
// Retry-After, as does one whose storage does not answer the lock within
// Lock.Wait plus the storage timeout. See Exclusive.
//
// # Devices and re-authentication
//
// Every session the middleware loads is told its client before the handler
// sees it (session.Session.SetClient): the request's User-Agent and the
// address of r.RemoteAddr, or the one Options.ClientAddr returns behind a
// proxy you run. The storage keeps their summary (session.SessionInfo's
// Device and Network, which session.UserIndex lists) with writes that
// happen anyway; a request that only reads its session pays nothing for it.
//
// RequireRecentAuth is route middleware for the actions that need a recent
// sign-in (changing the password): a session whose user did not prove who
// they are within the bound (session.Session.MarkAuthenticated) is sent to
// the sign-in form, or answered 401 on an API call. The sign-in handler
// sends the user back with SafeReturnPath, which keeps the redirect on the
// site.
//
// A sign-in that the storage refuses because the user has as many sessions
// as session.Options.MaxUserSessions allows (session.LimitRefuse) is
// answered "409 Conflict" unless Options.ErrorHandler is set.
//
// # Timeouts
//
// A storage whose server is paused (SIGSTOP, a long garbage collection, a
// failover) answers nothing, and a request that waits for it holds a server
// slot for as long. Options.StorageTimeout (DefaultStorageTimeout, 2 s,
// when 0; negative: no bound) bounds each storage call of a request: the
// read when a handler first asks for the session, the save before the
// headers go out, and
// Exclusive's lock and its release. The call gets the request's context
// with that deadline, or with the request's own deadline when it comes
// first (http.TimeoutHandler, a server's BaseContext).
//
// By default the call runs on the request's goroutine, which costs
// nothing more than the deadline, and the bound holds as far as the
// storage honours its context. Every sessionkit storage does: Redis ends
// a command at the deadline with ContextTimeoutEnabled (without it, a done
// context fails a call before a command is sent, and a command under way
// ends at the client's ReadTimeout or WriteTimeout, up to 3 s past the
// deadline with go-redis's defaults); PostgreSQL (pgx) ends a statement,
// and a wait for a pooled connection, when the context ends; Memcache
// checks the context before each command, and its client's Timeout
// (500 ms by default) bounds the command under way, so its call may end
// up to that Timeout past the deadline; memory and file storage do no
// network I/O. A storage that ignores its context (a custom one, file
// storage on a network filesystem that hangs) holds the request until it
// returns. Options.AbandonLateCalls runs each call on a worker goroutine
// instead, for a few microseconds more per call, and stops waiting at the
// deadline whatever the storage does; a late call is left to finish in
// the background, its result dropped (a lock it took late is freed), and
// past 1000 of them per middleware requests are answered at once without
// calling the storage. The release of Exclusive's lock takes no context,
// and always runs that way.
//
// A call past its deadline, or that failed at it, is answered
// "503 Service Unavailable" with "Retry-After: 1" and
// "Cache-Control: no-store", and a warning is logged; ErrorHandler is not
// called. The user is not signed out: the client keeps its cookie (or
// token), and its next request reads the same session. A read past the
// deadline runs no handler. A save past it comes after the handler ran,
// before anything was sent: the handler's response is replaced by the 503
// as a failed save's is, and what the handler did (a form's order placed)
// stays done; the session's changes may or may not be stored, since the
// storage may still complete the save. Cookie storage (a
// session.CookieBinder) asks no server and is called without a bound.
//
// # Errors
//
// A storage that cannot read or save a session (a database that is down, a
// cookie that grew too large) fails the request closed: the middleware logs
// the error and calls Options.ErrorHandler, by default a plain 500 (409 for a
// sign-in refused with session.ErrUserLimit), and sends no session cookie. It never carries on with an empty session, which would
// log the user out. A storage that does not answer in time gets a 503
// instead (see Timeouts). The error response is sent with
// "Cache-Control: no-store" and without Expires, so that no cache keeps it.
// When saving fails, the handler's response is discarded and replaced by the
// error response, without the handler's Set-Cookie lines (a remember-me
// cookie must not go out with a failed request; cookies set by middleware
// outside, before the session middleware ran, stay) or its body headers.
//
// A session too large for its cookie gives an error for which
// errors.Is(err, session.ErrTooLarge) holds, whether cookie storage's size
// check or cookie.Serialize found it; errors.Is(err, cookie.ErrTooLarge)
// holds too in the second case.
//
// A handler that panics propagates its panic (the middleware does not
// recover); the session is not saved unless the handler had already started
// its response.
//
// # The response writer
//
// Handlers get a wrapped http.ResponseWriter that implements http.Flusher,
// http.Hijacker, io.ReaderFrom and Unwrap, so streaming, WebSocket upgrades,
// sendfile and http.ResponseController (FlushError, SetWriteDeadline,
// SetReadDeadline, EnableFullDuplex) keep working. Flush and Hijack on an
// underlying writer that cannot do them return an error wrapping
// http.ErrNotSupported.
package sessionmiddleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// Options configure the middleware. The zero value is ready to use.
type Options struct {
	// ErrorHandler writes the response when the session cannot be read or
	// saved (the storage failed, the cookie is too large, a sign-in was
	// refused) or the middleware is installed twice. The error has already
	// been logged. nil: a plain "500 Internal Server Error" that reveals
	// nothing about the cause; but a save that signs a user in past
	// session.Options.MaxUserSessions under session.LimitRefuse (an error
	// for which errors.Is(err, session.ErrUserLimit) holds) gets a plain
	// "409 Conflict" with "too many sessions for this user": the user can
	// sign out elsewhere and try again. An ErrorHandler that wants its own
	// page for that case checks errors.Is(err, session.ErrUserLimit).
	//
	// Before ErrorHandler runs, the middleware sets
	// "Cache-Control: no-store" and removes Expires, so that no cache keeps
	// the error response; ErrorHandler may set its own. When saving fails,
	// the handler has already run and may have set headers; the middleware
	// also removes the Set-Cookie lines the handler added and those that
	// describe the handler's body (Content-Type, Content-Length, Location,
	// ETag and the like, but not Content-Encoding, which a compressing
	// middleware may own), and discards what the handler writes afterwards.
	ErrorHandler func(http.ResponseWriter, *http.Request, error)

	// Logger receives storage errors, weak-secret and HttpOnly warnings,
	// and session changes made too late to be saved. nil: slog.Default().
	Logger *slog.Logger

	// AllowScriptAccess sends the session cookie without HttpOnly, so that
	// client-side JavaScript can read it, and logs a warning at New. Off by
	// default: HttpOnly keeps a cross-site scripting bug from stealing the
	// session. The middleware always sends HttpOnly unless this is set,
	// whatever the cookie's own HTTPOnly option says.
	AllowScriptAccess bool

	// StorageTimeout bounds each storage call of a request: reading the
	// session when a handler first asks for it, saving it before the
	// headers go out, and Exclusive's lock and its release. 0: DefaultStorageTimeout
	// (2 s); negative: no bound (the storage gets the request's context
	// as it is). See "Timeouts" in the package documentation.
	//
	// The call runs on the request's goroutine and gets the request's
	// context with a deadline StorageTimeout away, or the request's own
	// when that comes first. A storage that honours its context (every
	// sessionkit storage: see "Timeouts") returns there, and the request
	// is answered "503 Service Unavailable" with "Retry-After: 1" and
	// "Cache-Control: no-store", never with an empty session: a read past
	// the deadline runs no handler, a save past it replaces the handler's
	// response, as a failed save does. A storage that ignores its context
	// holds the request until it returns; see AbandonLateCalls.
	// Exclusive's lock call waits Lock.Wait plus StorageTimeout at most.
	// Cookie storage (a session.CookieBinder), which asks no server, is
	// called without a bound.
	StorageTimeout time.Duration

	// AbandonLateCalls makes the request stop waiting at the
	// StorageTimeout deadline also for a storage that ignores its context
	// (a custom one, file storage on a network filesystem): each storage
	// call runs on a pooled worker goroutine, and a call that outlives
	// its deadline is left to finish there, its result dropped (a lock it
	// took late is freed), while the request gets the 503. Past 1000
	// such calls still running, requests are answered 503 at once
	// without calling the storage. The hand-off costs a few microseconds
	// per call, as much as a whole request on memory storage; off by
	// default, since every sessionkit storage honours its context. No
	// effect with a negative StorageTimeout or cookie storage.
	AbandonLateCalls bool

	// ClientAddr returns the address of the request's client, which every
	// session the middleware loads is told (session.Session.SetClient,
	// with the User-Agent) so that the storage can list the network each
	// session was last used from (session.SessionInfo.Network). nil: the
	// peer of the connection, from r.RemoteAddr ("ip:port", or a bare
	// address); the zero netip.Addr, no network, when it is neither.
	//
	// Behind a reverse proxy or a load balancer, that peer is the proxy:
	// set ClientAddr to read the address the proxy reports, such as the
	// last address of X-Forwarded-For, the one your proxy appended. Trust
	// such a header only from a proxy you run, which every request passes
	// through: a client can send any X-Forwarded-For, and without that
	// proxy the header names whatever address the client chose. ClientAddr
	// runs on the request's goroutine, once for each session loaded.
	ClientAddr func(*http.Request) netip.Addr
}

// errNested is reported when a request reaches the middleware with a
// session already in its context.
var errNested = errors.New("sessionmiddleware: a session is already in the request context; is the middleware installed twice?")

// middleware is the state shared by every request: New's cookie middleware
// and NewToken's token middleware differ only in their carrier and header
// names.
type middleware struct {
	carrier      carrier
	storage      session.Storage
	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger
	name         string // the cookie's name, for logs
	// persistByDefault: sessions start persistent (the cookie has a
	// MaxAge); see session.Session.PersistByDefault.
	persistByDefault bool
	// out is the response header that carries the value (Set-Cookie,
	// Session-Token); replaceOut: the middleware owns it, so a value the
	// handler set is replaced rather than added to.
	out        string
	replaceOut bool
	// vary is the request header that carries the value, for Vary.
	vary string
	// noCache tells shared caches not to hand out header out
	// (no-cache="Set-Cookie").
	noCache string
	// timeout bounds each storage call (Options.StorageTimeout); -1:
	// none.
	timeout time.Duration
	// abandon runs the calls on workers, and stops waiting for them at
	// the deadline (Options.AbandonLateCalls).
	abandon bool
	// late counts the storage calls that outlived their deadline and
	// still run (see maxLateCalls).
	late atomic.Int64
	// clientAddr is Options.ClientAddr (nil: r.RemoteAddr).
	clientAddr func(*http.Request) netip.Addr
}

// carrier is how the session's value travels between client and server: in
// a cookie (New) or in a request and a response header (NewToken).
type carrier interface {
	// read returns what the request carries.
	read(r *http.Request) incoming
	// line returns the value of the response header that hands the client
	// value, or that takes the value away when value is "" (the session
	// was destroyed); send is false when no header is to be sent. in is
	// what the request carried.
	line(s *session.Session, value string, in incoming) (line string, send bool, err error)
}

// incoming is the session value a request carried: Value is the verified
// value ("" when there was none, or it was forged or undecodable), Secret
// the index of the secret that verified it (-1: none; above 0, an older
// secret signed it and the value is sent again, signed with Secrets[0]).
// For a cookie, the Received also keeps the signature it came with, so
// that sending the same value back (a server-side session keeps its id)
// reuses it (cookie.SerializeReceived).
type incoming struct {
	cookie.Received
	// varies: the response depends on what the request carried, so it
	// gets Vary even when it sends no value.
	varies bool
}

// minSecretLen is the shortest secret New accepts without a warning: 256
// bits, the size of the HMAC-SHA256 key.
const minSecretLen = 32

// maxCookieAge is the Max-Age of a persistent session's cookie when neither
// the server nor the cookie limits the session: 400 days, the longest that
// browsers keep a cookie.
const maxCookieAge = 400 * 24 * 60 * 60

// New returns middleware that gives every request a session, read from
// storage s by the value of cookie c, and saves it before the response
// headers are sent (see the package documentation).
//
// New refuses a nil cookie or storage, and a cookie without secrets: an
// unsigned session cookie would let a client pick any session id or, with
// cookie storage, write its own session. It refuses a cookie with
// Options.Expires, a fixed date that no session's lifetime follows, and one
// with a negative Options.MaxAge, which would delete the session cookie at
// once (see "Remember me" in the package documentation for MaxAge). The
// session cookie is sent with c's attributes (Domain, Path, Secure,
// SameSite, Partitioned) and always HttpOnly unless o.AllowScriptAccess is
// set; its Max-Age is the session's, as the package documentation says. New
// logs a warning for a secret shorter than 32 bytes.
//
// When s is a session.CookieBinder (cookie storage), New binds it to the
// session cookie and returns its error: sealed cookie storage with the
// cookie.Remix format, a cookiestorage.Options.CookieName that names another
// cookie, a storage already bound to another cookie.
func New(c *cookie.Cookie, s session.Storage, o Options) (func(http.Handler) http.Handler, error) {
	logger, err := check(c, s, o.Logger, "session cookie")
	if err != nil {
		return nil, err
	}
	sc, err := sessionCookie(c, o.AllowScriptAccess, logger)
	if err != nil {
		return nil, err
	}
	if err := bind(sc, s); err != nil {
		return nil, err
	}
	maxAge := c.Options().MaxAge
	m := &middleware{
		carrier:          &cookieCarrier{cookie: sc, maxAge: maxAge},
		storage:          s,
		errorHandler:     o.ErrorHandler,
		logger:           logger,
		name:             c.Name(),
		persistByDefault: maxAge > 0,
		out:              "Set-Cookie",
		vary:             "Cookie",
		noCache:          noCacheSetCookie,
		timeout:          storageTimeout(o.StorageTimeout, s),
		abandon:          o.AbandonLateCalls,
		clientAddr:       o.ClientAddr,
	}
	return m.wrap, nil
}

// sessionCookie returns the cookie that New sends: c, HttpOnly unless
// allowScript is set (then with a warning). It refuses an Expires and a
// negative MaxAge, which no session's lifetime could follow.
func sessionCookie(c *cookie.Cookie, allowScript bool, logger *slog.Logger) (*cookie.Cookie, error) {
	opts := c.Options()
	switch {
	case !opts.Expires.IsZero():
		return nil, fmt.Errorf("sessionmiddleware: session cookie %q: cookie.Options.Expires is a fixed date, which no session's lifetime follows; leave it zero and set MaxAge for persistent sessions, or call Session.Persist", c.Name())
	case opts.MaxAge < 0:
		return nil, fmt.Errorf("sessionmiddleware: session cookie %q: cookie.Options.MaxAge %d would delete the cookie at once; use 0 (a browser-session cookie unless the session is persistent) or a number of seconds", c.Name(), opts.MaxAge)
	}
	opts.HTTPOnly = !allowScript
	if allowScript {
		logger.Warn(fmt.Sprintf("sessionmiddleware: session cookie %q is sent without HttpOnly (Options.AllowScriptAccess) and may be accessible to client-side JavaScript", c.Name()),
			"cookie", c.Name())
	}
	derived, err := cookie.New(c.Name(), opts)
	if err != nil {
		// c was valid with the same options, so this cannot happen.
		return nil, fmt.Errorf("sessionmiddleware: %w", err)
	}
	return derived, nil
}

// check refuses a nil cookie or storage and an unsigned cookie, and warns
// about short secrets; what names the cookie's role in errors. It returns
// the logger to use: logger, or slog.Default() for nil.
func check(c *cookie.Cookie, s session.Storage, logger *slog.Logger, what string) (*slog.Logger, error) {
	switch {
	case c == nil:
		return nil, fmt.Errorf("sessionmiddleware: the %s is nil", what)
	case s == nil:
		return nil, errors.New("sessionmiddleware: the session storage is nil")
	case !c.Signed():
		return nil, fmt.Errorf("sessionmiddleware: the %s must be signed (cookie.Options.Secrets)", what)
	}
	if logger == nil {
		logger = slog.Default()
	}
	warnShortSecrets(logger, c, what)
	return logger, nil
}

// warnShortSecrets logs a warning for each of c's secrets that is shorter
// than the HMAC key: easier to guess than the signature it makes.
func warnShortSecrets(logger *slog.Logger, c *cookie.Cookie, what string) {
	for i, secret := range c.Options().Secrets {
		if len(secret) < minSecretLen {
			// Never log the secret itself, only where it is.
			logger.Warn(fmt.Sprintf("sessionmiddleware: %s %q: secret %d is shorter than %d bytes; use %d or more random bytes", what, c.Name(), i, minSecretLen, minSecretLen),
				"cookie", c.Name(), "secret_index", i, "secret_len", len(secret))
		}
	}
}

// bind tells a session.CookieBinder (cookie storage) which cookie carries
// its values, and returns its refusal.
func bind(c *cookie.Cookie, s session.Storage) error {
	b, ok := s.(session.CookieBinder)
	if !ok {
		return nil
	}
	err := b.BindCookie(session.CookieInfo{
		Name:     c.Name(),
		Size:     c.EncodedSize,
		TextOnly: c.Options().Format == cookie.Remix,
	})
	if err != nil {
		return fmt.Errorf("sessionmiddleware: %w", err)
	}
	return nil
}

// wrap is the middleware itself: func(http.Handler) http.Handler.
func (m *middleware) wrap(next http.Handler) http.Handler {
	if next == nil {
		panic("sessionmiddleware: nil handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(w, r, next)
	})
}

func (m *middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	ctx := r.Context()
	if session.InContext(ctx) {
		m.logger.ErrorContext(ctx, errNested.Error(), "cookie", m.name)
		m.fail(w, r, errNested)
		return
	}
	rw := &responseWriter{w: w, m: m, in: m.carrier.read(r)}
	rw.outerCookies = slices.Clip(w.Header()["Set-Cookie"])
	// The request's context carries rw for Exclusive, and the session,
	// which the first session.FromContext loads (rw.LoadSession): both
	// live in rw, so that they cost no allocation.
	rw.ctx = stateContext{Context: ctx, rw: rw}
	r = r.WithContext(rw.pending.Context(&rw.ctx, rw))
	rw.r = r
	rw.serveHandler(next, r)
	// Reached only when the handler returned: a panic skips the save.
	rw.finish()
}

// LoadSession implements session.Loader: it reads the request's session,
// the first time a handler asks for it (session.FromContext), within the
// storage timeout, on the middleware's context of the request.
func (rw *responseWriter) LoadSession() (*session.Session, error) {
	s, err := rw.m.read(rw.ctx.Context, rw, rw.in.Value)
	if err != nil {
		return nil, err
	}
	rw.s = s
	return s, nil
}

// serveHandler runs next. A session that could not be loaded makes
// session.FromContext panic with *session.LoadError: serveHandler answers
// it as a failed read, 503 with Retry-After when the storage did not answer
// in time, the error response otherwise. Any other panic goes on.
func (rw *responseWriter) serveHandler(next http.Handler, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			le, ok := v.(*session.LoadError)
			if !ok {
				panic(v)
			}
			rw.loadFailed(le.Err)
		}
	}()
	next.ServeHTTP(rw, r)
}

// errNoSession is reported for a storage that returned neither a session
// nor an error: a bug in the storage, which must not become a nil-pointer
// panic in a handler.
var errNoSession = errors.New("sessionmiddleware: the storage returned no session and no error")

// read returns the session that value names, as the storage reads it
// (within the storage timeout), with the middleware's default for
// persistence and the facts of the request's client (client.go). Every
// session the middleware loads comes through here: LoadSession's, and
// Exclusive's under the lock.
func (m *middleware) read(ctx context.Context, rw *responseWriter, value string) (*session.Session, error) {
	s, err := m.readSession(ctx, rw, value)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return nil, errNoSession
	}
	if m.persistByDefault {
		s.PersistByDefault(true)
	}
	m.setClient(s, rw.r)
	return s, nil
}

// stateKey is the context key under which a request's context carries its
// *responseWriter, the middleware's state of the request, for Exclusive.
type stateKey struct{}

// stateContext is the context that carries a request's *responseWriter. It
// lives inside the responseWriter (rw.ctx), so that it costs no allocation,
// as context.WithValue's would. The session's context (session.NewContext)
// wraps it, so that session.FromContext still finds the session first.
type stateContext struct {
	context.Context
	rw *responseWriter
}

// Value returns the request's *responseWriter for stateKey, and asks the
// parent for any other key.
func (c *stateContext) Value(key any) any {
	if key == (stateKey{}) {
		return c.rw
	}
	return c.Context.Value(key)
}

// String names the context, as context.WithValue's do, for debugging.
func (c *stateContext) String() string { return "sessionmiddleware.state" }

// requestState returns the state the session middleware keeps for the
// request whose context is ctx, or nil when no session middleware runs
// outside.
func requestState(ctx context.Context) *responseWriter {
	rw, _ := ctx.Value(stateKey{}).(*responseWriter)
	return rw
}

// readFailed answers a request whose session could not be read: 503 with
// Retry-After retryAfter when the storage did not answer in time, the error
// response otherwise.
func (m *middleware) readFailed(w http.ResponseWriter, r *http.Request, err error, retryAfter string) {
	ctx := r.Context()
	if timedOut(err) {
		m.logger.WarnContext(ctx, "sessionmiddleware: the session storage did not answer the read in time; answered 503 Service Unavailable",
			"cookie", m.name, "method", r.Method, "path", r.URL.Path, "error", err)
		unavailable(w, retryAfter)
		return
	}
	m.logger.ErrorContext(ctx, "sessionmiddleware: reading the session failed", "cookie", m.name, "error", err)
	m.fail(w, r, err)
}

// unavailable writes "503 Service Unavailable" with Retry-After
// retryAfter (whole seconds), for a request that may succeed when tried
// again: a lock held too long, a storage that did not answer in time. No
// cache may keep it.
func unavailable(w http.ResponseWriter, retryAfter string) {
	h := w.Header()
	h.Set("Retry-After", retryAfter)
	noStore(h)
	http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
}

// fail writes the error response: ErrorHandler's, else 409 for a refused
// sign-in (session.ErrUserLimit) and 500 for anything else. No cache may
// keep it: it is sent with "Cache-Control: no-store" and without Expires
// (an ErrorHandler may still set its own).
func (m *middleware) fail(w http.ResponseWriter, r *http.Request, err error) {
	noStore(w.Header())
	if m.errorHandler != nil {
		m.errorHandler(w, r, err)
		return
	}
	if errors.Is(err, session.ErrUserLimit) {
		// Not a fault of the server: the storage refused the sign-in
		// (session.LimitRefuse), and stored nothing of it.
		http.Error(w, "too many sessions for this user", http.StatusConflict)
		return
	}
	http.Error(w, "Internal Server Error", http.StatusInternalServerError)
}

// noStore makes h the header of a response that no cache may keep, an
// error response: "Cache-Control: no-store", and no Expires.
func noStore(h http.Header) {
	h["Cache-Control"] = []string{"no-store"} // a new slice: the old one may be shared
	delete(h, "Expires")
}

// cookieHeader returns the request's Cookie header. HTTP/2 allows one field
// per cookie (RFC 9113 §8.2.3); they are joined as HTTP/1.1 would send them.
func cookieHeader(h http.Header) string {
	switch v := h["Cookie"]; len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	default:
		return strings.Join(v, "; ")
	}
}

// saveSession runs storage.Save and turns its answer into the value of the
// response header that carries the session (send is false when there is
// none to send). A request value that an older secret signed is sent again,
// signed with Secrets[0], when the storage sends none of its own.
func (m *middleware) saveSession(ctx context.Context, rw *responseWriter, s *session.Session, in incoming) (line string, send bool, err error) {
	value, set, err := m.saveStorage(ctx, rw, s)
	switch {
	case err != nil:
		return "", false, err
	case set:
		return m.line(s, value, in)
	case in.Secret > 0:
		line, send = m.resign(ctx, s, in)
		return line, send, nil
	}
	return "", false, nil
}

// line returns the header line for the storage's value, and errors that
// callers can check whichever layer found them.
func (m *middleware) line(s *session.Session, value string, in incoming) (string, bool, error) {
	line, send, err := m.carrier.line(s, value, in)
	switch {
	case err == nil:
		return line, send, nil
	case errors.Is(err, cookie.ErrTooLarge):
		// One error for callers to check, whichever layer measured.
		return "", false, fmt.Errorf("sessionmiddleware: %w: %w", session.ErrTooLarge, err)
	case errors.Is(err, cookie.ErrInvalidUTF8):
		// Only a binary value from a Storage other than cookie storage
		// gets here: New refuses sealed cookie storage with this format.
		return "", false, fmt.Errorf("sessionmiddleware: the cookie's Remix format carries only text, and the storage's value is binary (use the Native format): %w", err)
	}
	return "", false, err
}

// resign returns the header line that sends the request's own value again,
// signed with Secrets[0], so that the older secret that signed it can be
// retired.
func (m *middleware) resign(ctx context.Context, s *session.Session, in incoming) (string, bool) {
	line, send, err := m.carrier.line(s, in.Value, in)
	if err != nil {
		// The value was read from the request, so only a lenient Remix
		// encoding, shorter than the canonical one, gets here. It stays
		// valid until its secret is retired.
		m.logger.WarnContext(ctx, "sessionmiddleware: the session value, signed with an older secret, cannot be re-signed", "cookie", m.name, "error", err)
		return "", false
	}
	return line, send
}

// cookieCarrier carries the session value in the session cookie (New).
type cookieCarrier struct {
	cookie *cookie.Cookie
	// maxAge is the cookie's Options.MaxAge: the longest a persistent
	// session's cookie may last; 0 for no limit of its own.
	maxAge int
}

func (cc *cookieCarrier) read(r *http.Request) incoming {
	rc, _ := cc.cookie.ParseReceived(cookieHeader(r.Header))
	return incoming{Received: rc, varies: rc.Value != ""}
}

// line returns the Set-Cookie line for value: a deletion for "", otherwise
// a cookie whose Max-Age is lifetime(s). The value the request carried
// (the same session id) is sent back with the signature it came with when
// Secrets[0] made it, which saves an HMAC per saving request.
func (cc *cookieCarrier) line(s *session.Session, value string, in incoming) (string, bool, error) {
	if value == "" {
		return cc.cookie.Expire(), true, nil
	}
	var line string
	var err error
	if value == in.Value {
		line, err = cc.cookie.SerializeReceived(&in.Received, cc.lifetime(s))
	} else {
		line, err = cc.cookie.SerializeMaxAge(value, cc.lifetime(s))
	}
	return line, err == nil, err
}

// lifetime returns the Max-Age of s's cookie, in seconds: 0 (no Max-Age,
// the cookie lasts for the browser session) unless s is persistent; then
// the time the server leaves the session (s.ExpiresIn, rounded down to whole
// seconds, at least 1), at most the cookie's own MaxAge; with no server-side
// limit (s.ExpiresAt is zero), the cookie's MaxAge, or else 400 days.
func (cc *cookieCarrier) lifetime(s *session.Session) int {
	if !s.Persistent() {
		return 0
	}
	if s.ExpiresAt().IsZero() {
		if cc.maxAge > 0 {
			return cc.maxAge
		}
		return maxCookieAge
	}
	secs := max(int(s.ExpiresIn()/time.Second), 1)
	if cc.maxAge > 0 {
		secs = min(secs, cc.maxAge)
	}
	return min(secs, maxCookieAge)
}
