package session_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

func TestDeviceOf(t *testing.T) {
	for _, c := range []struct{ ua, want string }{
		{"", ""},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1", "Chrome on iOS"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Headless Chrome on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0", "Opera on Windows"},
		{"curl/8.5.0", "curl"},
		{"Go-http-client/1.1", "Go HTTP client"},
		{"SomethingElse/1.0", "Unknown device"},
		{"Mozilla/5.0 (Linux; Android 14)", "on Android"},
		{strings.Repeat("x", 600) + "Firefox/1", "Unknown device"},
	} {
		if got := session.DeviceOf(c.ua); got != c.want {
			t.Errorf("DeviceOf(%.60q) = %q, want %q", c.ua, got, c.want)
		}
	}
}

func TestNetworkOf(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{"203.0.113.77", "203.0.113.0/24"},
		{"::ffff:203.0.113.77", "203.0.113.0/24"},
		{"2001:db8:1234:5678::1", "2001:db8:1234::/48"},
		{"fe80::1%eth0", "fe80::/48"},
		{"127.0.0.1", "127.0.0.0/24"},
	} {
		if got := session.NetworkOf(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("NetworkOf(%s) = %q, want %q", c.addr, got, c.want)
		}
	}
	if got := session.NetworkOf(netip.Addr{}); got != "" {
		t.Errorf("NetworkOf(invalid) = %q", got)
	}
}

// The facts cost a read-only request nothing: one Get, no write, however
// its client changed; with an idle timeout, the refresh that is due
// anyway rewrites the record instead of touching it when they changed.
func TestClientFactsRideOnWrites(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	b := sessiontest.NewBackend(clock.Now)
	st := mustStorage(t, b, session.Options{IdleTimeout: time.Hour, Now: clock.Now})
	firefox := session.Client{UserAgent: "Firefox/133.0 (X11; Linux)", Addr: netip.MustParseAddr("203.0.113.7")}
	other := session.Client{UserAgent: "Firefox/133.0 (X11; Linux)", Addr: netip.MustParseAddr("198.51.100.7")}
	cookie, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.SetClient(firefox); s.Set("n", 1) })
	b.ResetCalls()
	sessiontest.Request(t, st, cookie, func(s *session.Session) { s.SetClient(other); _ = s.Get("n") })
	if n := len(b.Calls()); n != 1 || b.CallCount(sessiontest.OpGet) != 1 {
		t.Errorf("a read-only request from another network made %d calls, want one Get: %+v", n, b.Calls())
	}
	clock.Advance(7 * time.Minute) // a refresh is due (a tenth of the idle timeout)
	b.ResetCalls()
	sessiontest.Request(t, st, cookie, func(s *session.Session) { s.SetClient(firefox); _ = s.Get("n") })
	if b.CallCount(sessiontest.OpTouch) != 1 || b.CallCount(sessiontest.OpPut) != 0 {
		t.Errorf("a due refresh from the same client: %+v, want one Touch", b.Calls())
	}
	clock.Advance(7 * time.Minute)
	b.ResetCalls()
	sessiontest.Request(t, st, cookie, func(s *session.Session) { s.SetClient(other); _ = s.Get("n") })
	if b.CallCount(sessiontest.OpPut) != 1 || b.CallCount(sessiontest.OpTouch) != 0 || len(b.Calls()) != 2 {
		t.Errorf("a due refresh from another network: %+v, want one Get and one Put", b.Calls())
	}
	if rec, _ := b.Record(cookie); !strings.Contains(string(rec), `"n":"198.51.100.0/24"`) {
		t.Errorf("the record after the refresh does not name the new network: %s", rec)
	}
}

// A server-side storage keeps its own epochs; a cookie storage's epochs
// need the user key.
func TestEpochOptions(t *testing.T) {
	store := mustStorage(t, sessiontest.NewBackend(time.Now), session.Options{UserKey: "user"})
	ep := store.(session.Epochs)
	if _, err := session.NewBackendStorage(sessiontest.NewBackend(time.Now), session.Options{Epochs: ep}); err == nil {
		t.Error("NewBackendStorage accepted Options.Epochs")
	}
	if _, err := cookiestorage.New(cookiestorage.Options{Session: session.ClientOptions{Epochs: ep}}); err == nil {
		t.Error("a cookie storage accepted Epochs without a UserKey")
	}
	if _, err := ep.Bump(context.Background(), "", nil); err == nil {
		t.Error(`Bump("") is not an error`)
	}
	if _, ok := store.(session.UserIndex); !ok {
		t.Error("the storage does not list sessions")
	}
	plain := mustStorage(t, sessiontest.NewBackend(time.Now), session.Options{})
	if _, ok := plain.(session.Epochs); ok {
		t.Error("a storage without UserKey implements Epochs")
	}
	cs, err := cookiestorage.New(cookiestorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cs.(session.Epochs); ok {
		t.Error("a cookie storage without Epochs implements Epochs")
	}
}

// failingEpochs cannot be asked.
type failingEpochs struct{ session.Epochs }

var errEpochsDown = errors.New("epochs down")

func (failingEpochs) Epoch(context.Context, string) (int64, error) { return 0, errEpochsDown }

// A cookie session whose user's epoch cannot be read is a Read error, never
// a new session (which would sign the user out), and a sign-in cannot be
// stamped: its Save fails. Anonymous sessions do not ask.
func TestEpochUnavailable(t *testing.T) {
	store := mustStorage(t, sessiontest.NewBackend(time.Now), session.Options{UserKey: "user"})
	good, err := cookiestorage.New(cookiestorage.Options{Session: session.ClientOptions{UserKey: "user", Epochs: store.(session.Epochs)}})
	if err != nil {
		t.Fatal(err)
	}
	down, err := cookiestorage.New(cookiestorage.Options{Session: session.ClientOptions{UserKey: "user", Epochs: failingEpochs{}, EpochCacheTTL: -1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	signedIn, _ := sessiontest.Request(t, good, "", func(s *session.Session) { s.Set("user", "ada") })
	if s, err := down.Read(ctx, signedIn); !errors.Is(err, errEpochsDown) || s != nil {
		t.Errorf("Read with the epochs down = %v, %v; want the error", s, err)
	}
	anon, _ := sessiontest.Request(t, down, "", func(s *session.Session) { s.Set("theme", "dark") })
	s, err := down.Read(ctx, anon)
	if err != nil {
		t.Fatalf("an anonymous session asked the epochs: %v", err)
	}
	s.Set("user", "ada")
	if _, _, err := down.Save(ctx, s); !errors.Is(err, errEpochsDown) {
		t.Errorf("a sign-in with the epochs down: Save error %v", err)
	}
}

// BenchmarkCookieReadOnlyEpochs is BenchmarkCookieReadOnly with epochs
// (ClientOptions.Epochs, cached): the cost of the check on load.
func BenchmarkCookieReadOnlyEpochs(b *testing.B) {
	store := mustStorage(b, sessiontest.NewBackend(time.Now), session.Options{UserKey: "user"})
	sessiontest.Benchmark(b, benchCookie(b, cookiestorage.Options{Session: session.ClientOptions{UserKey: "user", Epochs: store.(session.Epochs)}}), false)
}
