package router

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// Errors returned by [Route.Href], wrapped with the pattern and the parameter name.
// Test for them with errors.Is.
var (
	// ErrMissingParam: the pattern has a wildcard that Params does not fill.
	ErrMissingParam = errors.New("missing parameter")
	// ErrUnknownParam: Params names a wildcard that the pattern does not have.
	// It is an error rather than ignored so that a renamed wildcard cannot
	// silently produce a wrong link.
	ErrUnknownParam = errors.New("unknown parameter")
	// ErrInvalidParam: the value cannot be put in the path so that it routes back
	// to the same value: an empty {name} value, a "." or ".." segment (also
	// between backslashes, or inside a {name} value between slashes: the
	// router answers such paths with 400, see [Router.AllowDotSegments]), a
	// {name} value of just "/" (which ServeMux mistakes for a trailing slash),
	// or an empty segment inside a {name...} value (path cleaning would rewrite
	// it).
	ErrInvalidParam = errors.New("invalid parameter value")
	// ErrInvalidPattern: Route.Pattern is not a pattern this package accepts.
	ErrInvalidPattern = errors.New("invalid pattern")
)

// Params fills the wildcards of a [Route] pattern when building a link with
// [Route.Href]: the key is the wildcard's name without braces or dots
// ("id" for {id}, "path" for {path...}), the value is unescaped text.
type Params map[string]string

// Route names an endpoint: a method and a path pattern. Declare routes once as
// package-level variables, register them with [Router.Handle] and build links to
// them with [Route.Href], so that a link and the route it points at cannot drift apart.
//
//	var ShowPost = router.Route{Method: "GET", Pattern: "/posts/{id}"}
//
//	r.Handle(ShowPost, http.HandlerFunc(showPost))
//	href := ShowPost.MustHref(router.Params{"id": "7"}) // "/posts/7"
type Route struct {
	// Method is an HTTP method in upper case, such as "GET" or "PROPFIND".
	// The empty string matches every method. A GET route also answers HEAD.
	Method string
	// Pattern is a net/http.ServeMux path pattern that starts with "/":
	// literal segments, {name} (one segment), {name...} (the rest of the path,
	// last only), {$} (exact trailing slash, last only); a pattern that ends in
	// "/" matches every path below it. It has no method and no host.
	Pattern string
}

// String returns the route as a ServeMux pattern: "GET /posts/{id}", or just the
// path pattern when the route matches every method.
func (rt Route) String() string {
	if rt.Method == "" {
		return rt.Pattern
	}
	return rt.Method + " " + rt.Pattern
}

// Href builds the path of a link to the route: each literal segment as written,
// each {name} replaced by its value escaped with url.PathEscape (so "/", "?", "#",
// "%", spaces and non-ASCII text stay inside the segment), each segment of a
// {name...} value escaped separately so that its slashes remain path separators.
// The result routes back to this route with the same r.PathValue values.
//
// It returns an error wrapping [ErrMissingParam], [ErrUnknownParam],
// [ErrInvalidParam] or [ErrInvalidPattern]; it never panics.
func (rt Route) Href(params Params) (string, error) {
	p, err := parsePattern(rt.Pattern)
	if err != nil {
		return "", fmt.Errorf("router: href %q: %w", rt.Pattern, err)
	}
	if unknown := p.unknownParams(params); unknown != "" {
		return "", fmt.Errorf("router: href %q: %w %s", rt.Pattern, ErrUnknownParam, unknown)
	}
	var b strings.Builder
	b.Grow(len(rt.Pattern) + 16)
	for _, seg := range p.segments {
		b.WriteByte('/')
		if err := writeSegment(&b, seg, params); err != nil {
			return "", fmt.Errorf("router: href %q: %w", rt.Pattern, err)
		}
	}
	if p.trailingSlash {
		b.WriteByte('/')
	}
	return b.String(), nil
}

// HrefWith is [Route.Href] followed by a query string: "?" and
// query.Encode(), which escapes keys and values and sorts by key, keeping the
// order of a key's values ("/posts?page=2&tag=go&tag=web"). A nil or empty
// query, or one whose keys all have no values, adds nothing. It returns the
// errors Href returns.
func (rt Route) HrefWith(params Params, query url.Values) (string, error) {
	href, err := rt.Href(params)
	if err != nil {
		return "", err
	}
	if q := query.Encode(); q != "" {
		href += "?" + q
	}
	return href, nil
}

// MustHref is like [Route.Href] but panics on error. Use it where the params are
// known to be complete, such as in templates fed by the route's own handler.
func (rt Route) MustHref(params Params) string {
	s, err := rt.Href(params)
	if err != nil {
		panic(err)
	}
	return s
}

// writeSegment writes one segment of a pattern: a literal as written, a
// wildcard as the value params give it.
func writeSegment(b *strings.Builder, seg segment, params Params) error {
	if !seg.wild {
		b.WriteString(url.PathEscape(seg.s))
		return nil
	}
	v, ok := params[seg.s]
	if !ok {
		return fmt.Errorf("%w %q", ErrMissingParam, seg.s)
	}
	if err := writeValue(b, v, seg.multi); err != nil {
		return fmt.Errorf("parameter %q: %w", seg.s, err)
	}
	return nil
}

// writeValue escapes one wildcard value. A single-segment value must be
// non-empty (ServeMux's {name} never matches an empty segment) and not "." or
// ".." (clients and path cleaning resolve those). A {name...} value may be empty
// and may end in "/", but no segment inside it may be empty, "." or "..".
func writeValue(b *strings.Builder, v string, multi bool) error {
	if multi {
		return writeSegments(b, v)
	}
	if err := checkSegment(v); err != nil {
		return err
	}
	b.WriteString(url.PathEscape(v))
	return nil
}

// writeSegments escapes a {name...} value one segment at a time, so that its
// slashes stay path separators.
func writeSegments(b *strings.Builder, v string) error {
	if v == "" {
		return nil
	}
	for {
		seg, rest, more := strings.Cut(v, "/")
		if seg == "" && !more {
			return nil // the value ends in "/": a trailing slash, already written
		}
		if err := checkSegment(seg); err != nil {
			return err
		}
		b.WriteString(url.PathEscape(seg))
		if !more {
			return nil
		}
		b.WriteByte('/')
		v = rest
	}
}

// dotPiece returns "." or ".." when s, split at slashes and backslashes, has
// such a piece, and "" otherwise.
func dotPiece(s string) string {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '/' && s[i] != '\\' {
			continue
		}
		if p := s[start:i]; p == "." || p == ".." {
			return p
		}
		start = i + 1
	}
	return ""
}

func checkSegment(s string) error {
	switch s {
	case "":
		return fmt.Errorf("%w: empty segment", ErrInvalidParam)
	case ".", "..":
		return fmt.Errorf("%w: %q segment", ErrInvalidParam, s)
	case "/":
		// ServeMux reads a segment that is exactly %2F as a trailing slash,
		// which no {name} matches.
		return fmt.Errorf("%w: a segment of just \"/\"", ErrInvalidParam)
	}
	if d := dotPiece(s); d != "" {
		// The router answers 400 to a "." or ".." between slashes or
		// backslashes in the decoded path (see Router.AllowDotSegments).
		return fmt.Errorf("%w: %q segment", ErrInvalidParam, d)
	}
	return nil
}

// pattern is a parsed path pattern. Parsing mirrors net/http.ServeMux so that
// Href and registration agree on what a pattern means; ServeMux itself still
// validates every pattern on registration.
type pattern struct {
	segments []segment
	// trailingSlash: the pattern ends in "/" (a subtree, or "/" itself) or "{$}".
	trailingSlash bool
	// dollar: the pattern ends in "{$}".
	dollar bool
}

type segment struct {
	s     string // the unescaped literal, or the wildcard's name
	wild  bool
	multi bool // {name...}
}

func (p *pattern) hasWildcard(name string) bool {
	for _, s := range p.segments {
		if s.wild && s.s == name {
			return true
		}
	}
	return false
}

// unknownParams lists, sorted and quoted, the names in params that are not
// wildcards of the pattern, or returns "" when there are none.
func (p *pattern) unknownParams(params Params) string {
	var unknown []string
	for name := range params {
		if !p.hasWildcard(name) {
			unknown = append(unknown, fmt.Sprintf("%q", name))
		}
	}
	slices.Sort(unknown)
	return strings.Join(unknown, ", ")
}

// multi reports whether the pattern ends in a {name...} wildcard.
func (p *pattern) multi() bool {
	return len(p.segments) > 0 && p.segments[len(p.segments)-1].multi
}

// catchAll reports whether the path pattern matches every path: "/" or "/{name...}".
func (p *pattern) catchAll() bool {
	return len(p.segments) == 0 && !p.dollar || len(p.segments) == 1 && p.segments[0].multi
}

// shape is the pattern with wildcard names erased: two patterns with the same
// shape match the same paths.
func (p *pattern) shape() string {
	var b strings.Builder
	for _, s := range p.segments {
		b.WriteByte('/')
		switch {
		case s.multi:
			b.WriteString("{...}")
		case s.wild:
			b.WriteString("{}")
		default:
			b.WriteString(url.PathEscape(s.s))
		}
	}
	if p.dollar {
		b.WriteString("/{$}")
	} else if p.trailingSlash {
		b.WriteByte('/')
	}
	return b.String()
}

// parsePattern parses a path pattern, refusing, with an error that names it,
// what ServeMux would refuse or what no cleaned path could match.
func parsePattern(s string) (*pattern, error) {
	if s == "" || s[0] != '/' {
		return nil, fmt.Errorf("%w: %q does not start with \"/\" (put the method in Route.Method; hosts are not supported)", ErrInvalidPattern, s)
	}
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return nil, fmt.Errorf("%w: %q contains white space (escape it, e.g. %%20)", ErrInvalidPattern, s)
	}
	p := &pattern{}
	if s == "/" {
		p.trailingSlash = true
		return p, nil
	}
	parts := strings.Split(s[1:], "/")
	for i, part := range parts {
		if err := p.add(s, part, i == len(parts)-1); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// add appends one "/"-separated part of pattern s; last reports whether it is
// the final part, where an empty part is the trailing slash.
func (p *pattern) add(s, part string, last bool) error {
	switch {
	case part == "" && last:
		p.trailingSlash = true
		return nil
	case part == "":
		return fmt.Errorf("%w: %q has an empty segment (//), which no cleaned path matches", ErrInvalidPattern, s)
	case !strings.ContainsAny(part, "{}"):
		return p.addLiteral(s, part)
	}
	return p.addWildcard(s, part, last)
}

func (p *pattern) addLiteral(s, part string) error {
	lit, err := url.PathUnescape(part)
	if err != nil {
		lit = part // as ServeMux does
	}
	switch lit {
	case ".", "..":
		return fmt.Errorf("%w: %q has a %q segment, which no cleaned path matches", ErrInvalidPattern, s, lit)
	case "/":
		return fmt.Errorf("%w: %q has a segment of just %%2F, which ServeMux reads as a trailing slash", ErrInvalidPattern, s)
	}
	p.segments = append(p.segments, segment{s: lit})
	return nil
}

// addWildcard appends a {name}, {name...} or {$} part of pattern s.
func (p *pattern) addWildcard(s, part string, last bool) error {
	name, ok := wildcardName(part)
	if !ok {
		return fmt.Errorf("%w: %q: a wildcard must be a whole segment, as in /{name}", ErrInvalidPattern, s)
	}
	if name == "$" {
		if !last {
			return fmt.Errorf("%w: %q: {$} must be the last segment", ErrInvalidPattern, s)
		}
		p.trailingSlash, p.dollar = true, true
		return nil
	}
	name, multi := strings.CutSuffix(name, "...")
	if multi && !last {
		return fmt.Errorf("%w: %q: {%s...} must be the last segment", ErrInvalidPattern, s, name)
	}
	if !validWildcardName(name) {
		return fmt.Errorf("%w: %q: wildcard name %q is not a Go identifier", ErrInvalidPattern, s, name)
	}
	if p.hasWildcard(name) {
		return fmt.Errorf("%w: %q: duplicate wildcard name %q", ErrInvalidPattern, s, name)
	}
	p.segments = append(p.segments, segment{s: name, wild: true, multi: multi})
	return nil
}

// wildcardName returns what is between the braces of a part that is one
// whole wildcard, "{...}" with no other brace inside.
func wildcardName(part string) (string, bool) {
	if len(part) < 2 || part[0] != '{' || part[len(part)-1] != '}' {
		return "", false
	}
	name := part[1 : len(part)-1]
	return name, !strings.ContainsAny(name, "{}")
}

// validWildcardName is ServeMux's rule: letters, digits and underscores, not
// starting with a digit.
func validWildcardName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !unicode.IsLetter(c) && c != '_' && (i == 0 || !unicode.IsDigit(c)) {
			return false
		}
	}
	return true
}
