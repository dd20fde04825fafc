package session

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
)

// CookieStorageOptions configure NewCookieStorage.
type CookieStorageOptions struct {
	// Options: IdleTimeout and Lifetime ride inside the payload (its
	// creation and last-save times), so an old cookie replayed after expiry
	// is refused even though the browser still sends it. UseUnknownIDs does
	// not apply.
	Options
	// Keys are AES-256 keys (32 bytes each) that seal the payload with
	// AES-256-GCM, so the client can neither read nor change it: Keys[0]
	// seals, every key opens (rotation: put the new key first). A sealed
	// payload is binary, which the cookie's Native format (the default)
	// carries; the Remix format carries only text and refuses it, and
	// Remix could not open it anyway. With no keys the payload is plain
	// JSON, readable by @remix-run/session's cookie storage, and only the
	// cookie's signature protects it.
	Keys [][]byte
	// MaxSize is the largest cookie, name and encoded value, that Save will
	// produce; past it Save returns an error wrapping ErrTooLarge instead of
	// a cookie the browser would silently drop. 0: 4096, the browser limit.
	// The size is exact once the session middleware has bound the cookie
	// (see CookieBinder); before that Save assumes padded standard base64
	// and a signature, and counts CookieName.
	MaxSize int
	// CookieName is the session cookie's name. Optional: the session
	// middleware tells the storage the real cookie (BindCookie), and refuses
	// a CookieName that differs from it. Set it only to use the storage
	// without the middleware. Sealed payloads bind the name as associated
	// data, so a payload sealed for one cookie does not open as another.
	CookieName string
}

// CookieInfo describes the cookie that carries a cookie storage's value. The
// session middleware builds it from its cookie.Cookie and passes it to
// BindCookie.
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

// CookieBinder is a Storage that keeps the session in the cookie itself and
// must know that cookie: its name, which sealed payloads bind, and its
// encoding, which the size check counts. The Storage of NewCookieStorage
// implements it. The session middleware calls BindCookie from its New,
// before any request, and an error fails New: a mistake in the setup is
// reported at start-up, not as a 500 on every request. The package session
// cannot import package cookie, so the middleware passes what the storage
// needs instead of the cookie itself.
type CookieBinder interface {
	// BindCookie tells the storage which cookie carries its values. It
	// returns an error when the storage cannot work with that cookie:
	// sealed payloads with a TextOnly cookie, a CookieName option that
	// names another cookie, or a storage already bound to another cookie.
	BindCookie(CookieInfo) error
}

// signatureOverhead is the "." and 43-character signature that a signed
// cookie adds to the value.
const signatureOverhead = 44

// NewCookieStorage returns a Storage that keeps the whole session in the
// cookie: no server state, nothing to clean up, but every byte travels with
// every request and a cookie cannot be revoked before it expires (set a
// Lifetime or IdleTimeout). For the same reason it does not implement
// UserIndex and ignores Options.UserKey: a session that lives in the cookie
// cannot be listed or signed out on the server. The cookie value is the
// Remix payload {"i":id,"d":[values,flash]}, sealed with AES-256-GCM when
// Keys are given. Keys that are not 32 bytes are an error.
func NewCookieStorage(o CookieStorageOptions) (Storage, error) {
	if err := o.Options.validate(); err != nil {
		return nil, err
	}
	o.Options = o.Options.withDefaults()
	if o.MaxSize < 0 {
		return nil, errors.New("session: CookieStorageOptions.MaxSize is negative")
	}
	if o.MaxSize == 0 {
		o.MaxSize = 4096
	}
	st := &cookieStorage{o: o, aad: []byte("sessionkit cookie storage v1:" + o.CookieName)}
	for i, k := range o.Keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("session: CookieStorageOptions.Keys[%d] is %d bytes, want 32 (AES-256)", i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("session: CookieStorageOptions.Keys[%d]: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("session: CookieStorageOptions.Keys[%d]: %w", i, err)
		}
		st.aeads = append(st.aeads, aead)
	}
	return st, nil
}

type cookieStorage struct {
	o     CookieStorageOptions
	aeads []cipher.AEAD
	aad   []byte
	// bound is the cookie BindCookie reported; nil before.
	bound atomic.Pointer[cookieBinding]
}

// cookieBinding is what BindCookie learned.
type cookieBinding struct {
	CookieInfo
	aad []byte // sealing's associated data, with the real cookie's name
}

// BindCookie implements CookieBinder.
func (st *cookieStorage) BindCookie(c CookieInfo) error {
	switch {
	case c.Name == "" || c.Size == nil:
		return errors.New("session: cookie storage: BindCookie needs the cookie's Name and Size")
	case st.o.CookieName != "" && st.o.CookieName != c.Name:
		return fmt.Errorf("session: cookie storage: CookieStorageOptions.CookieName %q is not the session cookie's name %q (leave it empty: the middleware sets it)", st.o.CookieName, c.Name)
	case len(st.aeads) > 0 && c.TextOnly:
		return errors.New("session: sealed cookie storage (CookieStorageOptions.Keys) writes binary values, which the cookie's Remix format cannot carry; use the Native format (the default), or no Keys for cookies Remix can read")
	}
	b := &cookieBinding{CookieInfo: c, aad: []byte("sessionkit cookie storage v1:" + c.Name)}
	for {
		old := st.bound.Load()
		if old != nil && old.Name != c.Name {
			return fmt.Errorf("session: cookie storage: already bound to cookie %q, not %q; use one storage per cookie", old.Name, c.Name)
		}
		if st.bound.CompareAndSwap(old, b) {
			return nil
		}
	}
}

// sealAAD is the associated data that seals and opens payloads: the bound
// cookie's name, else CookieName.
func (st *cookieStorage) sealAAD() []byte {
	if b := st.bound.Load(); b != nil {
		return b.aad
	}
	return st.aad
}

// cookieSize is the size of the cookie that carries a value of n bytes.
func (st *cookieStorage) cookieSize(n int) int {
	if b := st.bound.Load(); b != nil {
		return b.Size(n)
	}
	return len(st.o.CookieName) + 1 + base64.StdEncoding.EncodedLen(n) + signatureOverhead
}

// Read implements Storage. A value that cannot be opened or parsed, or whose
// session has expired, gives a new session; a forged or corrupt one is also
// logged.
func (st *cookieStorage) Read(ctx context.Context, cookieValue string) (*Session, error) {
	if cookieValue == "" || len(cookieValue) > 2*st.o.MaxSize {
		return New(), nil
	}
	plain := cookieValue
	if len(st.aeads) > 0 {
		var ok bool
		if plain, ok = st.open(cookieValue); !ok {
			st.o.logger().WarnContext(ctx, "session: cookie storage payload does not open with any key; new session")
			return New(), nil
		}
	}
	id, values, flash, m, err := parsePayload(plain)
	if err != nil {
		st.o.logger().WarnContext(ctx, "session: corrupt cookie storage payload; new session", "error", err)
		return New(), nil
	}
	now := st.o.now()
	if st.o.expired(m, now, true) {
		return New(), nil
	}
	if !ValidID(id) {
		// Remix starts a new id and keeps the data when "i" is missing.
		id = newID()
	}
	s := loaded(id, values, flash, m, now)
	s.setExpiryLocked(&st.o.Options, s.saved, now)
	return s, nil
}

// Save implements Storage: the decision is decideSave's, as for server-side
// storages; the record is the cookie.
func (st *cookieStorage) Save(ctx context.Context, s *Session) (string, bool, error) {
	now := st.o.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.snapshotLocked()
	plan := decideSave(&snap, now, &st.o.Options, storeCaps{clientSide: true})
	if plan.warnUndeletable {
		st.o.logger().WarnContext(ctx, "session: id regenerated, but cookie storage cannot delete the old session; it stays valid until it expires",
			"session", logID(s.deleteID))
	}
	created := plan.created
	switch plan.cookie {
	case cookieExpire:
		s.savedLocked(created, now)
		s.setExpiryLocked(&st.o.Options, now, now)
		return "", true, nil
	case cookieKeep:
		return "", false, nil
	}
	value, err := st.encode(s.id, s.values, s.next, meta{Created: timeMS(created), Saved: timeMS(now),
		Persist: s.persist})
	if err != nil {
		return "", false, err
	}
	if size := st.cookieSize(len(value)); size > st.o.MaxSize {
		return "", false, fmt.Errorf("session: cookie storage: a %d-byte cookie is over the %d-byte limit: %w", size, st.o.MaxSize, ErrTooLarge)
	}
	s.savedLocked(created, now)
	s.setExpiryLocked(&st.o.Options, now, now)
	return value, true, nil
}

// payloadBufs holds the buffers that unsealed payloads are written in
// before they are copied into their string, and that sealed values are
// opened in: one allocation a save or an open instead of two. Buffers past
// maxPooledPayload are left to the collector.
var payloadBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledPayload = 8 << 10

// putPayloadBuf returns bp, which holds the buffer last used, to the pool
// unless it grew past maxPooledPayload.
func putPayloadBuf(bp *[]byte) {
	if cap(*bp) <= maxPooledPayload {
		payloadBufs.Put(bp)
	}
}

// encode returns the cookie value of a session: the payload, sealed with
// Keys[0] when there are keys, as nonce || ciphertext || tag in a string.
// The cookie's own encoding makes it header-safe; encoding it here too would
// make the cookie a third larger.
//
// The payload is written after room for the nonce and sealed in place, in
// a pooled buffer, so sealing allocates only the string, a copy. Sealing a
// separate buffer and handing it over with unsafe.String measured no
// faster (BenchmarkCookieEncodeSealed): unsafe did not pay.
func (st *cookieStorage) encode(id string, values, flash fields, m meta) (string, error) {
	bp := payloadBufs.Get().(*[]byte)
	defer putPayloadBuf(bp)
	if len(st.aeads) == 0 {
		buf, err := appendPayload((*bp)[:0], id, values, flash, m)
		if err != nil {
			return "", err
		}
		*bp = buf[:0]
		return string(buf), nil
	}
	aead := st.aeads[0]
	ns := aead.NonceSize()
	buf := (*bp)[:ns]
	if _, err := io.ReadFull(rand.Reader, buf); err != nil {
		return "", fmt.Errorf("session: cookie storage nonce: %w", err)
	}
	buf, err := appendPayload(buf, id, values, flash, m)
	if err != nil {
		return "", err
	}
	buf = slices.Grow(buf, aead.Overhead())
	*bp = buf[:0]
	// buf[ns:ns] is the plaintext's own start: Seal encrypts in place.
	sealed := aead.Seal(buf[:ns], buf[:ns], buf[ns:], st.sealAAD())
	return string(sealed), nil
}

// open decrypts a sealed value with each key in turn, in place in a copy of
// value, and copies the plaintext into a string. Opening from an unsafe
// read-only view of value and handing the plaintext over with unsafe.String
// was faster on its own (BenchmarkCookieOpen) but saved under 4% of a
// sealed load+save, short of the 10% that would pay for unsafe.
func (st *cookieStorage) open(value string) (string, bool) {
	bp := payloadBufs.Get().(*[]byte)
	defer putPayloadBuf(bp)
	aad := st.sealAAD()
	for _, aead := range st.aeads {
		ns := aead.NonceSize()
		if len(value) < ns+aead.Overhead() {
			return "", false
		}
		// A fresh copy for each key: a failed Open may overwrite its
		// destination, here the ciphertext. The copy is a pooled buffer,
		// as for sealing: only the plaintext's string is allocated.
		buf := append((*bp)[:0], value...)
		*bp = buf[:0]
		if plain, err := aead.Open(buf[ns:ns], buf[:ns], buf[ns:], aad); err == nil {
			return string(plain), true
		}
	}
	return "", false
}
