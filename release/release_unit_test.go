package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseGoMod(t *testing.T) {
	m, err := parseGoMod([]byte(`module github.com/sessionkit/sessionkit/session-middleware // the middleware

go 1.23

require github.com/a/b v1.0.0

require (
	github.com/sessionkit/sessionkit/cookie v0.0.0
	github.com/sessionkit/sessionkit/session v0.0.0 // indirect
)

replace github.com/sessionkit/sessionkit/cookie => ../cookie
`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Path != "github.com/sessionkit/sessionkit/session-middleware" {
		t.Errorf("Path = %q", m.Path)
	}
	want := []string{"github.com/a/b", "github.com/sessionkit/sessionkit/cookie", "github.com/sessionkit/sessionkit/session"}
	if !slices.Equal(m.Requires, want) {
		t.Errorf("Requires = %v, want %v", m.Requires, want)
	}
	if _, err := parseGoMod([]byte("go 1.23\n")); err == nil {
		t.Error("a go.mod without a module line parsed")
	}
}

func TestVersions(t *testing.T) {
	for v, ok := range map[string]bool{
		"v0.1.0": true, "v1.2.3": true, "v0.2.0-rc.1": true,
		"v2.0.0": false, "0.1.0": false, "v0.1": false, "v0.01.0": false, "": false,
	} {
		if versionRE.MatchString(v) != ok {
			t.Errorf("%q accepted = %v, want %v", v, !ok, ok)
		}
	}
	if _, err := Release(t.TempDir(), "v2.0.0"); err == nil {
		t.Error("Release accepted v2.0.0")
	}
}

func TestEscapePath(t *testing.T) {
	if got := escapePath("github.com/BurntSushi/toml"); got != "github.com/!burnt!sushi/toml" {
		t.Errorf("escapePath = %q", got)
	}
}

// TestReleaseRefusesAnUnfinishedTree shows that Release refuses a work tree
// with uncommitted changes or with untracked files (which the tags would
// not hold), names them, and tags nothing; an ignored file is no obstacle.
func TestReleaseRefusesAnUnfinishedTree(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	for _, kv := range [][2]string{{"GIT_AUTHOR_NAME", "release test"}, {"GIT_AUTHOR_EMAIL", "release@test.invalid"}, {"GIT_COMMITTER_NAME", "release test"}, {"GIT_COMMITTER_EMAIL", "release@test.invalid"}} {
		t.Setenv(kv[0], kv[1])
	}
	root := t.TempDir()
	files := map[string]string{
		".gitignore":       "*.out\n",
		"cookie/go.mod":    "module github.com/sessionkit/sessionkit/cookie\n\ngo 1.23\n",
		"cookie/cookie.go": "package cookie\n",
	}
	for name, data := range files {
		writeFile(t, filepath.Join(root, name), data)
	}
	gitRun(t, root, "init", "--quiet")
	gitRun(t, root, "add", "--all")
	gitRun(t, root, "commit", "--quiet", "--message", "start")

	writeFile(t, filepath.Join(root, "cookie", "cookie.go"), "package cookie // changed\n")
	_, err := Release(root, "v0.1.0")
	if err == nil || !strings.Contains(err.Error(), "uncommitted changes") || !strings.Contains(err.Error(), "cookie/cookie.go") {
		t.Fatalf("Release with a changed file: err = %v, want uncommitted changes naming cookie/cookie.go", err)
	}
	gitRun(t, root, "commit", "--quiet", "--all", "--message", "change")

	writeFile(t, filepath.Join(root, "cookie", "new.go"), "package cookie\n")
	writeFile(t, filepath.Join(root, "cookie", "sub", "more.go"), "package sub\n")
	writeFile(t, filepath.Join(root, "bench.out"), "ignored\n")
	_, err = Release(filepath.Join(root, "cookie"), "v0.1.0") // from a subfolder: still the whole tree
	if err == nil {
		t.Fatal("Release with untracked files succeeded")
	}
	for _, want := range []string{"2 untracked file(s)", "cookie/new.go", "cookie/sub/more.go"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "bench.out") {
		t.Errorf("error %q names an ignored file", err)
	}
	if out := gitRun(t, root, "tag", "--list"); out != "" {
		t.Fatalf("a refused release left tags: %s", out)
	}

	if err := os.RemoveAll(filepath.Join(root, "cookie", "sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "cookie", "new.go")); err != nil {
		t.Fatal(err)
	}
	tags, err := Release(root, "v0.1.0")
	if err != nil {
		t.Fatalf("Release with only an ignored file left: %v", err)
	}
	if !slices.Equal(tags, []string{"cookie/v0.1.0"}) {
		t.Errorf("tags = %v, want [cookie/v0.1.0]", tags)
	}
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git(dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConsumerInstructions(t *testing.T) {
	got := ConsumerInstructions("/tmp/p", []string{
		"github.com/sessionkit/sessionkit/cookie@v0.2.0",
		"github.com/sessionkit/sessionkit/session-middleware@v0.2.0",
	})
	for _, want := range []string{
		"export GOPROXY=file:///tmp/p,https://proxy.golang.org,direct\n",
		"export GONOSUMDB=github.com/sessionkit/sessionkit\n",
		"go get github.com/sessionkit/sessionkit/session-middleware@v0.2.0\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("instructions lack %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"GOSUMDB=off", "-insecure", "GOPRIVATE"} {
		if strings.Contains(got, bad) {
			t.Errorf("instructions contain %q:\n%s", bad, got)
		}
	}
}
