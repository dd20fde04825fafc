// Package session holds web sessions for net/http: a Session with values and
// flash messages, and the Storage that loads and saves it, with memory, file
// and cookie storages built in. It is the Go counterpart of
// @remix-run/session and reads and writes the same records.
//
// Most programs use it through the session middleware, which loads the
// session before the handler runs and saves it before the response headers
// go out:
//
//	c, _ := cookie.New("__Host-session", cookie.Options{Secure: true, Secrets: secrets})
//	st, _ := session.NewFileStorage("sessions", session.Options{
//		IdleTimeout: 30 * time.Minute,
//		Lifetime:    12 * time.Hour,
//	})
//	mw, _ := sessionmiddleware.New(c, st, sessionmiddleware.Options{})
//	http.ListenAndServe(":8080", mw(mux))
//
// and in a handler:
//
//	s := session.FromContext(r.Context())
//	n, _ := session.Value[int](s, "visits")
//	s.Set("visits", n+1)
//
// # Flash messages
//
// Flash stores a value for the next request only, for the message after a
// redirect:
//
//	s.Flash("error", "Wrong password") // POST /login
//	msg := s.Get("error")              // GET /login: "Wrong password"; nil after that
//
// # Login and logout
//
// Call RegenerateID(true) when the user signs in: the session keeps its data
// under a new id and the old id's record is deleted, so an id planted before
// the login (session fixation) is worthless. Destroy signs out: the record is
// deleted and the cookie expired. Set or Flash after Destroy starts a new
// session, so "you have been signed out" can still be shown.
//
// # Storages
//
// NewMemoryStorage and NewFileStorage keep the data on the server and only
// the id in the cookie; they share one implementation, NewBackendStorage,
// over a small versioned Backend interface (Key, IndexKey, Get, Put,
// Delete; optionally Toucher and Locker). Ids from cookies are validated before any backend sees
// them, ids the store does not know are never adopted (Options.UseUnknownIDs
// opts in, as Remix's useUnknownIds), unchanged sessions are not written, a
// backend error is returned rather than turned into a new session (which
// would sign users out), and a corrupt record is logged and treated as
// absent.
//
// NewCookieStorage keeps the whole session in the cookie, as plain JSON that
// the cookie's signature protects (readable by @remix-run/session) or sealed
// with AES-256-GCM.
//
// Every storage saves the same way: it takes a snapshot of the session under
// its lock, one pure function decides what to delete, write or touch and
// which cookie to send, and the storage carries that out.
//
// # Sessions per user
//
// With Options.UserKey naming the session value that holds the signed-in
// user, every storage of NewBackendStorage (memory, file, Redis, Memcache)
// keeps an index of each user's sessions, and implements UserIndex: Sessions
// lists a user's live sessions newest first, Revoke signs one out by its
// handle (Session.Handle, derived one-way from the id), RevokeAll signs out
// all but some. The index is one document per user that this package writes
// with the backend's versioned Put, in an order that holds on any backend
// (see userindex.go); a save that keeps the user does no index work. A
// revoked session's next request is anonymous, and a save racing with the
// revoke cannot bring it back, even under a new id. At most
// Options.MaxUserSessions sessions per user are kept live. Cookie storage
// does not implement UserIndex.
//
// # Writing a storage
//
// A custom store (a database, Redis, Memcache) implements Backend and is
// wrapped with NewBackendStorage; the conformance suite in sessiontest
// proves it (see ExampleNewBackendStorage). The Storage interface is what
// the session middleware consumes, not a second way to write a store: a
// Storage written outside this package can wrap one of this package's (to
// count or trace calls, say), but cannot save a Session itself, because
// marking a session saved is deliberately not exported. The rules a save
// must follow (fixation-safe ids, flash that lives one request, deletes
// after RegenerateID(true) and Destroy, expiry, size limits, no resurrection
// of a logged-out session) live once, in NewBackendStorage and cookie
// storage; a Storage that repeated them would drift, and one that got them
// wrong would fail silently (the middleware trusts Session.Dirty to tell a
// change made after the response headers went out).
//
// # Defaults and limits
//
// The zero Options are safe: a session ends DefaultLifetime (14 days) after
// it was created (Options.Lifetime; negative: never), with no idle timeout
// unless Options.IdleTimeout is set. A server-side record is at most
// DefaultMaxRecordSize (1 MiB, Options.MaxRecordSize): a larger session is a
// Save error wrapping ErrTooLarge, and the stored session stays as it was.
// Memory storage keeps at most DefaultMaxSessions (100,000,
// Options.MaxSessions) sessions, evicting those closest to expiry first.
// Cookie storage refuses a cookie over 4096 bytes
// (CookieStorageOptions.MaxSize) with ErrTooLarge. Ids are at most 128
// characters of [A-Za-z0-9_-].
//
// # Expiry
//
// Options.IdleTimeout (sliding) and Options.Lifetime (absolute, from
// creation) are enforced on the server: an expired session reads as a new
// one, whatever the browser sends. Records carry their creation and save
// times as a third JSON element that Remix ignores. Session.Created,
// Session.ExpiresAt and Session.ExpiresIn report them.
//
// # Remember me
//
// Session.Persist(true) makes a session persistent: the session middleware
// then gives its cookie a Max-Age equal to the time the server leaves the
// session (Session.ExpiresIn, the smaller of the idle timeout and the
// lifetime left), and sends the cookie again at every sliding refresh, so
// the browser keeps the cookie exactly as long as the session lives. Other
// sessions get a cookie that lasts for the browser session. The choice is
// saved in the record's metadata ("p", which Remix ignores), so every
// storage keeps it; Session.PersistByDefault sets what a session without a
// choice does (the middleware makes sessions persistent by default when its
// cookie has a MaxAge).
//
// # Concurrency
//
// A Session is safe for concurrent use within a request. Between requests,
// concurrent saves merge: every record has a version, every save of a
// server-side storage writes over the version its request read, and a save
// that finds the record changed reads it again and re-applies its own
// changes key by key (merge.go has the rules): requests that set different
// keys all keep theirs, on the same key the later save wins, flash from
// either survives. A logout, a revoke or a login that regenerated the id
// wins over a request that loaded the session before it: that request's
// changes are dropped and logged, and the deleted session is never brought
// back. A change made while a save runs keeps the session dirty.
//
// For a handler that reads and then writes one key (a counter, a cart),
// Locking serializes the requests of one session, across processes: the
// session middleware's Exclusive option takes the lock per route. It is off
// by default, because every locked request waits for the previous one.
package session
