package cookie

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
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
	// strings.Builder does. This saves a copy and an allocation per call:
	// string(buf) made BenchmarkSerialize 31% slower for Native/Signed
	// (median of ten rounds of CPU time; 10% for the best round), 39% for
	// Native/Unsigned and 24% for SerializeLarge/Native/Unsigned, and
	// building the line in a strings.Builder instead 22 to 54%.
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
	switch {
	case maxAge < 0:
		buf = append(buf, "; Max-Age=0"...)
	case maxAge > 0:
		buf = append(buf, "; Max-Age="...)
		buf = strconv.AppendInt(buf, int64(min(maxAge, maxMaxAge)), 10)
	}
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
	var enc *base64.Encoding
	if c.opts.Format == Remix {
		if !utf8.ValidString(value) {
			return nil, fmt.Errorf("cookie %q: %w", c.name, ErrInvalidUTF8)
		}
		enc = remixEncoding
	} else {
		enc = nativeEncoding
	}
	encLen := enc.EncodedLen(len(value))
	size := c.EncodedSize(len(value))
	if size > MaxSize {
		return nil, fmt.Errorf("cookie %q: %d bytes: %w", c.name, size, ErrTooLarge)
	}
	start := len(c.name) + 1
	buf := make([]byte, start+encLen, size+1+extra)
	copy(buf, c.name)
	buf[len(c.name)] = '='
	// The encoder reads bytes: value is copied into a pooled buffer.
	// Encoding straight from the string's memory with unsafe saved under
	// 10% (BenchmarkSerialize, BenchmarkSerializeLarge: within noise, CPU
	// time, ten rounds), so it is not done.
	sp := scratchPool.Get().(*[]byte)
	src := append((*sp)[:0], value...)
	enc.Encode(buf[start:], src)
	*sp = src[:0]
	scratchPool.Put(sp)
	if c.Signed() {
		var sum [sha256.Size]byte
		switch {
		case r != nil && r.signedBy(c) && r.enc == string(buf[start:]):
			sum = r.sum
		case c.opts.Format == Remix:
			c.secrets[0].macBytes(&sum, buf[start:])
		default:
			c.secrets[0].macBytes(&sum, buf) // covers "name=value"
		}
		buf = append(buf, '.')
		n := len(buf)
		buf = buf[:n+sigLen]
		if c.opts.Format == Remix {
			base64.RawStdEncoding.Encode(buf[n:], sum[:])
		} else {
			nativeEncoding.Encode(buf[n:], sum[:])
		}
	}
	return buf, nil
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
	size := len(c.name)
	if c.opts.Format == Remix {
		size += remixEncoding.EncodedLen(n)
	} else {
		size += nativeEncoding.EncodedLen(n)
	}
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
		dot := strings.LastIndexByte(raw, '.')
		if dot < 0 {
			return "", -1, false
		}
		var sig, want [sha256.Size]byte
		if !c.decodeSig(&sig, raw[dot+1:], bp) {
			return "", -1, false
		}
		raw = raw[:dot]
		for i, s := range c.secrets {
			s.mac(&want, c.macPrefix, raw)
			if hmac.Equal(want[:], sig[:]) {
				secret = i
				break
			}
		}
		if secret < 0 {
			return "", -1, false
		}
		if secret == 0 && r != nil {
			r.enc, r.sum = raw, want
		}
	}
	if c.opts.Format == Remix {
		b, ok := forgivingDecode((*bp)[:0], raw)
		*bp = b[:0]
		if !ok || !utf8.Valid(b) {
			return "", -1, false
		}
		return string(b), secret, true
	}
	// The decoder reads bytes: raw is copied into the scratch buffer past
	// room for the result. Decoding straight from the string's memory with
	// unsafe saved nothing measurable (within noise, under 10%, in
	// BenchmarkParse and BenchmarkParseLarge), so it is not done.
	b := (*bp)[:0]
	dn := nativeEncoding.DecodedLen(len(raw))
	if cap(b) < dn+len(raw) {
		b = make([]byte, dn+len(raw))
		*bp = b[:0]
	} else {
		b = b[:dn+len(raw)]
	}
	src := b[dn:]
	copy(src, raw)
	b = b[:dn]
	n, err := nativeEncoding.Decode(b, src)
	// Even a Strict encoding skips CR and LF; the length check refuses
	// them, so that only the canonical string decodes.
	if err != nil || n == 0 || nativeEncoding.EncodedLen(n) != len(raw) {
		return "", -1, false
	}
	return string(b[:n]), secret, true
}

// decodeSig decodes a 43-character signature into sig. The Native format
// takes exactly canonical unpadded base64url; the Remix format is as
// forgiving as atob (padding and ASCII whitespace allowed).
func (c *Cookie) decodeSig(sig *[sha256.Size]byte, s string, bp *[]byte) bool {
	if c.opts.Format == Remix {
		if len(s) > 2*sigLen {
			return false
		}
		b, ok := forgivingDecode((*bp)[:0], s)
		*bp = b[:0]
		if !ok || len(b) != sha256.Size {
			return false
		}
		copy(sig[:], b)
		return true
	}
	if len(s) != sigLen {
		return false
	}
	var tmp [sha256.Size + 3]byte
	// A copy on the stack: decoding from the string's memory with unsafe
	// saved under 10% of BenchmarkParse/Native/Signed (8.7% median, 3.7%
	// best of ten, CPU time), so it is not done.
	var src [sigLen]byte
	copy(src[:], s)
	n, err := nativeEncoding.Decode(tmp[:], src[:])
	if err != nil || n != sha256.Size {
		return false
	}
	copy(sig[:], tmp[:n])
	return true
}

// forgivingDecode implements the WHATWG "forgiving-base64 decode" that atob
// uses: ASCII whitespace is ignored, up to two "=" may end a string whose
// length is a multiple of four, any other byte outside the standard alphabet
// fails, and so does a length of 1 mod 4. The result is appended to dst.
func forgivingDecode(dst []byte, s string) ([]byte, bool) {
	// clean is only read, so without whitespace to remove (what a browser
	// sends back) it can be s itself, and a long value costs no copy.
	// Measured against copying s into the scratch buffer: 10.3% faster on
	// BenchmarkParseLarge/Remix/Unsigned (median of fourteen rounds of CPU
	// time, 10.4% for the best round), 5% on BenchmarkParse/Remix/Signed.
	clean := unsafe.Slice(unsafe.StringData(s), len(s))
	if hasASCIISpace(s) {
		clean = make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			switch c := s[i]; c {
			case ' ', '\t', '\n', '\f', '\r':
			default:
				clean = append(clean, c)
			}
		}
	}
	if len(clean)%4 == 0 {
		for k := 0; k < 2 && len(clean) > 0 && clean[len(clean)-1] == '='; k++ {
			clean = clean[:len(clean)-1]
		}
	}
	if len(clean)%4 == 1 {
		return dst, false
	}
	for _, c := range clean {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return dst, false
		}
	}
	n := base64.RawStdEncoding.DecodedLen(len(clean))
	start := len(dst)
	if cap(dst)-start < n {
		grown := make([]byte, start, start+n)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+n]
	// Not Strict: atob ignores non-zero bits after the last full byte.
	m, err := base64.RawStdEncoding.Decode(dst[start:], clean)
	if err != nil {
		return dst[:start], false
	}
	return dst[:start+m], true
}

// hasASCIISpace reports whether s holds a byte that atob ignores.
func hasASCIISpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\f', '\r':
			return true
		}
	}
	return false
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
