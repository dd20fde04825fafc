package sessiontest

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The suite's checks, in the manner of an assertion library, which this
// package cannot import: a storage module that runs the suite must need
// nothing but the standard library. A check reports a failure with t.Errorf
// and returns whether it held, so that the scenario goes on and reports
// every difference; require, must and mustEqual stop the scenario with
// t.Fatalf instead, for what the rest of it cannot do without. Each calls
// t.Helper, so that a failure names the scenario's line; only on a failure,
// since the stress runs check from many goroutines and t.Helper locks.

// check reports the failure that format describes unless ok.
func check(t testing.TB, ok bool, format string, args ...any) bool {
	if !ok {
		t.Helper()
		t.Errorf(format, args...)
	}
	return ok
}

// require stops the test with the failure that format describes unless ok.
func require(t testing.TB, ok bool, format string, args ...any) {
	if !ok {
		t.Helper()
		t.Fatalf(format, args...)
	}
}

// equal reports got unless it is want; what names the value.
func equal[T comparable](t testing.TB, what string, got, want T) bool {
	if got == want {
		return true
	}
	t.Helper()
	t.Error(differs(what, got, want))
	return false
}

// mustEqual stops the test unless got is want; what names the value.
func mustEqual[T comparable](t testing.TB, what string, got, want T) {
	if got != want {
		t.Helper()
		t.Fatal(differs(what, got, want))
	}
}

// deepEqual reports got unless it is reflect.DeepEqual to want.
func deepEqual(t testing.TB, what string, got, want any) bool {
	if reflect.DeepEqual(got, want) {
		return true
	}
	t.Helper()
	t.Errorf("%s = %#v, want %#v", what, got, want)
	return false
}

// sameTime reports got unless it is the instant want.
func sameTime(t testing.TB, what string, got, want time.Time) bool {
	if got.Equal(want) {
		return true
	}
	t.Helper()
	t.Errorf("%s = %v, want %v", what, got, want)
	return false
}

// must stops the test when err is not nil; what names the call that failed.
func must(t testing.TB, what string, err error) {
	if err != nil {
		t.Helper()
		t.Fatalf("%s: %v", what, err)
	}
}

// noError reports err unless it is nil; what names the call that failed.
func noError(t testing.TB, what string, err error) bool {
	if err == nil {
		return true
	}
	t.Helper()
	t.Errorf("%s: %v", what, err)
	return false
}

// isError reports err unless it is target or wraps it.
func isError(t testing.TB, what string, err, target error) bool {
	if errors.Is(err, target) {
		return true
	}
	t.Helper()
	t.Errorf("%s = %v, want %v", what, err, target)
	return false
}

// differs is the message of a failed equal: the two values, with their
// types when they print alike (a float64 1 loaded against an int 1 set).
func differs(what string, got, want any) string {
	g, w := show(got), show(want)
	if g == w {
		return fmt.Sprintf("%s = %s (%T), want %s (%T)", what, g, got, w, want)
	}
	return fmt.Sprintf("%s = %s, want %s", what, g, w)
}

// show formats a checked value: a string quoted, and cut short, since a
// cookie storage's cookie value runs to kilobytes.
func show(v any) string {
	const limit = 60
	switch v := v.(type) {
	case string:
		if len(v) > limit {
			return strconv.Quote(v[:limit]) + fmt.Sprintf("… (%d bytes)", len(v))
		}
		return strconv.Quote(v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprintf("%+v", v)
}

// result is what a Save or a Request returned: the cookie value, and
// whether a Set-Cookie went out.
type result struct {
	value string
	set   bool
}

// saved is the result of a Save or Request that returned value and set.
func saved(value string, set bool) result { return result{value, set} }

func (r result) String() string { return fmt.Sprintf("(%s, %v)", show(r.value), r.set) }

var (
	// expired is a Save that expires the cookie (a destroyed session).
	expired = result{"", true}
	// unsent is a Save that sends no Set-Cookie.
	unsent = result{"", false}
)

// wantValue checks that session.Value[T] gives want for key.
func wantValue[T comparable](t testing.TB, s *session.Session, key string, want T) bool {
	got, ok := session.Value[T](s, key)
	if ok && got == want {
		return true
	}
	t.Helper()
	t.Errorf("Value[%T](%q) = %v, %v; want %v, true", want, key, got, ok, want)
	return false
}

// holds checks that s holds want's values, among others; what names s.
func holds(t testing.TB, what string, s *session.Session, want map[string]any) bool {
	for k, w := range want {
		if !reflect.DeepEqual(s.Get(k), w) {
			t.Helper()
			t.Errorf("%s holds %v, want %v among its values", what, s.Data(), want)
			return false
		}
	}
	return true
}
