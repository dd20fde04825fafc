package docs

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkTimeout bounds one Check: a cold build cache compiles the library
// modules and their dependencies (go-redis, pgx, gomemcache) once.
const checkTimeout = 5 * time.Minute

// TestREADMEBlocks builds and vets every ```go block of every README.md of
// the repository (the parent folder of this module), one subtest per block,
// named by its README and line. A block whose first line starts with
// "// Excerpt" is skipped; every other one must be a complete Go file.
func TestREADMEBlocks(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := CollectBlocks(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 {
		t.Fatalf("no ```go block in any README.md under %s", root)
	}
	ctx, cancel := context.WithTimeout(t.Context(), checkTimeout)
	defer cancel()
	failures, err := Check(ctx, ".", blocks)
	if err != nil {
		t.Error(err)
	}
	failed := map[string][]Failure{}
	for _, f := range failures {
		failed[f.Block.Where()] = append(failed[f.Block.Where()], f)
	}
	excerpts := 0
	for _, b := range blocks {
		if b.Excerpt() {
			excerpts++
		}
	}
	t.Logf("%d ```go blocks (%d excerpts, not built); %d fail", len(blocks), excerpts, len(failed))
	for _, b := range blocks {
		t.Run(b.Where(), func(t *testing.T) {
			if b.Excerpt() {
				t.Skip("an excerpt (// Excerpt)")
			}
			for _, f := range failed[b.Where()] {
				t.Error(f)
			}
		})
	}
}

// TestCheckReportsBadBlocks runs the check over testdata/fixture, whose
// README blocks say what must become of them: the blocks marked BAD-… fail
// at their own README line, the others pass or are skipped.
func TestCheckReportsBadBlocks(t *testing.T) {
	t.Parallel()
	root := filepath.Join("testdata", "fixture")
	blocks, err := CollectBlocks(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), checkTimeout)
	defer cancel()
	failures, err := Check(ctx, ".", blocks)
	if err != nil {
		t.Fatal(err)
	}

	type want struct {
		where, step, message string
	}
	wants := []want{
		{blockAfter(t, root, "README.md", "BAD-BUILD"), "build", "README.md:" + itoa(lineOf(t, root, "README.md", `password := "open sesame"`)) + ":2: declared and not used: password"},
		{blockAfter(t, root, "README.md", "BAD-CLAUSE"), "Go file", "expected 'package'"},
		{blockAfter(t, root, "README.md", "BAD-VET"), "vet", "README.md:" + itoa(lineOf(t, root, "README.md", `fmt.Printf("%d\n", "text")`)) + ":14: fmt.Printf format %d has arg \"text\" of wrong type string"},
		{blockAfter(t, root, "README.md", "BAD-MAIN"), "Go file", "package main has no func main"},
		{blockAfter(t, root, "sub/README.md", "BAD-TYPE"), "build", "sub/README.md:" + itoa(lineOf(t, root, "sub/README.md", `func Answer`)) + ":28: cannot use \"forty-two\""},
	}
	if len(failures) != len(wants) {
		for _, f := range failures {
			t.Log(f)
		}
		t.Fatalf("%d failures, want %d", len(failures), len(wants))
	}
	for i, w := range wants {
		f := failures[i]
		if f.Block.Where() != w.where || f.Step != w.step || !strings.Contains(strings.Join(f.Lines, "\n"), w.message) {
			t.Errorf("failure %d:\n%s\nwant %s: %s failed with %q", i, f, w.where, w.step, w.message)
		}
	}

	// Every block was seen: 7 in README.md (one of them an excerpt), 1 in
	// sub/README.md, none in vendor/.
	if len(blocks) != 8 {
		t.Errorf("%d blocks, want 8", len(blocks))
	}
	for _, b := range blocks {
		if strings.HasPrefix(b.README, "vendor/") {
			t.Errorf("block in a vendor folder: %s", b.Where())
		}
	}
}

func TestExtractBlocks(t *testing.T) {
	md := "# t\n" + // 1
		"```go\n" + // 2
		"package a\n" + // 3
		"```\n" + // 4
		"```\n" + // 5: no info string
		"x := 1\n" + // 6
		"```\n" + // 7
		"1. item\n" + // 8
		"   ```go\n" + // 9
		"   // Excerpt: of something\n" + // 10
		"   func F()\n" + // 11
		"   ```\n" + // 12
		"````go\n" + // 13
		"```\n" + // 14: shorter than the fence, so code
		"````\n" + // 15
		"```` ```go ```` is inline code, not a fence\n" // 16
	blocks, err := ExtractBlocks("t.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{README: "t.md", Line: 3, Code: "package a\n"},
		{README: "t.md", Line: 10, Code: "// Excerpt: of something\nfunc F()\n"},
		{README: "t.md", Line: 14, Code: "```\n"},
	}
	if len(blocks) != len(want) {
		t.Fatalf("got %d blocks %+v, want %d", len(blocks), blocks, len(want))
	}
	for i := range want {
		if blocks[i] != want[i] {
			t.Errorf("block %d = %+v, want %+v", i, blocks[i], want[i])
		}
	}
	if blocks[0].Excerpt() || !blocks[1].Excerpt() {
		t.Errorf("Excerpt: %v %v, want false true", blocks[0].Excerpt(), blocks[1].Excerpt())
	}

	if _, err := ExtractBlocks("t.md", []byte("```go\npackage a\n")); err == nil ||
		!strings.Contains(err.Error(), "t.md:1: the ```go block is never closed") {
		t.Errorf("unclosed block: err = %v", err)
	}
}

// lineOf returns the line of file (under root) that contains text.
func lineOf(t *testing.T, root, file, text string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, text) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, text)
	return 0
}

// blockAfter returns "file:line" of the first line of code of the first
// ```go block after the line that contains marker.
func blockAfter(t *testing.T, root, file, marker string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i := lineOf(t, root, file, marker); i < len(lines); i++ {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), "```go") || strings.HasPrefix(strings.TrimSpace(lines[i]), "````go") {
			return file + ":" + itoa(i+2)
		}
	}
	t.Fatalf("%s has no ```go block after %q", file, marker)
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
