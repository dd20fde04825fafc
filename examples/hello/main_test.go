package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlock returns the fenced code block between the README lines
// "<!-- begin NAME -->" and "<!-- end NAME -->", without the fences.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.ReplaceAll(string(b), "\r\n", "\n")
	begin, end := "<!-- begin "+name+" -->\n", "\n<!-- end "+name+" -->"
	i := strings.Index(readme, begin)
	j := strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no block marked %q", name)
	}
	block := readme[i+len(begin) : j]
	nl := strings.IndexByte(block, '\n')
	if nl < 0 || !strings.HasPrefix(block, "```") || !strings.HasSuffix(block, "\n```") {
		t.Fatalf("README block %q is not one fenced code block:\n%s", name, block)
	}
	return block[nl+1 : len(block)-len("```")]
}

// TestREADMEQuotesThisProgram: the root README shows main.go exactly, so
// the snippet compiles and runs because this file does.
func TestREADMEQuotesThisProgram(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if got := readmeBlock(t, "examples/hello/main.go"); got != string(src) {
		t.Fatalf("README.md's first program differs from examples/hello/main.go; copy the file into the README.\nREADME:\n%s", got)
	}
}

// TestVisits runs the program's handler: the counter lives in the session.
func TestVisits(t *testing.T) {
	h, err := newHandler("test-secret-test-secret-test-secret!", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	for _, want := range []string{"visits: 1\n", "visits: 2\n", "visits: 3\n"} {
		resp, err := cl.Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	}
	// A new visitor starts at 1.
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "visits: 1\n" {
		t.Fatalf("new visitor: %q", b)
	}
}

// TestBadSetup: a storage folder that cannot be made is an error, not a
// panic.
func TestBadSetup(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newHandler("test-secret-test-secret-test-secret!", file); err == nil {
		t.Fatal("a file as the sessions folder: no error")
	}
}

// TestMissingSecret runs the built program without SESSION_SECRET: it exits
// 1 with a message that says what to set, before listening.
func TestMissingSecret(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hello")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SESSION_SECRET=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit code 1, got %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SESSION_SECRET is not set") || strings.Contains(string(out), "panic") {
		t.Fatalf("unclear failure:\n%s", out)
	}
}
