package sessionmiddleware

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// TokenOptions configure NewToken. The zero value is ready to use.
type TokenOptions struct {
	// ErrorHandler writes the response when the session cannot be read or
	// saved, or the middleware is installed twice, as Options.ErrorHandler
	// does for New. nil: a plain "500 Internal Server Error", or
	// "409 Conflict" for a sign-in refused with session.ErrUserLimit.
	ErrorHandler func(http.ResponseWriter, *http.Request, error)

	// Logger receives storage errors, weak-secret warnings and session
	// changes made too late to be saved. nil: slog.Default().
	Logger *slog.Logger

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

	// StorageTimeout bounds each storage call of a request, as
	// Options.StorageTimeout does for New: 0: DefaultStorageTimeout
	// (2 s); negative: no bound. A call past it is answered "503 Service
	// Unavailable" with "Retry-After: 1", and the client keeps its token.
	StorageTimeout time.Duration

	// AbandonLateCalls runs the storage calls on worker goroutines, so
	// that the request stops waiting at the deadline even for a storage
	// that ignores its context, as Options.AbandonLateCalls does for New.
	AbandonLateCalls bool

	// ClientAddr returns the address of the request's client, as
	// Options.ClientAddr does for New. nil: r.RemoteAddr. Trust a
	// forwarding header only from a proxy you run.
	ClientAddr func(*http.Request) netip.Addr
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
// header name that is not a valid HTTP token, and a RequestHeader of Cookie
// or a ResponseHeader of Set-Cookie (the middleware never reads or sets
// cookies, which a browser would send by itself). It binds cookie storage
// to c, with the errors New gives.
func NewToken(c *cookie.Cookie, s session.Storage, o TokenOptions) (func(http.Handler) http.Handler, error) {
	logger, err := check(c, s, o.Logger, "token cookie")
	if err != nil {
		return nil, err
	}
	in, err := tokenHeader("RequestHeader", o.RequestHeader, DefaultRequestHeader, "Cookie")
	if err != nil {
		return nil, err
	}
	out, err := tokenHeader("ResponseHeader", o.ResponseHeader, DefaultResponseHeader, "Set-Cookie")
	if err != nil {
		return nil, err
	}
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
		timeout:      storageTimeout(o.StorageTimeout, s),
		abandon:      o.AbandonLateCalls,
		clientAddr:   o.ClientAddr,
	}
	return m.wrap, nil
}

// tokenHeader returns the canonical form of the header name that
// TokenOptions.field sets, or def when it is empty. It refuses a name that is
// not a valid header name, and the cookie header a browser would fill in
// by itself (forbidden).
func tokenHeader(field, name, def, forbidden string) (string, error) {
	if name == "" {
		name = def
	}
	switch {
	case !validHeaderName(name):
		return "", fmt.Errorf("sessionmiddleware: TokenOptions.%s %q is not a valid header name", field, name)
	case strings.EqualFold(name, forbidden):
		return "", fmt.Errorf("sessionmiddleware: TokenOptions.%s cannot be %s: tokens travel outside cookies, so that a browser never sends them by itself (CSRF); use New for cookies", field, forbidden)
	}
	return http.CanonicalHeaderKey(name), nil
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
	in := incoming{Received: cookie.Received{Secret: -1}}
	raw := r.Header.Get(tc.header)
	if raw == "" {
		return in
	}
	in.varies = true
	if value, secret, ok := tc.cookie.DecodeSecret(tc.token(raw)); ok {
		in.Value, in.Secret = value, secret
	}
	return in
}

// token returns the token in raw, the request header's value: all of it,
// or for Authorization what follows the "Bearer" scheme; "" for another
// scheme (Basic), which carries no token of ours.
func (tc *tokenCarrier) token(raw string) string {
	if !tc.bearer {
		return raw
	}
	scheme, rest, ok := strings.Cut(raw, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimLeft(rest, " ")
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

// tokenChars are the characters of an RFC 9110 token, as a field name must
// be.
const tokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// validHeaderName reports whether name is an RFC 9110 token, as a field
// name must be.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if strings.IndexByte(tokenChars, name[i]) < 0 {
			return false
		}
	}
	return true
}
