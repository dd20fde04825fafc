package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const version = "v0.9.0"

// TestReleaseThroughAFileProxy releases a copy of this repository, builds a
// file-based module proxy from its tags and shows that a fresh consumer
// module gets one module with `go get` from it, builds with GOWORK=off, and
// requires nothing it does not import. Only modules already in the local
// module cache (or the Go module proxy, to fill that cache first) serve the
// third-party dependencies.
func TestReleaseThroughAFileProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("releases a copy of the repository and builds consumers")
	}
	for _, tool := range []string{"git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
	repo := copyRepo(t)

	tags, err := Release(repo, version)
	if err != nil {
		t.Fatal(err)
	}
	wantTags := []string{"cookie/" + version, "session/" + version, "session-middleware/" + version, "router/" + version}
	for _, dir := range []string{"session-otel", "storage-redis", "storage-memcache", "storage-postgres"} {
		if _, err := os.Stat(filepath.Join(repo, dir, "go.mod")); err == nil {
			wantTags = append(wantTags, dir+"/"+version)
		}
	}
	for _, want := range wantTags {
		if !slices.Contains(tags, want) {
			t.Errorf("tags %v lack %s", tags, want)
		}
	}
	for _, t2 := range tags {
		if dir := strings.Split(t2, "/")[0]; notReleased[dir] {
			t.Errorf("%s is tagged, but %s is not a library", t2, dir)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(repo, "session-middleware", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "github.com/sessionkit/sessionkit/session "+version) {
		t.Fatalf("session-middleware/go.mod does not require session %s:\n%s", version, gomod)
	}
	if _, err := Release(repo, version); err == nil {
		t.Fatal("releasing the same version twice succeeded")
	}

	// Fill the module cache with the third-party modules the libraries
	// need, so the consumers below can be served offline from it.
	for _, dir := range []string{"session-middleware", "session-otel", "storage-redis", "storage-memcache", "storage-postgres"} {
		if _, err := os.Stat(filepath.Join(repo, dir, "go.mod")); err != nil {
			continue
		}
		run(t, filepath.Join(repo, dir), []string{"GOWORK=off"}, "go", "mod", "download")
	}

	proxy := t.TempDir()
	written, err := WriteProxy(repo, proxy)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("proxy: %v", written)

	t.Run("session-middleware", func(t *testing.T) {
		consumer(t, proxy, []string{"github.com/sessionkit/sessionkit/session-middleware"}, "", `package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	sessionmiddleware "github.com/sessionkit/sessionkit/session-middleware"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

func main() {
	c, err := cookie.New("session", cookie.Options{Secrets: []string{"a secret of thirty-two bytes...."}})
	if err != nil {
		panic(err)
	}
	st, err := memorystorage.New(memorystorage.Options{})
	if err != nil {
		panic(err)
	}
	mw, err := sessionmiddleware.New(c, st, sessionmiddleware.Options{})
	if err != nil {
		panic(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("n", 1)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, len(rec.Result().Cookies()))
}
`, "200 1", []string{
			"github.com/sessionkit/sessionkit/cookie",
			"github.com/sessionkit/sessionkit/session",
			"github.com/sessionkit/sessionkit/session-middleware",
		}, nil)
	})

	// The checksum database knows no unpublished version: without
	// GONOSUMDB for the sessionkit modules, `go get` fails verifying them.
	t.Run("without GONOSUMDB", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "go.mod"), "module example.com/consumer\n\ngo 1.26\n")
		cmd := exec.Command("go", "get", "github.com/sessionkit/sessionkit/session@"+version)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append(consumerEnv(t, dir, proxy), "GONOSUMDB=")...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "verifying module") {
			t.Fatalf("go get without GONOSUMDB: err = %v, want a failure verifying the module:\n%s", err, out)
		}
	})

	if _, err := os.Stat(filepath.Join(repo, "storage-postgres", "go.mod")); err == nil {
		t.Run("session-middleware+storage-postgres", func(t *testing.T) {
			consumer(t, proxy, []string{"github.com/sessionkit/sessionkit/session-middleware", "github.com/sessionkit/sessionkit/storage-postgres"},
				readFile(t, filepath.Join(repo, "storage-postgres", "go.sum")), `package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	sessionmiddleware "github.com/sessionkit/sessionkit/session-middleware"
	"github.com/sessionkit/sessionkit/session/memorystorage"
	postgresstorage "github.com/sessionkit/sessionkit/storage-postgres"
)

// newStorage is what a program would call with its pool; this one has no
// database, so it only has to build.
var newStorage func(*pgxpool.Pool, postgresstorage.Options) (session.Storage, error) = postgresstorage.New

func main() {
	c, err := cookie.New("session", cookie.Options{Secrets: []string{"a secret of thirty-two bytes...."}})
	if err != nil {
		panic(err)
	}
	st, err := memorystorage.New(memorystorage.Options{})
	if err != nil {
		panic(err)
	}
	mw, err := sessionmiddleware.New(c, st, sessionmiddleware.Options{})
	if err != nil {
		panic(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("n", 1)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, len(rec.Result().Cookies()), postgresstorage.DefaultTable, newStorage != nil)
}
`, "200 1 sessions true", []string{
					"github.com/sessionkit/sessionkit/cookie",
					"github.com/sessionkit/sessionkit/session",
					"github.com/sessionkit/sessionkit/session-middleware",
					"github.com/sessionkit/sessionkit/storage-postgres",
					"github.com/jackc/pgx/v5",
				}, []string{"router", "session-otel", "storage-redis", "storage-memcache", "go-redis", "gomemcache", "miniredis", "chromedp", "testify", "opentelemetry"})
		})
	}

	if _, err := os.Stat(filepath.Join(repo, "storage-redis", "go.mod")); err == nil {
		t.Run("storage-redis", func(t *testing.T) {
			consumer(t, proxy, []string{"github.com/sessionkit/sessionkit/storage-redis"},
				readFile(t, filepath.Join(repo, "storage-redis", "go.sum")), `package main

import (
	"fmt"

	"github.com/redis/go-redis/v9"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

func main() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	_, err := redisstorage.New(client, redisstorage.Options{})
	fmt.Println(err == nil)
}
`, "true", []string{
					"github.com/sessionkit/sessionkit/session",
					"github.com/sessionkit/sessionkit/storage-redis",
					"github.com/redis/go-redis/v9",
				}, []string{"cookie", "session-middleware", "router", "storage-memcache", "gomemcache", "miniredis", "testify", "opentelemetry"})
		})
	}

	// The OpenTelemetry adapter brings the otel API modules, and not the
	// SDK, which only its tests use.
	if _, err := os.Stat(filepath.Join(repo, "session-otel", "go.mod")); err == nil {
		t.Run("session-otel", func(t *testing.T) {
			consumer(t, proxy, []string{"github.com/sessionkit/sessionkit/session-otel"},
				readFile(t, filepath.Join(repo, "session-otel", "go.sum")), `package main

import (
	"context"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
	sessionotel "github.com/sessionkit/sessionkit/session-otel"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

func main() {
	obs, err := sessionotel.New(sessionotel.Options{})
	if err != nil {
		panic(err)
	}
	st, err := memorystorage.New(memorystorage.Options{Session: session.Options{Observer: obs}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	s, err := st.Read(ctx, "")
	if err != nil {
		panic(err)
	}
	s.Set("n", 1)
	_, set, err := st.Save(ctx, s)
	fmt.Println(set, err == nil)
}
`, "true true", []string{
					"github.com/sessionkit/sessionkit/session",
					"github.com/sessionkit/sessionkit/session-otel",
					"go.opentelemetry.io/otel",
				}, []string{"cookie", "session-middleware", "router", "storage-", "otel/sdk", "testify"})
		})
	}
}

// consumerEnv is the environment of a consumer module in dir: the release's
// proxy, then the local module cache for third-party modules; the checksum
// database on, but skipped for the sessionkit modules with GONOSUMDB, as
// release/README.md and the module READMEs tell consumers. The database's
// URL is one nothing listens on, so the tests stay offline and show that
// nothing needs it: a third-party module's hash must come from go.sum.
func consumerEnv(t *testing.T, dir, proxy string) []string {
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		"GOWORK=off",
		"GOFLAGS=-mod=mod -modcacherw",
		"GOMODCACHE=" + filepath.Join(dir, ".modcache"), // nothing stale from earlier runs
		"GOPROXY=file://" + filepath.ToSlash(proxy) + ",file://" + filepath.ToSlash(filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download")),
		"GOSUMDB=sum.golang.org http://127.0.0.1:1",
		"GONOSUMDB=" + ModulePrefix,
		"GOPRIVATE=", "GONOPROXY=", "GOINSECURE=",
		"GOTOOLCHAIN=local",
	}
}

// consumer makes a fresh module outside the repository with goSum as its
// go.sum (the third-party hashes, which the checksum database would give a
// consumer online), gets mods from the proxy, builds and runs main and
// checks its output, and checks after `go mod tidy` that every sessionkit
// module it requires is in want, every module of want is there, and no
// required module path contains one of forbidden.
func consumer(t *testing.T, proxy string, mods []string, goSum, main, wantOutput string, want, forbidden []string) {
	dir := t.TempDir()
	env := consumerEnv(t, dir, proxy)
	write(t, filepath.Join(dir, "go.mod"), "module example.com/consumer\n\ngo 1.26\n")
	write(t, filepath.Join(dir, "go.sum"), goSum)
	write(t, filepath.Join(dir, "main.go"), main)
	get := []string{"get"}
	for _, m := range mods {
		get = append(get, m+"@"+version)
	}
	run(t, dir, env, "go", get...)
	run(t, dir, env, "go", "mod", "tidy")
	if out := strings.TrimSpace(run(t, dir, env, "go", "run", ".")); out != wantOutput {
		t.Fatalf("consumer printed %q, want %q", out, wantOutput)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]bool{}
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && strings.HasPrefix(f[1], "v") && strings.Contains(f[0], ".") {
			required[f[0]] = true
			if strings.HasPrefix(f[0], "github.com/sessionkit/") {
				if !slices.Contains(want, f[0]) {
					t.Errorf("consumer requires %s, which it does not import", f[0])
				}
				if f[1] != version {
					t.Errorf("consumer requires %s %s, want %s", f[0], f[1], version)
				}
			}
			for _, bad := range forbidden {
				if strings.Contains(f[0], bad) && !slices.Contains(want, f[0]) {
					t.Errorf("consumer requires %s", f[0])
				}
			}
		}
	}
	for _, w := range want {
		if !required[w] {
			t.Errorf("consumer does not require %s:\n%s", w, gomod)
		}
	}
}

// copyRepo copies this repository's tracked and untracked (not ignored)
// files into a fresh git repository with one commit, so the release runs on
// what is in the work tree without touching it.
func copyRepo(t *testing.T) string {
	t.Helper()
	root := strings.TrimSpace(run(t, ".", nil, "git", "rev-parse", "--show-toplevel"))
	list := run(t, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	dst := filepath.Join(t.TempDir(), "repo")
	for _, name := range strings.Split(strings.TrimRight(list, "\x00"), "\x00") {
		src := filepath.Join(root, name)
		info, err := os.Lstat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree, or not a file
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	gitEnv := []string{"GIT_AUTHOR_NAME=release test", "GIT_AUTHOR_EMAIL=release@test.invalid", "GIT_COMMITTER_NAME=release test", "GIT_COMMITTER_EMAIL=release@test.invalid"}
	run(t, dst, gitEnv, "git", "init", "--quiet")
	run(t, dst, gitEnv, "git", "add", "--all")
	run(t, dst, gitEnv, "git", "commit", "--quiet", "--message", "copy")
	for _, kv := range gitEnv {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // Release commits with git's identity from the environment
	}
	return dst
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s in %s: %v\n%s%s", name, strings.Join(args, " "), dir, err, out, stderr)
	}
	return string(out)
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
