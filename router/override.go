package router

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// methodOverrideField is the form field that MethodOverride reads.
const methodOverrideField = "_method"

// maxOverrideScan bounds how much of a request body MethodOverride reads
// while it looks for the _method field: a field past it is ignored.
const maxOverrideScan = 1 << 20

// MethodOverride is middleware that lets an HTML form, which can only GET and
// POST, reach PUT, PATCH and DELETE routes (such as [Resources] Update and
// Destroy), as @remix-run/method-override-middleware does: a POST request
// whose form body (application/x-www-form-urlencoded or multipart/form-data)
// has a _method field of PUT, PATCH or DELETE, in any letter case, is routed
// and handled as that method:
//
//	<form method="post" action="/posts/7">
//	  <input type="hidden" name="_method" value="DELETE">
//	  <button>Delete</button>
//	</form>
//
// Add it router-wide, with Use on the router returned by [New]: it must run
// before routing, which group and route middleware do not.
//
// Only POST is overridden, only from the form body (never from the query
// string or a header, so a link or a cross-site image cannot turn into a
// DELETE), only to PUT, PATCH or DELETE; any other value is ignored and the
// request stays a POST. The first _method field counts, the one that
// r.PostFormValue("_method") returns. The handler can still
// read the whole body (r.Body, r.ParseForm, r.FormValue, r.MultipartReader)
// exactly as the client sent it: MethodOverride reads at most the first
// 1 MiB while looking for the field (a _method field later in the body is
// ignored, so put the hidden input first in the form) and puts what it read
// back in front of the rest. A body that fails to read fails the same way for
// the handler.
//
// Since net/http parses urlencoded form bodies for POST, PUT and PATCH only,
// an overridden urlencoded request of at most 1 MiB also arrives with
// r.PostForm filled in, so that r.FormValue and r.PostFormValue work in a
// DELETE handler too (r.Body still holds the body). Multipart forms need no
// help: r.FormValue and r.ParseMultipartForm read them whatever the method.
//
// The handler gets a shallow copy of the request (new Method and Body), as
// with http.StripPrefix; requests that are not form POSTs pass through
// untouched and without allocations.
func MethodOverride(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == "POST" && req.Body != nil && req.Body != http.NoBody {
			req = overridden(req)
		}
		next.ServeHTTP(w, req)
	})
}

// overridden returns the request that MethodOverride passes on for a POST
// with a body: req itself unless the body is a form, else a copy whose body
// gives back what was read and whose method is the one the form asks for, if
// any.
func overridden(req *http.Request) *http.Request {
	ct := req.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	var o override
	switch {
	case strings.EqualFold(mt, "application/x-www-form-urlencoded"):
		o = overrideFromURLEncoded(req.Body)
	case strings.EqualFold(mt, "multipart/form-data"):
		o = overrideFromMultipart(req.Body, ct)
	default:
		return req
	}
	r2 := new(http.Request)
	*r2 = *req
	r2.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(o.read), req.Body), Closer: req.Body}
	if o.method != "" {
		r2.Method = o.method
	}
	if o.form != nil {
		r2.PostForm = o.form
	}
	return r2
}

// override is what MethodOverride found in a form body.
type override struct {
	method string     // the method the _method field asks for, or ""
	read   []byte     // the bytes read, given back to the handler
	form   url.Values // with method, the urlencoded form, when read is the whole body
}

// replayBody gives back the bytes MethodOverride read, then the rest of the
// original body, and closes the original.
type replayBody struct {
	io.Reader
	io.Closer
}

// overrideMethod returns the method that a _method value asks for, or "".
func overrideMethod(v string) string {
	for _, m := range [...]string{"PUT", "PATCH", "DELETE"} {
		if strings.EqualFold(v, m) {
			return m
		}
	}
	return ""
}

// overrideFromURLEncoded reads up to maxOverrideScan bytes of body and looks
// for the first complete _method pair that url.ParseQuery would accept, so
// that the override agrees with r.PostFormValue("_method").
func overrideFromURLEncoded(body io.Reader) override {
	read, err := io.ReadAll(io.LimitReader(body, maxOverrideScan))
	complete := err == nil && len(read) < maxOverrideScan
	o := override{read: read}
	rest := string(read)
	for rest != "" {
		pair, after, found := strings.Cut(rest, "&")
		if !found && !complete {
			break // the last pair may continue past what was read
		}
		rest = after
		if v, ok := methodField(pair); ok {
			o.method = overrideMethod(v)
			break
		}
	}
	if o.method != "" && complete {
		// net/http parses a form body for POST, PUT and PATCH only: give a
		// DELETE handler its form too.
		o.form, _ = url.ParseQuery(string(read))
	}
	return o
}

// methodField returns the value of a key=value pair whose key is _method,
// reporting false for any other pair and for one that url.ParseQuery skips.
func methodField(pair string) (string, bool) {
	if strings.Contains(pair, ";") {
		return "", false // as url.ParseQuery, which skips such pairs
	}
	k, v, _ := strings.Cut(pair, "=")
	if key, err := url.QueryUnescape(k); err != nil || key != methodOverrideField {
		return "", false
	}
	value, err := url.QueryUnescape(v)
	return value, err == nil
}

// overrideFromMultipart reads the body's parts, up to maxOverrideScan bytes in
// all, until the first _method field.
func overrideFromMultipart(body io.Reader, contentType string) override {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return override{}
	}
	var buf bytes.Buffer
	mr := multipart.NewReader(io.TeeReader(io.LimitReader(body, maxOverrideScan), &buf), params["boundary"])
	method := methodPart(mr)
	return override{method: method, read: buf.Bytes()}
}

// methodPart returns the method that the first _method field of a multipart
// form asks for, or "" when there is none, it asks for another method, or the
// body fails to read before it.
func methodPart(mr *multipart.Reader) string {
	for {
		part, err := mr.NextPart()
		if err != nil {
			return ""
		}
		if part.FormName() != methodOverrideField || part.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 16))
		if err != nil {
			return ""
		}
		return overrideMethod(string(v))
	}
}
