// Command release tags sessionkit's library modules for one version, and
// can write a file-based module proxy from the tags to try a release before
// it is pushed.
//
// The repository is a multi-module repository: each folder with a go.mod is
// a module, and sibling modules require each other and point at each other
// with relative replace directives, which consumers ignore. A release
// therefore (1) rewrites every sibling require to the new version, (2)
// commits that, and (3) tags each library module with its folder as the
// prefix, as the go command expects (cookie/v0.2.0, session/v0.2.0, …).
// After it, `go get github.com/sessionkit/sessionkit/session-middleware@v0.2.0`
// finds session@v0.2.0 and cookie@v0.2.0 through the module proxy.
//
// Usage, from the repository root (what `make release VERSION=…` runs):
//
//	go run ./release -repo . v0.2.0          rewrite requires, commit, tag
//	go run ./release -repo . -proxy DIR      write GOPROXY=file://DIR from the tags
//
// A release refuses uncommitted changes and untracked files that .gitignore
// does not exclude. Nothing is pushed: the command prints the git push line
// to run. With -proxy it prints how a consumer module uses the proxy: GOPROXY
// with the file proxy first, and GONOSUMDB for the sessionkit modules only,
// which the public checksum database cannot know before they are published.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	repo := flag.String("repo", ".", "the repository's root folder")
	proxy := flag.String("proxy", "", "write a file-based module proxy of every module tag into this folder instead of releasing")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: release [-repo DIR] vX.Y.Z\n       release [-repo DIR] -proxy DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	if *proxy != "" {
		if flag.NArg() != 0 {
			flag.Usage()
			os.Exit(2)
		}
		dir, err := filepath.Abs(*proxy) // a file:// URL needs an absolute path
		if err != nil {
			fmt.Fprintln(os.Stderr, "release:", err)
			os.Exit(1)
		}
		mods, err := WriteProxy(*repo, dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "release:", err)
			os.Exit(1)
		}
		for _, m := range mods {
			fmt.Println(m)
		}
		fmt.Print(ConsumerInstructions(dir, mods))
		return
	}

	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	tags, err := Release(*repo, flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
	for _, t := range tags {
		fmt.Println("tagged", t)
	}
	fmt.Printf("push with: git push origin HEAD")
	for _, t := range tags {
		fmt.Printf(" %s", t)
	}
	fmt.Println()
}

// ModulePrefix is the path prefix of every sessionkit module. GONOSUMDB
// names it so that the go command records these modules' hashes from what
// the file proxy serves instead of asking the checksum database, which knows
// only published versions; every other module is still checked against it.
const ModulePrefix = "github.com/sessionkit/sessionkit"

// ConsumerInstructions tells how a module outside the repository gets the
// modules of a file proxy in dir (absolute), given the "path@version" lines
// WriteProxy returned.
func ConsumerInstructions(dir string, mods []string) string {
	example := ModulePrefix + "/session-middleware@VERSION"
	for _, m := range mods {
		if strings.HasPrefix(m, ModulePrefix+"/session-middleware@") {
			example = m // the last listed; any would do
		}
	}
	url := filepath.ToSlash(dir)
	if !strings.HasPrefix(url, "/") {
		url = "/" + url // file:///C:/… on Windows
	}
	return fmt.Sprintf(`
To use these modules from your own module (outside this repository), run there:

	export GOPROXY=file://%s,https://proxy.golang.org,direct
	export GONOSUMDB=%s
	go get %s
`, url, ModulePrefix, example)
}
