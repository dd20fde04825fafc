package sessionmiddleware

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// A request whose handler never asks for its session costs no storage
// call and carries no session header (no Set-Cookie, no Vary: its response
// does not depend on the session), whether it carries a session cookie, an
// old one, or none; a handler that asks loads it once, however often it
// asks, and behaves as before.
func TestLazyLoad(t *testing.T) {
	rs := newRecordingStorage(t, newMemory(t, session.Options{Logger: quiet}))
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), rs, Options{})
	ck, _ := newSession(t, mw, 1)
	untouched := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Write([]byte("body{}"))
	}))
	for _, cookieHeader := range []string{ck, "", "__sess=forged.value"} {
		rs.take()
		rec := do(untouched, "GET", "/app.css", cookieHeader)
		if got := rs.take(); len(got) != 0 {
			t.Errorf("cookie %q: storage calls %q, want none", cookieHeader, got)
		}
		h := rec.Result().Header
		if rec.Code != 200 || h.Get("Set-Cookie") != "" || h.Get("Vary") != "" || h.Get("Cache-Control") != "" {
			t.Errorf("cookie %q: %d, headers %q; want 200 with no session headers", cookieHeader, rec.Code, h)
		}
	}
	twice := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := session.Value[int](session.FromContext(r.Context()), "count")
		session.FromContext(r.Context()).Set("count", n+1)
		s, err := session.Load(r.Context())
		if err != nil || s != session.FromContext(r.Context()) {
			t.Errorf("Load = %p, %v; want the same session", s, err)
		}
	}))
	rs.take()
	rec := do(twice, "GET", "/", ck)
	if got, want := rs.take(), []string{"read", "save"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a handler that asks three times: storage calls %q, want %q", got, want)
	}
	if rec.Result().Header.Get("Set-Cookie") == "" || rec.Result().Header.Get("Vary") != "Cookie" {
		t.Errorf("headers %q, want the session's", rec.Result().Header)
	}
}

// Goroutines of one request that ask for the session at once get the one
// session, loaded once.
func TestLazyLoadConcurrent(t *testing.T) {
	rs := newRecordingStorage(t, newMemory(t, session.Options{Logger: quiet}))
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), rs, Options{})
	ck, _ := newSession(t, mw, 1)
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		got := make([]*session.Session, 8)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = session.FromContext(r.Context())
			}()
		}
		wg.Wait()
		for _, s := range got {
			if s != got[0] || s == nil {
				t.Error("the goroutines got different sessions")
			}
		}
	}))
	rs.take()
	do(h, "GET", "/", ck)
	// The save of an unchanged session writes nothing (the storage's
	// call is a no-op).
	if got, want := rs.take(), []string{"read", "save"}; !reflect.DeepEqual(got, want) {
		t.Errorf("storage calls %q, want %q", got, want)
	}
}

// session.Load hands the handler the storage's error instead of a panic:
// the handler answers as it likes, and the middleware saves nothing.
func TestLazyLoadError(t *testing.T) {
	errDown := errors.New("store down")
	st := &fakeStorage{Storage: newMemory(t, session.Options{}), readErr: errDown}
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{Logger: quiet})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := session.Load(r.Context())
		if s != nil || !errors.Is(err, errDown) {
			t.Errorf("Load = %v, %v; want the storage's error", s, err)
		}
		http.Error(w, "no session today", http.StatusTeapot)
	}))
	rec := do(h, "GET", "/", "")
	if rec.Code != http.StatusTeapot || rec.Result().Header.Get("Set-Cookie") != "" || st.saves.Load() != 0 {
		t.Errorf("%d %q, %d saves; want the handler's answer, no cookie, no save", rec.Code, rec.Result().Header, st.saves.Load())
	}
}

// A handler that started its response before it asked for a session that
// then fails to load cannot be answered with the error any more: the
// response is cut short (http.ErrAbortHandler), and logged.
func TestLazyLoadErrorAfterTheResponseStarted(t *testing.T) {
	st := &fakeStorage{Storage: newMemory(t, session.Options{}), readErr: errors.New("store down")}
	logger, logs := newLogger()
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{Logger: logger})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>"))
		session.FromContext(r.Context())
		t.Error("the handler got past session.FromContext")
	}))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("panic %v, want http.ErrAbortHandler", p)
		}
		if !strings.Contains(logs.String(), `msg="sessionmiddleware: reading the session failed after the response was started; the response is cut short"`) {
			t.Errorf("log %q", logs.String())
		}
	}()
	do(h, "GET", "/", "")
}

// A panic of the handler's own goes through the middleware as it was.
func TestLazyLoadOtherPanics(t *testing.T) {
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), newMemory(t, session.Options{}), Options{})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("x", 1)
		panic("handler bug")
	}))
	defer func() {
		if p := recover(); p != "handler bug" {
			t.Errorf("panic %v, want the handler's", p)
		}
	}()
	do(h, "GET", "/", "")
}
