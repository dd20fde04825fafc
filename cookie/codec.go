package cookie

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// sigLen is the length of an unpadded base64 HMAC-SHA256, in both formats.
const sigLen = 43

var (
	nativeEncoding = base64.RawURLEncoding.Strict()
	remixEncoding  = base64.StdEncoding
)

// encodings are each Format's encodings of the value and of its signature,
// which is unpadded in both formats.
var encodings = [...]struct{ value, sig *base64.Encoding }{
	Native: {nativeEncoding, nativeEncoding},
	Remix:  {remixEncoding, base64.RawStdEncoding},
}

// Serialize returns the Set-Cookie header value that stores value: the
// encoded (and, with secrets, signed) value, then the attributes in this
// fixed order, each only when set:
//
//	Domain, Expires, HttpOnly, Max-Age, Partitioned, Path, SameSite, Secure
//
// An empty value is written as "name=" with no signature, which Parse reads
// back as "". Serialize returns an error wrapping ErrTooLarge when name and
// encoded value would pass MaxSize bytes (a browser would drop the cookie
// without a word), and, in the Remix format, one wrapping ErrInvalidUTF8 for
// a value that is not UTF-8 text.
func (c *Cookie) Serialize(value string) (string, error) {
	if value == "" {
		return c.name + "=" + c.attrs, nil
	}
	buf, err := c.encode(value, 1+len(c.attrs), nil)
	if err != nil {
		return "", err
	}
	buf = append(buf, c.attrs...)
	// buf is never written again, so the string may share its memory, as
	// strings.Builder does. This saves a copy and an allocation per call,
	// a large part of Serialize's time; building the line in a
	// strings.Builder instead was slower still.
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// SerializeMaxAge is Serialize with the cookie's lifetime chosen for this
// one response instead of taken from Options.MaxAge and Options.Expires:
// maxAge > 0 writes Max-Age=maxAge (at most 400 days, which browsers cap;
// larger values are written as 400 days) and no Expires; maxAge == 0 writes
// neither, a cookie that the browser drops when it closes; maxAge < 0 writes
// Max-Age=0, which deletes the cookie. The other attributes, their order,
// and the errors are those of Serialize. The session middleware uses it to
// give a persistent session's cookie the time the session has left.
func (c *Cookie) SerializeMaxAge(value string, maxAge int) (string, error) {
	return c.serializeMaxAge(value, maxAge, nil)
}

// serializeMaxAge is SerializeMaxAge, reusing r's signature when r is not
// nil and carried the same encoding (see encode).
func (c *Cookie) serializeMaxAge(value string, maxAge int, r *Received) (string, error) {
	extra := 1 + len(c.lifeHead) + len("; Max-Age=") + 8 + len(c.lifeTail)
	var buf []byte
	if value == "" {
		buf = make([]byte, 0, len(c.name)+extra)
		buf = append(append(buf, c.name...), '=')
	} else {
		var err error
		if buf, err = c.encode(value, extra, r); err != nil {
			return "", err
		}
	}
	buf = append(buf, c.lifeHead...)
	buf = appendMaxAge(buf, maxAge)
	buf = append(buf, c.lifeTail...)
	// As in Serialize: buf is never written again.
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// Encode returns the value alone as it would appear in the cookie: encoded
// and, when the Cookie has secrets, signed with Secrets[0] and bound to the
// cookie's name (in the Native format), with no name and no attributes. It
// is for transports other than a cookie, such as a token in an HTTP header;
// Decode reads it back. An empty value encodes as "". The errors are those of
// Serialize: ErrTooLarge when the name and the encoded value would pass
// MaxSize bytes (the same limit, so that a value fits either transport), and
// ErrInvalidUTF8 in the Remix format.
func (c *Cookie) Encode(value string) (string, error) {
	if value == "" {
		return "", nil
	}
	buf, err := c.encode(value, 0, nil)
	if err != nil {
		return "", err
	}
	return string(buf[len(c.name)+1:]), nil
}

// encode returns "name=" followed by the encoded and, with secrets, signed
// value, in a buffer with room for extra more bytes. It refuses a value
// that would make the cookie larger than MaxSize, and in the Remix format one
// that is not UTF-8. When r, read by this Cookie, holds a signature that
// Secrets[0] made over the very encoding just produced, that signature is
// the one encode would compute, and it is used instead of a new HMAC.
func (c *Cookie) encode(value string, extra int, r *Received) ([]byte, error) {
	if c.opts.Format == Remix && !utf8.ValidString(value) {
		return nil, fmt.Errorf("cookie %q: %w", c.name, ErrInvalidUTF8)
	}
	size := c.EncodedSize(len(value))
	if size > MaxSize {
		return nil, fmt.Errorf("cookie %q: %d bytes: %w", c.name, size, ErrTooLarge)
	}
	start := len(c.name) + 1
	buf := make([]byte, start+c.enc.EncodedLen(len(value)), size+1+extra)
	copy(buf, c.name)
	buf[len(c.name)] = '='
	// The encoder reads bytes: value is copied into a pooled buffer.
	// Encoding straight from the string's memory with unsafe saved too
	// little to measure reliably, so it is not done.
	sp := scratchPool.Get().(*[]byte)
	src := append((*sp)[:0], value...)
	c.enc.Encode(buf[start:], src)
	*sp = src[:0]
	scratchPool.Put(sp)
	if c.Signed() {
		buf = c.appendSig(buf, start, r)
	}
	return buf, nil
}

// appendSig appends "." and the signature by Secrets[0] of buf, which is
// "name=" followed, from start, by the encoded value. r's signature is
// reused when it was made over that very encoding.
func (c *Cookie) appendSig(buf []byte, start int, r *Received) []byte {
	var sum [sha256.Size]byte
	if r != nil && r.signedBy(c) && r.enc == string(buf[start:]) {
		sum = r.sum
	} else {
		// The MAC covers macPrefix ("name=" or nothing) and the encoded
		// value: the end of buf.
		c.secrets[0].macBytes(&sum, buf[start-len(c.macPrefix):])
	}
	buf = append(buf, '.')
	n := len(buf)
	buf = buf[:n+sigLen]
	c.sigEnc.Encode(buf[n:], sum[:])
	return buf
}

// EncodedSize returns the size that Serialize compares with MaxSize for a
// value of n bytes: the name plus the encoded value and, when the Cookie is
// signed, the "." and signature that follow it (n == 0 gives the name's
// length: an empty value is not signed). A caller that builds values, such
// as the session package's cookie storage, uses it to refuse an oversized
// value before Serialize would, whatever the format. It does not check that
// a Remix-format value is UTF-8.
func (c *Cookie) EncodedSize(n int) int {
	if n <= 0 {
		return len(c.name)
	}
	size := len(c.name) + c.enc.EncodedLen(n)
	if c.Signed() {
		size += 1 + sigLen
	}
	return size
}

// Expire returns the Set-Cookie header value that deletes the cookie: an
// empty value, Max-Age=0 and an Expires in the past, with the cookie's own
// Domain, Path, Secure, Partitioned, SameSite and HttpOnly so that the
// browser matches and removes the same cookie.
func (c *Cookie) Expire() string { return c.expire }

// scratch buffers for decoding, so a Parse allocates only its result.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Parse finds the cookie in a Cookie request header (every cookie of the
// request, separated by ";") and returns its decoded value. ok is false when
// the cookie is absent, longer than MaxSize, unsigned or forged while the
// Cookie is signed, signed with no current secret, or not decodable: a
// client can never make Parse fail in any other way, nor panic. An empty
// value ("name=") is ("", true), as in @remix-run/cookie; a bare "name"
// without "=" counts as absent. When the name appears more than once, the
// first occurrence wins. Surrounding double quotes are removed.
func (c *Cookie) Parse(cookieHeader string) (value string, ok bool) {
	value, _, ok = c.ParseSecret(cookieHeader)
	return value, ok
}

// ParseSecret is Parse that also reports which secret verified the cookie:
// its index in Options.Secrets, or -1 when no secret did (the Cookie is
// unsigned, the value is empty, or ok is false).
//
// An index above 0 means the cookie was signed with an older secret during
// a rotation. Serialize the value again to re-sign it with Secrets[0], so
// that the old secret can later be retired without invalidating the
// cookie; the session middleware does this on every response, read-only
// ones too.
func (c *Cookie) ParseSecret(cookieHeader string) (value string, secret int, ok bool) {
	return c.parse(cookieHeader, nil)
}

// parse is ParseSecret; when r is not nil, it also keeps in r what decode
// keeps there.
func (c *Cookie) parse(cookieHeader string, r *Received) (value string, secret int, ok bool) {
	raw, found := findCookie(cookieHeader, c.name)
	if !found || len(c.name)+len(raw) > MaxSize {
		return "", -1, false
	}
	raw = unquote(raw)
	if raw == "" {
		return "", -1, true
	}
	return c.decode(raw, r)
}

// Decode reads a value that Encode wrote: ok is false when it is forged or
// signed with no current secret while the Cookie is signed, unsigned while
// the Cookie is signed, not decodable, or longer than MaxSize with the
// cookie's name, exactly as Parse judges a cookie's value (but no double
// quotes are removed). "" decodes as ("", true). Like Parse, it never fails
// in any other way, nor panics.
func (c *Cookie) Decode(encoded string) (value string, ok bool) {
	value, _, ok = c.DecodeSecret(encoded)
	return value, ok
}

// DecodeSecret is Decode that also reports which secret verified the value,
// as ParseSecret does: an index above 0 means an older secret signed it, and
// Encode of the value signs it again with Secrets[0].
func (c *Cookie) DecodeSecret(encoded string) (value string, secret int, ok bool) {
	if len(c.name)+len(encoded) > MaxSize {
		return "", -1, false
	}
	if encoded == "" {
		return "", -1, true
	}
	return c.decode(encoded, nil)
}

// decode verifies and decodes a non-empty encoded value of at most MaxSize
// bytes with the name: Parse's and Decode's common part. When Secrets[0]
// verifies it and r is not nil, r keeps the encoding and its signature.
func (c *Cookie) decode(raw string, r *Received) (value string, secret int, ok bool) {
	bp := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(bp)
	secret = -1
	if c.Signed() {
		if raw, secret, ok = c.verify(raw, r, bp); !ok {
			return "", -1, false
		}
	}
	if c.opts.Format == Remix {
		value, ok = decodeRemix(raw, bp)
	} else {
		value, ok = decodeNative(raw, bp)
	}
	if !ok {
		return "", -1, false
	}
	return value, secret, true
}

// verify splits the signature off a signed value and returns the encoded
// value and the index of the secret whose signature it carries; ok is
// false when none matches. When Secrets[0] verifies it and r is not nil, r
// keeps the encoding and its signature. bp is scratch space.
func (c *Cookie) verify(raw string, r *Received, bp *[]byte) (enc string, secret int, ok bool) {
	dot := strings.LastIndexByte(raw, '.')
	if dot < 0 {
		return "", -1, false
	}
	var sig, want [sha256.Size]byte
	if !c.decodeSig(&sig, raw[dot+1:], bp) {
		return "", -1, false
	}
	enc = raw[:dot]
	for i, s := range c.secrets {
		s.mac(&want, c.macPrefix, enc)
		if !hmac.Equal(want[:], sig[:]) {
			continue
		}
		if i == 0 && r != nil {
			r.enc, r.sum = enc, want
		}
		return enc, i, true
	}
	return "", -1, false
}

// decodeRemix decodes a value as atob does and accepts it only as UTF-8
// text, as @remix-run/cookie reads it. bp is scratch space.
func decodeRemix(raw string, bp *[]byte) (string, bool) {
	b, ok := forgivingDecode(bp, raw)
	if !ok || !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// decodeNative decodes a value of canonical unpadded base64url, and
// nothing else. bp is scratch space.
func decodeNative(raw string, bp *[]byte) (string, bool) {
	// The decoder reads bytes: raw is copied into the scratch buffer past
	// room for the result. Decoding straight from the string's memory with
	// unsafe saved nothing measurable, so it is not done.
	dn := nativeEncoding.DecodedLen(len(raw))
	b := scratch(bp, dn+len(raw))
	src := b[dn:]
	copy(src, raw)
	n, err := nativeEncoding.Decode(b[:dn], src)
	// Even a Strict encoding skips CR and LF; the length check refuses
	// them, so that only the canonical string decodes.
	if err != nil || n == 0 || nativeEncoding.EncodedLen(n) != len(raw) {
		return "", false
	}
	return string(b[:n]), true
}

// decodeSig decodes a 43-character signature into sig. The Native format
// takes exactly canonical unpadded base64url; the Remix format is as
// forgiving as atob (padding and ASCII whitespace allowed).
func (c *Cookie) decodeSig(sig *[sha256.Size]byte, s string, bp *[]byte) bool {
	if c.opts.Format == Remix {
		return decodeRemixSig(sig, s, bp)
	}
	return decodeNativeSig(sig, s)
}

// decodeNativeSig decodes a signature of exactly canonical unpadded
// base64url.
func decodeNativeSig(sig *[sha256.Size]byte, s string) bool {
	if len(s) != sigLen {
		return false
	}
	var tmp [sha256.Size + 3]byte
	// A copy on the stack: decoding from the string's memory with unsafe
	// saved too little to be worth it, so it is not done.
	var src [sigLen]byte
	copy(src[:], s)
	n, err := nativeEncoding.Decode(tmp[:], src[:])
	if err != nil || n != sha256.Size {
		return false
	}
	copy(sig[:], tmp[:n])
	return true
}

// decodeRemixSig decodes a signature as atob does; bp is scratch space.
func decodeRemixSig(sig *[sha256.Size]byte, s string, bp *[]byte) bool {
	if len(s) > 2*sigLen {
		return false
	}
	b, ok := forgivingDecode(bp, s)
	if !ok || len(b) != sha256.Size {
		return false
	}
	copy(sig[:], b)
	return true
}

// forgivingDecode implements the WHATWG "forgiving-base64 decode" that atob
// uses: ASCII whitespace is ignored, up to two "=" may end a string whose
// length is a multiple of four, any other byte outside the standard alphabet
// fails, and so does a length of 1 mod 4. It decodes into the scratch
// buffer *bp, growing it when needed.
func forgivingDecode(bp *[]byte, s string) ([]byte, bool) {
	clean := trimPadding(withoutASCIISpace(s))
	if len(clean)%4 == 1 || !isStdBase64(clean) {
		return nil, false
	}
	dst := scratch(bp, base64.RawStdEncoding.DecodedLen(len(clean)))
	// Not Strict: atob ignores non-zero bits after the last full byte.
	n, err := base64.RawStdEncoding.Decode(dst, clean)
	if err != nil {
		return nil, false
	}
	return dst[:n], true
}

// withoutASCIISpace returns the bytes of s without the ASCII whitespace
// that atob ignores. The result is only read, so without whitespace to
// remove (what a browser sends back) it is s's own memory, and a long value
// costs no copy: copying s into the scratch buffer made parsing a large
// Remix value noticeably slower.
func withoutASCIISpace(s string) []byte {
	if !hasASCIISpace(s) {
		return unsafe.Slice(unsafe.StringData(s), len(s))
	}
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if !asciiSpace[s[i]] {
			clean = append(clean, s[i])
		}
	}
	return clean
}

// hasASCIISpace reports whether s holds a byte that atob ignores.
func hasASCIISpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if asciiSpace[s[i]] {
			return true
		}
	}
	return false
}

// trimPadding removes up to two "=" from the end of b when its length is a
// multiple of four.
func trimPadding(b []byte) []byte {
	if len(b)%4 == 0 {
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, padding), padding)
	}
	return b
}

var padding = []byte("=")

// isStdBase64 reports whether every byte of b is in the standard base64
// alphabet (without "=").
func isStdBase64(b []byte) bool {
	for _, c := range b {
		if !base64Chars[c] {
			return false
		}
	}
	return true
}

// scratch returns the scratch buffer *bp with length n, replacing it first
// with a larger one when it is too small.
func scratch(bp *[]byte, n int) []byte {
	if cap(*bp) < n {
		*bp = make([]byte, 0, n)
	}
	return (*bp)[:n]
}

// findCookie returns the value of the first "name=value" pair named name in
// a Cookie header. Pairs are separated by ';'; spaces and tabs around names
// and values are ignored; a pair without '=' is skipped. It never allocates.
func findCookie(header, name string) (string, bool) {
	for len(header) > 0 {
		var pair string
		if i := strings.IndexByte(header, ';'); i >= 0 {
			pair, header = header[:i], header[i+1:]
		} else {
			pair, header = header, ""
		}
		eq := strings.IndexByte(pair, '=')
		if eq < 0 {
			continue
		}
		if trimOWS(pair[:eq]) == name {
			return trimOWS(pair[eq+1:]), true
		}
	}
	return "", false
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// unquote removes one pair of surrounding double quotes and, as
// @remix-run/headers does, the backslash escapes inside them.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b = append(b, s[i])
	}
	return string(b)
}
