package remixshared

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// TestNodePackagesPinned checks that node_modules holds exactly the versions
// node/package.json pins (and the headers override), so the apps run against
// the Remix packages the README names, not a stale install.
func TestNodePackagesPinned(t *testing.T) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
		Overrides    map[string]string `json:"overrides"`
	}
	readJSON(t, filepath.Join("node", "package.json"), &pkg)
	want := map[string]string{}
	for name, v := range pkg.Dependencies {
		want[name] = v
	}
	for name, v := range pkg.Overrides {
		want[name] = v
	}
	if len(want) != 8 || want["@remix-run/headers"] != "0.21.1" || want["@remix-run/session-middleware"] != "0.2.2" {
		t.Fatalf("node/package.json pins %v", want)
	}
	if _, err := os.Stat(filepath.Join("node", "node_modules")); err != nil {
		if testserver.Required() {
			t.Fatalf("node/node_modules is missing (run npm ci there; make deps does): %v", err)
		}
		t.Skipf("node/node_modules is missing: run cd examples/remix-shared/node && npm ci (make deps does)")
	}
	for name, v := range want {
		var installed struct {
			Version string `json:"version"`
		}
		readJSON(t, filepath.Join("node", "node_modules", filepath.FromSlash(name), "package.json"), &installed)
		if installed.Version != v {
			t.Errorf("%s: node_modules has %s, package.json pins %s (run npm ci)", name, installed.Version, v)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
