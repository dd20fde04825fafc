package bench

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/gorilla/sessions"
	"github.com/sessionkit/sessionkit/session"
)

// The secret and key of handlers.go, under the names the tests use.
const secret32 = Secret

var key32 = Key32

// run drives b.N requests through h, each carrying the cookie header
// cookieHeader, and checks that the response is what the handler wrote. Each
// request is new: gorilla/sessions caches sessions in the request.
func run(b *testing.B, h http.Handler, cookieHeader string, wantSetCookie bool) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, h, cookieHeader, wantSetCookie)
	}
}

func serve(tb testing.TB, h http.Handler, cookieHeader string, wantSetCookie bool) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookieHeader != "" {
		req.Header.Set("Cookie", cookieHeader)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got := len(w.Header()["Set-Cookie"]) > 0; got != wantSetCookie {
		tb.Fatalf("Set-Cookie present = %v, want %v", got, wantSetCookie)
	}
}

// firstCookie runs one request through h and returns "name=value" of the
// Set-Cookie it sent, for the next requests to carry.
func firstCookie(b testing.TB, h http.Handler) string {
	b.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	sc := w.Result().Header.Get("Set-Cookie")
	if sc == "" {
		b.Fatalf("no Set-Cookie from the first request (status %d: %s)", w.Code, w.Body)
	}
	nv, _, _ := strings.Cut(sc, ";")
	return nv
}

// BenchmarkScaffold is the httptest request and recorder with an empty
// handler: the cost every benchmark below includes.
func BenchmarkScaffold(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	run(b, h, "session=0123456789abcdef0123456789abcdef0123456789abcdef", false)
}

// --- sessionkit ---

func sessionkitHandler(tb testing.TB, st session.Storage, write bool) http.Handler {
	h, err := SessionkitHandler(st, write)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func benchSessionkit(b *testing.B, st session.Storage, write bool) {
	h := sessionkitHandler(b, st, write)
	run(b, h, firstCookie(b, h), write)
}

func BenchmarkSessionkitMemoryWrite(b *testing.B) {
	benchSessionkit(b, memoryStorage(b), true)
}

func BenchmarkSessionkitMemoryRead(b *testing.B) {
	benchSessionkit(b, memoryStorage(b), false)
}

func BenchmarkSessionkitCookieWrite(b *testing.B) {
	benchSessionkit(b, cookieStorage(b, nil), true)
}

func BenchmarkSessionkitCookieRead(b *testing.B) {
	benchSessionkit(b, cookieStorage(b, nil), false)
}

func BenchmarkSessionkitCookieSealedWrite(b *testing.B) {
	benchSessionkit(b, cookieStorage(b, [][]byte{key32}), true)
}

// --- alexedwards/scs ---

func scsHandler(write bool) http.Handler { return SCSHandler(scs.New(), write) }

func BenchmarkSCSMemoryWrite(b *testing.B) {
	h := scsHandler(true)
	run(b, h, firstCookie(b, h), true)
}

func BenchmarkSCSMemoryRead(b *testing.B) {
	h := scsHandler(false)
	run(b, h, firstCookie(b, h), false)
}

// --- gorilla/sessions ---

func gorillaHandler(store sessions.Store, write bool) http.Handler {
	return GorillaHandler(store, write)
}

func BenchmarkGorillaCookieWrite(b *testing.B) {
	h := gorillaHandler(sessions.NewCookieStore([]byte(secret32)), true)
	run(b, h, firstCookie(b, h), true)
}

func BenchmarkGorillaCookieRead(b *testing.B) {
	h := gorillaHandler(sessions.NewCookieStore([]byte(secret32)), false)
	run(b, h, firstCookie(b, h), false)
}

func BenchmarkGorillaCookieSealedWrite(b *testing.B) {
	h := gorillaHandler(sessions.NewCookieStore([]byte(secret32), key32), true)
	run(b, h, firstCookie(b, h), true)
}

// --- file storage: sessionkit's file storage against gorilla's
// FilesystemStore (scs has no file store), each in a fresh temporary folder.

func BenchmarkSessionkitFileWrite(b *testing.B) { benchSessionkit(b, fileStorage(b), true) }
func BenchmarkSessionkitFileRead(b *testing.B)  { benchSessionkit(b, fileStorage(b), false) }

func BenchmarkGorillaFileWrite(b *testing.B) {
	h := gorillaHandler(sessions.NewFilesystemStore(b.TempDir(), []byte(secret32)), true)
	run(b, h, firstCookie(b, h), true)
}

func BenchmarkGorillaFileRead(b *testing.B) {
	h := gorillaHandler(sessions.NewFilesystemStore(b.TempDir(), []byte(secret32)), false)
	run(b, h, firstCookie(b, h), false)
}
