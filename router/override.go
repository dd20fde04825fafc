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
		if req.Method != "POST" || req.Body == nil || req.Body == http.NoBody {
			next.ServeHTTP(w, req)
			return
		}
		ct := req.Header.Get("Content-Type")
		mt, _, _ := strings.Cut(ct, ";")
		mt = strings.TrimSpace(mt)
		var method string
		var read []byte
		var form url.Values
		switch {
		case strings.EqualFold(mt, "application/x-www-form-urlencoded"):
			var complete bool
			method, read, complete = overrideFromURLEncoded(req.Body)
			if method != "" && complete {
				// net/http parses a form body for POST, PUT and PATCH only:
				// give a DELETE handler its form too.
				form, _ = url.ParseQuery(string(read))
			}
		case strings.EqualFold(mt, "multipart/form-data"):
			method, read = overrideFromMultipart(req.Body, ct)
		default:
			next.ServeHTTP(w, req)
			return
		}
		r2 := new(http.Request)
		*r2 = *req
		r2.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(read), req.Body), Closer: req.Body}
		if method != "" {
			r2.Method = method
			if form != nil {
				r2.PostForm = form
			}
		}
		next.ServeHTTP(w, r2)
	})
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
// that the override agrees with r.PostFormValue("_method"). It returns the
// method ("" for none), the bytes it read, and whether that is the whole body.
func overrideFromURLEncoded(body io.Reader) (method string, read []byte, complete bool) {
	read, err := io.ReadAll(io.LimitReader(body, maxOverrideScan))
	complete = err == nil && len(read) < maxOverrideScan
	rest := string(read)
	for rest != "" {
		pair, after, found := strings.Cut(rest, "&")
		if !found && !complete {
			break // the last pair may continue past what was read
		}
		rest = after
		if strings.Contains(pair, ";") {
			continue // as url.ParseQuery, which skips such pairs
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil || key != methodOverrideField {
			continue
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		return overrideMethod(value), read, complete
	}
	return "", read, complete
}

// overrideFromMultipart reads the body's parts, up to maxOverrideScan bytes in
// all, until the first _method field. It returns the method ("" for none) and
// the bytes it read.
func overrideFromMultipart(body io.Reader, contentType string) (string, []byte) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return "", nil
	}
	var buf bytes.Buffer
	mr := multipart.NewReader(io.TeeReader(io.LimitReader(body, maxOverrideScan), &buf), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return "", buf.Bytes()
		}
		if part.FormName() != methodOverrideField || part.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 16))
		if err != nil {
			return "", buf.Bytes()
		}
		return overrideMethod(string(v)), buf.Bytes()
	}
}
