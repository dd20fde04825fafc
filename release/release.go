package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// notReleased are the folders whose modules are programs or tests, not
// libraries: their requires follow the version so the workspace stays
// consistent, but they get no tag.
var notReleased = map[string]bool{
	"examples": true, // demo programs
	"bench":    true, // benchmarks against other libraries
	"interop":  true, // tests against the Remix packages
	"release":  true, // this command
	"docs":     true, // the test that builds every README's Go blocks
	// conformance runs storages' conformance suites on fakes
	"conformance": true,
}

// versionRE accepts v0 and v1 semantic versions: a v2 or later would need a
// /vN suffix on every module path.
var versionRE = regexp.MustCompile(`^v[01]\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$`)

// Module is one folder of the repository with a go.mod.
type Module struct {
	Dir      string   // folder name relative to the root, e.g. "session-middleware"
	Path     string   // module path
	Requires []string // module paths this go.mod requires
}

// Released reports whether the module gets a tag.
func (m Module) Released() bool { return !notReleased[m.Dir] }

// Modules lists the repository's modules, sorted by folder.
func Modules(root string) ([]Module, error) {
	matches, err := filepath.Glob(filepath.Join(root, "*", "go.mod"))
	if err != nil {
		return nil, err
	}
	var mods []Module
	for _, gomod := range matches {
		data, err := os.ReadFile(gomod)
		if err != nil {
			return nil, err
		}
		m, err := parseGoMod(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", gomod, err)
		}
		m.Dir = filepath.Base(filepath.Dir(gomod))
		mods = append(mods, m)
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("no */go.mod under %s", root)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Dir < mods[j].Dir })
	return mods, nil
}

// parseGoMod reads the module path and the required module paths. It
// understands what `go mod edit` and `go mod tidy` write: single-line and
// block requires.
func parseGoMod(data []byte) (Module, error) {
	var m Module
	inRequire := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case inRequire && f[0] == ")":
			inRequire = false
		case inRequire:
			m.Requires = append(m.Requires, f[0])
		case f[0] == "module" && len(f) == 2:
			m.Path = strings.Trim(f[1], `"`)
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			inRequire = true
		case f[0] == "require" && len(f) >= 3:
			m.Requires = append(m.Requires, f[1])
		}
	}
	if m.Path == "" {
		return m, errors.New("no module line")
	}
	return m, sc.Err()
}

// Release rewrites every sibling require in every module to version,
// commits the change and tags each released module as dir/version. It
// refuses a work tree with uncommitted changes or untracked files, an
// existing tag, and a released module that requires a module that is not
// released.
func Release(root, version string) ([]string, error) {
	if !versionRE.MatchString(version) {
		return nil, fmt.Errorf("version %q: want vMAJOR.MINOR.PATCH with major 0 or 1 (for example v0.2.0)", version)
	}
	if err := checkClean(root); err != nil {
		return nil, err
	}
	mods, err := Modules(root)
	if err != nil {
		return nil, err
	}
	byPath := map[string]Module{}
	for _, m := range mods {
		byPath[m.Path] = m
	}
	var tags []string
	for _, m := range mods {
		for _, req := range m.Requires {
			sib, ok := byPath[req]
			if !ok {
				continue
			}
			if m.Released() && !sib.Released() {
				return nil, fmt.Errorf("%s is released but requires %s, which is not", m.Dir, sib.Dir)
			}
			cmd := exec.Command("go", "mod", "edit", "-require="+req+"@"+version)
			cmd.Dir = filepath.Join(root, m.Dir)
			cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("%s: go mod edit: %v: %s", m.Dir, err, out)
			}
		}
		if m.Released() {
			tag := m.Dir + "/" + version
			if out, _ := git(root, "tag", "--list", tag); out != "" {
				return nil, fmt.Errorf("tag %s exists already", tag)
			}
			tags = append(tags, tag)
		}
	}
	if out, err := git(root, "status", "--porcelain", "--untracked-files=no"); err != nil {
		return nil, err
	} else if out != "" {
		if _, err := git(root, "commit", "--quiet", "--all", "--message", "release "+version+": sibling modules require "+version); err != nil {
			return nil, err
		}
	}
	for _, t := range tags {
		if _, err := git(root, "tag", t); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// checkClean refuses a work tree with uncommitted changes, and one with
// untracked files that .gitignore does not exclude: the tags name the
// commit, so such a file would be in the module a developer tested but not
// in the module a consumer gets.
func checkClean(root string) error {
	out, err := git(root, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return err
	}
	if out != "" {
		return fmt.Errorf("the work tree has uncommitted changes; commit or discard them first:\n%s", out)
	}
	out, err = git(root, "ls-files", "-z", "--others", "--exclude-standard", "--full-name", ":/")
	if err != nil {
		return err
	}
	if out = strings.Trim(out, "\x00"); out != "" {
		names := strings.Split(out, "\x00")
		return fmt.Errorf("the work tree has %d untracked file(s), which the release commit and tags would not hold; commit them, delete them or add them to .gitignore first:\n  %s",
			len(names), strings.Join(names, "\n  "))
	}
	return nil
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
