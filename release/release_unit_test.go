package main

import (
	"slices"
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
