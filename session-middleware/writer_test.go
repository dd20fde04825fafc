package sessionmiddleware

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// fullWriter is an underlying ResponseWriter with every optional method. It
// records each call with the Set-Cookie values present at that moment, so a
// test sees whether the session was saved before the headers went out.
type fullWriter struct {
	header http.Header
	events []string
	body   bytes.Buffer
}

func newFullWriter() *fullWriter { return &fullWriter{header: http.Header{}} }

func (f *fullWriter) record(call string) {
	f.events = append(f.events, fmt.Sprintf("%s %q", call, f.header.Values("Set-Cookie")))
}

func (f *fullWriter) Header() http.Header { return f.header }
func (f *fullWriter) WriteHeader(code int) {
	f.record(fmt.Sprintf("WriteHeader(%d)", code))
}
func (f *fullWriter) Write(p []byte) (int, error) {
	f.record("Write")
	return f.body.Write(p)
}
func (f *fullWriter) FlushError() error {
	f.record("FlushError")
	return nil
}
func (f *fullWriter) ReadFrom(r io.Reader) (int64, error) {
	f.record("ReadFrom")
	return f.body.ReadFrom(r)
}
func (f *fullWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	f.record("Hijack")
	c1, c2 := net.Pipe()
	c2.Close()
	return c1, bufio.NewReadWriter(bufio.NewReader(c1), bufio.NewWriter(c1)), nil
}
func (f *fullWriter) SetWriteDeadline(time.Time) error {
	f.record("SetWriteDeadline")
	return nil
}
func (f *fullWriter) SetReadDeadline(time.Time) error {
	f.record("SetReadDeadline")
	return nil
}
func (f *fullWriter) EnableFullDuplex() error {
	f.record("EnableFullDuplex")
	return nil
}

// plainWriter has only the three ResponseWriter methods.
type plainWriter struct{ f *fullWriter }

func (p plainWriter) Header() http.Header         { return p.f.Header() }
func (p plainWriter) WriteHeader(code int)        { p.f.WriteHeader(code) }
func (p plainWriter) Write(b []byte) (int, error) { return p.f.Write(b) }

// unwrapper is another middleware's wrapper: the three methods and Unwrap.
type unwrapper struct{ plainWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.f }

// serveWith runs handler behind the middleware on the underlying writer w.
func serveWith(t *testing.T, st session.Storage, w http.ResponseWriter, handler http.HandlerFunc) {
	t.Helper()
	c := newCookie(t, "__sess", cookie.Options{})
	newMiddleware(t, c, st, Options{})(handler).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
}

// TestSaveBeforeHeaders: whichever call commits the response first, the
// Set-Cookie line is already in the header map when it reaches the
// underlying writer.
func TestSaveBeforeHeaders(t *testing.T) {
	exp := expectedCookie(t, "__sess", cookie.Options{}, false)
	tests := []struct {
		name   string
		action func(t *testing.T, w http.ResponseWriter)
		first  string // the underlying call that commits
	}{
		{"WriteHeader", func(t *testing.T, w http.ResponseWriter) { w.WriteHeader(201) }, "WriteHeader(201)"},
		{"Write", func(t *testing.T, w http.ResponseWriter) { w.Write([]byte("a")) }, "Write"},
		{"Flush", func(t *testing.T, w http.ResponseWriter) { w.(http.Flusher).Flush() }, "FlushError"},
		{"ResponseController.Flush", func(t *testing.T, w http.ResponseWriter) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Error(err)
			}
		}, "FlushError"},
		{"ReadFrom", func(t *testing.T, w http.ResponseWriter) {
			w.(io.ReaderFrom).ReadFrom(strings.NewReader("abc"))
		}, "ReadFrom"},
		{"io.Copy", func(t *testing.T, w http.ResponseWriter) {
			io.Copy(w, struct{ io.Reader }{strings.NewReader("abc")})
		}, "ReadFrom"},
		{"Hijack", func(t *testing.T, w http.ResponseWriter) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Fatal(err)
			}
			conn.Close()
		}, "Hijack"},
		{"ResponseController.Hijack", func(t *testing.T, w http.ResponseWriter) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Fatal(err)
			}
			conn.Close()
		}, "Hijack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFullWriter()
			var id string
			serveWith(t, newMemory(t, session.Options{}), f, func(w http.ResponseWriter, r *http.Request) {
				s := session.FromContext(r.Context())
				s.Set("k", "v")
				id = s.ID()
				tt.action(t, w)
				// Later calls do not save again.
				w.Write([]byte("more"))
				w.(http.Flusher).Flush()
			})
			line := serialize(t, exp, id)
			if len(f.events) == 0 || f.events[0] != fmt.Sprintf("%s %q", tt.first, []string{line}) {
				t.Errorf("events %q, want first %s with the session cookie %q", f.events, tt.first, line)
			}
			if got := f.header.Values("Set-Cookie"); len(got) != 1 {
				t.Errorf("Set-Cookie = %q, want exactly one", got)
			}
		})
	}
}

// A handler that writes nothing: the session is saved after it returns, and
// its Set-Cookie is in the header map that net/http sends then.
func TestSaveAfterEmptyHandler(t *testing.T) {
	f := newFullWriter()
	var id string
	serveWith(t, newMemory(t, session.Options{}), f, func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Set("k", "v")
		id = s.ID()
	})
	if f.events != nil {
		t.Errorf("events %q, want none: the middleware must not write the status for the handler", f.events)
	}
	want := http.Header{
		"Set-Cookie":    {serialize(t, expectedCookie(t, "__sess", cookie.Options{}, false), id)},
		"Vary":          {"Cookie"},
		"Cache-Control": {`no-cache="Set-Cookie"`},
	}
	if !reflect.DeepEqual(f.header, want) {
		t.Errorf("header %q, want %q", f.header, want)
	}
}

// Informational responses (103 Early Hints) do not end the header phase:
// no save yet, so the handler may still change the session.
func TestInformationalStatusDoesNotSave(t *testing.T) {
	f := newFullWriter()
	var id string
	serveWith(t, newMemory(t, session.Options{}), f, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		s := session.FromContext(r.Context())
		s.Set("k", "v")
		id = s.ID()
		w.WriteHeader(200)
	})
	line := serialize(t, expectedCookie(t, "__sess", cookie.Options{}, false), id)
	want := []string{`WriteHeader(103) []`, fmt.Sprintf("WriteHeader(200) %q", []string{line})}
	if !reflect.DeepEqual(f.events, want) {
		t.Errorf("events %q, want %q", f.events, want)
	}
}

// Flush and Hijack on a writer that cannot do them report
// http.ErrNotSupported and save nothing; the session is saved at the next
// real write.
func TestUnsupportedFlushAndHijack(t *testing.T) {
	f := newFullWriter()
	st := &fakeStorage{Storage: newMemory(t, session.Options{})}
	serveWith(t, st, plainWriter{f}, func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("k", "v")
		w.(http.Flusher).Flush() // no-op, no panic
		if err := w.(interface{ FlushError() error }).FlushError(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("FlushError = %v, want http.ErrNotSupported", err)
		}
		if err := http.NewResponseController(w).Flush(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("ResponseController.Flush = %v, want http.ErrNotSupported", err)
		}
		if _, _, err := w.(http.Hijacker).Hijack(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("Hijack = %v, want http.ErrNotSupported", err)
		}
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now()); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("SetWriteDeadline = %v, want http.ErrNotSupported", err)
		}
		if n := st.saves.Load(); n != 0 {
			t.Errorf("%d saves before anything was sent", n)
		}
		w.Write([]byte("x"))
		if n := st.saves.Load(); n != 1 {
			t.Errorf("%d saves after Write, want 1", n)
		}
	})
	if len(f.events) != 1 || !strings.HasPrefix(f.events[0], `Write ["__sess=`) {
		t.Errorf("events %q", f.events)
	}
}

// http.ResponseController reaches the methods of writers below, through
// this wrapper and through other wrappers that Unwrap.
func TestResponseControllerThroughWrappers(t *testing.T) {
	for _, under := range []struct {
		name string
		w    func(f *fullWriter) http.ResponseWriter
	}{
		{"direct", func(f *fullWriter) http.ResponseWriter { return f }},
		{"behind another Unwrap wrapper", func(f *fullWriter) http.ResponseWriter { return unwrapper{plainWriter{f}} }},
	} {
		t.Run(under.name, func(t *testing.T) {
			f := newFullWriter()
			var inner http.ResponseWriter
			serveWith(t, newMemory(t, session.Options{}), under.w(f), func(w http.ResponseWriter, r *http.Request) {
				inner = w.(interface{ Unwrap() http.ResponseWriter }).Unwrap()
				rc := http.NewResponseController(w)
				for _, err := range []error{
					rc.SetReadDeadline(time.Now().Add(time.Second)),
					rc.SetWriteDeadline(time.Now().Add(time.Second)),
					rc.EnableFullDuplex(),
				} {
					if err != nil {
						t.Error(err)
					}
				}
				session.FromContext(r.Context()).Set("k", "v")
				if err := rc.Flush(); err != nil {
					t.Error(err)
				}
				// io.Copy through a wrapper without ReadFrom: no recursion.
				if n, err := io.Copy(w, struct{ io.Reader }{strings.NewReader("body")}); n != 4 || err != nil {
					t.Errorf("io.Copy = %d, %v", n, err)
				}
				conn, _, err := rc.Hijack()
				if err != nil {
					t.Fatal(err)
				}
				conn.Close()
			})
			if inner != under.w(f) {
				t.Errorf("Unwrap returned %T, want the underlying writer", inner)
			}
			var names []string
			for _, e := range f.events {
				name, _, _ := strings.Cut(e, " ")
				names = append(names, name)
			}
			wantWrite := "ReadFrom"
			if under.name != "direct" {
				wantWrite = "Write"
			}
			want := []string{"SetReadDeadline", "SetWriteDeadline", "EnableFullDuplex", "FlushError", wantWrite, "Hijack"}
			if !reflect.DeepEqual(names, want) {
				t.Errorf("calls %q, want %q", names, want)
			}
			if f.body.String() != "body" {
				t.Errorf("body %q", f.body.String())
			}
			if !strings.HasPrefix(f.events[3], `FlushError ["__sess=`) {
				t.Errorf("flush before the save: %q", f.events[3])
			}
		})
	}
}

// After a failed save the handler's response is discarded and its calls do
// not reach the underlying writer, except Flush, which flushes the error
// response; Hijack refuses with the save error.
func TestAfterFailedSave(t *testing.T) {
	errSave := errors.New("store down")
	f := newFullWriter()
	st := &fakeStorage{Storage: newMemory(t, session.Options{}), saveErr: errSave}
	serveWith(t, st, f, func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("k", "v")
		w.WriteHeader(200)
		w.WriteHeader(http.StatusEarlyHints)
		if n, err := w.Write([]byte("abc")); n != 3 || err != nil {
			t.Errorf("Write = %d, %v", n, err)
		}
		if n, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader("abcd")); n != 4 || err != nil {
			t.Errorf("ReadFrom = %d, %v", n, err)
		}
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush = %v", err)
		}
		if _, _, err := w.(http.Hijacker).Hijack(); !errors.Is(err, errSave) {
			t.Errorf("Hijack = %v, want the save error", err)
		}
	})
	want := []string{`WriteHeader(500) []`, `Write []`, `FlushError []`}
	if !reflect.DeepEqual(f.events, want) {
		t.Errorf("events %q, want %q", f.events, want)
	}
	if f.body.String() != "Internal Server Error\n" {
		t.Errorf("body %q", f.body.String())
	}
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		values []string
		token  string
		want   bool
	}{
		{nil, "Cookie", false},
		{[]string{"Cookie"}, "Cookie", true},
		{[]string{"accept-encoding,cookie"}, "Cookie", true},
		{[]string{"Accept", " Cookie "}, "Cookie", true},
		{[]string{"Cookies", "X-Cookie"}, "Cookie", false},
		{[]string{"max-age=0, NO-CACHE=\"SET-COOKIE\""}, `no-cache="Set-Cookie"`, true},
		{[]string{"no-cache"}, `no-cache="Set-Cookie"`, false},
		{[]string{",,"}, "Cookie", false},
	}
	for _, tt := range tests {
		if got := hasToken(tt.values, tt.token); got != tt.want {
			t.Errorf("hasToken(%q, %q) = %v, want %v", tt.values, tt.token, got, tt.want)
		}
	}
}
