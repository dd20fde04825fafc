package cookie

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxSize is the largest name plus value, in bytes, that a browser keeps
// (RFC 6265bis §5.6: a user agent ignores a cookie whose name and value
// together exceed 4096 octets). Serialize refuses to write more and Parse
// refuses to verify more.
const MaxSize = 4096

// maxMaxAge is the 400-day cap that browsers apply to Max-Age and Expires.
const maxMaxAge = 400 * 24 * 60 * 60

// ErrTooLarge is returned (wrapped) by Serialize when the cookie's name and
// value would exceed MaxSize bytes, which a browser would drop silently.
var ErrTooLarge = errors.New("cookie: name and value exceed 4096 bytes")

// ErrInvalidUTF8 is returned (wrapped) by Serialize in the Remix format for a
// value that is not valid UTF-8: @remix-run/cookie encodes text, not bytes.
var ErrInvalidUTF8 = errors.New("cookie: value is not valid UTF-8")

// Format selects the wire format of a cookie's value.
type Format int

const (
	// Native is the default format. The value is unpadded base64url
	// (RFC 4648 §5) of its bytes; when signed, "." and the unpadded base64url
	// HMAC-SHA256 of "name=value" follow, so a value signed for one cookie
	// never verifies as another cookie. Decoding is strict: a re-encoded
	// value or signature does not verify.
	Native Format = iota

	// Remix is byte-for-byte the format of @remix-run/cookie 0.7: the value
	// is padded standard base64 of its UTF-8 text; when signed, "." and the
	// unpadded standard base64 HMAC-SHA256 of the encoded value follow. A
	// Remix application and a Go service with the same secrets read each
	// other's cookies. Decoding is as forgiving as the browser's atob.
	Remix
)

// String returns "Native" or "Remix".
func (f Format) String() string {
	switch f {
	case Native:
		return "Native"
	case Remix:
		return "Remix"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Options configure a Cookie. The zero value is a valid, unsigned, host-only
// cookie with Path=/ and SameSite=Lax.
type Options struct {
	// Domain widens the cookie to a domain and its subdomains. Empty (the
	// default) keeps it host-only, which is safer. A leading dot is allowed.
	Domain string
	// Path scopes the cookie; it defaults to "/".
	Path string
	// MaxAge has the net/http meaning: 0 omits the attribute (a browser
	// session cookie), a negative value writes Max-Age=0 (delete now), a
	// positive value is seconds, at most 400 days (what browsers keep).
	MaxAge int
	// Expires is written as an IMF-fixdate when not zero. Prefer MaxAge;
	// when both are set, browsers obey MaxAge.
	Expires time.Time
	// HTTPOnly hides the cookie from client-side JavaScript.
	HTTPOnly bool
	// Secure sends the cookie over HTTPS only.
	Secure bool
	// Partitioned (CHIPS) keys the cookie to the top-level site; it implies
	// Secure.
	Partitioned bool
	// SameSite defaults to http.SameSiteLaxMode (also for
	// http.SameSiteDefaultMode: the attribute is always written, as OWASP
	// advises). SameSiteNoneMode requires Secure.
	SameSite http.SameSite
	// Secrets sign the value with HMAC-SHA256: Secrets[0] signs, and every
	// secret verifies, in order, so a secret can be rotated by putting the
	// new one first. No secrets: the value is only encoded, not protected.
	// Use at least 32 random bytes per secret.
	Secrets []string
	// Format is Native (the default) or Remix.
	Format Format
}

// Cookie encodes, signs, verifies and decodes one named cookie. It is
// immutable after New and safe for concurrent use.
type Cookie struct {
	name string
	opts Options
	// macPrefix is what the MAC covers before the encoded value: "name="
	// in the Native format, nothing in the Remix format.
	macPrefix string
	secrets   []*signer
	// enc and sigEnc are the format's encodings of the value and of its
	// signature.
	enc, sigEnc *base64.Encoding
	// attrs is every attribute after the value ("; Path=/; SameSite=Lax"),
	// rendered once by New.
	attrs string
	// expire is the whole Set-Cookie line that deletes the cookie.
	expire string
	// lifeHead and lifeTail are the attributes before and after Max-Age
	// when SerializeMaxAge replaces Max-Age and Expires.
	lifeHead, lifeTail string
}

// signer computes HMAC-SHA256 with one secret. hmac.New is costly (two hash
// states and key setup), so ready-keyed instances are pooled.
type signer struct {
	pool sync.Pool
}

type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
	buf []byte
}

func newSigner(secret string) *signer {
	key := []byte(secret)
	s := &signer{}
	s.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	return s
}

// mac puts HMAC(secret, prefix+msg) in out.
func (s *signer) mac(out *[sha256.Size]byte, prefix, msg string) {
	st := s.pool.Get().(*macState)
	st.buf = append(append(st.buf[:0], prefix...), msg...)
	st.h.Reset()
	st.h.Write(st.buf)
	st.h.Sum(st.sum[:0])
	*out = st.sum
	s.pool.Put(st)
}

// macBytes puts HMAC(secret, msg) in out.
func (s *signer) macBytes(out *[sha256.Size]byte, msg []byte) {
	st := s.pool.Get().(*macState)
	st.h.Reset()
	st.h.Write(msg)
	st.h.Sum(st.sum[:0])
	*out = st.sum
	s.pool.Put(st)
}

// New returns a Cookie named name, or an error naming the first option that
// is invalid: a name, domain or path that could inject attributes
// (CVE-2024-47764), a prefix rule broken (__Host-, __Secure-), SameSite=None
// without Secure, an empty secret, a MaxAge past 400 days or an unknown
// Format. Configuration mistakes surface here, never during a request.
func New(name string, o Options) (*Cookie, error) {
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("cookie: name %q: %w", name, err)
	}
	o = withDefaults(o)
	for _, check := range optionChecks {
		if err := check(name, &o); err != nil {
			return nil, err
		}
	}
	// The Cookie keeps its own Secrets, which the caller may change later.
	o.Secrets = append([]string(nil), o.Secrets...)
	secrets, err := newSigners(name, o.Secrets)
	if err != nil {
		return nil, err
	}
	c := &Cookie{name: name, opts: o, secrets: secrets}
	c.enc, c.sigEnc = encodings[o.Format].value, encodings[o.Format].sig
	if o.Format == Native {
		c.macPrefix = name + "="
	}
	c.attrs = renderAttrs(&o, false)
	c.expire = name + "=" + renderAttrs(&o, true)
	domain, httpOnly, tail := attrParts(&o)
	c.lifeHead, c.lifeTail = domain+httpOnly, tail
	return c, nil
}

// withDefaults returns o with the defaults that Options documents filled
// in.
func withDefaults(o Options) Options {
	if o.Path == "" {
		o.Path = "/"
	}
	if o.Partitioned {
		o.Secure = true
	}
	switch o.SameSite {
	case 0, http.SameSiteDefaultMode:
		o.SameSite = http.SameSiteLaxMode
	}
	return o
}

// optionChecks validate Options with defaults applied, in the order in
// which New reports the first one that fails. Each returns New's error.
var optionChecks = [...]func(name string, o *Options) error{
	checkSameSite,
	checkDomain,
	checkPath,
	checkLifetime,
	checkPrefix,
	checkFormat,
}

// checkSameSite refuses an unknown mode, and None without Secure.
func checkSameSite(name string, o *Options) error {
	switch o.SameSite {
	case http.SameSiteLaxMode, http.SameSiteStrictMode:
		return nil
	case http.SameSiteNoneMode:
		if o.Secure {
			return nil
		}
		return fmt.Errorf("cookie %q: Options.SameSite None requires Options.Secure (browsers reject it otherwise)", name)
	}
	return fmt.Errorf("cookie %q: Options.SameSite %d is not a known http.SameSite mode", name, o.SameSite)
}

// checkDomain checks a Domain, unless it is empty (a host-only cookie).
func checkDomain(name string, o *Options) error {
	if o.Domain == "" {
		return nil
	}
	if err := validDomain(o.Domain); err != nil {
		return fmt.Errorf("cookie %q: Options.Domain %q: %w", name, o.Domain, err)
	}
	return nil
}

// checkPath checks the Path, "/" by default.
func checkPath(name string, o *Options) error {
	if err := validPath(o.Path); err != nil {
		return fmt.Errorf("cookie %q: Options.Path %q: %w", name, o.Path, err)
	}
	return nil
}

// checkLifetime refuses what browsers would cap or ignore: a MaxAge past
// 400 days, and an Expires that an IMF-fixdate cannot hold (it has a
// four-digit year) or that browsers drop (years before 1601; net/http
// drops them too).
func checkLifetime(name string, o *Options) error {
	if o.MaxAge > maxMaxAge {
		return fmt.Errorf("cookie %q: Options.MaxAge %d is over 400 days (%d s), which browsers cap", name, o.MaxAge, maxMaxAge)
	}
	if o.Expires.IsZero() {
		return nil
	}
	if y := o.Expires.UTC().Year(); y < 1601 || y > 9999 {
		return fmt.Errorf("cookie %q: Options.Expires %v is outside the years 1601 to 9999", name, o.Expires)
	}
	return nil
}

// checkPrefix enforces the rules that browsers attach to the name prefixes
// __Secure- (Secure) and __Host- (Secure, no Domain, Path "/").
func checkPrefix(name string, o *Options) error {
	if hasPrefixFold(name, "__Secure-") && !o.Secure {
		return fmt.Errorf("cookie %q: a __Secure- name requires Options.Secure", name)
	}
	if !hasPrefixFold(name, "__Host-") {
		return nil
	}
	switch {
	case !o.Secure:
		return fmt.Errorf("cookie %q: a __Host- name requires Options.Secure", name)
	case o.Domain != "":
		return fmt.Errorf("cookie %q: a __Host- name forbids Options.Domain", name)
	case o.Path != "/":
		return fmt.Errorf("cookie %q: a __Host- name requires Options.Path \"/\"", name)
	}
	return nil
}

// checkFormat refuses a Format other than Native and Remix.
func checkFormat(name string, o *Options) error {
	switch o.Format {
	case Native, Remix:
		return nil
	}
	return fmt.Errorf("cookie %q: Options.Format %v is unknown", name, o.Format)
}

// newSigners returns a signer for each secret, refusing an empty one.
func newSigners(name string, secrets []string) ([]*signer, error) {
	var signers []*signer
	for i, s := range secrets {
		if s == "" {
			return nil, fmt.Errorf("cookie %q: Options.Secrets[%d] is empty", name, i)
		}
		signers = append(signers, newSigner(s))
	}
	return signers, nil
}

// Name returns the cookie's name.
func (c *Cookie) Name() string { return c.name }

// Signed reports whether the cookie has secrets and so signs its value.
func (c *Cookie) Signed() bool { return len(c.secrets) > 0 }

// Options returns a copy of the cookie's options, with defaults applied.
func (c *Cookie) Options() Options {
	o := c.opts
	o.Secrets = append([]string(nil), o.Secrets...)
	return o
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// renderAttrs renders the attributes in the fixed order of @remix-run/cookie:
// Domain, Expires, HttpOnly, Max-Age, Partitioned, Path, SameSite, Secure.
// For a deletion it writes Max-Age=0 and the Unix epoch as Expires.
func renderAttrs(o *Options, deletion bool) string {
	domain, httpOnly, tail := attrParts(o)
	b := []byte(domain)
	maxAge := o.MaxAge
	switch {
	case deletion:
		b = append(b, "; Expires=Thu, 01 Jan 1970 00:00:00 GMT"...)
		maxAge = -1
	case !o.Expires.IsZero():
		b = append(b, "; Expires="...)
		b = o.Expires.UTC().AppendFormat(b, http.TimeFormat)
	}
	b = append(b, httpOnly...)
	b = appendMaxAge(b, maxAge)
	b = append(b, tail...)
	return string(b)
}

// appendMaxAge appends the Max-Age attribute that maxAge gives, with the
// net/http meaning: none for 0, Max-Age=0 (delete now) when negative,
// otherwise seconds, capped at the 400 days that browsers keep.
func appendMaxAge(b []byte, maxAge int) []byte {
	switch {
	case maxAge < 0:
		return append(b, "; Max-Age=0"...)
	case maxAge > 0:
		b = append(b, "; Max-Age="...)
		return strconv.AppendInt(b, int64(min(maxAge, maxMaxAge)), 10)
	}
	return b
}

// attrParts renders the attributes that do not depend on the cookie's
// lifetime, in the three places that Expires and Max-Age leave between
// them: Domain; HttpOnly; and Partitioned, Path, SameSite, Secure.
func attrParts(o *Options) (domain, httpOnly, tail string) {
	if o.Domain != "" {
		domain = "; Domain=" + o.Domain
	}
	if o.HTTPOnly {
		httpOnly = "; HttpOnly"
	}
	var b strings.Builder
	if o.Partitioned {
		b.WriteString("; Partitioned")
	}
	b.WriteString("; Path=")
	b.WriteString(o.Path)
	switch o.SameSite {
	case http.SameSiteStrictMode:
		b.WriteString("; SameSite=Strict")
	case http.SameSiteNoneMode:
		b.WriteString("; SameSite=None")
	default:
		b.WriteString("; SameSite=Lax")
	}
	if o.Secure {
		b.WriteString("; Secure")
	}
	return domain, httpOnly, b.String()
}
