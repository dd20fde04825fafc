package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCloneRecipes runs the root README's two recipes for using the
// modules from a clone, as a newcomer would: a new module next to the clone
// (here a link to this repository), the recipe run in it with no network
// (GOPROXY=off), then this program built in it.
func TestCloneRecipes(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is needed to run the README's shell recipes")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		block string
		env   []string
	}{
		// replace lines: no workspace, and go mod tidy may edit go.mod.
		{"clone recipe: replace", []string{"GOWORK=off", "GOFLAGS=-mod=mod " + os.Getenv("GOFLAGS")}},
		// go.work: the workspace file the recipe writes is the one used.
		{"clone recipe: go.work", []string{"GOWORK="}},
	} {
		t.Run(tc.block, func(t *testing.T) {
			recipe := readmeBlock(t, tc.block)
			parent := t.TempDir()
			if err := os.Symlink(repo, filepath.Join(parent, "sessionkit")); err != nil {
				t.Fatal(err)
			}
			app := filepath.Join(parent, "myapp")
			if err := os.Mkdir(app, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(app, "go.mod"), []byte("module example.com/myapp\n\ngo 1.25\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(app, "main.go"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			env := append(os.Environ(), "GOPROXY=off")
			env = append(env, tc.env...)
			run := func(name string, args ...string) {
				t.Helper()
				cmd := exec.Command(name, args...)
				cmd.Dir = app
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
				}
			}
			run("bash", "-euo", "pipefail", "-c", recipe)
			run("go", "build", "-o", os.DevNull, ".")
		})
	}
}
