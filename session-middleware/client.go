package sessionmiddleware

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/sessionkit/sessionkit/session"
)

// Client facts. Every session the middleware loads learns the User-Agent
// and the address of the request's client (session.Session.SetClient)
// before the handler sees it. The storage keeps only their summary
// ("Firefox on Linux", "203.0.113.0/24": session.DeviceOf,
// session.NetworkOf), and only with a write that happens anyway, so that
// session.UserIndex can list a user's devices; a request that only reads
// its session writes nothing for them.

// setClient hands s the facts of the client of request r.
func (m *middleware) setClient(s *session.Session, r *http.Request) {
	s.SetClient(session.Client{UserAgent: r.UserAgent(), Addr: m.clientAddrOf(r)})
}

// clientAddrOf returns the address of r's client: what Options.ClientAddr
// says, else the peer of the connection (r.RemoteAddr).
func (m *middleware) clientAddrOf(r *http.Request) netip.Addr {
	if m.clientAddr != nil {
		return m.clientAddr(r)
	}
	return remoteAddr(r.RemoteAddr)
}

// remoteAddr returns the address in a RemoteAddr: "ip:port" as net/http
// sets it, or a bare address as some proxy middleware leaves it (chi's
// RealIP); the zero Addr for anything else ("@" for a Unix socket). The
// form is chosen before parsing, because a failed parse allocates its
// error: trying ParseAddrPort first would cost a bare address an
// allocation per request, and a server on a Unix socket one for every
// request. An address starts with a hex digit or a colon ("::1"), a
// bracketed IPv6 "ip:port" with "["; an IPv4 "ip:port" has one colon, a
// bare IPv4 address none, a bare IPv6 one several.
func remoteAddr(s string) netip.Addr {
	switch {
	case s == "" || !addrStart(s[0]):
		return netip.Addr{}
	case s[0] == '[' || strings.Count(s, ":") == 1:
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}
		}
		return ap.Addr()
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a
}

// addrStart reports whether c can start an address or a bracketed
// "[ip]:port".
func addrStart(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':' || c == '['
}
