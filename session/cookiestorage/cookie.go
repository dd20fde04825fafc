// Package cookiestorage keeps each session whole in its cookie: no server
// state, nothing to clean up, but every byte travels with every request and
// a session cannot be revoked before it expires. It is the Go counterpart of
// @remix-run/session's cookie storage, whose cookies it reads and writes
// when the payload is not sealed.
package cookiestorage

import (
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

	"github.com/sessionkit/sessionkit/session"
)

// Options configure New.
type Options struct {
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
	// produce; past it Save returns an error wrapping session.ErrTooLarge
	// instead of a cookie the browser would silently drop. 0: 4096, the
	// browser limit. The size is exact once the session middleware has
	// bound the cookie (see session.CookieBinder); before that Save assumes
	// padded standard base64 and a signature, and counts CookieName.
	MaxSize int
	// CookieName is the session cookie's name. Optional: the session
	// middleware tells the storage the real cookie (BindCookie), and refuses
	// a CookieName that differs from it. Set it only to use the storage
	// without the middleware. Sealed payloads bind the name as associated
	// data, so a payload sealed for one cookie does not open as another.
	CookieName string

	// Session configures expiry and logging. IdleTimeout and Lifetime ride
	// inside the payload (its creation and last-save times), so an old
	// cookie replayed after expiry is refused even though the browser still
	// sends it.
	Session session.ClientOptions
}

// DefaultMaxSize is the largest cookie New's storage writes when
// Options.MaxSize is 0: the browsers' limit.
const DefaultMaxSize = 4096

// signatureOverhead is the "." and 43-character signature that a signed
// cookie adds to the value.
const signatureOverhead = 44

// New returns a session.Storage that keeps the whole session in the cookie:
// session.NewClientStorage over a codec that seals the Remix payload
// {"i":id,"d":[values,flash]} with AES-256-GCM when Keys are given, and
// leaves it plain JSON otherwise. It does not implement session.UserIndex:
// a session that lives in the cookie cannot be listed or signed out on the
// server. It implements session.CookieBinder, which the session middleware
// calls. Keys that are not 32 bytes and a negative MaxSize are errors.
func New(o Options) (session.Storage, error) {
	c, err := newCodec(o)
	if err != nil {
		return nil, err
	}
	return session.NewClientStorage(c, o.Session)
}

// codec is the session.ClientCodec (and session.CookieBinder) of New.
type codec struct {
	maxSize    int
	cookieName string
	aeads      []cipher.AEAD
	aad        []byte
	// bound is the cookie BindCookie reported; nil before.
	bound atomic.Pointer[binding]
}

// binding is what BindCookie learned.
type binding struct {
	session.CookieInfo
	aad []byte // sealing's associated data, with the real cookie's name
}

func newCodec(o Options) (*codec, error) {
	if o.MaxSize < 0 {
		return nil, errors.New("cookiestorage: Options.MaxSize is negative")
	}
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	c := &codec{maxSize: o.MaxSize, cookieName: o.CookieName, aad: sealingAAD(o.CookieName)}
	for i, k := range o.Keys {
		aead, err := newAEAD(k)
		if err != nil {
			return nil, fmt.Errorf("cookiestorage: Options.Keys[%d]: %w", i, err)
		}
		c.aeads = append(c.aeads, aead)
	}
	return c, nil
}

// newAEAD returns AES-256-GCM with key k.
func newAEAD(k []byte) (cipher.AEAD, error) {
	if len(k) != 32 {
		return nil, fmt.Errorf("%d bytes, want 32 (AES-256)", len(k))
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealingAAD is the associated data of payloads sealed for the cookie name.
func sealingAAD(name string) []byte {
	return []byte("sessionkit cookie storage v1:" + name)
}

// BindCookie implements session.CookieBinder.
func (c *codec) BindCookie(ci session.CookieInfo) error {
	switch {
	case ci.Name == "" || ci.Size == nil:
		return errors.New("cookiestorage: BindCookie needs the cookie's Name and Size")
	case c.cookieName != "" && c.cookieName != ci.Name:
		return fmt.Errorf("cookiestorage: Options.CookieName %q is not the session cookie's name %q (leave it empty: the middleware sets it)", c.cookieName, ci.Name)
	case len(c.aeads) > 0 && ci.TextOnly:
		return errors.New("cookiestorage: sealed payloads (Options.Keys) are binary, which the cookie's Remix format cannot carry; use the Native format (the default), or no Keys for cookies Remix can read")
	}
	b := &binding{CookieInfo: ci, aad: sealingAAD(ci.Name)}
	for {
		old := c.bound.Load()
		if old != nil && old.Name != ci.Name {
			return fmt.Errorf("cookiestorage: already bound to cookie %q, not %q; use one storage per cookie", old.Name, ci.Name)
		}
		if c.bound.CompareAndSwap(old, b) {
			return nil
		}
	}
}

// sealAAD is the associated data that seals and opens payloads: the bound
// cookie's name, else CookieName.
func (c *codec) sealAAD() []byte {
	if b := c.bound.Load(); b != nil {
		return b.aad
	}
	return c.aad
}

// cookieSize is the size of the cookie that carries a value of n bytes.
func (c *codec) cookieSize(n int) int {
	if b := c.bound.Load(); b != nil {
		return b.Size(n)
	}
	return len(c.cookieName) + 1 + base64.StdEncoding.EncodedLen(n) + signatureOverhead
}

// errNotOpened is Decode's error for a value that no key opens.
var errNotOpened = errors.New("cookiestorage: the value does not open with any key")

// Decode implements session.ClientCodec.
func (c *codec) Decode(value string) (string, error) {
	if len(value) > 2*c.maxSize {
		return "", fmt.Errorf("cookiestorage: a %d-byte value is over twice the %d-byte limit", len(value), c.maxSize)
	}
	if len(c.aeads) == 0 {
		return value, nil
	}
	if plain, ok := c.open(value); ok {
		return plain, nil
	}
	return "", errNotOpened
}

// Kind names the storage in session events (session.Event.Storage).
func (c *codec) Kind() string { return "cookie" }

// Encode implements session.ClientCodec: the payload, sealed with Keys[0]
// when there are keys, as nonce || ciphertext || tag in a string. The
// cookie's own encoding makes it header-safe; encoding it here too would
// make the cookie a third larger.
func (c *codec) Encode(payload []byte) (string, error) {
	value, err := c.seal(payload)
	if err != nil {
		return "", err
	}
	if size := c.cookieSize(len(value)); size > c.maxSize {
		return "", fmt.Errorf("cookiestorage: a %d-byte cookie is over the %d-byte limit: %w", size, c.maxSize, session.ErrTooLarge)
	}
	return value, nil
}

// payloadBufs holds the buffers that payloads are sealed and opened in:
// one allocation a save or an open instead of two. Buffers past
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

// seal returns payload sealed, or as it is when there are no keys. The
// payload is copied after room for the nonce and sealed in place, in a
// pooled buffer, so sealing allocates only the string.
func (c *codec) seal(payload []byte) (string, error) {
	if len(c.aeads) == 0 {
		return string(payload), nil
	}
	bp := payloadBufs.Get().(*[]byte)
	defer putPayloadBuf(bp)
	aead := c.aeads[0]
	ns := aead.NonceSize()
	buf := slices.Grow((*bp)[:0], ns+len(payload)+aead.Overhead())[:ns]
	if _, err := io.ReadFull(rand.Reader, buf); err != nil {
		return "", fmt.Errorf("cookiestorage: nonce: %w", err)
	}
	buf = append(buf, payload...)
	*bp = buf[:0]
	// buf[ns:ns] is the plaintext's own start: Seal encrypts in place.
	sealed := aead.Seal(buf[:ns], buf[:ns], buf[ns:], c.sealAAD())
	return string(sealed), nil
}

// open decrypts a sealed value with each key in turn, in place in a copy of
// value, and copies the plaintext into a string. (Opening from an unsafe
// view of value instead saved too little of a request to pay for unsafe.)
func (c *codec) open(value string) (string, bool) {
	bp := payloadBufs.Get().(*[]byte)
	defer putPayloadBuf(bp)
	aad := c.sealAAD()
	for _, aead := range c.aeads {
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
