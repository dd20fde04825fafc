package interop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/cookie"
)

// remixOptions are @remix-run/cookie createCookie options as the helper
// takes them (see node/cookie.mjs). Expires is milliseconds since the epoch.
type remixOptions struct {
	Secrets     []string `json:"secrets,omitempty"`
	Domain      string   `json:"domain,omitempty"`
	Path        string   `json:"path,omitempty"`
	MaxAge      *int     `json:"maxAge,omitempty"`
	Expires     *int64   `json:"expires,omitempty"`
	HTTPOnly    bool     `json:"httpOnly,omitempty"`
	Secure      bool     `json:"secure,omitempty"`
	Partitioned bool     `json:"partitioned,omitempty"`
	SameSite    string   `json:"sameSite,omitempty"`
}

// remixOpts translates Go options into the Remix options that mean the same
// cookie. The only translation is MaxAge: Go's has the net/http meaning
// (0 omits the attribute, negative deletes), Remix's maxAge is written
// verbatim whenever it is set, so Go's -1 is Remix's 0 and Go's 0 is no
// maxAge at all.
func remixOpts(o cookie.Options) remixOptions {
	r := remixOptions{
		Secrets:     o.Secrets,
		Domain:      o.Domain,
		Path:        o.Path,
		HTTPOnly:    o.HTTPOnly,
		Secure:      o.Secure,
		Partitioned: o.Partitioned,
	}
	switch {
	case o.MaxAge > 0:
		n := o.MaxAge
		r.MaxAge = &n
	case o.MaxAge < 0:
		n := 0
		r.MaxAge = &n
	}
	if !o.Expires.IsZero() {
		ms := o.Expires.UnixMilli()
		r.Expires = &ms
	}
	switch o.SameSite {
	case http.SameSiteStrictMode:
		r.SameSite = "Strict"
	case http.SameSiteNoneMode:
		r.SameSite = "None"
	default:
		r.SameSite = "" // Remix's default, Lax
	}
	return r
}

func (r *remix) serialize(name string, o remixOptions, value string) (string, error) {
	r.t.Helper()
	var line string
	err := r.call(map[string]any{"op": "serialize", "name": name, "options": o, "value": value}, &line)
	return line, err
}

func (r *remix) serializeWith(name string, o remixOptions, value string, props map[string]any) string {
	r.t.Helper()
	var line string
	r.mustCall(map[string]any{"op": "serialize", "name": name, "options": o, "value": value, "props": props}, &line)
	return line
}

// parse returns what Remix's cookie.parse(header) gives: ok=false for null.
func (r *remix) parse(name string, o remixOptions, header string) (string, bool) {
	r.t.Helper()
	if !utf8.ValidString(header) {
		// JSON would turn the bad bytes into U+FFFD: Remix would read
		// another header than Go.
		r.t.Fatalf("cannot send a header that is not UTF-8 to the helper: %q", header)
	}
	var v *string
	r.mustCall(map[string]any{"op": "parse", "name": name, "options": o, "header": header}, &v)
	if v == nil {
		return "", false
	}
	return *v, true
}

// pair is one cookie configured identically on both sides.
type pair struct {
	t    *testing.T
	r    *remix
	name string
	o    cookie.Options
	ro   remixOptions
	gc   *cookie.Cookie
}

func newPair(t *testing.T, r *remix, name string, o cookie.Options) *pair {
	t.Helper()
	o.Format = cookie.Remix
	gc, err := cookie.New(name, o)
	if err != nil {
		t.Fatalf("cookie.New(%q): %v", name, err)
	}
	return &pair{t: t, r: r, name: name, o: o, ro: remixOpts(o), gc: gc}
}

func (p *pair) goSerialize(v string) string {
	p.t.Helper()
	line, err := p.gc.Serialize(v)
	if err != nil {
		p.t.Fatalf("Go Serialize(%q): %v", v, err)
	}
	return line
}

func (p *pair) remixSerialize(v string) string {
	p.t.Helper()
	line, err := p.r.serialize(p.name, p.ro, v)
	if err != nil {
		p.t.Fatalf("Remix serialize(%q): %v", v, err)
	}
	return line
}

func (p *pair) goParse(h string) (string, bool)    { return p.gc.Parse(h) }
func (p *pair) remixParse(h string) (string, bool) { p.t.Helper(); return p.r.parse(p.name, p.ro, h) }

// requestHeader turns a Set-Cookie line into the Cookie request header a
// browser sends back: the name=value pair before the first attribute.
func requestHeader(setCookie string) string {
	pairPart, _, _ := strings.Cut(setCookie, "; ")
	return pairPart
}

// roundTrip checks one value both ways: the two Set-Cookie lines are equal
// byte for byte, Remix reads what Go wrote and Go reads what Remix wrote.
func (p *pair) roundTrip(v string) {
	p.t.Helper()
	g := p.goSerialize(v)
	m := p.remixSerialize(v)
	if g != m {
		p.t.Errorf("Set-Cookie for %q (%s):\n  Go:    %q\n  Remix: %q", short(v), p.name, g, m)
	}
	if got, ok := p.remixParse(requestHeader(g)); !ok || got != v {
		p.t.Errorf("Remix parse of Go's %q = %q, %v; want %q", short(requestHeader(g)), short(got), ok, short(v))
	}
	if got, ok := p.goParse(requestHeader(m)); !ok || got != v {
		p.t.Errorf("Go Parse of Remix's %q = %q, %v; want %q", short(requestHeader(m)), short(got), ok, short(v))
	}
}

// agree checks that both sides read a Cookie header the same way and
// returns that reading.
func (p *pair) agree(h string) (string, bool) {
	p.t.Helper()
	gv, gok := p.goParse(h)
	mv, mok := p.remixParse(h)
	if gv != mv || gok != mok {
		p.t.Errorf("%s reading %q: Go = %q, %v; Remix = %q, %v", p.name, short(h), short(gv), gok, short(mv), mok)
	}
	return gv, gok
}

func short(s string) string {
	if len(s) <= 120 {
		return s
	}
	return s[:60] + "…(" + strconv.Itoa(len(s)) + " bytes)…" + s[len(s)-40:]
}

func ptr[T any](v T) *T { return &v }

var epoch = time.Unix(0, 0)

// remixSig is the Remix signature of an encoded value, computed here
// independently of both libraries: unpadded standard base64 of
// HMAC-SHA256(secret, encoded).
func remixSig(secret, encoded string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(encoded))
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}
