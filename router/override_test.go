package router_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sessionkit/sessionkit/router"
)

// overrideRouter routes every method of /posts/{id} to a handler that reports
// the method it saw and the body it could still read.
func overrideRouter() *router.Router {
	r := router.New()
	r.Use(router.MethodOverride)
	report := func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		fmt.Fprintf(w, "%s body=%q err=%v", req.Method, body, err)
	}
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		r.Handle(router.Route{Method: m, Pattern: "/posts/{id}"}, http.HandlerFunc(report))
	}
	return r
}

func postForm(r http.Handler, contentType string, body io.Reader) string {
	req := httptest.NewRequest("POST", "/posts/7", body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec.Body.String()
}

// method-override.test.ts: "overrides the request method with the value of
// the method override field", and what is and is not overridden.
func TestMethodOverrideURLEncoded(t *testing.T) {
	r := overrideRouter()
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		contentType, body, want string
	}{
		{form, "_method=DELETE", "DELETE"},
		{form, "_method=delete", "DELETE"},
		{form, "_method=Put&title=x", "PUT"},
		{form, "title=a+b&_method=patch", "PATCH"},
		{form + "; charset=UTF-8", "_method=DELETE", "DELETE"},
		{"Application/X-WWW-Form-Urlencoded", "_method=DELETE", "DELETE"},
		{form, "%5Fmethod=%44ELETE", "DELETE"},
		{form, "_method=PUT&_method=DELETE", "PUT"}, // the first counts
		// Other values are ignored: the request stays a POST.
		{form, "_method=GET", "POST"},
		{form, "_method=HEAD", "POST"},
		{form, "_method=OPTIONS", "POST"},
		{form, "_method=CONNECT", "POST"},
		{form, "_method=TRACE", "POST"},
		{form, "_method=PROPFIND", "POST"},
		{form, "_method=DELETE%20", "POST"},
		{form, "_method=", "POST"},
		{form, "_method", "POST"},
		{form, "_method=%zz", "POST"},
		{form, "_methods=DELETE", "POST"},
		{form, "x_method=DELETE", "POST"},
		{form, "", "POST"},
		// Not a form: the body is not read for _method.
		{"application/json", `{"_method":"DELETE"}`, "POST"},
		{"text/plain", "_method=DELETE", "POST"},
		{"", "_method=DELETE", "POST"},
	}
	for _, tc := range tests {
		got := postForm(r, tc.contentType, strings.NewReader(tc.body))
		want := fmt.Sprintf("%s body=%q err=<nil>", tc.want, tc.body)
		if got != want {
			t.Errorf("%s %q: got %s, want %s", tc.contentType, tc.body, got, want)
		}
	}
}

// Only POST is overridden; the query string never counts.
func TestMethodOverrideOnlyPOSTBody(t *testing.T) {
	r := overrideRouter()
	for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		req := httptest.NewRequest(m, "/posts/7?_method=DELETE", strings.NewReader("_method=PATCH"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if want := fmt.Sprintf("%s body=%q err=<nil>", m, "_method=PATCH"); rec.Body.String() != want {
			t.Errorf("%s: got %s", m, rec.Body.String())
		}
	}
	req := httptest.NewRequest("POST", "/posts/7?_method=DELETE", nil)
	req.Header.Set("X-HTTP-Method-Override", "DELETE")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if !strings.HasPrefix(rec.Body.String(), "POST ") {
		t.Errorf("query or header override: got %s", rec.Body.String())
	}
}

// The handler reads the form as usual after the override, with ParseForm,
// FormValue or ParseMultipartForm.
func TestMethodOverrideHandlerReadsForm(t *testing.T) {
	r := router.New()
	r.Use(router.MethodOverride)
	r.Put("/posts/{id}", func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "PUT title=%q method=%q", req.FormValue("title"), req.FormValue("_method"))
	})
	r.Delete("/posts/{id}", func(w http.ResponseWriter, req *http.Request) {
		token, q := req.PostFormValue("token"), req.FormValue("q")
		b, _ := io.ReadAll(req.Body)
		fmt.Fprintf(w, "DELETE token=%q q=%q body=%q", token, q, b)
	})
	body := "_method=PUT&title=Hello+world"
	if got := postForm(r, "application/x-www-form-urlencoded", strings.NewReader(body)); got != `PUT title="Hello world" method="PUT"` {
		t.Errorf("urlencoded: got %s", got)
	}

	// net/http parses form bodies for POST, PUT and PATCH only; an overridden
	// DELETE gets its form as well, and its body.
	req := httptest.NewRequest("POST", "/posts/7?q=1", strings.NewReader("_method=DELETE&token=abc"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if got := rec.Body.String(); got != `DELETE token="abc" q="1" body="_method=DELETE&token=abc"` {
		t.Errorf("urlencoded DELETE: got %s", got)
	}
	ct, mbody := multipartBody(t, [2]string{"_method", "delete"}, [2]string{"token", "xyz"})
	if got := postForm(r, ct, bytes.NewReader(mbody)); !strings.HasPrefix(got, `DELETE token="xyz" q="" body=""`) {
		t.Errorf("multipart DELETE: got %.80s", got)
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("_method", "put")
	fw, _ := mw.CreateFormFile("file", "a.txt")
	fw.Write([]byte("file contents"))
	mw.WriteField("title", "Multi")
	mw.Close()
	if got := postForm(r, mw.FormDataContentType(), bytes.NewReader(buf.Bytes())); got != `PUT title="Multi" method="put"` {
		t.Errorf("multipart: got %s", got)
	}
}

func multipartBody(t *testing.T, fields ...[2]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if strings.HasPrefix(f[0], "file:") {
			fw, err := mw.CreateFormFile(strings.TrimPrefix(f[0], "file:"), "upload.bin")
			if err != nil {
				t.Fatal(err)
			}
			fw.Write([]byte(f[1]))
			continue
		}
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func TestMethodOverrideMultipart(t *testing.T) {
	r := overrideRouter()
	big := strings.Repeat("x", 100_000)
	tests := []struct {
		name   string
		fields [][2]string
		want   string
	}{
		{"first field", [][2]string{{"_method", "DELETE"}, {"title", "x"}}, "DELETE"},
		{"lower case", [][2]string{{"_method", "patch"}}, "PATCH"},
		{"after a file", [][2]string{{"file:doc", big}, {"_method", "PUT"}}, "PUT"},
		{"ignored value", [][2]string{{"_method", "GET"}}, "POST"},
		{"no field", [][2]string{{"title", "x"}}, "POST"},
		{"a file named _method", [][2]string{{"file:_method", "DELETE"}}, "POST"},
		{"long value", [][2]string{{"_method", "DELETE" + strings.Repeat(" ", 20)}}, "POST"},
	}
	for _, tc := range tests {
		ct, body := multipartBody(t, tc.fields...)
		got := postForm(r, ct, bytes.NewReader(body))
		want := fmt.Sprintf("%s body=%q err=<nil>", tc.want, body)
		if got != want {
			t.Errorf("%s: got %.80s…, want %.80s…", tc.name, got, want)
		}
	}
	// A multipart content type without a boundary is left alone.
	if got := postForm(r, "multipart/form-data", strings.NewReader("_method=DELETE")); got != `POST body="_method=DELETE" err=<nil>` {
		t.Errorf("no boundary: got %s", got)
	}
}

// MethodOverride reads at most 1 MiB looking for the field; the handler still
// gets the whole body, byte for byte.
func TestMethodOverrideLargeBodies(t *testing.T) {
	r := overrideRouter()
	const form = "application/x-www-form-urlencoded"
	huge := strings.Repeat("a", 3<<20)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"field first, huge rest", "_method=DELETE&blob=" + huge, "DELETE"},
		{"field past the limit", "blob=" + huge + "&_method=DELETE", "POST"},
		{"pair cut at the limit", strings.Repeat("b", 1<<20-len("&_method=DEL")) + "&_method=DELETE", "POST"},
	} {
		got := postForm(r, form, strings.NewReader(tc.body))
		want := fmt.Sprintf("%s body=%q err=<nil>", tc.want, tc.body)
		if got != want {
			t.Errorf("%s: got %.60s… (%d bytes), want %.60s… (%d bytes)", tc.name, got, len(got), want, len(want))
		}
	}
	// Multipart: a _method after more than 1 MiB of file is ignored.
	ct, body := multipartBody(t, [2]string{"file:doc", strings.Repeat("z", 2<<20)}, [2]string{"_method", "DELETE"})
	if got := postForm(r, ct, bytes.NewReader(body)); !strings.HasPrefix(got, "POST ") || len(got) < len(body) {
		t.Errorf("multipart past the limit: got %.60s…", got)
	}
}

// A body that fails to read fails the same way for the handler, after the
// bytes that did arrive; a _method pair that arrived whole still counts.
func TestMethodOverrideBodyError(t *testing.T) {
	r := overrideRouter()
	boom := errors.New("connection reset")
	body := io.MultiReader(strings.NewReader("_method=DELETE&title="), iotest.ErrReader(boom))
	got := postForm(r, "application/x-www-form-urlencoded", body)
	if want := `DELETE body="_method=DELETE&title=" err=connection reset`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	body = io.MultiReader(strings.NewReader("title=x&_method=DELE"), iotest.ErrReader(boom))
	got = postForm(r, "application/x-www-form-urlencoded", body)
	if want := `POST body="title=x&_method=DELE" err=connection reset`; got != want {
		t.Errorf("cut pair: got %s, want %s", got, want)
	}
}

// The override is seen by routing: a form can reach a DELETE-only route, and
// the 405 for a method nobody registered lists the real routes.
func TestMethodOverrideRouting(t *testing.T) {
	posts := router.NewResources("/posts", router.ResourceOptions{Only: []string{"show", "update", "destroy"}})
	r := router.New()
	r.Use(router.MethodOverride)
	r.Map(posts, struct{ Show, Update, Destroy http.HandlerFunc }{text("show"), text("update"), text("destroy")})
	if got := postForm(r, "application/x-www-form-urlencoded", strings.NewReader("_method=delete")); got != "destroy" {
		t.Errorf("got %q", got)
	}
	req := httptest.NewRequest("POST", "/posts/7", strings.NewReader("_method=PATCH"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != 405 || rec.Header().Get("Allow") != "DELETE, GET, HEAD, PUT" {
		t.Errorf("PATCH: got %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

// Requests that are not form POSTs pass through untouched: the same request,
// no allocations.
func TestMethodOverridePassThrough(t *testing.T) {
	var got *http.Request
	h := router.MethodOverride(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }))
	for _, req := range []*http.Request{
		httptest.NewRequest("GET", "/", nil),
		httptest.NewRequest("POST", "/", strings.NewReader(`{"_method":"DELETE"}`)),
		httptest.NewRequest("POST", "/", nil),
	} {
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got != req {
			t.Errorf("%s: handler got a copy", req.Method)
		}
		if testing.Short() {
			continue
		}
		w := httptest.NewRecorder()
		if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("%s: %v allocations", req.Method, n)
		}
	}
}

// AutoOptions answers OPTIONS with 204 and Allow (OPTIONS included), lists
// OPTIONS in 405s, leaves 404s and explicit OPTIONS routes alone, and is
// inherited by mounted routers.
func TestAutoOptions(t *testing.T) {
	sub := router.New()
	sub.Get("/items", text("items"))
	r := router.New()
	r.AutoOptions()
	r.Get("/posts", text("list"))
	r.Post("/posts", text("create"))
	r.Delete("/posts/{id}", text("delete"))
	r.Options("/cors", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Access-Control-Allow-Methods", "GET")
		w.WriteHeader(200)
	})
	r.Get("/cors", text("cors"))
	r.Any("/any", text("any"))
	r.Mount("/sub", sub)

	tests := []struct {
		method, target string
		code           int
		allow, body    string
	}{
		{"OPTIONS", "/posts", 204, "GET, HEAD, OPTIONS, POST", ""},
		{"OPTIONS", "/posts/7", 204, "DELETE, OPTIONS", ""},
		{"PUT", "/posts", 405, "GET, HEAD, OPTIONS, POST", "Method Not Allowed\n"},
		{"OPTIONS", "/nowhere", 404, "", "404 page not found\n"},
		{"OPTIONS", "/cors", 200, "", ""}, // the route answers
		{"PUT", "/cors", 405, "GET, HEAD, OPTIONS", "Method Not Allowed\n"},
		{"OPTIONS", "/any", 200, "", "any"},
		{"OPTIONS", "/sub/items", 204, "GET, HEAD, OPTIONS", ""},
		{"POST", "/sub/items", 405, "GET, HEAD, OPTIONS", "Method Not Allowed\n"},
		{"GET", "/posts", 200, "", "list"},
	}
	for _, tc := range tests {
		rec := serve(r, tc.method, tc.target)
		if rec.Code != tc.code || rec.Header().Get("Allow") != tc.allow || rec.Body.String() != tc.body {
			t.Errorf("%s %s: got %d Allow %q %q; want %d %q %q", tc.method, tc.target, rec.Code, rec.Header().Get("Allow"), rec.Body.String(), tc.code, tc.allow, tc.body)
		}
	}

	// Off by default: OPTIONS is a 405 like any other method.
	plain := router.New()
	plain.Get("/posts", text("list"))
	if rec := serve(plain, "OPTIONS", "/posts"); rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("default: got %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	mustPanic(t, func() { plain.Group(func(g *router.Router) { g.AutoOptions() }) })

	// Over a real connection: 204, no body.
	srv := httptest.NewServer(r)
	defer srv.Close()
	req, _ := http.NewRequest("OPTIONS", srv.URL+"/posts", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 204 || len(b) != 0 || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS, POST" {
		t.Errorf("over HTTP: %d %q %v", resp.StatusCode, b, resp.Header)
	}
}

// FuzzMethodOverride: whatever the form body, the handler reads it back byte
// for byte, and the method is PUT, PATCH or DELETE exactly when the first
// _method value that the handler's own form parsing sees is one of them
// (url.ParseQuery for urlencoded bodies, multipart.Reader for multipart ones).
func FuzzMethodOverride(f *testing.F) {
	for _, s := range []string{
		"_method=DELETE", "_method=delete&x=1", "a=1&_method=Put", "_method=%zz&_method=PATCH",
		"_method=DELETE;&_method=PUT", "_method;=DELETE", "%5Fmethod=patch", "_method=GET", "&&_method=PUT&",
		"_method=DELETE%00", "=&=", "",
	} {
		f.Add(false, s)
	}
	for _, s := range []string{
		"--B\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nDELETE\r\n--B--\r\n",
		"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nxx\r\n--B\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nput\r\n--B--\r\n",
		"--B\r\nContent-Disposition: form-data; name=\"_method\"; filename=\"x\"\r\n\r\nDELETE\r\n--B--\r\n",
		"--B\r\nContent-Disposition: form-data; name=\"_method\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nDEL=45TE\r\n--B--\r\n",
		"--B\r\n\r\n--B--", "garbage",
	} {
		f.Add(true, s)
	}
	f.Fuzz(func(t *testing.T, multi bool, body string) {
		var gotMethod, gotBody string
		h := router.MethodOverride(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			gotMethod, gotBody = r.Method, string(b)
		}))
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		ct := "application/x-www-form-urlencoded"
		if multi {
			ct = "multipart/form-data; boundary=B"
		}
		req.Header.Set("Content-Type", ct)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if gotBody != body {
			t.Fatalf("body %q reached the handler as %q", body, gotBody)
		}
		var first string
		if multi {
			mr := multipart.NewReader(strings.NewReader(body), "B")
			for {
				p, err := mr.NextPart()
				if err != nil {
					break
				}
				if p.FormName() == "_method" && p.FileName() == "" {
					v, err := io.ReadAll(io.LimitReader(p, 16))
					if err == nil {
						first = string(v)
					}
					break
				}
			}
		} else {
			vals, _ := url.ParseQuery(body)
			first = vals.Get("_method")
		}
		want := "POST"
		for _, m := range []string{"PUT", "PATCH", "DELETE"} {
			if strings.EqualFold(first, m) {
				want = m
			}
		}
		if gotMethod != want {
			t.Fatalf("body %q: method %s, want %s (first _method %q)", body, gotMethod, want, first)
		}
	})
}
