package interop

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
)

// TestRemixVersions pins what the helper runs: the exact npm versions that
// DESIGN.md promises compatibility with, on Node 20 or later.
func TestRemixVersions(t *testing.T) {
	r := startRemix(t)
	var v struct{ Node, Cookie, Session, Headers string }
	r.mustCall(map[string]any{"op": "versions"}, &v)
	t.Logf("node %s, @remix-run/cookie %s, @remix-run/session %s, @remix-run/headers %s", v.Node, v.Cookie, v.Session, v.Headers)
	for _, c := range []struct{ pkg, got, want string }{
		{"@remix-run/cookie", v.Cookie, "0.7.0"},
		{"@remix-run/session", v.Session, "0.4.2"},
		{"@remix-run/headers", v.Headers, "0.21.1"},
	} {
		if c.got != c.want {
			t.Errorf("%s is %q, want %s (run npm ci in interop/node)", c.pkg, c.got, c.want)
		}
	}
	var major int
	if _, err := fmt.Sscanf(v.Node, "v%d", &major); err != nil || major < 20 {
		t.Errorf("node %s: want 20 or later", v.Node)
	}
}

// TestGoldenVectors checks both implementations against the vectors of
// reference/remix-behaviour.md §7, so a regression on either side is caught
// even if both moved together.
func TestGoldenVectors(t *testing.T) {
	r := startRemix(t)
	vectors := []struct {
		name    string
		o       cookie.Options
		value   string
		want    string
		comment string
	}{
		{"my-cookie", cookie.Options{}, "hello world", "my-cookie=aGVsbG8gd29ybGQ=; Path=/; SameSite=Lax", ""},
		{"my-cookie", cookie.Options{}, "", "my-cookie=; Path=/; SameSite=Lax", ""},
		{"my-cookie", cookie.Options{}, "日本語", "my-cookie=5pel5pys6Kqe; Path=/; SameSite=Lax", ""},
		{"my-cookie", cookie.Options{}, `{"hello":"mjackson"}`, "my-cookie=eyJoZWxsbyI6Im1qYWNrc29uIn0=; Path=/; SameSite=Lax", ""},
		{"c", cookie.Options{}, "héllo wörld ✓ 😀", "c=aMOpbGxvIHfDtnJsZCDinJMg8J+YgA==; Path=/; SameSite=Lax", ""},
		{"c", cookie.Options{}, `a+b/c=d;e f"g`, "c=YStiL2M9ZDtlIGYiZw==; Path=/; SameSite=Lax", ""},
		{"my-cookie", cookie.Options{Secrets: []string{"secret1"}}, "hello michael",
			"my-cookie=aGVsbG8gbWljaGFlbA==.l0AO5zb2EYpis03IWkyVTe1yo8hsSc7crMvLqdOsfg0; Path=/; SameSite=Lax", ""},
		{"my-cookie", cookie.Options{Secrets: []string{"secret1"}}, "mjackson",
			"my-cookie=bWphY2tzb24=.UtE+pVKBQKXgdn3KYuPz3qC7W3dlJpZqEMFVOlQw3Nk; Path=/; SameSite=Lax", ""},
		{"my-cookie", cookie.Options{Secrets: []string{"secret2", "secret1"}}, "mjackson",
			"my-cookie=bWphY2tzb24=.SZdGALdvFy/RJsWu/0oLiQK+Xw3t9sJbJhMdC0LxsG0; Path=/; SameSite=Lax", ""},
		{"__sess", cookie.Options{Secrets: []string{"secret1"}, HTTPOnly: true}, `{"i":"fixed-id","d":[{"count":1},{}]}`,
			"__sess=eyJpIjoiZml4ZWQtaWQiLCJkIjpbeyJjb3VudCI6MX0se31dfQ==.w9LF7cnTIKeHPWxYzRhp8SabJzGo7oOcNYG4iFSP52o; HttpOnly; Path=/; SameSite=Lax", ""},
		{"__sess", cookie.Options{Secrets: []string{"secret1"}, HTTPOnly: true}, `{"i":"fixed-id","d":[{"count":1},{"msg":"hi"}]}`,
			"__sess=eyJpIjoiZml4ZWQtaWQiLCJkIjpbeyJjb3VudCI6MX0seyJtc2ciOiJoaSJ9XX0=.YWl4g4tuexVxt3R2thJKmFMbVglNClWk7G8I7Kd2oJ8; HttpOnly; Path=/; SameSite=Lax", ""},
		{"__sess", cookie.Options{Secrets: []string{"secret1"}, HTTPOnly: true}, "fixed-id",
			"__sess=Zml4ZWQtaWQ=.7wGBMcW428Sau8QMJAOuJuwRxbyBe2KuRKrdzJpuZMk; HttpOnly; Path=/; SameSite=Lax", ""},
		{"__sess", cookie.Options{Secrets: []string{"secret1"}, HTTPOnly: true}, "00000000-0000-4000-8000-000000000000",
			"__sess=MDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw.mGCClHgomJV0Lzo5rMrN8sNhwPcbUVrLiO8E90/x27w; HttpOnly; Path=/; SameSite=Lax", ""},
		{"__sess", cookie.Options{Secrets: []string{"new", "secret1"}, HTTPOnly: true}, "fixed-id",
			"__sess=Zml4ZWQtaWQ=.V2jPckzmuxS5jz6HPYuE/szIRhTzS4BKApYa9y+N2d8; HttpOnly; Path=/; SameSite=Lax", ""},
		{"sess", cookie.Options{Domain: "remix.run", Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), HTTPOnly: true,
			MaxAge: 3600, Partitioned: true, Path: "/about", SameSite: http.SameSiteNoneMode, Secure: true}, "x",
			"sess=eA==; Domain=remix.run; Expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; Max-Age=3600; Partitioned; Path=/about; SameSite=None; Secure", ""},
		{"p", cookie.Options{Partitioned: true}, "x", "p=eA==; Partitioned; Path=/; SameSite=Lax; Secure", ""},
	}
	for _, v := range vectors {
		p := newPair(t, r, v.name, v.o)
		if g := p.goSerialize(v.value); g != v.want {
			t.Errorf("Go Serialize(%q) = %q, want %q", v.value, g, v.want)
		}
		if m := p.remixSerialize(v.value); m != v.want {
			t.Errorf("Remix serialize(%q) = %q, want %q", v.value, m, v.want)
		}
		if got, ok := p.agree(requestHeader(v.want)); !ok || got != v.value {
			t.Errorf("parse of golden %q = %q, %v; want %q", requestHeader(v.want), got, ok, v.value)
		}
	}
	// The parse outcomes of §7 with secrets ['secret1'].
	p := newPair(t, r, "my-cookie", cookie.Options{Secrets: []string{"secret1"}})
	for _, c := range []struct {
		header, want string
		ok           bool
	}{
		{"my-cookie=aGVsbG8gbWljaGFlbA==.l0AO5zb2EYpis03IWkyVTe1yo8hsSc7crMvLqdOsfg0", "hello michael", true},
		{"my-cookie=aGVsbG8gbWljaGFlbB==.l0AO5zb2EYpis03IWkyVTe1yo8hsSc7crMvLqdOsfg0", "", false},
		{"my-cookie=aGVsbG8gbWljaGFlbA==", "", false},
		{"my-cookie=", "", true},
		{"other=1", "", false},
	} {
		if got, ok := p.agree(c.header); got != c.want || ok != c.ok {
			t.Errorf("parse %q = %q, %v; want %q, %v", c.header, got, ok, c.want, c.ok)
		}
	}
}

// interestingValues are cookie values that have tripped cookie libraries:
// separators, quotes, percent signs that look like escapes, JSON, every
// UTF-8 length, emoji sequences, controls and noncharacters.
var interestingValues = []string{
	"", "a", "ab", "abc", "hello world", "hello michael", "mjackson",
	`{"hello":"mjackson"}`,
	`{"user":{"id":42,"roles":["admin","dev"]},"flash":null,"n":1.5e3,"s":"a \"quoted\" \\ string"}`,
	`[{"count":1},{}]`, `"just a JSON string"`, "null", "true", "12345", "-0", "[]", "{}",
	".", "..", "a.b.c", "trailing.", ".leading", "x.l0AO5zb2EYpis03IWkyVTe1yo8hsSc7crMvLqdOsfg0",
	"=", "==", "a=b", "a==", "+", "/", "+/+/==", "a+b/c=d;e f\"g", "-_", "base64url-_==",
	";", "a;b", "a; b=c", " ", "  leading and trailing  ", "\t\n\r", "line1\r\nline2",
	`"`, `""`, `"quoted"`, "'single'", `\`, `\"`, `back\slash`, `\\;\"`,
	"%", "%25", "%E6%97%A5", "%u65E5", "%zz", "%%%", "100% sure", "a+b%20c",
	"日本語", "héllo wörld ✓ 😀", "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇯🇵", "Ελληνικά", "עברית", "العربية", "e\u0301",
	"\u0000", "nul\x00byte", "\x01\x1f\x7f", "\u0080\u00ff", "\u00a0\u2028\u2029", "\ufeffBOM", "\ufffd",
	"\ufffe\uffff", "\U0010FFFF", "\U00010000", "\u07ff\u0800\ud7ff\ue000", "ｆｕｌｌｗｉｄｔｈ",
	"<script>alert(1)</script>", "../../etc/passwd", "Zml4ZWQtaWQ=",
	strings.Repeat("x", 1000), strings.Repeat("日", 300), strings.Repeat("😀", 200),
}

// cookieConfigs are the option sets every value is tried with.
var cookieConfigs = []struct {
	label string
	name  string
	o     cookie.Options
}{
	{"unsigned", "my-cookie", cookie.Options{}},
	{"one secret", "my-cookie", cookie.Options{Secrets: []string{"secret1"}}},
	{"rotated secrets", "my-cookie", cookie.Options{Secrets: []string{"secret2", "secret1"}}},
	{"three secrets", "s", cookie.Options{Secrets: []string{"a", "b", "c"}}},
	{"UTF-8 secret", "my-cookie", cookie.Options{Secrets: []string{"sécret 🔑 日本語"}}},
	{"64-byte secret", "my-cookie", cookie.Options{Secrets: []string{strings.Repeat("k", 64)}}},
	{"65-byte secret (hashed key)", "my-cookie", cookie.Options{Secrets: []string{strings.Repeat("k", 65)}}},
	{"200-byte secret", "my-cookie", cookie.Options{Secrets: []string{strings.Repeat("0123456789", 20)}}},
	{"secret with NUL and quotes", "my-cookie", cookie.Options{Secrets: []string{"a\x00b\"c;d e"}}},
	{"attributes", "__Host-sess", cookie.Options{
		Secrets: []string{"s3cret"}, Secure: true, HTTPOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: 3600}},
	{"odd name", "a!#$%&'*+-.^_`|~9", cookie.Options{Secrets: []string{"k"}}},
}

// TestValuesBothWays: for every value and configuration the two Set-Cookie
// lines are identical, and each side reads the other's cookie.
func TestValuesBothWays(t *testing.T) {
	r := startRemix(t)
	for _, cfg := range cookieConfigs {
		t.Run(cfg.label, func(t *testing.T) {
			r := r.with(t)
			p := newPair(t, r, cfg.name, cfg.o)
			for _, v := range interestingValues {
				p.roundTrip(v)
			}
		})
	}
}

// TestJSONValues: values are strings to both libraries; JSON is encoded by
// the caller. A JSON document written by one side decodes to the same data
// on the other.
func TestJSONValues(t *testing.T) {
	r := startRemix(t)
	p := newPair(t, r, "__sess", cookie.Options{Secrets: []string{"secret1"}, HTTPOnly: true})
	data := map[string]any{
		"i": "6f1c2a4e-0d9b-4c3e-9a57-1f0e2d3c4b5a",
		"d": []any{
			map[string]any{"user": "日本語 😀", "count": 3.0, "admin": true, "tags": []any{"a", "b"}, "nil": nil},
			map[string]any{"flash": `say "hi"; then=leave.`},
		},
	}
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	p.roundTrip(string(b))
	got, ok := p.remixParse(requestHeader(p.goSerialize(string(b))))
	if !ok {
		t.Fatal("Remix refused Go's JSON cookie")
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatalf("Remix's reading is not JSON: %v", err)
	}
	if !jsonEqual(back, data) {
		t.Errorf("JSON after the trip: %v, want %v", back, data)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestRotation: with secrets [new, old] each side reads cookies the other
// signed with old alone, and signs with new; a side that knows only one of
// the secrets refuses the other's cookies.
func TestRotation(t *testing.T) {
	r := startRemix(t)
	old := newPair(t, r, "sess", cookie.Options{Secrets: []string{"old-secret"}})
	rotated := newPair(t, r, "sess", cookie.Options{Secrets: []string{"new-secret", "old-secret"}})
	newOnly := newPair(t, r, "sess", cookie.Options{Secrets: []string{"new-secret"}})
	twoOld := newPair(t, r, "sess", cookie.Options{Secrets: []string{"other", "old-secret", "new-secret"}})

	for _, v := range []string{"user-42", "日本語 😀", `{"a":1}`, "a.b=c"} {
		oldGo := requestHeader(old.goSerialize(v))
		oldRemix := requestHeader(old.remixSerialize(v))
		if oldGo != oldRemix {
			t.Errorf("old-secret cookies differ: Go %q, Remix %q", oldGo, oldRemix)
		}
		// [new, old] reads what either side signed with old.
		if got, ok := rotated.goParse(oldRemix); !ok || got != v {
			t.Errorf("Go [new, old] reading Remix [old] cookie %q: %q, %v", oldRemix, got, ok)
		}
		if got, ok := rotated.remixParse(oldGo); !ok || got != v {
			t.Errorf("Remix [new, old] reading Go [old] cookie %q: %q, %v", oldGo, got, ok)
		}
		// [other, old, new]: any position verifies.
		twoOld.agree(oldGo)
		if got, ok := twoOld.agree(oldGo); !ok || got != v {
			t.Errorf("[other, old, new] reading an old cookie: %q, %v", got, ok)
		}
		// [new, old] signs with new: byte-equal on both sides, and readable
		// by [new] alone but not by [old] alone.
		rotated.roundTrip(v)
		newLine := requestHeader(rotated.goSerialize(v))
		if want := requestHeader(newOnly.goSerialize(v)); newLine != want {
			t.Errorf("[new, old] does not sign with new: %q, want %q", newLine, want)
		}
		if got, ok := newOnly.agree(newLine); !ok || got != v {
			t.Errorf("[new] reading a [new, old] cookie: %q, %v", got, ok)
		}
		if _, ok := old.agree(newLine); ok {
			t.Errorf("[old] accepted a cookie signed with new")
		}
		if _, ok := newOnly.agree(oldGo); ok {
			t.Errorf("[new] accepted a cookie signed with old")
		}
	}
}

// TestInvalidUTF8: neither side writes text that is not Unicode. Go refuses
// invalid UTF-8 with ErrInvalidUTF8; a JavaScript string cannot hold such
// bytes, and its nearest equivalent, a lone surrogate, makes Remix throw
// (encodeURIComponent's URIError). Cookies that decode to invalid UTF-8 are
// refused by both.
func TestInvalidUTF8(t *testing.T) {
	r := startRemix(t)
	p := newPair(t, r, "c", cookie.Options{})
	for _, v := range []string{"\xff", "a\xc0\x80", "\xed\xa0\x80", "\xe6\x97"} {
		if _, err := p.gc.Serialize(v); !errors.Is(err, cookie.ErrInvalidUTF8) {
			t.Errorf("Go Serialize(%q) error = %v, want ErrInvalidUTF8", v, err)
		}
	}
	for _, raw := range []string{`"\ud800"`, `"a\udfff"`, `"\udc00\ud800"`} {
		var line string
		err := r.call(map[string]any{"op": "serialize", "name": "c", "value": json.RawMessage(raw)}, &line)
		var re *remixError
		if !errors.As(err, &re) || re.Name != "URIError" {
			t.Errorf("Remix serialize(%s) = %q, %v; want a URIError", raw, line, err)
		}
	}
	signed := newPair(t, r, "c", cookie.Options{Secrets: []string{"k"}})
	for _, b := range []string{"\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe6\x97", "ok\xfe"} {
		enc := base64.StdEncoding.EncodeToString([]byte(b))
		if _, ok := p.agree("c=" + enc); ok {
			t.Errorf("unsigned cookie of bytes %q was accepted", b)
		}
		// Correctly signed, still not UTF-8: both refuse.
		if _, ok := signed.agree("c=" + enc + "." + remixSig("k", enc)); ok {
			t.Errorf("signed cookie of bytes %q was accepted", b)
		}
	}
}

// TestEmptySecret: Go refuses an empty secret when the cookie is made;
// Remix accepts it at createCookie and throws WebCrypto's DataError at the
// first serialize.
func TestEmptySecret(t *testing.T) {
	r := startRemix(t)
	if _, err := cookie.New("c", cookie.Options{Format: cookie.Remix, Secrets: []string{""}}); err == nil {
		t.Error("Go accepted an empty secret")
	}
	_, err := r.serialize("c", remixOptions{Secrets: []string{""}}, "v")
	var re *remixError
	if !errors.As(err, &re) || re.Name != "DataError" {
		t.Errorf("Remix serialize with an empty secret: %v, want a DataError", err)
	}
}
