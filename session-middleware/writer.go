package sessionmiddleware

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/sessionkit/sessionkit/session"
)

// writerState is where a response stands, as the session sees it.
type writerState uint8

const (
	// statePending: nothing sent yet; the session is saved at the next
	// call that commits the headers, or when the handler returns.
	statePending writerState = iota
	// stateSent: the session was saved (or had nothing to save) and the
	// handler's response goes through.
	stateSent
	// stateFailed: saving failed and the error response was written; the
	// handler's writes are discarded.
	stateFailed
	// stateSkipped: Exclusive answered instead of the handler (a lock
	// timeout, an error); the session is not saved and writes go through.
	stateSkipped
)

// responseWriter is the http.ResponseWriter that handlers behind the
// middleware get, and the middleware's state of the request (Exclusive finds
// it in the request's context). It is the only allocation the middleware
// makes per request beyond the request's new context, so it also holds that
// context's state part and the backing array for the header values it adds.
type responseWriter struct {
	w http.ResponseWriter
	m *middleware
	// r and s are the request and its session; Exclusive replaces both
	// when it reads the session again under the session's lock.
	r     *http.Request
	s     *session.Session
	state writerState
	// destroyedAtSave is s.Destroyed() when it was saved, so that a Destroy
	// after the headers went out is reported as lost. (Next to state, so
	// that the two share a word.)
	destroyedAtSave bool
	// in is the session value the request carried (the cookie or the
	// token), to send again when an older secret signed it.
	in incoming
	// saveErr is why saving failed, in stateFailed.
	saveErr error
	// outerCookies are the Set-Cookie lines present before the handler ran
	// (set by middleware outside): a failed save keeps them and drops the
	// handler's.
	outerCookies []string
	// vals backs the Set-Cookie (or token), Vary and Cache-Control values
	// when the handler set none, saving three allocations.
	vals [3]string
	// ctx is the part of the request's context that carries rw.
	ctx stateContext
	// release frees the session's lock that Exclusive took; save calls it
	// (nil: no lock is held).
	release func()
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
	_ http.Hijacker       = (*responseWriter)(nil)
	_ io.ReaderFrom       = (*responseWriter)(nil)
)

// Header returns the underlying writer's header map.
func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

// WriteHeader saves the session, then sends the status. Informational
// statuses (1xx other than 101) do not end the header phase and pass through
// without a save. After a failed save it does nothing.
func (rw *responseWriter) WriteHeader(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		if rw.state != stateFailed {
			rw.w.WriteHeader(code)
		}
		return
	}
	if rw.state == statePending {
		rw.save()
	}
	if rw.state == stateFailed {
		return
	}
	rw.w.WriteHeader(code)
}

// Write saves the session, then writes p. After a failed save it discards p
// and reports it as written, so the handler runs to its end undisturbed.
func (rw *responseWriter) Write(p []byte) (int, error) {
	if rw.state == statePending {
		rw.save()
	}
	if rw.state == stateFailed {
		return len(p), nil
	}
	return rw.w.Write(p)
}

// ReadFrom saves the session, then copies src, with the underlying writer's
// ReadFrom (sendfile for a net/http connection) when it has one.
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if rw.state == statePending {
		rw.save()
	}
	if rw.state == stateFailed {
		return io.Copy(io.Discard, src)
	}
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	// Hide our own ReadFrom from io.Copy, which would call it again.
	return io.Copy(writerOnly{rw.w}, src)
}

type writerOnly struct{ io.Writer }

// Flush saves the session and flushes the response, like FlushError,
// ignoring the error.
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError saves the session, then flushes the buffered response to the
// client; http.ResponseController.Flush calls it. When no writer below can
// flush, it returns an error wrapping http.ErrNotSupported and saves
// nothing, since nothing was sent.
func (rw *responseWriter) FlushError() error {
	flush := flusher(rw.w)
	if flush == nil {
		return fmt.Errorf("sessionmiddleware: flush: %w", http.ErrNotSupported)
	}
	if rw.state == statePending {
		rw.save()
	}
	// After a failed save this flushes the error response.
	return flush()
}

// Hijack saves the session, then hands the connection to the handler. The
// Set-Cookie line, if any, stays in Header(): a handler that writes its own
// response on the connection may copy it. After a failed save, or when no
// writer below can hijack, it returns an error; in the second case it saves
// nothing.
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h := hijacker(rw.w)
	if h == nil {
		return nil, nil, fmt.Errorf("sessionmiddleware: hijack: %w", http.ErrNotSupported)
	}
	if rw.state == statePending {
		rw.save()
	}
	if rw.state == stateFailed {
		return nil, nil, fmt.Errorf("sessionmiddleware: hijack after the session could not be saved: %w", rw.saveErr)
	}
	return h.Hijack()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// save saves the session and adds its headers, or writes the error response.
// It runs once, just before the headers are committed.
func (rw *responseWriter) save() {
	m := rw.m
	rw.destroyedAtSave = rw.s.Destroyed()
	// Asked before Save, whose own reads of the session do not count.
	accessed := rw.s.Accessed()
	line, send, err := m.saveSession(rw.r.Context(), rw.s, rw.in)
	// Saved or not, the session's lock (Exclusive) is no longer needed:
	// nothing this request does from now on reaches the store.
	rw.unlock()
	if err != nil {
		rw.state = stateFailed
		rw.saveErr = err
		m.logger.ErrorContext(rw.r.Context(), "sessionmiddleware: saving the session failed; the response is replaced by the error response",
			"cookie", m.name, "error", err)
		h := rw.w.Header()
		clearBodyHeaders(h)
		// The handler's cookies (a remember-me cookie, say) must not go
		// out with a response that says the request failed.
		if len(rw.outerCookies) > 0 {
			h["Set-Cookie"] = rw.outerCookies
		} else {
			delete(h, "Set-Cookie")
		}
		m.fail(rw.w, rw.r, err)
		return
	}
	rw.state = stateSent
	h := rw.w.Header()
	if !send {
		// A response to a request with a session, or whose handler read
		// the session, may show it (a name, a flash message) even when it
		// sends no cookie: shared caches must key it on the cookie (Flask
		// CVE-2023-30861), or the token.
		if rw.in.varies || accessed {
			rw.addVary(h)
		}
		return
	}
	if m.replaceOut {
		delete(h, m.out)
	}
	rw.add(h, 0, m.out, line)
	rw.addVary(h)
	if cc := h["Cache-Control"]; len(cc) == 0 {
		rw.add(h, 2, "Cache-Control", m.noCache)
	} else {
		h["Cache-Control"] = privateCacheControl(cc, m.noCache)
	}
}

// unlock frees the session's lock that Exclusive took, once; it does
// nothing when no lock is held.
func (rw *responseWriter) unlock() {
	if release := rw.release; release != nil {
		rw.release = nil
		release()
	}
}

// privateCacheControl returns the handler's Cache-Control values for a
// response that sets the session cookie (or token), as a new slice (cc may
// be shared with other requests, so it is never written): "public" becomes
// "private" and "private" is added when "s-maxage" would let a shared cache
// store the response, so that no shared cache keeps it (max-age and the
// rest stay, for the browser's own cache); noCache (`no-cache="Set-Cookie"`)
// is appended unless listed.
func privateCacheControl(cc []string, noCache string) []string {
	var public, private, shared bool
	for _, v := range cc {
		for rest := v; rest != ""; {
			var d string
			d, rest = nextItem(rest)
			name, _, hasArg := strings.Cut(d, "=")
			switch {
			case strings.EqualFold(name, "public"):
				public = true
			case strings.EqualFold(name, "s-maxage"):
				shared = true
			case strings.EqualFold(name, "private") && !hasArg:
				// private="Set-Cookie" restricts one field only.
				private = true
			}
		}
	}
	out := make([]string, len(cc), len(cc)+1)
	copy(out, cc)
	if public {
		// The first public becomes private (unless private is there);
		// later ones go.
		replacement := "private"
		if private {
			replacement = ""
		}
		for i, v := range out {
			if !hasToken([]string{v}, "public") {
				continue
			}
			var items []string
			for rest := v; rest != ""; {
				var d string
				d, rest = nextItem(rest)
				switch {
				case d == "":
				case strings.EqualFold(d, "public"):
					if replacement != "" {
						items = append(items, replacement)
						replacement = ""
					}
				default:
					items = append(items, d)
				}
			}
			out[i] = strings.Join(items, ", ")
		}
		out = slices.DeleteFunc(out, func(v string) bool { return v == "" })
	} else if shared && !private {
		out[0] = "private, " + out[0]
	}
	if !hasToken(out, noCache) {
		if len(out) == 0 || openQuote(out[len(out)-1]) {
			// An unterminated quoted string would swallow the directive.
			return append(out, noCache)
		}
		out[len(out)-1] += ", " + noCache
	}
	return out
}

// openQuote reports whether v ends inside a quoted string.
func openQuote(v string) bool {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		}
	}
	return quoted
}

// addVary adds the request header that carries the session ("Cookie") to
// the Vary header unless it is listed (or "*").
func (rw *responseWriter) addVary(h http.Header) {
	if v := h["Vary"]; !hasToken(v, rw.m.vary) && !hasToken(v, "*") {
		rw.add(h, 1, "Vary", rw.m.vary)
	}
}

// noCacheSetCookie tells shared caches that they may keep the response but
// must not hand its Set-Cookie to anyone else (RFC 9111 §5.2.2.4).
const noCacheSetCookie = `no-cache="Set-Cookie"`

// add appends v to h[key] (key in canonical form), using rw.vals[i] as the
// backing array when h has no value for key yet. It never writes into the
// handler's slice, which may be shared with other requests.
func (rw *responseWriter) add(h http.Header, i int, key, v string) {
	if old := h[key]; len(old) > 0 {
		h[key] = append(slices.Clip(old), v)
		return
	}
	rw.vals[i] = v
	h[key] = rw.vals[i : i+1 : i+1]
}

// hasToken reports whether a comma-separated header (Vary, Cache-Control)
// lists token, ignoring case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var item string
			item, v = nextItem(v)
			if strings.EqualFold(item, token) {
				return true
			}
		}
	}
	return false
}

// nextItem splits the first item off a comma-separated header value,
// trimmed of spaces and tabs. A comma inside a quoted string (no-cache="a,
// b") does not end an item.
func nextItem(v string) (item, rest string) {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return strings.Trim(v[:i], " \t"), v[i+1:]
		}
	}
	return strings.Trim(v, " \t"), ""
}

// bodyHeaders describe a handler's response, not the error response that
// replaces it after a failed save. Content-Encoding stays, as http.Error
// keeps it: a compressing middleware outside sets it and compresses whatever
// is written, the error response too (go.dev/issue/66343).
var bodyHeaders = []string{
	"Content-Disposition",
	"Content-Language",
	"Content-Length",
	"Content-Location",
	"Content-Range",
	"Content-Type",
	"Etag",
	"Last-Modified",
	"Location",
	"Refresh",
}

func clearBodyHeaders(h http.Header) {
	for _, k := range bodyHeaders {
		delete(h, k)
	}
}

// flusher returns how to flush w, or a writer it unwraps to, the way
// http.ResponseController looks; nil when nothing below can flush.
func flusher(w http.ResponseWriter) func() error {
	for {
		switch t := w.(type) {
		case interface{ FlushError() error }:
			return t.FlushError
		case http.Flusher:
			return func() error { t.Flush(); return nil }
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// hijacker returns w, or the writer it unwraps to, that can hijack; nil when
// there is none.
func hijacker(w http.ResponseWriter) http.Hijacker {
	for {
		switch t := w.(type) {
		case http.Hijacker:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}
