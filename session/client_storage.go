package session

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ClientCodec carries a session's whole record in its cookie value: the
// contract of a client-side storage, which keeps no state on the server.
// NewClientStorage applies the session rules (expiry, the save decision,
// flash) and hands the codec the Remix cookie-storage payload
// {"i":id,"d":record}; the codec makes it a cookie value, sealing it or
// not. Package cookiestorage implements it with AES-256-GCM, or with plain
// JSON that @remix-run/session's cookie storage reads.
//
// A codec may also implement CookieBinder, to learn the cookie that will
// carry its values (its name, its size for a given value): the Storage of
// NewClientStorage then implements CookieBinder too and passes the call on.
type ClientCodec interface {
	// Encode returns the cookie value that carries payload. It must not
	// keep payload, which the storage reuses. An error wrapping
	// ErrTooLarge reports a value too large for a cookie; Save returns it
	// and the browser keeps its old cookie.
	Encode(payload []byte) (string, error)
	// Decode returns the payload that value carries, or an error when
	// value was not made by this codec (forged, sealed with an unknown key,
	// damaged): Read then logs the error and starts a new session.
	Decode(value string) (string, error)
}

// ClientOptions configure NewClientStorage, and so cookie storage (as the
// Session field of cookiestorage.Options). The zero value is valid: sessions
// live DefaultLifetime (14 days) from creation with no idle limit, logs go
// to slog.Default().
type ClientOptions struct {
	// IdleTimeout ends a session that has not been saved or refreshed for
	// this long. The time of the last save rides inside the payload, so an
	// old cookie replayed after expiry is refused even though the browser
	// still sends it; a request that reads a session rewrites its cookie
	// once a tenth of the timeout has passed. 0: no idle limit.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after it was created, however
	// active (its creation time rides inside the payload). 0:
	// DefaultLifetime (14 days). Negative: no absolute limit. A cookie
	// cannot be revoked before it expires: keep it short.
	Lifetime time.Duration
	// Logger receives payloads that do not open or parse. nil:
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock, for tests. nil: time.Now.
	Now func() time.Time
	// Observer receives the lifecycle events of the storage's sessions, as
	// Options.Observer does. A client-side storage reports no
	// EventMissing or lock events, and EventRevoked only for a session
	// ended by its user's epoch (CauseEpoch): it has no records to miss,
	// revoke or lock. nil: none.
	Observer Observer
	// UserKey names the session value that holds the signed-in user, as
	// Options.UserKey does; with Epochs it decides whose epoch a session
	// is stamped with. "": none.
	UserKey string
	// Epochs keeps the users' epochs (see Epochs): a server-side storage
	// with Options.UserKey set, such as one of Redis or PostgreSQL shared
	// by every process. With it and UserKey, a session is stamped with its
	// user's epoch at sign-in and ended on load once the epoch was bumped
	// past it, and the storage implements Epochs: "sign out everywhere"
	// that reaches sessions held in cookies. Loading a signed-in session
	// then reads the epoch (cached, EpochCacheTTL), and a failure to read
	// it is a Read error, never a new session. nil: no epochs, and no cost.
	Epochs Epochs
	// EpochCacheTTL is how long a user's epoch, once read, is trusted: a
	// Bump made by another process ends this process's cookie sessions of
	// the user within it (a Bump through this storage, at once). 0:
	// DefaultEpochCacheTTL (5 s). Negative: read it on every load.
	EpochCacheTTL time.Duration
}

// NewClientStorage returns a Storage that keeps each session whole in its
// cookie, through c: no server state, nothing to clean up, and nothing to
// revoke either, so it does not implement UserIndex or Locking. Its
// sessions follow the rules of every storage (expiry, flash, Persist), and
// RegenerateID gives a new id (the old cookie, if someone kept a copy,
// stays valid until it expires). It returns an error for a nil codec or a
// negative IdleTimeout.
func NewClientStorage(c ClientCodec, o ClientOptions) (Storage, error) {
	if c == nil {
		return nil, errors.New("session: NewClientStorage with a nil ClientCodec")
	}
	so := o.server()
	if err := so.validate(); err != nil {
		return nil, err
	}
	st := &clientStorage{c: c, o: so.WithDefaults(), epochStore: o.Epochs, epochTTL: o.EpochCacheTTL}
	if st.epochTTL == 0 {
		st.epochTTL = DefaultEpochCacheTTL
	}
	if o.Epochs != nil && o.UserKey == "" {
		return nil, errors.New("session: ClientOptions.Epochs needs ClientOptions.UserKey, the value that names the user")
	}
	st.ev = observed{obs: st.o.Observer, kind: kindOf(c, "client")}
	b, binds := c.(CookieBinder)
	switch {
	case o.Epochs != nil && binds:
		return bindingClientEpochs{clientEpochs{st}, b}, nil
	case o.Epochs != nil:
		return clientEpochs{st}, nil
	case binds:
		return &bindingClientStorage{st, b}, nil
	}
	return st, nil
}

// server returns o as the Options whose expiry rules apply (the inverse
// of Options.Client).
func (o ClientOptions) server() Options {
	return Options{IdleTimeout: o.IdleTimeout, Lifetime: o.Lifetime, Logger: o.Logger, Now: o.Now, Observer: o.Observer, UserKey: o.UserKey}
}

type clientStorage struct {
	c ClientCodec
	o Options
	// undeletable: a RegenerateID(true) was saved, whose old cookie this
	// storage cannot end; it is logged once, at Info.
	undeletable atomic.Bool
	// ev reports events to ClientOptions.Observer.
	ev observed
	// ClientOptions.Epochs, the cache of what it said, and for how long
	// (epoch.go).
	epochStore Epochs
	epochs     epochCache
	epochTTL   time.Duration
}

// bindingClientStorage is a clientStorage whose codec is a CookieBinder.
type bindingClientStorage struct {
	*clientStorage
	b CookieBinder
}

// BindCookie implements CookieBinder.
func (st *bindingClientStorage) BindCookie(c CookieInfo) error { return st.b.BindCookie(c) }

// Read implements Storage. A value that does not decode or parse, or whose
// session has expired, gives a new session; one that does not decode or
// parse is also logged. The session tells time by the storage's clock
// (ClientOptions.Now).
func (st *clientStorage) Read(ctx context.Context, cookieValue string) (*Session, error) {
	s, err := st.readSession(ctx, cookieValue)
	if s != nil {
		s.now = st.o.Now
	}
	return s, err
}

// readSession is Read.
func (st *clientStorage) readSession(ctx context.Context, cookieValue string) (*Session, error) {
	if cookieValue == "" {
		return New(), nil
	}
	payload, err := st.c.Decode(cookieValue)
	if err != nil {
		st.o.Logger.WarnContext(ctx, "session: cookie storage value does not open; new session", "error", err)
		st.readEvent(ctx, "", EventCorrupt, "", err, "")
		return New(), nil
	}
	id, values, flash, m, err := parsePayload(payload)
	if err != nil {
		st.o.Logger.WarnContext(ctx, "session: corrupt cookie storage payload; new session", "error", err)
		st.readEvent(ctx, "", EventCorrupt, "", err, "")
		return New(), nil
	}
	now := st.o.Now()
	if err := st.o.expiredBy(m, now, false); err != nil {
		st.readEvent(ctx, id, EventExpired, expiryCause(err), nil, "")
		return New(), nil
	}
	user := userOf(values, st.o.UserKey)
	if ended, err := st.epochEnded(ctx, user, m.Epoch); err != nil {
		st.readEvent(ctx, id, EventStorageError, CauseRead, err, user)
		return nil, err
	} else if ended {
		st.readEvent(ctx, id, EventRevoked, CauseEpoch, nil, user)
		return New(), nil
	}
	if !ValidID(id) {
		// Remix starts a new id and keeps the data when "i" is missing.
		id = newID()
	}
	s := loaded(id, values, flash, m, now)
	s.rec.indexed = user
	s.setExpiryLocked(&st.o, s.rec.saved, now)
	st.readEvent(ctx, id, EventLoaded, "", nil, user)
	return s, nil
}

// readEvent reports what Read found in the cookie: a session (id, "" when
// none could be read) loaded, expired, corrupt, or ended by its user's
// epoch (user).
func (st *clientStorage) readEvent(ctx context.Context, id string, kind EventKind, cause string, err error, user string) {
	if !st.ev.on() {
		return
	}
	e := Event{Kind: kind, Cause: cause, Err: err, User: user}
	if ValidID(id) {
		e.Handle = handleOf(id)
	}
	st.ev.emit(ctx, e)
}

// Save implements Storage: the decision is decideSave's, as for server-side
// storages; the record is the cookie.
func (st *clientStorage) Save(ctx context.Context, s *Session) (string, bool, error) {
	now := st.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.snapshotLocked()
	plan := decideSave(&snap, now, &st.o, storeCaps{clientSide: true})
	if plan.warnUndeletable && !st.undeletable.Swap(true) {
		st.o.Logger.InfoContext(ctx, "session: cookie storage cannot end a session's old cookie after RegenerateID(true); a copy of it stays valid until it expires (logged once)")
	}
	switch plan.cookie {
	case cookieExpire:
		s.savedLocked(plan.created, now)
		s.setExpiryLocked(&st.o, now, now)
		st.saveEvent(ctx, &snap, &plan, nil)
		return "", true, nil
	case cookieKeep:
		return "", false, nil
	}
	err := st.stampLocked(ctx, s)
	var value string
	if err == nil {
		value, err = st.encode(s, s.metaLocked(plan.created, now))
	}
	st.saveEvent(ctx, &snap, &plan, err)
	if err != nil {
		return "", false, err
	}
	s.rec.indexed = userOf(s.values, st.o.UserKey)
	s.savedLocked(plan.created, now)
	s.setExpiryLocked(&st.o, now, now)
	return value, true, nil
}

// saveEvent reports a save that set or expired the cookie, or its error.
func (st *clientStorage) saveEvent(ctx context.Context, snap *saveSnapshot, plan *savePlan, err error) {
	if !st.ev.on() {
		return
	}
	e := Event{Handle: handleOf(snap.id)}
	switch {
	case errors.Is(err, ErrTooLarge):
		e.Kind, e.Err = EventTooLarge, err
	case err != nil:
		e.Kind, e.Cause, e.Err = EventStorageError, CauseSave, err
	default:
		e.Kind, e.Cause = saveEventKind(snap, plan)
	}
	if e.Kind == EventDestroyed {
		e.Handle = handleOf(snap.originalID)
	}
	st.ev.emit(ctx, e)
}

// payloadBufs holds the buffers that payloads are written in before the
// codec encodes them. Buffers past maxPooledPayload are left to the
// collector.
var payloadBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledPayload = 8 << 10

// encode returns the cookie value of s, whose lock is held, with the
// metadata m.
func (st *clientStorage) encode(s *Session, m meta) (string, error) {
	bp := payloadBufs.Get().(*[]byte)
	buf, err := appendPayload((*bp)[:0], s.id, s.values, s.next, m)
	defer putPayloadBuf(bp, buf)
	if err != nil {
		return "", err
	}
	return st.c.Encode(buf)
}

// putPayloadBuf returns buf to the pool through bp, unless it grew past
// maxPooledPayload.
func putPayloadBuf(bp *[]byte, buf []byte) {
	if cap(buf) <= maxPooledPayload {
		*bp = buf[:0]
		payloadBufs.Put(bp)
	}
}

// CookieInfo describes the cookie that carries a client-side storage's
// value. The session middleware builds it from its cookie.Cookie and passes
// it to BindCookie.
type CookieInfo struct {
	// Name is the cookie's name.
	Name string
	// Size returns the cookie's size, its name plus its encoded (and
	// signed) value, for a value of n bytes: the figure a browser compares
	// with its 4096-byte limit (cookie.Cookie.EncodedSize).
	Size func(n int) int
	// TextOnly is true when the cookie's format carries only UTF-8 text
	// (cookie.Remix), so it cannot carry a sealed, binary value.
	TextOnly bool
}

// CookieBinder is a Storage (or a ClientCodec) that keeps the session in the
// cookie itself and must know that cookie: its name, which sealed payloads
// bind, and its encoding, which the size check counts. The session
// middleware calls BindCookie from its New, before any request, and an
// error fails New: a mistake in the setup is reported at start-up, not as a
// 500 on every request. Package session cannot import package cookie, so
// the middleware passes what the storage needs instead of the cookie
// itself.
type CookieBinder interface {
	// BindCookie tells the storage which cookie carries its values. It
	// returns an error when the storage cannot work with that cookie.
	BindCookie(CookieInfo) error
}
