package sessionmiddleware

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
)

// New tells cookie storage the real cookie and refuses, at setup, a storage
// that cannot work with it: before, each of these was a 500 on every write
// or a check that never ran.
func TestNewRefusesAStorageThatDoesNotFitTheCookie(t *testing.T) {
	newStorage := func(t *testing.T, o cookiestorage.Options) session.Storage {
		st, err := cookiestorage.New(o)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	native := newCookie(t, "__sess", cookie.Options{})
	remix := newCookie(t, "__sess", cookie.Options{Format: cookie.Remix})
	tests := []struct {
		name    string
		cookie  *cookie.Cookie
		storage func(t *testing.T) session.Storage
		want    string
	}{
		{"sealed storage, Remix format", remix, func(t *testing.T) session.Storage {
			return newStorage(t, cookiestorage.Options{Keys: [][]byte{testKey}})
		}, "sessionmiddleware: cookiestorage: sealed payloads (Options.Keys) are binary, which the cookie's Remix format cannot carry; use the Native format (the default), or no Keys for cookies Remix can read"},
		{"CookieName names another cookie", native, func(t *testing.T) session.Storage {
			return newStorage(t, cookiestorage.Options{CookieName: "session", Keys: [][]byte{testKey}})
		}, `sessionmiddleware: cookiestorage: Options.CookieName "session" is not the session cookie's name "__sess" (leave it empty: the middleware sets it)`},
		{"storage already serving another cookie", native, func(t *testing.T) session.Storage {
			st := newStorage(t, cookiestorage.Options{})
			newMiddleware(t, newCookie(t, "other", cookie.Options{}), st, Options{})
			return st
		}, `sessionmiddleware: cookiestorage: already bound to cookie "other", not "__sess"; use one storage per cookie`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := New(tt.cookie, tt.storage(t), Options{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("New error = %v, want %q", err, tt.want)
			}
			if mw != nil {
				t.Error("New returned middleware with an error")
			}
		})
	}

	// What does fit: signed (not sealed) cookie storage with the Remix
	// format, the same storage behind a second middleware with the same
	// cookie, and a matching CookieName.
	for _, ok := range []struct {
		name    string
		cookie  *cookie.Cookie
		storage session.Storage
	}{
		{"signed storage, Remix format", remix, newStorage(t, cookiestorage.Options{})},
		{"matching CookieName", native, newStorage(t, cookiestorage.Options{CookieName: "__sess", Keys: [][]byte{testKey}})},
	} {
		t.Run(ok.name, func(t *testing.T) {
			for range 2 {
				h := newMiddleware(t, ok.cookie, ok.storage, Options{})(http.HandlerFunc(counter))
				rec := do(h, "GET", "/", "")
				if rec.Code != 200 || rec.Body.String() != "Count: 1" {
					t.Fatalf("response %d %q", rec.Code, rec.Body.String())
				}
				if rec := do(h, "GET", "/", pair(rec.Result().Header.Get("Set-Cookie"))); rec.Body.String() != "Count: 2" {
					t.Fatalf("second request: %q", rec.Body.String())
				}
			}
		})
	}
}

// A sealed payload is bound to the cookie that carries it even when
// cookiestorage.Options.CookieName is left empty: two cookies that share
// secrets and keys cannot swap payloads.
func TestSealedPayloadIsBoundToTheCookieName(t *testing.T) {
	newSealed := func() session.Storage {
		st, err := cookiestorage.New(cookiestorage.Options{Keys: [][]byte{testKey}, Session: session.ClientOptions{Logger: quiet}})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a := newMiddleware(t, newCookie(t, "a", cookie.Options{}), newSealed(), Options{})(http.HandlerFunc(counter))
	b := newMiddleware(t, newCookie(t, "b", cookie.Options{}), newSealed(), Options{})(http.HandlerFunc(counter))
	payload, ok := expectedCookie(t, "a", cookie.Options{}, false).Parse(pair(do(a, "GET", "/", "").Result().Header.Get("Set-Cookie")))
	if !ok {
		t.Fatal("a's cookie does not parse")
	}
	// The same payload, signed for cookie b.
	moved := pair(serialize(t, expectedCookie(t, "b", cookie.Options{}, false), payload))
	if rec := do(b, "GET", "/", moved); rec.Body.String() != "Count: 1" {
		t.Errorf("cookie b opened cookie a's sealed payload: %q", rec.Body.String())
	}
}

// One error for callers to check: errors.Is(err, session.ErrTooLarge) holds
// whichever layer found the cookie too large, the storage's size check or
// cookie.Serialize, and cookie.ErrTooLarge too when it was the cookie's.
func TestOneErrTooLarge(t *testing.T) {
	// A long name that CookieName does not repeat: the storage must count
	// it all the same.
	longName := "__sess" + strings.Repeat("n", 300)
	newStorage := func(keys [][]byte) session.Storage {
		st, err := cookiestorage.New(cookiestorage.Options{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	tests := []struct {
		name       string
		storage    session.Storage
		valueLen   int
		wantCookie bool // cookie.ErrTooLarge too
	}{
		{"cookie.Serialize", &fakeStorage{Storage: newMemory(t, session.Options{}), saveValue: strings.Repeat("x", 3000)}, 10, true},
		{"signed cookie storage", newStorage(nil), 5000, false},
		{"sealed cookie storage", newStorage([][]byte{testKey}), 5000, false},
		// Small enough for the storage's old count, which left the name
		// out; too large once it is counted.
		{"signed, long name", newStorage(nil), 2800, false},
		{"sealed, long name", newStorage([][]byte{testKey}), 2800, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotErr error
			h := newMiddleware(t, newCookie(t, longName, cookie.Options{}), tt.storage, Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				gotErr = err
				w.WriteHeader(http.StatusInsufficientStorage)
			}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Set("big", strings.Repeat("y", tt.valueLen))
			}))
			rec := do(h, "GET", "/", "")
			if rec.Code != http.StatusInsufficientStorage {
				t.Fatalf("status %d, Set-Cookie %q", rec.Code, rec.Result().Header.Values("Set-Cookie"))
			}
			if !errors.Is(gotErr, session.ErrTooLarge) {
				t.Errorf("error %v does not wrap session.ErrTooLarge", gotErr)
			}
			if errors.Is(gotErr, cookie.ErrTooLarge) != tt.wantCookie {
				t.Errorf("error %v: errors.Is(err, cookie.ErrTooLarge) = %v, want %v", gotErr, !tt.wantCookie, tt.wantCookie)
			}
		})
	}
}

// Cookie storage measures the cookie exactly as the cookie will encode it,
// in every format: the largest session it accepts makes a cookie of at
// most 4096 bytes, less than one base64 quantum short of it, and one byte
// more is refused by the storage itself, before cookie.Serialize.
func TestCookieStorageSizeIsExact(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		opts cookie.Options
		keys [][]byte
	}{
		{"Native signed", cookie.Options{}, nil},
		{"Native sealed", cookie.Options{}, [][]byte{testKey}},
		{"Remix signed", cookie.Options{Format: cookie.Remix}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := cookiestorage.New(cookiestorage.Options{Keys: tc.keys, Session: session.ClientOptions{Now: func() time.Time { return now }}})
			if err != nil {
				t.Fatal(err)
			}
			var gotErr error
			n := 0
			h := newMiddleware(t, newCookie(t, "__sess", tc.opts), st, Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				gotErr = err
				w.WriteHeader(http.StatusInsufficientStorage)
			}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Set("v", strings.Repeat("y", n))
			}))
			try := func(size int) (pairLen int, err error) {
				n, gotErr = size, nil
				rec := do(h, "GET", "/", "")
				return len(pair(rec.Result().Header.Get("Set-Cookie"))), gotErr
			}
			lo, hi := 0, 4096 // lo fits, hi does not
			for hi-lo > 1 {
				if mid := (lo + hi) / 2; func() bool { _, err := try(mid); return err == nil }() {
					lo = mid
				} else {
					hi = mid
				}
			}
			pl, err := try(lo)
			if err != nil {
				t.Fatal(err)
			}
			// name=value is one byte longer than what the limit counts.
			if size := pl - 1; size > cookie.MaxSize || size <= cookie.MaxSize-4 {
				t.Errorf("the largest accepted session makes a %d-byte cookie, want %d-%d", size, cookie.MaxSize-3, cookie.MaxSize)
			}
			_, err = try(hi)
			if !errors.Is(err, session.ErrTooLarge) || errors.Is(err, cookie.ErrTooLarge) {
				t.Errorf("one byte more: error %v, want the storage's session.ErrTooLarge, not cookie.Serialize's", err)
			}
		})
	}
}
