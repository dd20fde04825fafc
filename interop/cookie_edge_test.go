package interop

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
)

// TestSizeLimit walks values across the 4096-byte browser limit (RFC
// 6265bis §5.6: name plus value). Below it both sides write the same bytes
// and read each other. Above it they differ, by design: Remix writes and
// reads any size (a browser would drop the cookie silently); Go's Serialize
// returns ErrTooLarge and its Parse refuses the over-long value.
func TestSizeLimit(t *testing.T) {
	r := startRemix(t)
	for _, cfg := range []struct {
		label, name string
		o           cookie.Options
		unit        string
		from, to    int
	}{
		{"unsigned ASCII", "c", cookie.Options{}, "a", 3060, 3075},
		{"signed ASCII", "c", cookie.Options{Secrets: []string{"secret1"}}, "a", 3028, 3042},
		{"signed 日本語", "session", cookie.Options{Secrets: []string{"secret1"}}, "日", 1005, 1015},
		{"signed emoji", "session", cookie.Options{Secrets: []string{"secret1"}}, "😀", 752, 762},
	} {
		t.Run(cfg.label, func(t *testing.T) {
			p := newPair(t, r.with(t), cfg.name, cfg.o)
			var fits, over int
			for n := cfg.from; n <= cfg.to; n++ {
				v := strings.Repeat(cfg.unit, n)
				m := p.remixSerialize(v)
				mh := requestHeader(m)
				size := len(mh) - 1 // name and value, without '='
				g, err := p.gc.Serialize(v)
				if size <= cookie.MaxSize {
					fits++
					if err != nil || g != m {
						t.Errorf("%d×%q (%d bytes): Go = %q, %v; Remix = %q", n, cfg.unit, size, short(g), err, short(m))
						continue
					}
					if got, ok := p.agree(mh); !ok || got != v {
						t.Errorf("%d×%q (%d bytes) not read back: %v", n, cfg.unit, size, ok)
					}
					continue
				}
				over++
				if !errors.Is(err, cookie.ErrTooLarge) {
					t.Errorf("%d×%q (%d bytes): Go Serialize error = %v, want ErrTooLarge", n, cfg.unit, size, err)
				}
				if got, ok := p.remixParse(mh); !ok || got != v {
					t.Errorf("Remix did not read its own %d-byte cookie", size)
				}
				if _, ok := p.goParse(mh); ok {
					t.Errorf("Go read a %d-byte cookie, over MaxSize", size)
				}
			}
			if fits == 0 || over == 0 {
				t.Fatalf("range does not cross the limit: %d fit, %d over", fits, over)
			}
		})
	}
}

// TestTampering: a cookie altered in any way, or signed with another
// secret, is refused by both sides, and both give the same answer for each
// alteration.
func TestTampering(t *testing.T) {
	r := startRemix(t)
	p := newPair(t, r, "my-cookie", cookie.Options{Secrets: []string{"secret1"}})
	unsigned := newPair(t, r, "my-cookie", cookie.Options{})
	other := newPair(t, r, "my-cookie", cookie.Options{Secrets: []string{"secret2"}})

	// "mjackson" signed with secret1: the signature holds both '+' and '/'.
	const enc = "bWphY2tzb24="
	const sig = "UtE+pVKBQKXgdn3KYuPz3qC7W3dlJpZqEMFVOlQw3Nk"
	const good = "my-cookie=" + enc + "." + sig
	if v, ok := p.agree(good); !ok || v != "mjackson" {
		t.Fatalf("the untampered cookie reads %q, %v", v, ok)
	}

	refused := map[string]string{
		"no signature":                 "my-cookie=" + enc,
		"empty signature":              "my-cookie=" + enc + ".",
		"signature only":               "my-cookie=." + sig,
		"truncated signature":          good[:len(good)-1],
		"signature of 42 chars plus =": good[:len(good)-1] + "=",
		"signature doubled":            good + sig,
		"extra dot":                    "my-cookie=" + enc + ".." + sig,
		"dot and signature twice":      good + "." + sig,
		"base64url signature":          "my-cookie=" + enc + "." + strings.NewReplacer("+", "-", "/", "_").Replace(sig),
		"signature of secret2":         "my-cookie=" + enc + "." + remixSig("secret2", enc),
		"signature of the empty value": "my-cookie=" + enc + "." + remixSig("secret1", ""),
		"signature of the raw value":   "my-cookie=" + enc + "." + remixSig("secret1", "mjackson"),
		"value re-encoded unpadded":    "my-cookie=bWphY2tzb24." + sig,
		"other value, same signature":  "my-cookie=bWphY2tzb25=." + sig,
		"signature over name=value":    "my-cookie=" + enc + "." + remixSig("secret1", "my-cookie="+enc),
		"hex signature":                "my-cookie=" + enc + "." + strings.Repeat("ab", 32),
		"signature percent-encoded":    "my-cookie=" + enc + "." + strings.NewReplacer("+", "%2B", "/", "%2F").Replace(sig),
		"signature with a NUL":         "my-cookie=" + enc + "." + sig[:10] + "\x00" + sig[10:],
	}
	for label, h := range refused {
		if v, ok := p.agree(h); ok {
			t.Errorf("%s: %q accepted as %q", label, h, v)
		}
	}
	// Every single-character change of the value or the signature.
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	body := enc + "." + sig
	for i := 0; i < len(body); i++ {
		if body[i] == '.' {
			continue
		}
		for _, c := range []byte{b64[(strings.IndexByte(b64, body[i])+1)%64], '=', '-', '_', '!'} {
			if c == body[i] {
				continue
			}
			h := "my-cookie=" + body[:i] + string(c) + body[i+1:]
			v, ok := p.agree(h)
			// The last signature character carries 2 unused bits that atob
			// ignores; both sides accept a change confined to them.
			lastSigChar := i == len(body)-1 && strings.IndexByte(b64, c)>>2 == strings.IndexByte(b64, body[i])>>2
			if ok && !lastSigChar {
				t.Errorf("changing byte %d to %q: %q accepted as %q", i, c, h, v)
			}
		}
	}
	// Lenient but equivalent spellings that atob accepts: both accept.
	for label, h := range map[string]string{
		"padded signature":         good + "=",
		"quoted":                   `my-cookie="` + enc + "." + sig + `"`,
		"space in quoted sig":      `my-cookie="` + enc + "." + sig[:20] + " " + sig[20:] + `"`,
		"last sig char, low bits":  good[:len(good)-1] + "l", // 'k' and 'l' differ in the spare bits
		"surrounding spaces":       "my-cookie=  " + good[len("my-cookie="):] + "  ",
		"other cookies around it":  "a=1; " + good + "; b=2",
		"first of two occurrences": good + "; my-cookie=" + enc + ".x",
	} {
		if v, ok := p.agree(h); !ok || v != "mjackson" {
			t.Errorf("%s: %q read as %q, %v; want mjackson", label, h, v, ok)
		}
	}
	// Cross-configuration: unsigned cookies do not read signed values (the
	// signature is not base64), signed cookies do not read unsigned values,
	// another secret does not verify.
	if _, ok := unsigned.agree(good); ok {
		t.Error("an unsigned cookie read a signed value")
	}
	if _, ok := p.agree("my-cookie=" + enc); ok {
		t.Error("a signed cookie read an unsigned value")
	}
	if _, ok := other.agree(good); ok {
		t.Error("secret2 verified a secret1 signature")
	}
	// A Native-format cookie is not a Remix cookie.
	native, err := cookie.New("my-cookie", cookie.Options{Secrets: []string{"secret1"}})
	if err != nil {
		t.Fatal(err)
	}
	nline, err := native.Serialize("mjackson")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.agree(requestHeader(nline)); ok {
		t.Errorf("a Native cookie %q read as Remix", requestHeader(nline))
	}
}

// TestNameNotBound documents a property of the Remix format that Go's
// Remix format keeps for compatibility: the signature covers the encoded
// value only, so a value signed for one cookie verifies as any other cookie
// with the same secret. Both sides accept the swap. (Go's Native format
// binds the name; use it, or a secret per cookie, when that matters.)
func TestNameNotBound(t *testing.T) {
	r := startRemix(t)
	a := newPair(t, r, "role", cookie.Options{Secrets: []string{"shared"}})
	b := newPair(t, r, "user", cookie.Options{Secrets: []string{"shared"}})
	line := a.goSerialize("admin")
	swapped := "user=" + strings.TrimPrefix(requestHeader(line), "role=")
	if v, ok := b.agree(swapped); !ok || v != "admin" {
		t.Errorf("swapped cookie read as %q, %v; both sides were expected to accept it", v, ok)
	}
}

// TestCookieHeaderParsing: the two parsers find the same cookie in the same
// Cookie headers: other cookies, duplicates, whitespace, quotes, similar
// names.
func TestCookieHeaderParsing(t *testing.T) {
	r := startRemix(t)
	for _, o := range []cookie.Options{{}, {Secrets: []string{"secret1"}}} {
		p := newPair(t, r, "c", o)
		v := requestHeader(p.goSerialize("hello; world"))[len("c="):]
		w := requestHeader(p.goSerialize("other"))[len("c="):]
		cases := []struct {
			header, want string
			ok           bool
		}{
			{"", "", false},
			{"c=" + v, "hello; world", true},
			{"a=1; c=" + v + "; b=2", "hello; world", true},
			{"a=1;c=" + v + ";b=2", "hello; world", true},
			{"c = " + v, "hello; world", true},
			{"  c=" + v + "  ", "hello; world", true},
			{"\tc=\t" + v + "\t", "hello; world", true},
			{"c=" + v + ";", "hello; world", true},
			{";;c=" + v, "hello; world", true},
			{`c="` + v + `"`, "hello; world", true},
			{"c=" + v + "; c=" + w, "hello; world", true},
			{"c=" + w + "; c=" + v, "other", true},
			{"cc=" + v, "", false},
			{"xc=" + v, "", false},
			{"c2=" + v, "", false},
			{"C=" + v, "", false},
			{"a=c=" + v, "", false},
			{"c=", "", true},
			{"c=; c=" + v, "", true},
			{`c=""`, "", true},
			{"c=" + v + ",d=1", "", false},
			{"c=" + v + " d=1", "", false},
			{"c=%", "", false},
			{"c=" + v + "\x00", "", false},
		}
		for _, c := range cases {
			if got, ok := p.agree(c.header); got != c.want || ok != c.ok {
				t.Errorf("signed=%v %q = %q, %v; want %q, %v", p.gc.Signed(), c.header, got, ok, c.want, c.ok)
			}
		}
	}
}

// TestCookieHeaderDifferences pins where the two Cookie-header parsers
// deliberately or incidentally differ. None of these headers is one a
// browser sends for a cookie either side wrote; each is a client-crafted
// header, and in each case Go is the stricter reader.
func TestCookieHeaderDifferences(t *testing.T) {
	r := startRemix(t)
	p := newPair(t, r, "c", cookie.Options{})
	s := newPair(t, r, "c", cookie.Options{Secrets: []string{"secret1"}})
	const hello = "aGVsbG8=" // "hello"
	helloSigned := hello + "." + remixSig("secret1", hello)
	for _, c := range []struct {
		why     string
		pair    *pair
		header  string
		goV     string
		goOK    bool
		remixV  string
		remixOK bool
	}{
		{"a bare name is absent in Go (DESIGN.md), present and empty in Remix's Cookie parser",
			p, "c", "", false, "", true},
		{"bare name, signed cookie", s, "a=1; c; b=2", "", false, "", true},
		{"Remix removes backslash escapes from unquoted values too; Go only inside quotes",
			p, `c=aGVs\bG8=`, "", false, "hello", true},
		{"backslash escapes, signed", s, `c=` + helloSigned[:3] + `\` + helloSigned[3:], "", false, "hello", true},
		{"Remix's parser keeps a quoted ';' inside the value and finds the next cookie; Go splits on every ';'",
			p, `x="a;c=` + hello + `"; c=Zm9v`, "", false, "foo", true},
		{"Remix's parser ends a quoted value at its closing quote and ignores what follows; Go takes the whole value, which is then not base64",
			p, `c="` + hello + `"junk`, "", false, "hello", true},
		{"closing quote then junk, signed: the signature still verifies in Remix", s, `c="` + helloSigned + `"x`, "", false, "hello", true},
		{"an empty quoted value followed by anything is present and empty in Remix (no signature check), absent in Go",
			s, `c=""` + helloSigned, "", false, "", true},
		{"JavaScript's trim() removes Unicode white space (here U+00A0 NBSP) around a value; Go trims only SP and HTAB",
			p, "c=" + hello + "\u00a0", "", false, "hello", true},
		{"vertical tab: JavaScript trims it, Go keeps it and atob-style decoding refuses it",
			p, "c=" + hello + "\v", "", false, "hello", true},
	} {
		gv, gok := c.pair.goParse(c.header)
		mv, mok := c.pair.remixParse(c.header)
		if gv != c.goV || gok != c.goOK || mv != c.remixV || mok != c.remixOK {
			t.Errorf("%s\n  header %q\n  Go    = %q, %v (pinned %q, %v)\n  Remix = %q, %v (pinned %q, %v)",
				c.why, c.header, gv, gok, c.goV, c.goOK, mv, mok, c.remixV, c.remixOK)
		}
	}
}

// TestAttributes: for every attribute the Set-Cookie lines are identical,
// and @remix-run/headers' own Set-Cookie parser reads Go's line as the
// attributes that were configured.
func TestAttributes(t *testing.T) {
	r := startRemix(t)
	tokyo := time.FixedZone("JST", 9*3600)
	cases := []struct {
		label string
		name  string
		o     cookie.Options
	}{
		{"defaults", "c", cookie.Options{}},
		{"domain", "c", cookie.Options{Domain: "example.com"}},
		{"domain with leading dot", "c", cookie.Options{Domain: ".example.com"}},
		{"deep domain", "c", cookie.Options{Domain: "a-b.sub_x.example.co.uk"}},
		{"IP domain", "c", cookie.Options{Domain: "127.0.0.1"}},
		{"path", "c", cookie.Options{Path: "/app"}},
		{"path with odd bytes", "c", cookie.Options{Path: "/a/b-c_d.e~f/%E6%97%A5/x=y"}},
		{"max-age 1", "c", cookie.Options{MaxAge: 1}},
		{"max-age an hour", "c", cookie.Options{MaxAge: 3600}},
		{"max-age 400 days", "c", cookie.Options{MaxAge: 400 * 24 * 3600}},
		{"max-age negative (Remix maxAge 0)", "c", cookie.Options{MaxAge: -1}},
		{"expires epoch", "c", cookie.Options{Expires: epoch}},
		{"expires 2030", "c", cookie.Options{Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"expires 2038 rollover", "c", cookie.Options{Expires: time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC)}},
		{"expires with fraction", "c", cookie.Options{Expires: time.Date(2031, 7, 4, 12, 30, 45, 999_999_999, time.UTC)}},
		{"expires in Tokyo", "c", cookie.Options{Expires: time.Date(2031, 1, 1, 5, 0, 0, 0, tokyo)}},
		{"expires 1601", "c", cookie.Options{Expires: time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"expires 9999", "c", cookie.Options{Expires: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}},
		{"expires and max-age", "c", cookie.Options{Expires: time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC), MaxAge: 60}},
		{"httpOnly", "c", cookie.Options{HTTPOnly: true}},
		{"secure", "c", cookie.Options{Secure: true}},
		{"sameSite Strict", "c", cookie.Options{SameSite: http.SameSiteStrictMode}},
		{"sameSite Lax", "c", cookie.Options{SameSite: http.SameSiteLaxMode}},
		{"sameSite default mode (Lax)", "c", cookie.Options{SameSite: http.SameSiteDefaultMode}},
		{"sameSite None", "c", cookie.Options{SameSite: http.SameSiteNoneMode, Secure: true}},
		{"partitioned implies secure", "c", cookie.Options{Partitioned: true}},
		{"partitioned and secure", "c", cookie.Options{Partitioned: true, Secure: true, SameSite: http.SameSiteNoneMode}},
		{"__Host- prefix", "__Host-id", cookie.Options{Secure: true, HTTPOnly: true}},
		{"__Secure- prefix", "__Secure-id", cookie.Options{Secure: true, Domain: "example.com", Path: "/x"}},
		{"everything, signed", "sess", cookie.Options{
			Domain: "remix.run", Path: "/about", MaxAge: 3600, Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			HTTPOnly: true, Secure: true, Partitioned: true, SameSite: http.SameSiteNoneMode,
			Secrets: []string{"s1", "s0"}}},
	}
	for _, c := range cases {
		p := newPair(t, r, c.name, c.o)
		for _, v := range []string{"x", "", "日本語 😀"} {
			g := p.goSerialize(v)
			m := p.remixSerialize(v)
			if g != m {
				t.Errorf("%s, value %q:\n  Go:    %q\n  Remix: %q", c.label, v, g, m)
			}
		}
		// What Remix's Set-Cookie parser reads from Go's line.
		line := p.goSerialize("x")
		var got setCookieFields
		r.mustCall(map[string]any{"op": "parseSetCookie", "header": line}, &got)
		want := expectedFields(p)
		if got.String() != want.String() {
			t.Errorf("%s: @remix-run/headers reads Go's %q as\n  %v\nwant\n  %v", c.label, line, got, want)
		}
	}
}

// setCookieFields is what the helper's parseSetCookie op returns.
type setCookieFields struct {
	Name        string  `json:"name"`
	Domain      *string `json:"domain"`
	Expires     *int64  `json:"expires"`
	HTTPOnly    bool    `json:"httpOnly"`
	MaxAge      *int    `json:"maxAge"`
	Partitioned bool    `json:"partitioned"`
	Path        *string `json:"path"`
	SameSite    *string `json:"sameSite"`
	Secure      bool    `json:"secure"`
}

func (f setCookieFields) String() string {
	b, _ := json.Marshal(f)
	return string(b)
}

func expectedFields(p *pair) setCookieFields {
	o := p.gc.Options()
	f := setCookieFields{Name: p.name, HTTPOnly: o.HTTPOnly, Partitioned: o.Partitioned, Secure: o.Secure,
		Path: ptr(o.Path)}
	if o.Domain != "" {
		f.Domain = ptr(o.Domain)
	}
	if !o.Expires.IsZero() {
		f.Expires = ptr(o.Expires.Truncate(time.Second).UnixMilli())
	}
	switch {
	case o.MaxAge > 0:
		f.MaxAge = ptr(o.MaxAge)
	case o.MaxAge < 0:
		f.MaxAge = ptr(0)
	}
	switch o.SameSite {
	case http.SameSiteStrictMode:
		f.SameSite = ptr("Strict")
	case http.SameSiteNoneMode:
		f.SameSite = ptr("None")
	default:
		f.SameSite = ptr("Lax")
	}
	return f
}

// TestAttributeDifferences pins the option values one library accepts and
// the other cannot express or refuses. Go validates when the cookie is
// made; Remix writes what it is given.
func TestAttributeDifferences(t *testing.T) {
	r := startRemix(t)
	for _, c := range []struct {
		why   string
		ro    remixOptions
		remix string // Remix's Set-Cookie for "x"
		goOpt *cookie.Options
		goOut string // Go's line for goOpt, or "" when New must fail
	}{
		{"Go MaxAge has the net/http meaning: 0 omits, Remix maxAge 0 writes Max-Age=0 (Go spells that MaxAge: -1)",
			remixOptions{MaxAge: ptr(0)}, "c=eA==; Max-Age=0; Path=/; SameSite=Lax",
			&cookie.Options{MaxAge: 0}, "c=eA==; Path=/; SameSite=Lax"},
		{"a negative Remix maxAge is written as is; Go writes Max-Age=0 (both delete, RFC 6265 §5.2.2)",
			remixOptions{MaxAge: ptr(-1)}, "c=eA==; Max-Age=-1; Path=/; SameSite=Lax",
			&cookie.Options{MaxAge: -1}, "c=eA==; Max-Age=0; Path=/; SameSite=Lax"},
		{"Remix does not cap Max-Age; Go refuses more than 400 days, which browsers cap",
			remixOptions{MaxAge: ptr(401 * 86400)}, "c=eA==; Max-Age=34646400; Path=/; SameSite=Lax",
			&cookie.Options{MaxAge: 401 * 86400}, ""},
		{"Remix writes sameSite verbatim; Go always writes the canonical token",
			remixOptions{SameSite: "lax"}, "c=eA==; Path=/; SameSite=lax",
			&cookie.Options{SameSite: http.SameSiteLaxMode}, "c=eA==; Path=/; SameSite=Lax"},
		{"SameSite=None without Secure: Remix writes it, browsers reject it, Go refuses it",
			remixOptions{SameSite: "None"}, "c=eA==; Path=/; SameSite=None",
			&cookie.Options{SameSite: http.SameSiteNoneMode}, ""},
		{"attribute injection through domain (CVE-2024-47764 class): Remix writes it, Go refuses",
			remixOptions{Domain: "example.com; Secure"}, "c=eA==; Domain=example.com; Secure; Path=/; SameSite=Lax",
			&cookie.Options{Domain: "example.com; Secure"}, ""},
		{"attribute injection through path: Remix writes it, Go refuses",
			remixOptions{Path: "/; Domain=evil.example"}, "c=eA==; Path=/; Domain=evil.example; SameSite=Lax",
			&cookie.Options{Path: "/; Domain=evil.example"}, ""},
		{"a __Host- cookie without Secure: Remix writes it (browsers drop it), Go refuses",
			remixOptions{}, "c=eA==; Path=/; SameSite=Lax", nil, ""},
	} {
		name := "c"
		m, err := r.serialize(name, c.ro, "x")
		if err != nil || m != c.remix {
			t.Errorf("%s\n  Remix = %q, %v; pinned %q", c.why, m, err, c.remix)
		}
		if c.goOpt == nil {
			continue
		}
		o := *c.goOpt
		o.Format = cookie.Remix
		gc, err := cookie.New(name, o)
		switch {
		case c.goOut == "" && err == nil:
			t.Errorf("%s\n  Go New accepted %+v", c.why, o)
		case c.goOut != "" && err != nil:
			t.Errorf("%s\n  Go New: %v", c.why, err)
		case c.goOut != "":
			if g, _ := gc.Serialize("x"); g != c.goOut {
				t.Errorf("%s\n  Go = %q; pinned %q", c.why, g, c.goOut)
			}
		}
	}
	if _, err := cookie.New("__Host-c", cookie.Options{Format: cookie.Remix}); err == nil {
		t.Error("Go accepted a __Host- cookie without Secure")
	}
	if m, err := r.serialize("__Host-c", remixOptions{}, "x"); err != nil || m != "__Host-c=eA==; Path=/; SameSite=Lax" {
		t.Errorf("Remix __Host- without Secure = %q, %v", m, err)
	}
}

// TestExpire compares Go's Expire with Remix. Remix has no "expire": its
// session middleware destroys a session by serializing "" with the
// cookie's own attributes (reference §7: "destroy → __sess=; HttpOnly;
// Path=/; SameSite=Lax", and with maxAge 60 it keeps "Max-Age=60"), which
// leaves an empty cookie in the browser rather than deleting it. Go's
// Expire deletes: Max-Age=0 and an Expires in 1970. What is proved here:
//   - Go's Serialize("") is byte-identical to Remix's destroy line;
//   - Go's Expire() is byte-identical to Remix's
//     serialize(”, {maxAge: 0, expires: new Date(0)}), the explicit delete;
//   - both sides read the empty value of either line as "".
func TestExpire(t *testing.T) {
	r := startRemix(t)
	for _, c := range []struct {
		name string
		o    cookie.Options
	}{
		{"__sess", cookie.Options{Secrets: []string{"secret1"}, HTTPOnly: true}},
		{"s", cookie.Options{Secrets: []string{"k"}, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: 60, Domain: "ex.com", Path: "/app", HTTPOnly: true}},
		{"c", cookie.Options{}},
		{"c", cookie.Options{Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Partitioned: true}},
		{"c", cookie.Options{MaxAge: -1, SameSite: http.SameSiteNoneMode, Secure: true}},
	} {
		p := newPair(t, r, c.name, c.o)
		destroy := p.remixSerialize("")
		if g := p.goSerialize(""); g != destroy {
			t.Errorf("Serialize(\"\"): Go %q, Remix destroy %q", g, destroy)
		}
		del := r.serializeWith(c.name, p.ro, "", map[string]any{"maxAge": 0, "expires": 0})
		if g := p.gc.Expire(); g != del {
			t.Errorf("Expire: Go %q, Remix explicit delete %q", g, del)
		}
		if destroy != p.gc.Expire() {
			t.Logf("difference (documented): Remix destroy %q, Go Expire %q", destroy, p.gc.Expire())
		}
		for _, line := range []string{destroy, p.gc.Expire()} {
			if v, ok := p.agree(requestHeader(line)); !ok || v != "" {
				t.Errorf("reading %q: %q, %v; want \"\", true", requestHeader(line), v, ok)
			}
		}
	}
}
