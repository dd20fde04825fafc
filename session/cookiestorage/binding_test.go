package cookiestorage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

func bind(t *testing.T, st session.Storage, c session.CookieInfo) error {
	t.Helper()
	b, ok := st.(session.CookieBinder)
	if !ok {
		t.Fatalf("%T is not a session.CookieBinder", st)
	}
	return b.BindCookie(c)
}

// identitySize is a cookie that carries n bytes as n bytes, with no name.
func identitySize(n int) int { return n }

func TestCookieStorageBindCookieRefuses(t *testing.T) {
	tests := []struct {
		name string
		o    cookiestorage.Options
		c    session.CookieInfo
		want string
	}{
		{"no name", cookiestorage.Options{}, session.CookieInfo{Size: identitySize},
			"cookiestorage: BindCookie needs the cookie's Name and Size"},
		{"no size", cookiestorage.Options{}, session.CookieInfo{Name: "sid"},
			"cookiestorage: BindCookie needs the cookie's Name and Size"},
		{"CookieName differs", cookiestorage.Options{CookieName: "a"}, session.CookieInfo{Name: "b", Size: identitySize},
			`cookiestorage: Options.CookieName "a" is not the session cookie's name "b" (leave it empty: the middleware sets it)`},
		{"sealed, text-only cookie", cookiestorage.Options{Keys: [][]byte{testKey(1)}}, session.CookieInfo{Name: "sid", Size: identitySize, TextOnly: true},
			"cookiestorage: sealed payloads (Options.Keys) are binary, which the cookie's Remix format cannot carry; use the Native format (the default), or no Keys for cookies Remix can read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := bind(t, newCookieStorage(t, tt.o), tt.c)
			if err == nil || err.Error() != tt.want {
				t.Errorf("BindCookie = %v, want %q", err, tt.want)
			}
		})
	}

	st := newCookieStorage(t, cookiestorage.Options{})
	for i := range 2 { // binding the same cookie again is fine
		if err := bind(t, st, session.CookieInfo{Name: "sid", Size: identitySize, TextOnly: true}); err != nil {
			t.Fatalf("bind %d: %v", i, err)
		}
	}
	const want = `cookiestorage: already bound to cookie "sid", not "other"; use one storage per cookie`
	if err := bind(t, st, session.CookieInfo{Name: "other", Size: identitySize}); err == nil || err.Error() != want {
		t.Errorf("second cookie: %v, want %q", err, want)
	}
}

// The bound cookie's name seals payloads, whatever CookieName says (empty
// here): a payload sealed for one cookie does not open as another.
func TestCookieStorageBoundNameSeals(t *testing.T) {
	logs := sessiontest.NewLogs()
	newBound := func(name string) session.Storage {
		st := newCookieStorage(t, cookiestorage.Options{Keys: [][]byte{testKey(1)}, Session: session.ClientOptions{Logger: logs.Logger()}})
		if err := bind(t, st, session.CookieInfo{Name: name, Size: identitySize}); err != nil {
			t.Fatal(err)
		}
		return st
	}
	a, b, a2 := newBound("a"), newBound("b"), newBound("a")
	v, _ := sessiontest.Request(t, a, "", func(s *session.Session) { s.Set("user", "alice") })
	sessiontest.Request(t, a2, v, func(s *session.Session) {
		if s.Get("user") != "alice" {
			t.Error("the same cookie name does not open the payload")
		}
	})
	sessiontest.Request(t, b, v, func(s *session.Session) {
		if s.Has("user") {
			t.Error("a payload sealed for cookie a opened as cookie b")
		}
	})
	unbound := newCookieStorage(t, cookiestorage.Options{Keys: [][]byte{testKey(1)}, Session: session.ClientOptions{Logger: logs.Logger()}})
	sessiontest.Request(t, unbound, v, func(s *session.Session) {
		if s.Has("user") {
			t.Error("a payload sealed for cookie a opened without a cookie name")
		}
	})
	if n := logs.Warnings(); n != 2 {
		t.Errorf("%d warnings, want 2 (one per refused payload)", n)
	}
}

// The size check asks the bound cookie how large the value becomes.
func TestCookieStorageBoundSize(t *testing.T) {
	st := newCookieStorage(t, cookiestorage.Options{MaxSize: 1000})
	var asked []int
	if err := bind(t, st, session.CookieInfo{Name: "sid", Size: func(n int) int { asked = append(asked, n); return 2 * n }}); err != nil {
		t.Fatal(err)
	}
	s, _ := st.Read(ctx, "")
	s.Set("v", strings.Repeat("y", 300)) // about 400 bytes of payload: 800 < 1000
	v, set, err := st.Save(ctx, s)
	if err != nil || !set || len(asked) != 1 || asked[0] != len(v) {
		t.Fatalf("Save = %d bytes, %v, %v; Size asked for %v", len(v), set, err, asked)
	}
	s.Set("v", strings.Repeat("y", 500)) // about 1160 bytes
	if _, _, err := st.Save(ctx, s); !errors.Is(err, session.ErrTooLarge) || !strings.Contains(err.Error(), "over the 1000-byte limit") {
		t.Errorf("Save = %v, want ErrTooLarge naming the 1000-byte limit", err)
	}
}
