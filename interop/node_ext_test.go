package interop

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// TestHelperExtension checks the extension point later session tests use:
// a module exporting `handlers`, named on the helper's command line, adds
// ops to the same process and can build cookies with cookie.mjs's
// makeCookie. It also checks the cookieInfo op against Go's view.
func TestHelperExtension(t *testing.T) {
	if nodeMissing() != "" {
		startRemix(t) // skips or fails with the usual message
	}
	abs, err := filepath.Abs(filepath.Join(nodeDir, "cookie.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	cookieURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	mod := filepath.Join(t.TempDir(), "extra.mjs")
	src := "import { makeCookie } from '" + cookieURL + "'\n" +
		"export const handlers = {\n" +
		"  async describe(req) { const c = makeCookie(req); return { name: c.name, signed: c.signed, n: req.n + 1 } },\n" +
		"}\n"
	if err := os.WriteFile(mod, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startRemix(t, mod)
	var got struct {
		Name   string
		Signed bool
		N      int
	}
	r.mustCall(map[string]any{"op": "describe", "name": "sess", "options": remixOptions{Secrets: []string{"k"}}, "n": 41}, &got)
	if got.Name != "sess" || !got.Signed || got.N != 42 {
		t.Errorf("describe = %+v", got)
	}
	// The cookie ops are still there.
	var info struct {
		Signed      bool
		Path        string
		SameSite    string
		Secure      *bool
		Partitioned bool
	}
	r.mustCall(map[string]any{"op": "cookieInfo", "name": "c", "options": remixOptions{Partitioned: true}}, &info)
	if info.Signed || info.Path != "/" || info.SameSite != "Lax" || info.Secure == nil || !*info.Secure || !info.Partitioned {
		t.Errorf("cookieInfo of a partitioned cookie = %+v; want unsigned, Path /, Lax, secure forced", info)
	}
	var e *remixError
	if err := r.call(map[string]any{"op": "no-such-op"}, nil); err == nil {
		t.Error("an unknown op did not fail")
	} else if !errors.As(err, &e) || e.Message != `unknown op "no-such-op"` {
		t.Errorf("unknown op: %v", err)
	}
}
