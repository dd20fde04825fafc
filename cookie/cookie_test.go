package cookie_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
)

// mustNew returns a Cookie or ends the test.
func mustNew(t testing.TB, name string, o cookie.Options) *cookie.Cookie {
	t.Helper()
	c, err := cookie.New(name, o)
	if err != nil {
		t.Fatalf("New(%q, %+v): %v", name, o, err)
	}
	return c
}

// mustSerialize returns c.Serialize(value) or ends the test.
func mustSerialize(t testing.TB, c *cookie.Cookie, value string) string {
	t.Helper()
	line, err := c.Serialize(value)
	if err != nil {
		t.Fatalf("%s.Serialize(%q): %v", c.Name(), value, err)
	}
	return line
}

var expires2030 = time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)

// TestNewAttributes asserts whole Set-Cookie lines for every attribute, in
// the fixed order Domain, Expires, HttpOnly, Max-Age, Partitioned, Path,
// SameSite, Secure, and the matching Expire line (T-CK1..5).
func TestNewAttributes(t *testing.T) {
	tests := []struct {
		name       string
		cookieName string
		opts       cookie.Options
		value      string
		want       string
		wantExpire string
	}{
		{
			name:       "zero options (T-CK1 generic name)",
			cookieName: "id",
			value:      "x",
			want:       "id=eA; Path=/; SameSite=Lax",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "every attribute",
			cookieName: "sess",
			opts: cookie.Options{
				Domain: "remix.run", Path: "/about", MaxAge: 3600, Expires: expires2030,
				HTTPOnly: true, Secure: true, Partitioned: true, SameSite: http.SameSiteNoneMode,
			},
			value:      "x",
			want:       "sess=eA; Domain=remix.run; Expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; Max-Age=3600; Partitioned; Path=/about; SameSite=None; Secure",
			wantExpire: "sess=; Domain=remix.run; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Partitioned; Path=/about; SameSite=None; Secure",
		},
		{
			name:       "T-CK2 Secure and HttpOnly",
			cookieName: "id",
			opts:       cookie.Options{Secure: true, HTTPOnly: true},
			value:      "x",
			want:       "id=eA; HttpOnly; Path=/; SameSite=Lax; Secure",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Lax; Secure",
		},
		{
			name:       "T-CK3 SameSiteDefaultMode is written as Lax",
			cookieName: "id",
			opts:       cookie.Options{SameSite: http.SameSiteDefaultMode},
			value:      "x",
			want:       "id=eA; Path=/; SameSite=Lax",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "T-CK3 Strict",
			cookieName: "id",
			opts:       cookie.Options{SameSite: http.SameSiteStrictMode},
			value:      "x",
			want:       "id=eA; Path=/; SameSite=Strict",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Strict",
		},
		{
			name:       "T-CK3 explicit Lax",
			cookieName: "id",
			opts:       cookie.Options{SameSite: http.SameSiteLaxMode},
			value:      "x",
			want:       "id=eA; Path=/; SameSite=Lax",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "T-CK3 None with Secure",
			cookieName: "id",
			opts:       cookie.Options{SameSite: http.SameSiteNoneMode, Secure: true},
			value:      "x",
			want:       "id=eA; Path=/; SameSite=None; Secure",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=None; Secure",
		},
		{
			name:       "T-CK4 Partitioned implies Secure",
			cookieName: "p",
			opts:       cookie.Options{Partitioned: true},
			value:      "x",
			want:       "p=eA; Partitioned; Path=/; SameSite=Lax; Secure",
			wantExpire: "p=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Partitioned; Path=/; SameSite=Lax; Secure",
		},
		{
			name:       "T-CK4 Partitioned makes SameSite None valid",
			cookieName: "__Host-p",
			opts:       cookie.Options{Partitioned: true, SameSite: http.SameSiteNoneMode},
			value:      "x",
			want:       "__Host-p=eA; Partitioned; Path=/; SameSite=None; Secure",
			wantExpire: "__Host-p=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Partitioned; Path=/; SameSite=None; Secure",
		},
		{
			name:       "T-CK5 negative MaxAge writes Max-Age=0",
			cookieName: "id",
			opts:       cookie.Options{MaxAge: -1},
			value:      "x",
			want:       "id=eA; Max-Age=0; Path=/; SameSite=Lax",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "T-CK5 persistent cookie writes Expires and Max-Age",
			cookieName: "id",
			opts:       cookie.Options{MaxAge: 60, Expires: time.Date(2015, 10, 22, 7, 28, 0, 0, time.UTC)},
			value:      "x",
			want:       "id=eA; Expires=Thu, 22 Oct 2015 07:28:00 GMT; Max-Age=60; Path=/; SameSite=Lax",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "Expires in another zone is written in GMT",
			cookieName: "id",
			opts:       cookie.Options{Expires: time.Date(2030, 1, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600))},
			value:      "x",
			want:       "id=eA; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Path=/; SameSite=Lax",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "MaxAge of exactly 400 days",
			cookieName: "id",
			opts:       cookie.Options{MaxAge: 400 * 24 * 3600},
			value:      "x",
			want:       "id=eA; Max-Age=34560000; Path=/; SameSite=Lax",
			wantExpire: "id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "leading-dot domain is kept",
			cookieName: "id",
			opts:       cookie.Options{Domain: ".example.com"},
			value:      "x",
			want:       "id=eA; Domain=.example.com; Path=/; SameSite=Lax",
			wantExpire: "id=; Domain=.example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "IPv4 domain",
			cookieName: "id",
			opts:       cookie.Options{Domain: "192.0.2.1"},
			value:      "x",
			want:       "id=eA; Domain=192.0.2.1; Path=/; SameSite=Lax",
			wantExpire: "id=; Domain=192.0.2.1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "domain with hyphens, underscores and capitals",
			cookieName: "id",
			opts:       cookie.Options{Domain: "My-Site_1.Example.ORG", Path: "/a/b-c/~d"},
			value:      "x",
			want:       "id=eA; Domain=My-Site_1.Example.ORG; Path=/a/b-c/~d; SameSite=Lax",
			wantExpire: "id=; Domain=My-Site_1.Example.ORG; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/a/b-c/~d; SameSite=Lax",
		},
		{
			name:       "every token character in the name",
			cookieName: "!#$%&'*+-.^_`|~09azAZ",
			value:      "x",
			want:       "!#$%&'*+-.^_`|~09azAZ=eA; Path=/; SameSite=Lax",
			wantExpire: "!#$%&'*+-.^_`|~09azAZ=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		},
		{
			name:       "__Secure- prefix with Secure and a Domain",
			cookieName: "__Secure-id",
			opts:       cookie.Options{Secure: true, Domain: "example.com", Path: "/app"},
			value:      "x",
			want:       "__Secure-id=eA; Domain=example.com; Path=/app; SameSite=Lax; Secure",
			wantExpire: "__Secure-id=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app; SameSite=Lax; Secure",
		},
		{
			name:       "__Host- prefix done right (OWASP example)",
			cookieName: "__Host-SessionID",
			opts:       cookie.Options{Secure: true, HTTPOnly: true, SameSite: http.SameSiteStrictMode, Path: "/"},
			value:      "x",
			want:       "__Host-SessionID=eA; HttpOnly; Path=/; SameSite=Strict; Secure",
			wantExpire: "__Host-SessionID=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Strict; Secure",
		},
		{
			name:       "Remix format, every attribute",
			cookieName: "sess",
			opts: cookie.Options{
				Domain: "remix.run", Path: "/about", MaxAge: 3600, Expires: expires2030,
				HTTPOnly: true, Secure: true, Partitioned: true, SameSite: http.SameSiteNoneMode,
				Format: cookie.Remix,
			},
			value:      "x",
			want:       "sess=eA==; Domain=remix.run; Expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; Max-Age=3600; Partitioned; Path=/about; SameSite=None; Secure",
			wantExpire: "sess=; Domain=remix.run; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Partitioned; Path=/about; SameSite=None; Secure",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, tt.cookieName, tt.opts)
			if got := mustSerialize(t, c, tt.value); got != tt.want {
				t.Errorf("Serialize(%q)\n got %s\nwant %s", tt.value, got, tt.want)
			}
			if got := c.Expire(); got != tt.wantExpire {
				t.Errorf("Expire()\n got %s\nwant %s", got, tt.wantExpire)
			}
		})
	}
}

// TestNewErrors covers T-INJ1..3, T-PF1..2, T-SZ2 and the other
// configuration mistakes: each is an error from New that names the field.
func TestNewErrors(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name       string
		cookieName string
		opts       cookie.Options
		wantField  string // a substring the error must contain
	}{
		// T-INJ1: names.
		{"empty name", "", cookie.Options{}, "name"},
		{"name with ;", "a;b", cookie.Options{}, "name"},
		{"name with =", "a=b", cookie.Options{}, "name"},
		{"name with space", "a b", cookie.Options{}, "name"},
		{"name with tab", "a\tb", cookie.Options{}, "name"},
		{"name with CR", "a\rb", cookie.Options{}, "name"},
		{"name with LF", "a\nb", cookie.Options{}, "name"},
		{"name with NUL", "a\x00b", cookie.Options{}, "name"},
		{"name with DEL", "a\x7fb", cookie.Options{}, "name"},
		{"name with U+280A", "a\u280ab", cookie.Options{}, "name"},
		{"name with comma", "a,b", cookie.Options{}, "name"},
		{"name with quote", `a"b`, cookie.Options{}, "name"},
		{"name with slash", "a/b", cookie.Options{}, "name"},
		{"CVE-2024-47764 name", "userName=<script>alert('XSS3')</script>; Max-Age=2592000; a", cookie.Options{}, "name"},
		{"name over 4096 bytes", strings.Repeat("n", cookie.MaxSize+1), cookie.Options{}, "name"},
		// T-INJ2: paths.
		{"path injecting an attribute", "id", cookie.Options{Path: "/; Path=/sensitive"}, "Options.Path"},
		{"path with NUL", "id", cookie.Options{Path: "/foo\x00"}, "Options.Path"},
		{"path with CR", "id", cookie.Options{Path: "/a\rb"}, "Options.Path"},
		{"path with LF", "id", cookie.Options{Path: "/a\nb"}, "Options.Path"},
		{"path with space", "id", cookie.Options{Path: "/a b"}, "Options.Path"},
		{"path with comma", "id", cookie.Options{Path: "/a,b"}, "Options.Path"},
		{"path with non-ASCII", "id", cookie.Options{Path: "/caf\u00e9"}, "Options.Path"},
		{"relative path", "id", cookie.Options{Path: "app"}, "Options.Path"},
		{"path over 1024 bytes", "id", cookie.Options{Path: "/" + strings.Repeat("p", 1024)}, "Options.Path"},
		// T-INJ3: domains.
		{"domain injecting an attribute", "id", cookie.Options{Domain: "example.com; Path=/"}, "Options.Domain"},
		{"domain with empty label", "id", cookie.Options{Domain: "a..com"}, "Options.Domain"},
		{"domain with space", "id", cookie.Options{Domain: "my site.org"}, "Options.Domain"},
		{"domain with LF", "id", cookie.Options{Domain: "x.com\n"}, "Options.Domain"},
		{"domain with port", "id", cookie.Options{Domain: "example.com:80"}, "Options.Domain"},
		{"domain of a dot", "id", cookie.Options{Domain: "."}, "Options.Domain"},
		{"domain of two leading dots", "id", cookie.Options{Domain: "..example.com"}, "Options.Domain"},
		{"domain with a trailing dot", "id", cookie.Options{Domain: "example.com."}, "Options.Domain"},
		{"domain label starting with -", "id", cookie.Options{Domain: "-a.com"}, "Options.Domain"},
		{"domain label ending with -", "id", cookie.Options{Domain: "a-.com"}, "Options.Domain"},
		{"domain ending with -", "id", cookie.Options{Domain: "a.com-"}, "Options.Domain"},
		{"domain label over 63 bytes", "id", cookie.Options{Domain: long + ".com"}, "Options.Domain"},
		{"domain over 254 bytes", "id", cookie.Options{Domain: strings.Repeat("abcdefghi.", 26) + "com"}, "Options.Domain"},
		{"IPv6 domain", "id", cookie.Options{Domain: "::1"}, "Options.Domain"},
		{"domain with slash", "id", cookie.Options{Domain: "example.com/x"}, "Options.Domain"},
		// T-PF1 and T-PF2: prefixes, matched case-insensitively.
		{"__Host- without Secure", "__Host-id", cookie.Options{}, "Secure"},
		{"__HOST- without Secure", "__HOST-id", cookie.Options{}, "Secure"},
		{"__host- without Secure", "__host-id", cookie.Options{}, "Secure"},
		{"__Host- with Domain", "__Host-id", cookie.Options{Secure: true, Domain: "example.com"}, "Options.Domain"},
		{"__hOsT- with Domain", "__hOsT-id", cookie.Options{Secure: true, Domain: "example.com"}, "Options.Domain"},
		{"__Host- with Path /app", "__Host-id", cookie.Options{Secure: true, Path: "/app"}, "Options.Path"},
		{"__Secure- without Secure", "__Secure-id", cookie.Options{}, "Options.Secure"},
		{"__SECURE- without Secure", "__SECURE-id", cookie.Options{}, "Options.Secure"},
		{"__secure- without Secure", "__secure-id", cookie.Options{}, "Options.Secure"},
		// T-CK3.
		{"SameSite None without Secure", "id", cookie.Options{SameSite: http.SameSiteNoneMode}, "Options.SameSite"},
		{"unknown SameSite", "id", cookie.Options{SameSite: http.SameSite(9)}, "Options.SameSite"},
		{"negative SameSite", "id", cookie.Options{SameSite: http.SameSite(-1)}, "Options.SameSite"},
		// T-SZ2.
		{"MaxAge over 400 days", "id", cookie.Options{MaxAge: 400*24*3600 + 1}, "Options.MaxAge"},
		{"Expires before 1601", "id", cookie.Options{Expires: time.Date(1600, 12, 31, 23, 59, 59, 0, time.UTC)}, "Options.Expires"},
		{"Expires after 9999", "id", cookie.Options{Expires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "Options.Expires"},
		// Secrets and format.
		{"empty secret", "id", cookie.Options{Secrets: []string{""}}, "Options.Secrets[0]"},
		{"second secret empty", "id", cookie.Options{Secrets: []string{"k", ""}}, "Options.Secrets[1]"},
		{"unknown format", "id", cookie.Options{Format: cookie.Format(2)}, "Options.Format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cookie.New(tt.cookieName, tt.opts)
			if err == nil {
				t.Fatalf("New(%q, %+v) = %v, want an error", tt.cookieName, tt.opts, c.Options())
			}
			if c != nil {
				t.Errorf("New returned a Cookie with the error %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantField) {
				t.Errorf("New(%q): error %q does not name %q", tt.cookieName, err, tt.wantField)
			}
			if !strings.HasPrefix(err.Error(), "cookie") {
				t.Errorf("New(%q): error %q is not prefixed with the package", tt.cookieName, err)
			}
		})
	}
}

// TestNewErrorMessages pins a few whole messages, so that they stay useful.
func TestNewErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		opts cookie.Options
		want string
	}{
		{"a;b", cookie.Options{}, `cookie: name "a;b": byte ';' at 1 is not an RFC 9110 token character`},
		{"id", cookie.Options{Path: "/; Path=/sensitive"}, `cookie "id": Options.Path "/; Path=/sensitive": byte ';' at 1 is not allowed in a cookie path`},
		{"id", cookie.Options{Domain: "example.com:80"}, `cookie "id": Options.Domain "example.com:80": byte ':' at 11 is not allowed in a domain`},
		{"id", cookie.Options{SameSite: http.SameSiteNoneMode}, `cookie "id": Options.SameSite None requires Options.Secure (browsers reject it otherwise)`},
		{"__Host-id", cookie.Options{Secure: true, Path: "/app"}, `cookie "__Host-id": a __Host- name requires Options.Path "/"`},
		{"id", cookie.Options{Secrets: []string{"k", ""}}, `cookie "id": Options.Secrets[1] is empty`},
		{"id", cookie.Options{Format: cookie.Format(7)}, `cookie "id": Options.Format Format(7) is unknown`},
	}
	for _, tt := range tests {
		_, err := cookie.New(tt.name, tt.opts)
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%q, %+v)\n got %v\nwant %s", tt.name, tt.opts, err, tt.want)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	c := mustNew(t, "id", cookie.Options{})
	want := cookie.Options{Path: "/", SameSite: http.SameSiteLaxMode, Secrets: []string{}}
	got := c.Options()
	if got.Secrets == nil {
		got.Secrets = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Options() = %+v, want %+v", got, want)
	}
	if c.Name() != "id" {
		t.Errorf("Name() = %q, want id", c.Name())
	}
	if c.Signed() {
		t.Error("Signed() = true without secrets")
	}
	if p := mustNew(t, "p", cookie.Options{Partitioned: true}).Options(); !p.Secure {
		t.Error("Options().Secure = false for a Partitioned cookie")
	}
	if c := mustNew(t, "id", cookie.Options{Secrets: []string{}}); c.Signed() {
		t.Error("Signed() = true with an empty Secrets slice")
	}
	if c := mustNew(t, "id", cookie.Options{Secrets: []string{"k"}}); !c.Signed() {
		t.Error("Signed() = false with a secret")
	}
}

// TestNewCopiesSecrets checks that the Cookie is immutable: neither the
// slice given to New nor the one returned by Options changes it.
func TestNewCopiesSecrets(t *testing.T) {
	secrets := []string{"k1", "k2"}
	c := mustNew(t, "id", cookie.Options{Secrets: secrets})
	line := mustSerialize(t, c, "v")
	secrets[0] = "changed"
	o := c.Options()
	o.Secrets[1] = "changed too"
	if got := mustSerialize(t, c, "v"); got != line {
		t.Errorf("after changing the caller's slice, Serialize = %s, want %s", got, line)
	}
	if got := c.Options().Secrets; !reflect.DeepEqual(got, []string{"k1", "k2"}) {
		t.Errorf("Options().Secrets = %q, want [k1 k2]", got)
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[cookie.Format]string{
		cookie.Native: "Native", cookie.Remix: "Remix", cookie.Format(5): "Format(5)", cookie.Format(-1): "Format(-1)",
	} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}
