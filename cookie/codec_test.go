package cookie_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
)

// nativeSig computes a Native signature independently of the package:
// unpadded base64url HMAC-SHA256 of "name=" + encoded value.
func nativeSig(secret, name, encoded string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(name + "=" + encoded))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// remixSig computes a Remix signature independently of the package:
// unpadded standard base64 HMAC-SHA256 of the encoded value.
func remixSig(secret, encoded string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(encoded))
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

// pair returns the "name=value" part of a Set-Cookie line, what a browser
// sends back in its Cookie header.
func pair(line string) string {
	if i := strings.Index(line, "; "); i >= 0 {
		return line[:i]
	}
	return line
}

func TestSerialize(t *testing.T) {
	tests := []struct {
		name   string
		cookie string
		opts   cookie.Options
		value  string
		want   string
	}{
		{"Native empty", "my-cookie", cookie.Options{}, "", "my-cookie=; Path=/; SameSite=Lax"},
		{"Native signed empty is not signed", "my-cookie", cookie.Options{Secrets: []string{"secret1"}}, "", "my-cookie=; Path=/; SameSite=Lax"},
		{"Remix empty", "my-cookie", cookie.Options{Format: cookie.Remix}, "", "my-cookie=; Path=/; SameSite=Lax"},
		{"Remix signed empty is not signed", "my-cookie", cookie.Options{Format: cookie.Remix, Secrets: []string{"secret1"}}, "", "my-cookie=; Path=/; SameSite=Lax"},
		{"Native ASCII", "my-cookie", cookie.Options{}, "hello world", "my-cookie=aGVsbG8gd29ybGQ; Path=/; SameSite=Lax"},
		{"Native UTF-8 uses the URL alphabet", "c", cookie.Options{}, "héllo wörld ✓ 😀", "c=aMOpbGxvIHfDtnJsZCDinJMg8J-YgA; Path=/; SameSite=Lax"},
		{"Native arbitrary bytes", "c", cookie.Options{}, "\xfb\xff\xfe", "c=-__-; Path=/; SameSite=Lax"},
		{"Native separators in the value", "c", cookie.Options{}, `a+b/c=d;e f"g`, "c=YStiL2M9ZDtlIGYiZw; Path=/; SameSite=Lax"},
		{"Native one byte", "c", cookie.Options{}, "\x00", "c=AA; Path=/; SameSite=Lax"},
		{
			"Native signed", "my-cookie", cookie.Options{Secrets: []string{"secret1"}}, "hello michael",
			"my-cookie=aGVsbG8gbWljaGFlbA.FZ4XGAc17v4veTsqvNyYWbhz1tPxhoYGd3-iJVEWFMo; Path=/; SameSite=Lax",
		},
		{
			"Native signed binds the name", "other", cookie.Options{Secrets: []string{"secret1"}}, "hello michael",
			"other=aGVsbG8gbWljaGFlbA.hEw6oh0mI_1HjSd-LuHUDFCAt3Qi0unLD6bseIh_SuU; Path=/; SameSite=Lax",
		},
		{
			"Native signs with the first secret", "my-cookie", cookie.Options{Secrets: []string{"secret2", "secret1"}}, "hello michael",
			"my-cookie=aGVsbG8gbWljaGFlbA.PhxCwpHamWkof8aKhmXU6sgxRYag8gZYGx8ZQpM0L_4; Path=/; SameSite=Lax",
		},
		{"Remix ASCII", "my-cookie", cookie.Options{Format: cookie.Remix}, "hello world", "my-cookie=aGVsbG8gd29ybGQ=; Path=/; SameSite=Lax"},
		{
			"Remix signed", "my-cookie", cookie.Options{Format: cookie.Remix, Secrets: []string{"secret1"}}, "hello michael",
			"my-cookie=aGVsbG8gbWljaGFlbA==.l0AO5zb2EYpis03IWkyVTe1yo8hsSc7crMvLqdOsfg0; Path=/; SameSite=Lax",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, tt.cookie, tt.opts)
			got := mustSerialize(t, c, tt.value)
			if got != tt.want {
				t.Fatalf("Serialize(%q)\n got %s\nwant %s", tt.value, got, tt.want)
			}
			if v, ok := c.Parse(pair(got)); !ok || v != tt.value {
				t.Errorf("Parse(%q) = %q, %v; want %q, true", pair(got), v, ok, tt.value)
			}
		})
	}
}

// TestSignatureIndependent recomputes the signatures of both formats with
// crypto/hmac, for values of every length modulo 3.
func TestSignatureIndependent(t *testing.T) {
	native := mustNew(t, "sid", cookie.Options{Secrets: []string{"k"}})
	remix := mustNew(t, "sid", cookie.Options{Secrets: []string{"k"}, Format: cookie.Remix})
	for _, v := range []string{"a", "ab", "abc", "abcd", "日本語", strings.Repeat("z", 1000)} {
		enc := base64.RawURLEncoding.EncodeToString([]byte(v))
		want := "sid=" + enc + "." + nativeSig("k", "sid", enc) + "; Path=/; SameSite=Lax"
		if got := mustSerialize(t, native, v); got != want {
			t.Errorf("Native Serialize(%q)\n got %s\nwant %s", v, got, want)
		}
		enc = base64.StdEncoding.EncodeToString([]byte(v))
		want = "sid=" + enc + "." + remixSig("k", enc) + "; Path=/; SameSite=Lax"
		if got := mustSerialize(t, remix, v); got != want {
			t.Errorf("Remix Serialize(%q)\n got %s\nwant %s", v, got, want)
		}
	}
}

func TestSerializeInvalidUTF8(t *testing.T) {
	for _, v := range []string{"\xff", "a\xc3", "\xed\xa0\x80" /* a UTF-16 surrogate */, "ok\x80ok"} {
		for _, secrets := range [][]string{nil, {"k"}} {
			c := mustNew(t, "c", cookie.Options{Format: cookie.Remix, Secrets: secrets})
			line, err := c.Serialize(v)
			if !errors.Is(err, cookie.ErrInvalidUTF8) || line != "" {
				t.Errorf("Remix Serialize(%q) = %q, %v; want ErrInvalidUTF8", v, line, err)
			}
			if err != nil && !strings.Contains(err.Error(), `"c"`) {
				t.Errorf("error %q does not name the cookie", err)
			}
			// The Native format stores bytes.
			n := mustNew(t, "c", cookie.Options{Secrets: secrets})
			if got, ok := n.Parse(pair(mustSerialize(t, n, v))); !ok || got != v {
				t.Errorf("Native round trip of %q = %q, %v", v, got, ok)
			}
		}
	}
}

// TestSize covers T-SZ1 at the exact boundary: the largest value whose name
// and encoded value fit in 4096 bytes, and one byte more.
func TestSize(t *testing.T) {
	tests := []struct {
		name    string
		opts    cookie.Options
		largest int // bytes of value; largest+1 must fail
		encoded int // bytes of the encoded (and signed) largest value
	}{
		// ceil(4n/3) <= 4095
		{"Native", cookie.Options{}, 3071, 4095},
		// ceil(4n/3) + 1 + 43 <= 4095
		{"Native signed", cookie.Options{Secrets: []string{"k"}}, 3038, 4095},
		// 4*ceil(n/3) <= 4095
		{"Remix", cookie.Options{Format: cookie.Remix}, 3069, 4092},
		// 4*ceil(n/3) + 1 + 43 <= 4095
		{"Remix signed", cookie.Options{Format: cookie.Remix, Secrets: []string{"k"}}, 3036, 4092},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, "n", tt.opts)
			v := strings.Repeat("v", tt.largest)
			line := mustSerialize(t, c, v)
			if p := pair(line); len(p) != len("n=")+tt.encoded {
				t.Errorf("name=value of the largest value is %d bytes, want %d", len(p), len("n=")+tt.encoded)
			}
			if got, ok := c.Parse(pair(line)); !ok || got != v {
				t.Errorf("Parse of the largest value failed")
			}
			line, err := c.Serialize(v + "v")
			if !errors.Is(err, cookie.ErrTooLarge) || line != "" {
				t.Fatalf("Serialize of %d bytes = %q, %v; want ErrTooLarge", tt.largest+1, line, err)
			}
			if !strings.Contains(err.Error(), `"n"`) {
				t.Errorf("error %q does not name the cookie", err)
			}
			// EncodedSize is the figure Serialize checks.
			if got, want := c.EncodedSize(tt.largest), len("n")+tt.encoded; got != want {
				t.Errorf("EncodedSize(%d) = %d, want %d", tt.largest, got, want)
			}
			if got := c.EncodedSize(tt.largest + 1); got <= cookie.MaxSize {
				t.Errorf("EncodedSize(%d) = %d, want over MaxSize", tt.largest+1, got)
			}
		})
	}
}

// EncodedSize is len(name) plus the encoded (and signed) value; an empty
// value is written "name=" with no signature.
func TestEncodedSize(t *testing.T) {
	signed := []string{"k"}
	tests := []struct {
		opts cookie.Options
		n    int
		want int
	}{
		{cookie.Options{}, 0, 3},
		{cookie.Options{Secrets: signed}, 0, 3},
		{cookie.Options{}, 1, 3 + 2},
		{cookie.Options{}, 4, 3 + 6},
		{cookie.Options{Format: cookie.Remix}, 1, 3 + 4},
		{cookie.Options{Format: cookie.Remix}, 4, 3 + 8},
		{cookie.Options{Secrets: signed}, 4, 3 + 6 + 44},
		{cookie.Options{Format: cookie.Remix, Secrets: signed}, 4, 3 + 8 + 44},
	}
	for _, tt := range tests {
		c := mustNew(t, "sid", tt.opts)
		if got := c.EncodedSize(tt.n); got != tt.want {
			t.Errorf("%v signed=%v: EncodedSize(%d) = %d, want %d", tt.opts.Format, c.Signed(), tt.n, got, tt.want)
		}
		if tt.n > 0 {
			if got := len(pair(mustSerialize(t, c, strings.Repeat("v", tt.n)))) - 1; got != tt.want {
				t.Errorf("%v signed=%v: Serialize of %d bytes gives name and value of %d bytes, EncodedSize says %d", tt.opts.Format, c.Signed(), tt.n, got, tt.want)
			}
		}
	}
}

// TestParseSize checks that Parse refuses name plus value over 4096 bytes
// before any decoding or crypto: the oversized value is correctly encoded
// and signed, so only the length check can refuse it.
func TestParseSize(t *testing.T) {
	for _, format := range []cookie.Format{cookie.Native, cookie.Remix} {
		for _, signed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v signed=%v", format, signed), func(t *testing.T) {
				o := cookie.Options{Format: format}
				if signed {
					o.Secrets = []string{"k"}
				}
				c := mustNew(t, "n", o)
				// raw builds a correct raw value of exactly size bytes.
				raw := func(size int) string {
					sigLen := 0
					if signed {
						sigLen = 44
					}
					enc := strings.Repeat("A", size-sigLen) // decodes to zero bytes
					if format == cookie.Remix {
						enc = strings.Repeat("QUFB", (size-sigLen)/4) // "AAA"
					}
					if signed && format == cookie.Native {
						enc += "." + nativeSig("k", "n", enc)
					} else if signed {
						enc += "." + remixSig("k", enc)
					}
					return enc
				}
				fits := raw(4092)
				if _, ok := c.Parse("n=" + fits); !ok {
					t.Fatalf("Parse of %d bytes failed", 1+len(fits))
				}
				if format == cookie.Native {
					// 4095 bytes of value is the exact limit.
					if _, ok := c.Parse("n=" + raw(4095)); !ok {
						t.Errorf("Parse of name and value of exactly 4096 bytes failed")
					}
					if _, ok := c.Parse("n=" + raw(4096)); ok {
						t.Errorf("Parse of 4097 bytes succeeded")
					}
				} else if _, ok := c.Parse("n=" + raw(4096)); ok {
					t.Errorf("Parse of 4097 bytes succeeded")
				}
				// Any oversized value, whatever its content.
				if _, ok := c.Parse("n=" + strings.Repeat("A", 1<<20)); ok {
					t.Errorf("Parse of 1 MiB succeeded")
				}
			})
		}
	}
}

// TestParse covers T-PR1..12 and T-PF3 for unsigned cookies in both formats.
func TestParse(t *testing.T) {
	// "hello" is aGVsbG8 in Native and aGVsbG8= in Remix.
	tests := []struct {
		name     string
		header   string
		native   string
		nativeOK bool
		remix    string
		remixOK  bool
	}{
		{"empty header", "", "", false, "", false},
		{"only the cookie", "sid=aGVsbG8", "hello", true, "hello", true},
		{"padded value", "sid=aGVsbG8=", "", false, "hello", true},
		{"among others", "a=1; sid=aGVsbG8; b=2", "hello", true, "hello", true},
		{"no space after ;", "a=1;sid=aGVsbG8;b=2", "hello", true, "hello", true},
		{"missing cookie", "other-cookie=aGVsbG8", "", false, "", false},
		{"name is a suffix", "xsid=aGVsbG8", "", false, "", false},
		{"name is a prefix", "sidx=aGVsbG8", "", false, "", false},
		{"name case differs", "SID=aGVsbG8", "", false, "", false},
		// T-PR3: OWS around names and values, tabs included.
		{"spaces", "  sid  =  aGVsbG8  ;  a=1", "hello", true, "hello", true},
		{"tabs", "\tsid\t=\taGVsbG8\t;a=1", "hello", true, "hello", true},
		{"trailing ;", "sid=aGVsbG8;", "hello", true, "hello", true},
		{"empty pairs", ";;; sid=aGVsbG8 ;;", "hello", true, "hello", true},
		// T-PR4: empty values.
		{"empty value", "sid=", "", true, "", true},
		{"empty value with spaces", "sid=  ; a=1", "", true, "", true},
		{"empty quoted value", `sid=""`, "", true, "", true},
		// T-PR5: quoted values are unquoted.
		{"quoted value", `sid="aGVsbG8"`, "hello", true, "hello", true},
		{"quoted value with escapes", `sid="aGV\sbG8"`, "hello", true, "hello", true},
		{"lone quote", `sid="`, "", false, "", false},
		{"unbalanced quote", `sid="aGVsbG8`, "", false, "", false},
		{"whitespace inside quotes", `sid=" aGVs bG8 "`, "", false, "hello", true},
		// T-PR6: a pair without '=' is skipped; a bare name is absent.
		{"bare name", "sid", "", false, "", false},
		{"bare name then others", "sid; a=1", "", false, "", false},
		{"bare name then the cookie", "sid; sid=aGVsbG8", "hello", true, "hello", true},
		{"missing = before the cookie", "fizz; sid=aGVsbG8", "hello", true, "hello", true},
		// T-PR7: the name ends at the first '='.
		{"= inside the value", "sid=aGVs=bG8", "", false, "", false},
		{"= value of another cookie", "NID=99=YsDT; sid=aGVsbG8", "hello", true, "hello", true},
		// T-PR2: duplicates, the first wins.
		{"duplicates", "sid=aGVsbG8; sid=d29ybGQ", "hello", true, "hello", true},
		{"empty duplicate first", "sid=; sid=aGVsbG8", "", true, "", true},
		{"invalid duplicate first", "sid=!!; sid=aGVsbG8", "", false, "", false},
		// T-PR8: controls and invalid octets.
		{"NUL in the value", "sid=aGVs\x00bG8", "", false, "", false},
		{"CR LF in the value", "sid=aGVs\r\nbG8", "", false, "hello", true},
		{"LF in the value", "sid=aGVsbG8\n", "", false, "hello", true},
		{"control in another pair", "a=\x01\x02; sid=aGVsbG8", "hello", true, "hello", true},
		{"backslash value", `sid=\`, "", false, "", false},
		{"non-ASCII value", "sid=héllo", "", false, "", false},
		{"non-ASCII name before", "ünï=1; sid=aGVsbG8", "hello", true, "hello", true},
		{"value of the other alphabet", "sid=-__-", "\xfb\xff\xfe", true, "", false},
		{"std alphabet in Native", "sid=+//+", "", false, "", false}, // invalid UTF-8 in Remix
		{"invalid UTF-8", "sid=_w", "\xff", true, "", false},
		{"invalid UTF-8, padded", "sid=/w==", "", false, "", false},
		// T-PR9: no percent-decoding.
		{"percent-encoded", "sid=%61GVsbG8", "", false, "", false},
		{"percent sign", "sid=%1", "", false, "", false},
		// T-PF3: a nameless cookie is not a prefixed cookie.
		{"nameless", "=sid=aGVsbG8", "", false, "", false},
		{"nameless with spaces", " = sid=aGVsbG8", "", false, "", false},
		// Length 1 mod 4 is never base64.
		{"one character", "sid=a", "", false, "", false},
		{"five characters", "sid=aGVsb", "", false, "", false},
	}
	native := mustNew(t, "sid", cookie.Options{})
	remix := mustNew(t, "sid", cookie.Options{Format: cookie.Remix})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := strings.Clone(tt.header)
			// T-PR12: twice, as net/http does, to catch a parser that
			// changes its input or keeps state.
			for i := 0; i < 2; i++ {
				if v, ok := native.Parse(tt.header); v != tt.native || ok != tt.nativeOK {
					t.Errorf("Native Parse(%q) = %q, %v; want %q, %v", tt.header, v, ok, tt.native, tt.nativeOK)
				}
				if v, ok := remix.Parse(tt.header); v != tt.remix || ok != tt.remixOK {
					t.Errorf("Remix Parse(%q) = %q, %v; want %q, %v", tt.header, v, ok, tt.remix, tt.remixOK)
				}
			}
			if tt.header != before {
				t.Errorf("Parse changed its input to %q", tt.header)
			}
		})
	}
}

// TestParseNewlines checks that the Native format is strict: the base64
// decoder of the standard library skips CR and LF, which would let many
// strings decode to one value.
func TestParseNewlines(t *testing.T) {
	native := mustNew(t, "sid", cookie.Options{})
	for _, h := range []string{"sid=aGVs\nbG8", "sid=aGVs\rbG8", "sid=aGVsbG8\r\n", "sid=\n", "sid=\"\r\n\""} {
		if v, ok := native.Parse(h); ok {
			t.Errorf("Native Parse(%q) = %q, true; want false", h, v)
		}
	}
	signed := mustNew(t, "sid", cookie.Options{Secrets: []string{"k"}})
	sig := nativeSig("k", "sid", "aGVsbG8")
	if v, ok := signed.Parse("sid=aGVsbG8." + sig); !ok || v != "hello" {
		t.Fatalf("signed Parse = %q, %v", v, ok)
	}
	for _, h := range []string{
		"sid=aGVsbG8." + sig[:20] + "\n" + sig[20:],
		"sid=aGVsbG8." + sig[:42] + "\n",
		"sid=aGVsbG8." + sig + "\n",
	} {
		if v, ok := signed.Parse(h); ok {
			t.Errorf("Native signed Parse(%q) = %q, true; want false", h, v)
		}
	}
}

// TestParseSpecialNames covers T-PR11: names that are special elsewhere are
// ordinary names here.
func TestParseSpecialNames(t *testing.T) {
	for _, name := range []string{"__proto__", "toString", "constructor", "hasOwnProperty", "valueOf"} {
		c := mustNew(t, name, cookie.Options{})
		line := mustSerialize(t, c, "v")
		if want := name + "=dg; Path=/; SameSite=Lax"; line != want {
			t.Errorf("Serialize = %s, want %s", line, want)
		}
		if v, ok := c.Parse("a=1; " + name + "=dg"); !ok || v != "v" {
			t.Errorf("%s: Parse = %q, %v", name, v, ok)
		}
		if _, ok := c.Parse("a=1"); ok {
			t.Errorf("%s: found in a header without it", name)
		}
	}
}

// TestParseManyPairs covers T-PR10: a header of 10000 "a=;" pairs is read
// in one pass without allocating.
func TestParseManyPairs(t *testing.T) {
	junk := strings.Repeat("a=;", 10000)
	for _, format := range []cookie.Format{cookie.Native, cookie.Remix} {
		c := mustNew(t, "sid", cookie.Options{Format: format})
		enc := pair(mustSerialize(t, c, "hello"))
		if v, ok := c.Parse(junk + enc); !ok || v != "hello" {
			t.Errorf("%v: Parse after 10000 pairs = %q, %v", format, v, ok)
		}
		if v, ok := c.Parse(junk); ok {
			t.Errorf("%v: Parse of 10000 other pairs = %q, true", format, v)
		}
		if n := testing.AllocsPerRun(10, func() { c.Parse(junk) }); n != 0 {
			t.Errorf("%v: Parse of an absent cookie allocates %v times", format, n)
		}
		a := mustNew(t, "a", cookie.Options{Format: format})
		if v, ok := a.Parse(junk); !ok || v != "" {
			t.Errorf("%v: Parse of a=; = %q, %v; want \"\", true", format, v, ok)
		}
	}
}

// TestParseMultipleHeaders covers T-PR1: Cookie header lines (HTTP/2 sends
// one per cookie) joined with "; " read as one.
func TestParseMultipleHeaders(t *testing.T) {
	c := mustNew(t, "sid", cookie.Options{Secrets: []string{"k"}})
	lines := []string{"a=1", "b=2", pair(mustSerialize(t, c, "hello"))}
	if v, ok := c.Parse(strings.Join(lines, "; ")); !ok || v != "hello" {
		t.Errorf("Parse of joined headers = %q, %v", v, ok)
	}
}

// TestParseSigned covers T-SIG1..6 and T-PR4 for signed cookies.
func TestParseSigned(t *testing.T) {
	type format struct {
		name string
		opts cookie.Options
		enc  func([]byte) string
		sig  func(secret, name, enc string) string
	}
	formats := []format{
		{"Native", cookie.Options{Secrets: []string{"k"}}, base64.RawURLEncoding.EncodeToString, nativeSig},
		{"Remix", cookie.Options{Secrets: []string{"k"}, Format: cookie.Remix}, base64.StdEncoding.EncodeToString,
			func(secret, _, enc string) string { return remixSig(secret, enc) }},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			c := mustNew(t, "sid", f.opts)
			v := f.enc([]byte("hello"))
			sig := f.sig("k", "sid", v)
			good := v + "." + sig
			if got := pair(mustSerialize(t, c, "hello")); got != "sid="+good {
				t.Fatalf("Serialize = %s, want sid=%s", got, good)
			}
			if got, ok := c.Parse("sid=" + good); !ok || got != "hello" {
				t.Fatalf("Parse(sid=%s) = %q, %v", good, got, ok)
			}
			// T-SIG1: a wrong MAC of the same length.
			wrong := []byte(sig)
			wrong[0] ^= 'A' ^ 'B'
			if wrong[0] == sig[0] {
				wrong[0] = 'C'
			}
			otherSecret := f.sig("other", "sid", v)
			bad := map[string]string{
				"wrong MAC, same length":   v + "." + string(wrong),
				"MAC of another secret":    v + "." + otherSecret,
				"MAC of another value":     f.enc([]byte("hellp")) + "." + sig,
				"garbage+v.sig":            "Zg" + good, // T-SIG2
				"garbage.v.sig":            "Zg." + good,
				"v.sig.garbage":            good + ".Zg",
				"v.siggarbage":             good + "Zg",
				"v.sig+garbage":            good + "xyz",
				"v.truncated sig":          v + "." + sig[:42],
				"v.empty sig":              v + ".",
				"v.":                       v + ".",
				".sig":                     "." + sig,
				"unsigned value":           v, // T-SIG3
				"only a dot":               ".",
				"sig only":                 sig,
				"invalid sig encoding":     good + "%^&",
				"MAC as hex":               v + "." + strings.Repeat("ab", 32),
				"v.sig with quotes inside": `"` + v + `".` + sig,
			}
			for name, raw := range bad {
				if got, ok := c.Parse("sid=" + raw); ok {
					t.Errorf("%s: Parse(sid=%s) = %q, true; want false", name, raw, got)
				}
			}
			// T-PR4: an empty value is ("", true) with or without secrets.
			if got, ok := c.Parse("sid="); !ok || got != "" {
				t.Errorf(`Parse("sid=") = %q, %v; want "", true`, got, ok)
			}
			// T-SIG3 the other way: an unsigned Cookie does not read a
			// signed value.
			o := f.opts
			o.Secrets = nil
			if got, ok := mustNew(t, "sid", o).Parse("sid=" + good); ok {
				t.Errorf("unsigned Parse(sid=%s) = %q, true", good, got)
			}
		})
	}
}

// TestParseNameBinding covers T-SIG4: a Native value signed for cookie a
// does not verify as cookie b; the Remix format, like @remix-run/cookie,
// does not bind the name.
func TestParseNameBinding(t *testing.T) {
	for _, tt := range []struct {
		format cookie.Format
		wantOK bool
	}{{cookie.Native, false}, {cookie.Remix, true}} {
		a := mustNew(t, "a", cookie.Options{Secrets: []string{"k"}, Format: tt.format})
		b := mustNew(t, "b", cookie.Options{Secrets: []string{"k"}, Format: tt.format})
		_, raw, _ := strings.Cut(pair(mustSerialize(t, a, "admin")), "=")
		if v, ok := b.Parse("b=" + raw); ok != tt.wantOK {
			t.Errorf("%v: value signed for a parsed as b = %q, %v; want ok=%v", tt.format, v, ok, tt.wantOK)
		}
		// "a=" + "x" and "a" + "=x" must not collide: names cannot hold '='.
		if v, ok := a.Parse("a=" + raw); !ok || v != "admin" {
			t.Errorf("%v: Parse = %q, %v", tt.format, v, ok)
		}
	}
}

// TestParseCanonical covers T-SIG6: in the Native format, a re-encoded or
// non-canonical value or signature does not verify, so there is exactly one
// valid string per value.
func TestParseCanonical(t *testing.T) {
	c := mustNew(t, "sid", cookie.Options{Secrets: []string{"k"}})
	v := "aGVsbG8" // "hello": 7 characters, the last carries 2 unused bits
	sig := nativeSig("k", "sid", v)
	if got, ok := c.Parse("sid=" + v + "." + sig); !ok || got != "hello" {
		t.Fatalf("Parse = %q, %v", got, ok)
	}
	// The last signature character carries 2 unused bits: flipping them
	// decodes to the same MAC with a lenient decoder.
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", sig[42])
	for bits := 1; bits < 4; bits++ {
		alpha := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		s := sig[:42] + string(alpha[last^bits])
		if got, ok := c.Parse("sid=" + v + "." + s); ok {
			t.Errorf("signature with low bits %d flipped: Parse = %q, true", bits, got)
		}
	}
	nonCanonical := map[string]string{
		"padded signature":               v + "." + sig + "=",
		"std alphabet signature":         v + "." + strings.NewReplacer("-", "+", "_", "/").Replace(sig),
		"padded value, re-signed":        v + "=." + nativeSig("k", "sid", v+"="),
		"std alphabet, re-signed":        "-__-." + nativeSig("k", "sid", "+//+"),
		"low bits of value, re-signed":   "aGVsbG9." + nativeSig("k", "sid", "aGVsbG9"),
		"whitespace in value, re-signed": "aGVs bG8." + nativeSig("k", "sid", "aGVs bG8"),
	}
	if !strings.ContainsAny(sig, "-_") {
		delete(nonCanonical, "std alphabet signature")
	}
	for name, raw := range nonCanonical {
		if got, ok := c.Parse("sid=" + raw); ok {
			t.Errorf("%s: Parse(sid=%s) = %q, true", name, raw, got)
		}
	}
	// Unsigned: the same strictness.
	u := mustNew(t, "sid", cookie.Options{})
	for _, raw := range []string{"aGVsbG9", "aGVsbG8=", "aGVsbG8==", "aGVs bG8", "+//+"} {
		if got, ok := u.Parse("sid=" + raw); ok {
			t.Errorf("unsigned Parse(sid=%s) = %q, true", raw, got)
		}
	}
}

// TestRotation covers T-KEY4: sign with K1; a Cookie with [K2, K1] reads the
// old cookie and writes with K2; a Cookie with only K1 no longer reads that.
func TestRotation(t *testing.T) {
	for _, format := range []cookie.Format{cookie.Native, cookie.Remix} {
		t.Run(format.String(), func(t *testing.T) {
			old := mustNew(t, "sid", cookie.Options{Secrets: []string{"K1"}, Format: format})
			rotated := mustNew(t, "sid", cookie.Options{Secrets: []string{"K2", "K1"}, Format: format})
			onlyNew := mustNew(t, "sid", cookie.Options{Secrets: []string{"K2"}, Format: format})
			oldLine := mustSerialize(t, old, "user-42")
			v, ok := rotated.Parse(pair(oldLine))
			if !ok || v != "user-42" {
				t.Fatalf("rotated Parse of the K1 cookie = %q, %v", v, ok)
			}
			newLine := mustSerialize(t, rotated, v)
			if newLine == oldLine {
				t.Fatal("re-serialized cookie is still signed with K1")
			}
			if want := mustSerialize(t, onlyNew, v); newLine != want {
				t.Errorf("rotated Serialize\n got %s\nwant %s (signed with K2)", newLine, want)
			}
			if v, ok := onlyNew.Parse(pair(newLine)); !ok || v != "user-42" {
				t.Errorf("K2 Parse of the new cookie = %q, %v", v, ok)
			}
			if v, ok := onlyNew.Parse(pair(oldLine)); ok {
				t.Errorf("K2 alone read the K1 cookie: %q", v)
			}
			if v, ok := old.Parse(pair(newLine)); ok {
				t.Errorf("K1 alone read the K2 cookie: %q", v)
			}
		})
	}
}

// ParseSecret tells which secret verified the cookie, so a caller can
// re-sign cookies that an older secret signed.
func TestParseSecret(t *testing.T) {
	for _, format := range []cookie.Format{cookie.Native, cookie.Remix} {
		t.Run(format.String(), func(t *testing.T) {
			k1 := mustNew(t, "sid", cookie.Options{Secrets: []string{"K1"}, Format: format})
			k2 := mustNew(t, "sid", cookie.Options{Secrets: []string{"K2"}, Format: format})
			k3 := mustNew(t, "sid", cookie.Options{Secrets: []string{"K3"}, Format: format})
			rotated := mustNew(t, "sid", cookie.Options{Secrets: []string{"K3", "K2", "K1"}, Format: format})
			unsigned := mustNew(t, "sid", cookie.Options{Format: format})
			tests := []struct {
				c      *cookie.Cookie
				header string
				value  string
				secret int
				ok     bool
			}{
				{rotated, pair(mustSerialize(t, k3, "v")), "v", 0, true},
				{rotated, pair(mustSerialize(t, k2, "v")), "v", 1, true},
				{rotated, "a=b; " + pair(mustSerialize(t, k1, "v")), "v", 2, true},
				{rotated, pair(mustSerialize(t, mustNew(t, "sid", cookie.Options{Secrets: []string{"K4"}, Format: format}), "v")), "", -1, false},
				{rotated, "sid=", "", -1, true},
				{rotated, "other=1", "", -1, false},
				{unsigned, pair(mustSerialize(t, unsigned, "v")), "v", -1, true},
				{unsigned, "sid=", "", -1, true},
			}
			for _, tt := range tests {
				value, secret, ok := tt.c.ParseSecret(tt.header)
				if value != tt.value || secret != tt.secret || ok != tt.ok {
					t.Errorf("ParseSecret(%q) = %q, %d, %v; want %q, %d, %v", tt.header, value, secret, ok, tt.value, tt.secret, tt.ok)
				}
				if v, ok := tt.c.Parse(tt.header); v != value || ok != tt.ok {
					t.Errorf("Parse(%q) = %q, %v; ParseSecret says %q, %v", tt.header, v, ok, value, tt.ok)
				}
			}
		})
	}
}

// TestConcurrent runs Parse and Serialize from many goroutines; with -race
// it checks that the pooled HMAC states and buffers are not shared.
func TestConcurrent(t *testing.T) {
	cookies := []*cookie.Cookie{
		mustNew(t, "sid", cookie.Options{Secrets: []string{"k1", "k2"}}),
		mustNew(t, "sid", cookie.Options{Secrets: []string{"k1", "k2"}, Format: cookie.Remix}),
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				for _, c := range cookies {
					v := fmt.Sprintf("value-%d-%d-%s", g, i, strings.Repeat("x", i))
					line, err := c.Serialize(v)
					if err != nil {
						t.Error(err)
						return
					}
					if got, ok := c.Parse(pair(line)); !ok || got != v {
						t.Errorf("Parse = %q, %v; want %q", got, ok, v)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
}
