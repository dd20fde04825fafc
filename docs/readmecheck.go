// Package docs holds the project's research notes (reference/) and the test
// that keeps the Go code of every README.md compiling: readme_test.go
// extracts each ```go block, writes it into a temporary package of this
// module (whose go.mod requires every library module through replace
// directives), compiles them all with one go command and vets them with
// another.
//
// A block is either a complete Go file, starting with its package clause,
// or an excerpt whose first line is a comment starting with "// Excerpt"
// (for instance "// Excerpt: the API, without bodies"), which the check
// skips. The README's text should say that such a block is an excerpt too.
package docs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// excerptMarker starts the first line of a block that is not a whole file.
const excerptMarker = "// Excerpt"

// Block is one ```go block of a README.
type Block struct {
	README string // path of the README, slash-separated, relative to the root searched
	Line   int    // line of the README that holds the block's first line of code
	Code   string // the block's lines, without the fences
}

// Excerpt reports whether the block is marked as an excerpt, which the
// check does not build.
func (b Block) Excerpt() bool {
	first, _, _ := strings.Cut(strings.TrimLeft(b.Code, "\n"), "\n")
	return strings.HasPrefix(strings.TrimSpace(first), excerptMarker)
}

// Where is "path:line", the block's place in its README.
func (b Block) Where() string { return fmt.Sprintf("%s:%d", b.README, b.Line) }

// Failure is a block that is not a complete Go file, or does not build or vet.
type Failure struct {
	Block Block
	Step  string   // "Go file", "build" or "vet"
	Lines []string // the go command's messages, with README positions
}

func (f Failure) String() string {
	return fmt.Sprintf("%s: %s failed:\n\t%s", f.Block.Where(), f.Step, strings.Join(f.Lines, "\n\t"))
}

// skipDir reports whether FindREADMEs does not descend into a directory:
// version control, installed packages, test fixtures, and the folders the go
// command ignores too (a leading "." or "_", which also hides this check's
// own temporary packages).
func skipDir(name string) bool {
	switch name {
	case "node_modules", "testdata", "vendor":
		return true
	}
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// FindREADMEs returns the README.md files under root, slash-separated and
// relative to root, sorted, leaving out skipped folders and, when root is in
// a git work tree, the files git ignores (generated output).
func FindREADMEs(root string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == "README.md" {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ignored := gitIgnored(root, found)
	kept := found[:0]
	for _, f := range found {
		if !ignored[f] {
			kept = append(kept, f)
		}
	}
	sort.Strings(kept)
	return kept, nil
}

// gitIgnored returns the paths that git ignores, or none when git is missing
// or root is not in a work tree.
func gitIgnored(root string, paths []string) map[string]bool {
	ignored := map[string]bool{}
	if len(paths) == 0 {
		return ignored
	}
	cmd := exec.Command("git", "check-ignore", "--stdin")
	cmd.Dir = root
	cmd.Stdin = strings.NewReader(strings.Join(paths, "\n") + "\n")
	out, _ := cmd.Output() // exit 1: none ignored; 128: not a work tree
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			ignored[line] = true
		}
	}
	return ignored
}

// ExtractBlocks returns the ```go blocks of one Markdown file. name is the
// README's path as reported. A fence may be indented (in a list item); the
// block's lines lose that indentation. The info string must be "go",
// optionally followed by more words.
func ExtractBlocks(name string, markdown []byte) ([]Block, error) {
	var (
		blocks []Block
		cur    *Block
		lines  []string
		fence  string // the opening fence's backticks, while in a block
		indent string
		inGo   bool
	)
	sc := bufio.NewScanner(bytes.NewReader(markdown))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimLeft(line, " \t")
		if fence == "" {
			ticks := leadingBackticks(trimmed)
			if len(ticks) < 3 || strings.Contains(trimmed[len(ticks):], "`") {
				continue // not a fence: the info string of one has no backtick
			}
			fence, indent = ticks, line[:len(line)-len(trimmed)]
			info := strings.Fields(trimmed[len(ticks):])
			inGo = len(info) > 0 && info[0] == "go"
			if inGo {
				cur, lines = &Block{README: name, Line: n + 1}, nil
			}
			continue
		}
		if ticks := leadingBackticks(trimmed); len(ticks) >= len(fence) && strings.TrimSpace(trimmed[len(ticks):]) == "" {
			if inGo {
				cur.Code = strings.Join(lines, "\n") + "\n"
				blocks = append(blocks, *cur)
			}
			fence, inGo = "", false
			continue
		}
		if inGo {
			lines = append(lines, strings.TrimPrefix(line, indent))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if fence != "" && inGo {
		return nil, fmt.Errorf("%s:%d: the ```go block is never closed", name, cur.Line-1)
	}
	return blocks, nil
}

func leadingBackticks(s string) string {
	i := 0
	for i < len(s) && s[i] == '`' {
		i++
	}
	return s[:i]
}

// CollectBlocks extracts the ```go blocks of every README under root.
func CollectBlocks(root string) ([]Block, error) {
	readmes, err := FindREADMEs(root)
	if err != nil {
		return nil, err
	}
	var all []Block
	for _, r := range readmes {
		md, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(r)))
		if err != nil {
			return nil, err
		}
		blocks, err := ExtractBlocks(r, md)
		if err != nil {
			return nil, err
		}
		all = append(all, blocks...)
	}
	return all, nil
}

// Check builds and vets every block that is not an excerpt. It writes block
// i into the package directory b<i> of a temporary folder inside moduleDir
// (a folder whose name starts with "_", so that no "./..." pattern of the
// module sees it, removed afterwards), so that moduleDir's go.mod, or the
// workspace that holds it, resolves the imports. It compiles all of them
// with one `go list -export` (the compiler, as `go build` runs it, without
// the link, which would cost a second or more per program) and runs one
// `go vet` over those that compiled, and returns a Failure for each block
// that is not a complete file, or that failed to build or to vet, with the
// go command's messages pointing into the README. The error is
// for what the check could not attribute to a block: the go command did not
// run, or failed outside the blocks (a library that does not compile).
func Check(ctx context.Context, moduleDir string, blocks []Block) ([]Failure, error) {
	tmp, err := os.MkdirTemp(moduleDir, "_readmecheck")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	var failures []Failure
	byDir := map[string]Block{}
	var dirs []string
	for i, b := range blocks {
		if b.Excerpt() {
			continue
		}
		if msg := fileError(b); msg != "" {
			failures = append(failures, Failure{Block: b, Step: "Go file", Lines: []string{msg}})
			continue
		}
		dir := fmt.Sprintf("b%03d", i)
		if err := os.Mkdir(filepath.Join(tmp, dir), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(tmp, dir, "block.go"), []byte(b.Code), 0o644); err != nil {
			return nil, err
		}
		byDir[dir] = b
		dirs = append(dirs, dir)
	}
	if len(dirs) == 0 {
		return failures, nil
	}

	built, buildFailures, buildErr := runGo(ctx, tmp, "build", dirs, byDir)
	failures = append(failures, buildFailures...)
	var vetErr error
	if buildErr == nil && len(built) > 0 {
		var vetFailures []Failure
		_, vetFailures, vetErr = runGo(ctx, tmp, "vet", built, byDir)
		failures = append(failures, vetFailures...)
	}
	sort.SliceStable(failures, func(i, j int) bool {
		a, b := failures[i].Block, failures[j].Block
		if a.README != b.README {
			return a.README < b.README
		}
		return a.Line < b.Line
	})
	return failures, errors.Join(buildErr, vetErr)
}

// fileError says why a block that is not an excerpt is not a complete Go
// file, or returns "": it has no package clause, or it is a package main
// without a func main (which only the linker, not run here, would report).
// Other syntax errors are left to the compiler.
func fileError(b Block) string {
	f, err := parser.ParseFile(token.NewFileSet(), "block.go", b.Code, parser.PackageClauseOnly)
	if err == nil {
		if f.Name.Name == "main" && !hasMainFunc(b.Code) {
			return fmt.Sprintf("%s: package main has no func main: make it a complete program, "+
				"or make its first line a comment starting with %q and say in the text that it is an excerpt",
				b.Where(), excerptMarker)
		}
		return ""
	}
	msg := err.Error()
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		msg = list[0].Error() // the first is the one that matters
	}
	return fmt.Sprintf("not a complete Go file (%s): start it with its package clause, "+
		"or make its first line a comment starting with %q and say in the text that it is an excerpt",
		relocate(msg, b), excerptMarker)
}

// hasMainFunc reports whether code declares func main, or does not parse
// (the compiler then reports why).
func hasMainFunc(code string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "block.go", code, parser.SkipObjectResolution)
	if err != nil {
		return true
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "main" {
			return true
		}
	}
	return false
}

var (
	// a position in a block file, as the go command prints it:
	// "b003/block.go:12:5", "./b003/block.go:12", "/tmp/…/b003/block.go:12:5"
	blockPos = regexp.MustCompile(`(?:[^\s:]*/)?(b\d+)/block\.go(?::(\d+))?`)
	// the header of a package's messages: "# github.com/…/_readmecheck123/b003"
	// or "# [github.com/…/b003]" from vet
	pkgHeader = regexp.MustCompile(`^# \[?\S*/(b\d+)\]?$`)
	// the parser's own position in fileError
	parserPos = regexp.MustCompile(`^block\.go:(\d+)`)
)

func relocate(msg string, b Block) string {
	return parserPos.ReplaceAllStringFunc(msg, func(m string) string {
		var line int
		fmt.Sscanf(m, "block.go:%d", &line)
		return fmt.Sprintf("%s:%d", b.README, b.Line+line-1)
	})
}

// runGo runs the go command on the package directories dirs of tmp, for
// step "build" (`go list -export`, which compiles them) or "vet", and sorts
// the messages by block. It returns the directories that passed.
func runGo(ctx context.Context, tmp, step string, dirs []string, byDir map[string]Block) ([]string, []Failure, error) {
	args := []string{"vet"}
	if step == "build" {
		args = []string{"list", "-export", "-f", "{{.ImportPath}}"}
	}
	for _, d := range dirs {
		args = append(args, "./"+d)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // the messages; stdout has only the import paths
	_, err := cmd.Output()
	out := stderr.Bytes()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, nil, fmt.Errorf("%s: go %s: %w", step, args[0], err)
	}
	if ctx.Err() != nil {
		return nil, nil, fmt.Errorf("%s: go %s: %w", step, args[0], ctx.Err())
	}

	messages := map[string][]string{}
	var unplaced []string
	current := ""
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "# ") {
			current = ""
			if m := pkgHeader.FindStringSubmatch(line); m != nil {
				current = m[1]
			}
			continue
		}
		dir := current
		if m := blockPos.FindStringSubmatch(line); m != nil {
			dir = m[1]
		}
		line = blockPos.ReplaceAllStringFunc(line, func(s string) string {
			m := blockPos.FindStringSubmatch(s)
			b, ok := byDir[m[1]]
			if !ok {
				return s
			}
			if m[2] == "" {
				return b.README
			}
			var n int
			fmt.Sscanf(m[2], "%d", &n)
			return fmt.Sprintf("%s:%d", b.README, b.Line+n-1)
		})
		if _, ok := byDir[dir]; ok {
			messages[dir] = append(messages[dir], line)
		} else {
			unplaced = append(unplaced, line)
		}
	}

	var passed []string
	var failures []Failure
	for _, d := range dirs {
		if msgs, ok := messages[d]; ok {
			failures = append(failures, Failure{Block: byDir[d], Step: step, Lines: msgs})
		} else {
			passed = append(passed, d)
		}
	}
	if err != nil && (len(failures) == 0 || len(unplaced) > 0) {
		// The go command failed outside the blocks (a library that does not
		// build, a module that cannot be loaded): say what it said.
		return passed, failures, fmt.Errorf("%s: go %s failed outside the README blocks:\n%s", step, args[0], strings.Join(unplaced, "\n"))
	}
	return passed, failures, nil
}
