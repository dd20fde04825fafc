package cookie_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/cookie"
)

// fuzzCookies is one Cookie of each kind: both formats, signed and not.
func fuzzCookies(t testing.TB) []*cookie.Cookie {
	var cs []*cookie.Cookie
	for _, format := range []cookie.Format{cookie.Native, cookie.Remix} {
		cs = append(cs,
			mustNew(t, "sid", cookie.Options{Format: format}),
			mustNew(t, "sid", cookie.Options{Format: format, Secrets: []string{"new", "old"}}),
		)
	}
	return cs
}

// FuzzParse checks that no Cookie header makes Parse panic, and that what
// Parse accepts is consistent: UTF-8 in the Remix format, and written back
// by Serialize to a cookie that parses to the same value.
func FuzzParse(f *testing.F) {
	cs := fuzzCookies(f)
	for _, c := range cs {
		for _, v := range []string{"", "hello", "日本語", `{"a":1}`} {
			f.Add(pair(mustSerialize(f, c, v)))
			f.Add("a=1; " + pair(mustSerialize(f, c, v)) + "; b=2")
		}
	}
	for _, h := range []string{
		"", ";", "=", "sid", "sid=", "sid=\"\"", `sid="`, "sid=.", "sid=..", "=sid=aGk",
		"sid=aGk=", "sid=aGk", "sid=a", "sid=%%%", "sid=/w==", "sid=_w", "sid=\"aG k=\"",
		"sid=aGVs\r\nbG8", "sid=\x00", "sid=\"\\\"", "sid=aGk.aGk", "sid=aGk=.=",
		strings.Repeat("a=;", 100) + "sid=aGk", "sid=" + strings.Repeat("A", 5000),
		"sid=aGVsbG8." + strings.Repeat("A", 43), "sid=aGVsbG8=." + strings.Repeat("A", 42) + "=",
		"sid=aGVsbG8=.\t" + strings.Repeat("A", 43) + " ",
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, header string) {
		for _, c := range cs {
			v, ok := c.Parse(header)
			v2, secret, ok2 := c.ParseSecret(header)
			if v2 != v || ok2 != ok {
				t.Fatalf("ParseSecret(%q) = %q, %v; Parse = %q, %v", header, v2, ok2, v, ok)
			}
			if secret < -1 || secret >= len(c.Options().Secrets) || (!ok || !c.Signed()) && secret != -1 {
				t.Fatalf("signed=%v: ParseSecret(%q) = %q, %d, %v", c.Signed(), header, v2, secret, ok2)
			}
			r, ok3 := c.ParseReceived(header)
			if r.Value != v || r.Secret != secret || ok3 != ok {
				t.Fatalf("ParseReceived(%q) = %q, %d, %v; ParseSecret = %q, %d, %v", header, r.Value, r.Secret, ok3, v, secret, ok)
			}
			if ok {
				// Sending it back, with its signature reused or not, is
				// what SerializeMaxAge writes.
				for _, maxAge := range []int{0, 60} {
					want, werr := c.SerializeMaxAge(v, maxAge)
					got, gerr := c.SerializeReceived(&r, maxAge)
					if got != want || (werr == nil) != (gerr == nil) {
						t.Fatalf("SerializeReceived(ParseReceived(%q), %d) = %q, %v; SerializeMaxAge = %q, %v", header, maxAge, got, gerr, want, werr)
					}
				}
			}
			if !ok {
				if v != "" {
					t.Fatalf("%v signed=%v: Parse(%q) = %q, false", c.Options().Format, c.Signed(), header, v)
				}
				continue
			}
			if c.Options().Format == cookie.Remix && !utf8.ValidString(v) {
				t.Fatalf("Remix Parse(%q) = %q: not UTF-8", header, v)
			}
			line, err := c.Serialize(v)
			if errors.Is(err, cookie.ErrTooLarge) {
				continue // a lenient encoding can be shorter than the canonical one
			}
			if err != nil {
				t.Fatalf("Serialize(%q) of a parsed value: %v", v, err)
			}
			if got, ok := c.Parse(pair(line)); !ok || got != v {
				t.Fatalf("Parse(Serialize(%q)) = %q, %v", v, got, ok)
			}
		}
	})
}

// FuzzRoundTrip checks Parse(Serialize(v)) == v for any v in both formats,
// signed and not, and the two errors Serialize may return.
func FuzzRoundTrip(f *testing.F) {
	cs := fuzzCookies(f)
	for _, v := range []string{
		"", "a", "hello world", "日本語", "héllo wörld ✓ 😀", `a+b/c=d;e f"g`, "\x00", "\xff", "a\xc3",
		"\xed\xa0\x80", ";", " ", "\"", "\\", "\r\n", "=", ".", `{"i":"fixed-id","d":[{"count":1},{}]}`,
		strings.Repeat("v", 3036), strings.Repeat("v", 3037), strings.Repeat("v", 3038), strings.Repeat("v", 3039),
		strings.Repeat("v", 3069), strings.Repeat("v", 3070), strings.Repeat("v", 3071), strings.Repeat("v", 3072),
		strings.Repeat("\xff", 4000),
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, c := range cs {
			o := c.Options()
			line, err := c.Serialize(v)
			size := len(c.Name())
			if o.Format == cookie.Remix {
				size += base64.StdEncoding.EncodedLen(len(v))
			} else {
				size += base64.RawURLEncoding.EncodedLen(len(v))
			}
			if c.Signed() && v != "" {
				size += 1 + 43
			}
			switch {
			case o.Format == cookie.Remix && !utf8.ValidString(v):
				if !errors.Is(err, cookie.ErrInvalidUTF8) || line != "" {
					t.Fatalf("Remix Serialize(%q) = %q, %v; want ErrInvalidUTF8", v, line, err)
				}
				continue
			case size > cookie.MaxSize:
				if !errors.Is(err, cookie.ErrTooLarge) || line != "" {
					t.Fatalf("%v Serialize of %d bytes = %q, %v; want ErrTooLarge", o.Format, len(v), line, err)
				}
				continue
			case err != nil:
				t.Fatalf("%v signed=%v: Serialize(%q): %v", o.Format, c.Signed(), v, err)
			}
			if got := c.EncodedSize(len(v)); got != size {
				t.Fatalf("%v signed=%v: EncodedSize(%d) = %d, want %d", o.Format, c.Signed(), len(v), got, size)
			}
			p := pair(line)
			if len(p) != size+1 || !strings.HasPrefix(p, "sid=") || line != p+"; Path=/; SameSite=Lax" {
				t.Fatalf("Serialize(%q) = %q", v, line)
			}
			for i := len("sid="); i < len(p); i++ {
				// RFC 6265 cookie-octet: the value never needs quoting.
				if b := p[i]; b <= ' ' || b >= 0x7f || b == '"' || b == ',' || b == ';' || b == '\\' {
					t.Fatalf("Serialize(%q) = %q: byte %q is not a cookie-octet", v, line, b)
				}
			}
			for _, h := range []string{p, "a=1; " + p + "; sid=other", " " + p + " "} {
				if got, ok := c.Parse(h); !ok || got != v {
					t.Fatalf("%v signed=%v: Parse(%q) = %q, %v; want %q", o.Format, c.Signed(), h, got, ok, v)
				}
			}
			// Serialize signs with Secrets[0].
			wantSecret := -1
			if c.Signed() && v != "" {
				wantSecret = 0
			}
			if _, secret, _ := c.ParseSecret(p); secret != wantSecret {
				t.Fatalf("%v signed=%v: ParseSecret of a fresh cookie: secret %d, want %d", o.Format, c.Signed(), secret, wantSecret)
			}
		}
	})
}

// FuzzDecode checks that no input makes Decode panic, that what Decode
// accepts encodes back to a token that decodes to the same value, and that
// Decode agrees with Parse of the same value in a cookie header.
func FuzzDecode(f *testing.F) {
	cs := fuzzCookies(f)
	for _, c := range cs {
		for _, v := range []string{"", "hello", "日本語", `{"a":1}`} {
			enc, err := c.Encode(v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(enc)
		}
	}
	for _, s := range []string{
		"", ".", "..", "aGk", "aGk=", "aGk.", "/w==", "_w", "aG k=", "aGVs\r\nbG8", "\x00", `"aGk"`,
		"aGVsbG8." + strings.Repeat("A", 43), "aGVsbG8=." + strings.Repeat("A", 42) + "=", strings.Repeat("A", 5000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		for _, c := range cs {
			v, ok := c.Decode(encoded)
			v2, secret, ok2 := c.DecodeSecret(encoded)
			if v2 != v || ok2 != ok || secret < -1 || secret >= len(c.Options().Secrets) || (!ok || !c.Signed()) && secret != -1 {
				t.Fatalf("Decode(%q) = %q, %v; DecodeSecret = %q, %d, %v", encoded, v, ok, v2, secret, ok2)
			}
			if !strings.ContainsAny(encoded, "; \t\r\n\",=") || c.Options().Format == cookie.Remix && !strings.ContainsAny(encoded, "; \t\r\n\",") {
				// A value a Cookie header carries as is.
				if pv, pok := c.Parse("sid=" + encoded); encoded != "" && (pv != v || pok != ok) {
					t.Fatalf("Decode(%q) = %q, %v; Parse(sid=%s) = %q, %v", encoded, v, ok, encoded, pv, pok)
				}
			}
			if !ok {
				if v != "" {
					t.Fatalf("Decode(%q) = %q, false", encoded, v)
				}
				continue
			}
			enc, err := c.Encode(v)
			if errors.Is(err, cookie.ErrTooLarge) {
				continue // a lenient Remix encoding can be shorter than the canonical one
			}
			if err != nil {
				t.Fatalf("Encode(%q) of a decoded value: %v", v, err)
			}
			if got, ok := c.Decode(enc); !ok || got != v {
				t.Fatalf("Decode(Encode(%q)) = %q, %v", v, got, ok)
			}
		}
	})
}
