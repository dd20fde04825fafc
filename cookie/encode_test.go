package cookie_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
)

// Encode is the value part of Serialize's line, and Decode reads it back
// with the checks Parse applies to a cookie's value.
func TestEncodeDecode(t *testing.T) {
	for _, c := range fuzzCookies(t) {
		o := c.Options()
		t.Run(o.Format.String()+map[bool]string{true: "/signed", false: "/unsigned"}[c.Signed()], func(t *testing.T) {
			for _, v := range []string{"a", "user-42", "日本語", `{"i":"x","d":[{},{}]}`, strings.Repeat("v", 3000)} {
				enc, err := c.Encode(v)
				if err != nil {
					t.Fatalf("Encode(%.20q): %v", v, err)
				}
				if want := strings.TrimPrefix(pair(mustSerialize(t, c, v)), "sid="); enc != want {
					t.Errorf("Encode(%.20q) = %q, want the cookie's value %q", v, enc, want)
				}
				if got, ok := c.Decode(enc); !ok || got != v {
					t.Errorf("Decode(Encode(%.20q)) = %.20q, %v", v, got, ok)
				}
			}
			if enc, err := c.Encode(""); enc != "" || err != nil {
				t.Errorf(`Encode("") = %q, %v; want "", nil`, enc, err)
			}
			if v, ok := c.Decode(""); v != "" || !ok {
				t.Errorf(`Decode("") = %q, %v; want "", true (as Parse of "sid=")`, v, ok)
			}
		})
	}
}

// Every way a token can be wrong gives ok=false: forged, unsigned, signed
// for another cookie name (Native) or with a retired secret, quoted,
// truncated, too long, garbage.
func TestDecodeRefuses(t *testing.T) {
	for _, format := range []cookie.Format{cookie.Native, cookie.Remix} {
		t.Run(format.String(), func(t *testing.T) {
			c := mustNew(t, "sid", cookie.Options{Secrets: []string{"K1"}, Format: format})
			unsigned := mustNew(t, "sid", cookie.Options{Format: format})
			other := mustNew(t, "other", cookie.Options{Secrets: []string{"K1"}, Format: format})
			retired := mustNew(t, "sid", cookie.Options{Secrets: []string{"K0"}, Format: format})
			good, _ := c.Encode("user-42")
			plain, _ := unsigned.Encode("user-42")
			forOther, _ := other.Encode("user-42")
			byRetired, _ := retired.Encode("user-42")
			bad := map[string]string{
				"unsigned":         plain,
				"retired secret":   byRetired,
				"signature cut":    good[:len(good)-1],
				"value changed":    "X" + good[1:],
				"quoted":           `"` + good + `"`,
				"garbage":          "%%%.%%%",
				"only a dot":       ".",
				"too long":         strings.Repeat("A", cookie.MaxSize),
				"a cookie header":  "sid=" + good,
				"with a semicolon": good + ";",
			}
			if format == cookie.Native {
				bad["signed for another name"] = forOther
			} else if forOther != good {
				t.Errorf("Remix signatures do not cover the name, but Encode differs by name: %q, %q", forOther, good)
			}
			for name, enc := range bad {
				if v, ok := c.Decode(enc); ok || v != "" {
					t.Errorf("%s: Decode(%.30q) = %q, true", name, enc, v)
				}
			}
			if v, ok := unsigned.Decode(plain); !ok || v != "user-42" {
				t.Errorf("unsigned Decode = %q, %v", v, ok)
			}
		})
	}
}

// Encode checks sizes and UTF-8 exactly as Serialize does.
func TestEncodeErrors(t *testing.T) {
	for _, c := range fuzzCookies(t) {
		for n := 2900; n <= 3100; n++ {
			v := strings.Repeat("v", n)
			_, serr := c.Serialize(v)
			_, eerr := c.Encode(v)
			if errors.Is(serr, cookie.ErrTooLarge) != errors.Is(eerr, cookie.ErrTooLarge) || (serr == nil) != (eerr == nil) {
				t.Fatalf("%v signed=%v, %d bytes: Serialize %v, Encode %v", c.Options().Format, c.Signed(), n, serr, eerr)
			}
		}
		_, err := c.Encode("\xff")
		if c.Options().Format == cookie.Remix && !errors.Is(err, cookie.ErrInvalidUTF8) || c.Options().Format == cookie.Native && err != nil {
			t.Errorf("%v: Encode(\\xff) = %v", c.Options().Format, err)
		}
	}
}

// DecodeSecret reports the secret as ParseSecret does; Encode signs with
// Secrets[0], so encoding again re-signs a rotated token.
func TestDecodeSecretRotation(t *testing.T) {
	for _, format := range []cookie.Format{cookie.Native, cookie.Remix} {
		k1 := mustNew(t, "sid", cookie.Options{Secrets: []string{"K1"}, Format: format})
		rotated := mustNew(t, "sid", cookie.Options{Secrets: []string{"K2", "K1"}, Format: format})
		old, _ := k1.Encode("v")
		v, secret, ok := rotated.DecodeSecret(old)
		if v != "v" || secret != 1 || !ok {
			t.Errorf("%v: DecodeSecret(K1 token) = %q, %d, %v; want v, 1, true", format, v, secret, ok)
		}
		renewed, _ := rotated.Encode(v)
		if _, secret, ok := rotated.DecodeSecret(renewed); secret != 0 || !ok || renewed == old {
			t.Errorf("%v: re-encoded token %q: secret %d, %v", format, renewed, secret, ok)
		}
		if _, secret, ok := rotated.DecodeSecret(""); secret != -1 || !ok {
			t.Errorf(`%v: DecodeSecret("") = %d, %v`, format, secret, ok)
		}
	}
}

// SerializeMaxAge replaces the lifetime attributes only, in their place.
func TestSerializeMaxAge(t *testing.T) {
	full := mustNew(t, "__Host-s", cookie.Options{
		HTTPOnly: true, Secure: true, Partitioned: true, SameSite: http.SameSiteNoneMode, MaxAge: 3600,
		Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Secrets: []string{"k"},
	})
	domain := mustNew(t, "sid", cookie.Options{Domain: "example.com", Path: "/app", SameSite: http.SameSiteStrictMode})
	plain := mustNew(t, "sid", cookie.Options{})
	fullValue := strings.TrimPrefix(pair(mustSerialize(t, full, "v")), "__Host-s=")
	tests := []struct {
		c      *cookie.Cookie
		value  string
		maxAge int
		want   string
	}{
		{full, "v", 1800, "__Host-s=" + fullValue + "; HttpOnly; Max-Age=1800; Partitioned; Path=/; SameSite=None; Secure"},
		{full, "v", 0, "__Host-s=" + fullValue + "; HttpOnly; Partitioned; Path=/; SameSite=None; Secure"},
		{full, "v", -1, "__Host-s=" + fullValue + "; HttpOnly; Max-Age=0; Partitioned; Path=/; SameSite=None; Secure"},
		{full, "", 60, "__Host-s=; HttpOnly; Max-Age=60; Partitioned; Path=/; SameSite=None; Secure"},
		{domain, "v", 1, "sid=dg; Domain=example.com; Max-Age=1; Path=/app; SameSite=Strict"},
		{domain, "v", 0, "sid=dg; Domain=example.com; Path=/app; SameSite=Strict"},
		{plain, "v", 400*24*3600 + 1, "sid=dg; Max-Age=34560000; Path=/; SameSite=Lax"},
		{plain, "v", 1 << 40, "sid=dg; Max-Age=34560000; Path=/; SameSite=Lax"},
	}
	for _, tt := range tests {
		got, err := tt.c.SerializeMaxAge(tt.value, tt.maxAge)
		if err != nil || got != tt.want {
			t.Errorf("SerializeMaxAge(%q, %d)\n got %q, %v\nwant %q", tt.value, tt.maxAge, got, err, tt.want)
		}
	}
	if _, err := plain.SerializeMaxAge(strings.Repeat("v", 4000), 60); !errors.Is(err, cookie.ErrTooLarge) {
		t.Errorf("SerializeMaxAge of 4000 bytes: %v, want ErrTooLarge", err)
	}
	remix := mustNew(t, "sid", cookie.Options{Format: cookie.Remix})
	if _, err := remix.SerializeMaxAge("\xff", 60); !errors.Is(err, cookie.ErrInvalidUTF8) {
		t.Errorf("Remix SerializeMaxAge of \\xff: %v, want ErrInvalidUTF8", err)
	}
}
