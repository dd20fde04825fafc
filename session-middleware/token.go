package sessionmiddleware

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// TokenOptions configure NewToken.
type TokenOptions struct {
	// Options: ErrorHandler and Logger work as for New. AllowScriptAccess
	// is about cookies and must be false.
	Options

	// RequestHeader is the request header that carries the token. "":
	// "Authorization", where the token follows the "Bearer" scheme
	// ("Authorization: Bearer <token>"; the scheme's case and the spaces
	// after it do not matter). Any other header carries the token alone.
	// It cannot be Cookie.
	RequestHeader string

	// ResponseHeader is the response header that hands the client its
	// token. "": "Session-Token". It is sent only when the token changes
	// (a new session is saved, RegenerateID, a token signed with an older
	// secret, and with cookie storage every save), and with an empty value
	// when a request that carried a token destroyed its session. It cannot
	// be Set-Cookie.
	ResponseHeader string
}

// DefaultRequestHeader and DefaultResponseHeader are the headers of
// NewToken when TokenOptions leaves them empty.
const (
	DefaultRequestHeader  = "Authorization"
	DefaultResponseHeader = "Session-Token"
)

// NewToken returns middleware that gives every request a session, as New
// does, but carries the session in headers instead of a cookie, for API
// clients that have no cookie jar (a mobile app, a script): the client sends
// its token in o.RequestHeader (default "Authorization: Bearer <token>") and
// gets a new one in o.ResponseHeader (default "Session-Token") whenever it
// changes. See "Tokens" in the package documentation.
//
// The token is cookie c's value without the cookie: the storage's value
// (the session id, or cookie storage's payload) encoded and signed by
// c.Encode, checked by c.Decode, with c's secrets and their rotation. Only
// c's name, secrets and format matter; its attributes are not used.
//
// NewToken refuses a nil cookie or storage, a cookie without secrets, a
// header name that is not a valid HTTP token, a RequestHeader of Cookie or
// a ResponseHeader of Set-Cookie (the middleware never reads or sets
// cookies, which a browser would send by itself), and o.AllowScriptAccess.
// It binds cookie storage to c, with the errors New gives.
func NewToken(c *cookie.Cookie, s session.Storage, o TokenOptions) (func(http.Handler) http.Handler, error) {
	logger, err := check(c, s, o.Options, "token cookie")
	if err != nil {
		return nil, err
	}
	if o.AllowScriptAccess {
		return nil, errors.New("sessionmiddleware: TokenOptions.AllowScriptAccess is set, but it is about cookies: tokens are always readable by the client")
	}
	in, out := o.RequestHeader, o.ResponseHeader
	if in == "" {
		in = DefaultRequestHeader
	}
	if out == "" {
		out = DefaultResponseHeader
	}
	for _, h := range []struct{ field, name, forbidden string }{
		{"RequestHeader", in, "Cookie"},
		{"ResponseHeader", out, "Set-Cookie"},
	} {
		switch {
		case !validHeaderName(h.name):
			return nil, fmt.Errorf("sessionmiddleware: TokenOptions.%s %q is not a valid header name", h.field, h.name)
		case strings.EqualFold(h.name, h.forbidden):
			return nil, fmt.Errorf("sessionmiddleware: TokenOptions.%s cannot be %s: tokens travel outside cookies, so that a browser never sends them by itself (CSRF); use New for cookies", h.field, h.forbidden)
		}
	}
	in, out = http.CanonicalHeaderKey(in), http.CanonicalHeaderKey(out)
	if err := bind(c, s); err != nil {
		return nil, err
	}
	m := &middleware{
		carrier:      &tokenCarrier{cookie: c, header: in, bearer: in == DefaultRequestHeader},
		storage:      s,
		errorHandler: o.ErrorHandler,
		logger:       logger,
		name:         c.Name(),
		out:          out,
		replaceOut:   true,
		vary:         in,
		noCache:      `no-cache="` + out + `"`,
	}
	return m.wrap, nil
}

// tokenCarrier carries the session value as a token in request and
// response headers (NewToken).
type tokenCarrier struct {
	cookie *cookie.Cookie
	header string // the request header
	bearer bool   // the header is Authorization: the token follows "Bearer "
}

// read returns the token's value. A request that carries the header at all,
// with a valid token or not, varies with it.
func (tc *tokenCarrier) read(r *http.Request) incoming {
	raw := r.Header.Get(tc.header)
	if raw == "" {
		return incoming{Received: cookie.Received{Secret: -1}}
	}
	in := incoming{Received: cookie.Received{Secret: -1}, varies: true}
	token := raw
	if tc.bearer {
		scheme, rest, ok := strings.Cut(raw, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return in // another scheme (Basic): no token of ours
		}
		token = strings.TrimLeft(rest, " ")
	}
	if token == "" {
		return in
	}
	if value, secret, ok := tc.cookie.DecodeSecret(token); ok {
		in.Value, in.Secret = value, secret
	}
	return in
}

// line returns the token to send for value: none when it is the request's
// own, signed with the current secret; "" (an empty header) for a destroyed
// session when the request carried a token, so the client drops it.
func (tc *tokenCarrier) line(_ *session.Session, value string, in incoming) (string, bool, error) {
	if value == "" {
		return "", in.varies, nil
	}
	if value == in.Value && in.Secret <= 0 {
		return "", false, nil
	}
	token, err := tc.cookie.Encode(value)
	return token, err == nil, err
}

// validHeaderName reports whether name is an RFC 9110 token, as a field
// name must be.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
