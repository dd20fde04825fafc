package sessionmiddleware

import (
	"bufio"
	"errors"
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
	// r and s are the request and its session (nil until a handler asks
	// for it: pending); Exclusive replaces both when it reads the session
	// again under the session's lock.
	r       *http.Request
	s       *session.Session
	pending session.Pending
	state   writerState
	// destroyedAtSave is s's State().Destroyed when it was saved, so that
	// a Destroy after the headers went out is reported as lost. (Next to
	// state, so that the two share a word.)
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
	// when the handler set none, so that adding them allocates nothing
	// beyond rw itself.
	vals [3]string
	// ctx is the part of the request's context that carries rw.
	ctx stateContext
	// release frees the session's lock that Exclusive took; save calls it
	// (nil: no lock is held).
	release func()
	// bc is the context of the request's last storage call (nil before
	// the first): one of bcBuf while a call has not kept it.
	bc    *boundContext
	bcBuf [2]boundContext
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
	_ http.Hijacker       = (*responseWriter)(nil)
	_ io.ReaderFrom       = (*responseWriter)(nil)
)

// Header returns the underlying writer's header map.
func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

// commit saves the session, unless that was done, just before the handler's
// response starts; every call that commits the headers goes through it. It
// reports whether the handler's response goes through: false after a failed
// save, whose error response replaced it.
func (rw *responseWriter) commit() bool {
	if rw.state == statePending {
		rw.save()
	}
	return rw.state != stateFailed
}

// WriteHeader saves the session, then sends the status. Informational
// statuses (1xx other than 101) do not end the header phase and pass through
// without a save. After a failed save it does nothing.
func (rw *responseWriter) WriteHeader(code int) {
	if informational(code) {
		if rw.state != stateFailed {
			rw.w.WriteHeader(code)
		}
		return
	}
	if rw.commit() {
		rw.w.WriteHeader(code)
	}
}

// informational reports whether code is a 1xx status that precedes the
// response (103 Early Hints, say) rather than starting it, as 101 Switching
// Protocols does.
func informational(code int) bool {
	return code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols
}

// Write saves the session, then writes p. After a failed save it discards p
// and reports it as written, so the handler runs to its end undisturbed.
func (rw *responseWriter) Write(p []byte) (int, error) {
	if !rw.commit() {
		return len(p), nil
	}
	return rw.w.Write(p)
}

// ReadFrom saves the session, then copies src, with the underlying writer's
// ReadFrom (sendfile for a net/http connection) when it has one.
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !rw.commit() {
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
	// After a failed save this flushes the error response.
	rw.commit()
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
	if !rw.commit() {
		return nil, nil, fmt.Errorf("sessionmiddleware: hijack after the session could not be saved: %w", rw.saveErr)
	}
	return h.Hijack()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// finish runs when the handler has returned: it saves a session that
// nothing saved yet, and warns about a change made after the save, which
// cannot reach the client.
func (rw *responseWriter) finish() {
	switch rw.state {
	case statePending:
		rw.save()
	case stateSent:
		if rw.changedAfterSave() {
			rw.m.logger.WarnContext(rw.r.Context(), "sessionmiddleware: the session changed after the response headers were sent; the change is lost (change the session before writing the response)",
				"cookie", rw.m.name, "method", rw.r.Method, "path", rw.r.URL.Path)
		}
	}
}

// changedAfterSave reports whether the session was changed or destroyed
// after it was saved. It asks rw.s, not the session the middleware read:
// Exclusive may have replaced it.
func (rw *responseWriter) changedAfterSave() bool {
	if rw.s == nil {
		return false
	}
	st := rw.s.State()
	return st.Dirty || st.Destroyed && !rw.destroyedAtSave
}

// save saves the session and adds its headers, or writes the error response.
// It runs once, just before the headers are committed.
func (rw *responseWriter) save() {
	if rw.s == nil {
		// No handler asked for the session: nothing to save, and the
		// response does not depend on it.
		rw.state = stateSent
		rw.unlock()
		return
	}
	// Asked before Save, whose own reads of the session do not count as
	// Accessed.
	st := rw.s.State()
	rw.destroyedAtSave = st.Destroyed
	line, send, err := rw.m.saveSession(rw.r.Context(), rw, rw.s, rw.in)
	// Saved or not, the session's lock (Exclusive) is no longer needed:
	// nothing this request does from now on reaches the store.
	rw.unlock()
	if err != nil {
		rw.saveFailed(err)
		return
	}
	rw.state = stateSent
	if send {
		rw.addSessionHeaders(line)
	} else if rw.in.varies || st.Accessed {
		// A response to a request with a session, or whose handler read
		// the session, may show it (a name, a flash message) even when it
		// sends no cookie: shared caches must key it on the cookie (Flask
		// CVE-2023-30861), or the token.
		rw.addVary(rw.w.Header())
	}
}

// loadFailed answers a request whose session a handler asked for and could
// not be loaded (serveHandler), as a failed read: the handler's headers are
// dropped as after a failed save. When the handler had already started its
// response, there is nothing left to answer with: the connection is
// aborted, so that the client sees a broken response, not a complete-
// looking one without what the session would have shown.
func (rw *responseWriter) loadFailed(err error) {
	if rw.state != statePending {
		rw.m.logger.ErrorContext(rw.r.Context(), "sessionmiddleware: reading the session failed after the response was started; the response is cut short",
			"cookie", rw.m.name, "error", err)
		panic(http.ErrAbortHandler)
	}
	rw.state = stateFailed
	rw.saveErr = err
	rw.unlock()
	rw.dropHandlerHeaders()
	rw.m.readFailed(rw.w, rw.r, err, storageRetryAfter)
}

// dropHandlerHeaders clears the headers of the handler's response that a
// failed request must not send: its body headers and its cookies (a
// remember-me cookie, say), keeping those set outside the middleware.
func (rw *responseWriter) dropHandlerHeaders() {
	h := rw.w.Header()
	clearBodyHeaders(h)
	if len(rw.outerCookies) > 0 {
		h["Set-Cookie"] = rw.outerCookies
	} else {
		delete(h, "Set-Cookie")
	}
}

// saveFailed replaces the handler's response with the error response, or
// with 503 and Retry-After when the storage did not answer in time.
func (rw *responseWriter) saveFailed(err error) {
	m := rw.m
	rw.state = stateFailed
	rw.saveErr = err
	ctx := rw.r.Context()
	timeout := timedOut(err)
	switch {
	case timeout:
		m.logger.WarnContext(ctx, "sessionmiddleware: the session storage did not answer the save in time; the response is replaced by 503 Service Unavailable",
			"cookie", m.name, "method", rw.r.Method, "path", rw.r.URL.Path, "error", err)
	case errors.Is(err, session.ErrUserLimit):
		// A policy at work (session.LimitRefuse), not a failure.
		m.logger.WarnContext(ctx, "sessionmiddleware: the sign-in was refused: the user has as many sessions as MaxUserSessions allows; the response is replaced by the error response",
			"cookie", m.name, "method", rw.r.Method, "path", rw.r.URL.Path, "error", err)
	default:
		m.logger.ErrorContext(ctx, "sessionmiddleware: saving the session failed; the response is replaced by the error response",
			"cookie", m.name, "error", err)
	}
	// The handler's cookies (a remember-me cookie, say) must not go out
	// with a response that says the request failed.
	rw.dropHandlerHeaders()
	if timeout {
		unavailable(rw.w, storageRetryAfter)
		return
	}
	m.fail(rw.w, rw.r, err)
}

// addSessionHeaders adds the header line that hands the client its session
// value, with the Vary and Cache-Control that keep shared caches from
// handing it to anyone else.
func (rw *responseWriter) addSessionHeaders(line string) {
	m := rw.m
	h := rw.w.Header()
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
		rw.m.releaseLock(rw, release)
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
	out := make([]string, len(cc), len(cc)+1)
	copy(out, cc)
	switch scope := sharing(cc); {
	case scope.public:
		out = replacePublic(out, !scope.private)
	case scope.sMaxAge && !scope.private:
		out[0] = "private, " + out[0]
	}
	return appendDirective(out, noCache)
}

// cacheScope is what a Cache-Control header says about shared caches.
type cacheScope struct {
	public  bool // "public": any cache may store the response
	sMaxAge bool // "s-maxage": so may shared caches, even for an authenticated request
	private bool // "private": only the browser may
}

// sharing reads the directives of cc that decide whether a shared cache may
// store the response.
func sharing(cc []string) cacheScope {
	var scope cacheScope
	for _, v := range cc {
		for v != "" {
			var d string
			d, v = nextItem(v)
			scope.note(d)
		}
	}
	return scope
}

// note records what directive d says about shared caches.
func (scope *cacheScope) note(d string) {
	name, _, hasArg := strings.Cut(d, "=")
	switch {
	case strings.EqualFold(name, "public"):
		scope.public = true
	case strings.EqualFold(name, "s-maxage"):
		scope.sMaxAge = true
	case strings.EqualFold(name, "private") && !hasArg:
		// private="Set-Cookie" restricts one field only.
		scope.private = true
	}
}

// replacePublic removes every "public" from values, writing in place,
// putting "private" where the first one was when addPrivate is set, and
// drops the values left empty.
func replacePublic(values []string, addPrivate bool) []string {
	replacement := ""
	if addPrivate {
		replacement = "private"
	}
	for i, v := range values {
		if hasToken(values[i:i+1], "public") {
			values[i], replacement = withoutPublic(v, replacement)
		}
	}
	return slices.DeleteFunc(values, func(v string) bool { return v == "" })
}

// withoutPublic returns the directives of one Cache-Control value without
// "public", and without empty items. The first "public" becomes
// replacement unless that is "", and what is left of replacement is
// returned: "" once used.
func withoutPublic(v, replacement string) (string, string) {
	var items []string
	for v != "" {
		var d string
		d, v = nextItem(v)
		switch {
		case d == "":
		case !strings.EqualFold(d, "public"):
			items = append(items, d)
		case replacement != "":
			items = append(items, replacement)
			replacement = ""
		}
	}
	return strings.Join(items, ", "), replacement
}

// appendDirective adds directive d to the last of values, or as a value of
// its own, unless values list it.
func appendDirective(values []string, d string) []string {
	if hasToken(values, d) {
		return values
	}
	if len(values) == 0 || openQuote(values[len(values)-1]) {
		// An unterminated quoted string would swallow the directive.
		return append(values, d)
	}
	values[len(values)-1] += ", " + d
	return values
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
