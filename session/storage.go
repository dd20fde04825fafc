package session

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ErrNotFound is what a Backend's Get returns for a record that is absent or
// expired.
var ErrNotFound = errors.New("session: record not found")

// ErrCorruptRecord is what a Backend's Get returns (wrapped) for a record it
// holds but cannot return as bytes: a file storage path that is a
// directory, symlink or FIFO, a Redis key of the wrong type. The storage
// logs it and treats the record as absent (a fresh session), as it does a
// record that does not parse, instead of failing every request of that
// user.
var ErrCorruptRecord = errors.New("session: corrupt record")

// ErrTooLarge is returned (wrapped, with the size and the limit) by Save when
// the session is too large to store: for cookie storage, a cookie over its
// MaxSize, which a browser would drop silently; for server-side storages, a
// record over Options.MaxRecordSize. Nothing is
// written, so the stored session stays as it was. The session middleware
// also wraps cookie.ErrTooLarge in it, so callers check this one error
// whichever layer found the session too large.
var ErrTooLarge = errors.New("session: session data too large")

// Storage loads and saves sessions by cookie value. The session middleware
// calls Read with the verified value of the session cookie ("" when there is
// none) and Save before the response headers go out.
//
// NewBackendStorage (over a Backend) and NewClientStorage (over a
// ClientCodec) are its implementations, and every storage is built on one
// of them: the save rules live there, once. A Storage of one's own may wrap
// one of them (to count or trace calls, say), but cannot save a Session
// itself: marking a session saved is not exported.
type Storage interface {
	// Read returns the session that cookieValue names, or a new session when
	// the value is empty, malformed, unknown to the store or expired. It
	// never adopts an id the store does not know (that would allow session
	// fixation) unless Options.UseUnknownIDs is set. An error means the store
	// could not be asked; it is never turned into a new session, which would
	// log the user out.
	Read(ctx context.Context, cookieValue string) (*Session, error)

	// Save writes the session's changes. set=false: send no Set-Cookie (the
	// session is unchanged). set=true with value "": expire the cookie (the
	// session was destroyed). Otherwise set the cookie to value.
	Save(ctx context.Context, s *Session) (value string, set bool, err error)
}

// DefaultLifetime is the Lifetime of sessions when Options.Lifetime is 0: a
// session ends two weeks after it was created however active it is, so that
// a cookie captured once (before a logout that cookie storage cannot revoke,
// say) does not stay valid forever.
const DefaultLifetime = 14 * 24 * time.Hour

// Options configure NewBackendStorage, and so every server-side storage
// (memorystorage, filestorage, redisstorage, memcachestorage,
// postgresstorage), each of which takes them as the Session field of its
// own options. The zero value is valid and safe: sessions live
// DefaultLifetime (14 days) from creation with no idle limit, records are at
// most DefaultMaxRecordSize (1 MiB), ids are strict, logs go to
// slog.Default(). Cookie storage takes ClientOptions instead.
type Options struct {
	// IdleTimeout ends a session that has not been saved or refreshed for
	// this long (sliding expiry, enforced on the server). 0: no idle limit.
	// A request that reads a session refreshes it once a tenth of the
	// timeout has passed, without rewriting its data when the backend can
	// touch, and without a Set-Cookie for server-side storages unless the
	// session is persistent (Session.Persist: its cookie's Max-Age follows
	// the time left).
	IdleTimeout time.Duration
	// Lifetime ends a session this long after it was created, however
	// active (absolute expiry, enforced on the server, kept across
	// RegenerateID). 0: DefaultLifetime (14 days). Negative: no absolute
	// limit (with no IdleTimeout either, a session then never expires).
	Lifetime time.Duration
	// UseUnknownIDs adopts an id from a cookie that the store does not know,
	// instead of minting a new one (Remix's useUnknownIds). Off by default:
	// adopting ids lets an attacker plant a known id in a victim's browser
	// (session fixation). Malformed ids are never adopted.
	UseUnknownIDs bool
	// Logger receives corrupt records, failed old-record deletes and other
	// events that must not fail a request. nil: slog.Default().
	Logger *slog.Logger
	// Now is the clock, for tests. nil: time.Now.
	Now func() time.Time
	// MaxRecordSize bounds the encoded record, so that one request cannot
	// store megabytes per session: Save of a larger session returns an
	// error wrapping ErrTooLarge that names the limit, and writes nothing.
	// 0: DefaultMaxRecordSize (1 MiB). Negative: no limit.
	MaxRecordSize int
	// UserKey names the session value that holds the signed-in user (a
	// string; "" or another type: no user). When set, the storage keeps an
	// index of each user's sessions and implements UserIndex: list them,
	// revoke one, or all but the current one. The index follows the value
	// in the save that changes it (login, switch, logout, Destroy,
	// RegenerateID); a save that changes neither the user nor the id does
	// no index work. A session saved before UserKey was set is indexed at
	// its next change of user or id. "": no index.
	UserKey string
	// MaxUserSessions bounds how many live sessions one user's index
	// holds: a sign-in past it ends that user's oldest sessions (logged),
	// or others by UserLimit, so that the index stays small and no live
	// session is left out of it, where it could not be revoked. It holds
	// under concurrent sign-ins of one user. 0: DefaultMaxUserSessions
	// (200). Negative: no limit.
	MaxUserSessions int
	// UserLimit is what a sign-in past MaxUserSessions does: end the
	// oldest sessions (LimitEndOldest, the zero value), the least recently
	// seen (LimitEndLeastRecent), or refuse the sign-in (LimitRefuse).
	UserLimit LimitPolicy
	// RegenerateGrace keeps, for this long after a save of
	// RegenerateID(true) that rotates the id of a session, the old id
	// readable: a request that still carries it (a retry from a client
	// that lost the response) loads the session under its new id and gets
	// the new id's cookie. The old id's record then holds no data, only
	// the sealed new id, so a destroy or revoke of the session ends the
	// window at once; outside it the old id gives a new session, as it
	// does with 0. A change of privilege never gets the window: a sign-in,
	// a sign-out or a switch of user (UserKey, which the window needs), a
	// request that called MarkAuthenticated, a session an Epochs.Bump
	// kept; their old ids are dead at once, so that whoever planted or
	// stole one cannot follow. Within the window, Locking.Lock of the old
	// id also takes the lock of the new one, so Exclusive requests through
	// either id run one at a time. 0: no window (off).
	RegenerateGrace time.Duration
	// Observer receives the lifecycle events of the storage's sessions
	// (Event): loads, saves, expiry, revokes, errors. nil: none, and the
	// storage does no work for events. LogEvents writes them to a
	// slog.Logger; package sessionotel (module session-otel) turns them
	// into OpenTelemetry metrics and spans.
	Observer Observer
	// Epochs and EpochCacheTTL are for a client-side storage, which
	// Options.Client passes them to (ClientOptions.Epochs). A server-side
	// storage keeps its users' epochs itself, in their index documents
	// (it implements Epochs when UserKey is set): NewBackendStorage
	// refuses options that name another store's.
	Epochs        Epochs
	EpochCacheTTL time.Duration
}

// DefaultMaxRecordSize is the largest record a server-side storage writes
// when Options.MaxRecordSize is 0: 1 MiB, memcached's default item size
// (which also counts the item's key and header, so memcache storage's own
// item limit refuses a record a little smaller).
const DefaultMaxRecordSize = 1 << 20

// validate reports the options no storage can work with.
func (o *Options) validate() error {
	if o.IdleTimeout < 0 {
		return errors.New("session: Options.IdleTimeout is negative")
	}
	if o.RegenerateGrace < 0 {
		return errors.New("session: Options.RegenerateGrace is negative")
	}
	return nil
}

// LifetimeLimit is the longest a session can live under o: Lifetime, or
// DefaultLifetime when Lifetime is 0; 0 when Lifetime is negative (no
// limit). A backend that keeps a per-user index lets the index live that
// long, since no member outlives it.
func (o Options) LifetimeLimit() time.Duration { return max(o.WithDefaults().Lifetime, 0) }

// Client returns the options of o that a client-side storage takes
// (NewClientStorage, cookiestorage): for a program that configures either
// kind of storage from one set of options.
func (o Options) Client() ClientOptions {
	return ClientOptions{IdleTimeout: o.IdleTimeout, Lifetime: o.Lifetime, Logger: o.Logger, Now: o.Now, Observer: o.Observer,
		UserKey: o.UserKey, Epochs: o.Epochs, EpochCacheTTL: o.EpochCacheTTL}
}

// WithDefaults returns o with each zero field set to its default: the
// options NewBackendStorage works with. A storage that needs one of them
// before it builds its Storage (its logger, the lifetime of an index) takes
// it from here, so that each default is set in this one place.
func (o Options) WithDefaults() Options {
	if o.Lifetime == 0 {
		o.Lifetime = DefaultLifetime
	}
	if o.MaxRecordSize == 0 {
		o.MaxRecordSize = DefaultMaxRecordSize
	}
	if o.MaxUserSessions == 0 {
		o.MaxUserSessions = DefaultMaxUserSessions
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
