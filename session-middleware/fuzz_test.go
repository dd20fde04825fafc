package sessionmiddleware

import (
	"slices"
	"strings"
	"testing"
)

// directives lists the directives of Cache-Control values as nextItem
// splits them, without empty ones.
func directives(values []string) []string {
	var out []string
	for _, v := range values {
		for v != "" {
			var d string
			d, v = nextItem(v)
			if d != "" {
				out = append(out, d)
			}
		}
	}
	return out
}

// FuzzPrivateCacheControl checks the rewrite of a handler's Cache-Control
// for a response that sets the session cookie: it never panics or writes
// into its input, leaves no public directive, makes the response private
// when the handler allowed shared caching, keeps every other directive, and
// ends with no-cache="Set-Cookie".
func FuzzPrivateCacheControl(f *testing.F) {
	for _, s := range []string{
		"public", "public, max-age=600", " max-age=600 ,PUBLIC,  public", "s-maxage=60",
		`private="X", public`, `no-cache="Set-Cookie, X-Public", public`, `a="\"public,"`, `"`, ",,",
		"private, public", `no-cache="Set-Cookie"`, "max-age=60\npublic",
	} {
		f.Add(s, "")
		f.Add(s, "max-age=1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		in := []string{a}
		if b != "" {
			in = append(in, b)
		}
		before := slices.Clone(in)
		out := privateCacheControl(in, noCacheSetCookie)
		if !slices.Equal(in, before) {
			t.Fatalf("input changed: %q -> %q", before, in)
		}
		got := directives(out)
		var kept []string
		shared, private := false, false
		for _, d := range directives(in) {
			name, _, hasArg := strings.Cut(d, "=")
			switch {
			case strings.EqualFold(d, "public"):
				shared = true
				continue
			case strings.EqualFold(name, "s-maxage"):
				shared = true
			case strings.EqualFold(name, "private") && !hasArg:
				private = true
			}
			kept = append(kept, d)
		}
		for _, d := range got {
			if strings.EqualFold(d, "public") {
				t.Fatalf("%q -> %q: public left", in, out)
			}
		}
		if (shared || private) && !slices.ContainsFunc(got, func(d string) bool { return strings.EqualFold(d, "private") }) {
			t.Fatalf("%q -> %q: not private", in, out)
		}
		for _, d := range kept {
			if !slices.Contains(got, d) {
				t.Fatalf("%q -> %q: directive %q lost", in, out, d)
			}
		}
		if !hasToken(out, noCacheSetCookie) {
			t.Fatalf("%q -> %q: no %s", in, out, noCacheSetCookie)
		}
	})
}
