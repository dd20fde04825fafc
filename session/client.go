package session

import (
	"net/netip"
	"strings"
)

// Devices a person can recognise (SessionInfo.Device, SessionInfo.Network).
// The session middleware hands each request's facts to its session
// (SetClient); the storage summarises them and writes them in the record's
// metadata ("d", "n") only with a write that happens anyway: a sign-in, a
// change, or a sliding refresh (Options.IdleTimeout: at most once per
// tenth of the timeout), which rewrites the record instead of touching it
// when the facts changed. A request that only reads the session costs no
// round trip for them.

// Client is what a request tells about the client that sent it. The
// storages keep a summary of it, never the raw header or address.
type Client struct {
	// UserAgent is the request's User-Agent header.
	UserAgent string
	// Addr is the client's address: the request's remote address, or the
	// one a trusted proxy reported.
	Addr netip.Addr
}

// SetClient records the facts of the client of this request: the session
// middleware calls it for every session it loads. It is not a change: a
// save that writes the session anyway stores their summary (DeviceOf,
// NetworkOf), and nothing is written for them alone.
func (s *Session) SetClient(c Client) {
	s.lock()
	defer s.mu.Unlock()
	s.client = c
}

// factsLocked returns the device and network to write in the record: the
// summary of this request's client when SetClient gave one, else what the
// record held.
func (s *Session) factsLocked() (device, network string) {
	if s.client == (Client{}) {
		return s.rec.device, s.rec.network
	}
	return DeviceOf(s.client.UserAgent), networkUnless(s.client.Addr, s.rec.network)
}

// networkUnless is NetworkOf(a), as the string known when that is a's
// network: a client that stays on its network costs its writes no
// allocation.
func networkUnless(a netip.Addr, known string) string {
	if p, err := netip.ParsePrefix(known); err == nil && a.IsValid() {
		a = a.Unmap().WithZone("")
		if q, err := a.Prefix(networkBits(a)); err == nil && q == p {
			return known
		}
	}
	return NetworkOf(a)
}

// networkBits is the prefix length NetworkOf keeps of a (unmapped).
func networkBits(a netip.Addr) int {
	if a.Is4() {
		return 24
	}
	return 48
}

// factsChanged reports whether the client of the request differs from the
// one the record names (a sliding refresh then rewrites the record).
func (snap *saveSnapshot) factsChanged() bool {
	if snap.client == (Client{}) {
		return false
	}
	return DeviceOf(snap.client.UserAgent) != snap.device || networkUnless(snap.client.Addr, snap.network) != snap.network
}

// NetworkOf returns the network of a, as a prefix: /24 for an IPv4 address
// (an IPv4-mapped IPv6 one included), /48 for IPv6. It is enough to spot a
// sign-in from somewhere unexpected, and not an address that tracks one
// person. "" for an invalid address.
func NetworkOf(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap().WithZone("")
	p, err := a.Prefix(networkBits(a))
	if err != nil {
		return ""
	}
	return p.String()
}

// uaRule maps a token of a User-Agent header to the name it stands for.
type uaRule struct{ token, name string }

// browsers are tried in order: many browsers name others for compatibility
// (every Chromium browser says "Chrome/" and "Safari/"), so the specific
// tokens come first.
var browsers = []uaRule{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"},
	{"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
	{"CriOS/", "Chrome"}, {"HeadlessChrome/", "Headless Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
	{"Version/", "Safari"}, // Safari says "Version/17.1 ... Safari/605"; Chrome was ruled out above
	{"curl/", "curl"}, {"Wget/", "Wget"},
	{"Go-http-client/", "Go HTTP client"},
	{"node-fetch", "Node.js"}, {"undici", "Node.js"},
	{"python-requests/", "Python Requests"},
}

var systems = []uaRule{
	{"Windows", "Windows"},
	{"iPhone", "iOS"}, {"iPod", "iOS"}, {"iPad", "iPadOS"},
	{"CrOS", "ChromeOS"},
	{"Android", "Android"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"}, {"X11", "Linux"},
	{"FreeBSD", "FreeBSD"}, {"OpenBSD", "OpenBSD"},
}

// maxUserAgent bounds how much of a User-Agent header DeviceOf reads: the
// tokens it looks for are near the start, and a header of kilobytes must
// not cost a request more.
const maxUserAgent = 512

// DeviceOf summarises a User-Agent header as a person recognises a device:
// "Firefox on Linux", "Safari on iOS", "Chrome on Windows"; only the
// browser or only the system when the other is not known ("Firefox",
// "on Android"); "Unknown device" for a header none of its table matches;
// "" for none. It knows the common browsers and systems, not versions.
func DeviceOf(userAgent string) string {
	if userAgent == "" {
		return ""
	}
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	return devices[match(userAgent, browsers)][match(userAgent, systems)]
}

// devices holds every answer of DeviceOf, made once, so that a write
// costs no allocation for it: devices[b][s] for the browser rule b and the
// system rule s, the last index of each being "none matched".
var devices = func() [][]string {
	t := make([][]string, len(browsers)+1)
	for b := range t {
		t[b] = make([]string, len(systems)+1)
		for s := range t[b] {
			t[b][s] = deviceName(ruleName(browsers, b), ruleName(systems, s))
		}
	}
	return t
}()

// deviceName is what DeviceOf says of a browser and a system ("": not
// known).
func deviceName(browser, system string) string {
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "on " + system
	}
	return "Unknown device"
}

// ruleName is the name of rules[i], or "" past the last rule.
func ruleName(rules []uaRule, i int) string {
	if i < len(rules) {
		return rules[i].name
	}
	return ""
}

// match returns the index of the first rule whose token ua contains, or
// len(rules) when none does.
func match(ua string, rules []uaRule) int {
	for i, r := range rules {
		if strings.Contains(ua, r.token) {
			return i
		}
	}
	return len(rules)
}
