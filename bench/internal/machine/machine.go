// Package machine describes the machine and the code a load run measures,
// for the header of its report.
package machine

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Describe returns the time, the commit under test, the cores, the Go
// version and the load average at the start of a run.
func Describe() string {
	load, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(load))
	avg := "?"
	if len(f) >= 3 {
		avg = strings.Join(f[:3], " ")
	}
	return fmt.Sprintf("%s, %s, %d cores, %s, load average %s at the start", time.Now().UTC().Format("2006-01-02 15:04 UTC"), commit(), runtime.NumCPU(), runtime.Version(), avg)
}

// commit names the code under test: the repository's HEAD, and how many
// tracked files differ from it.
func commit() string {
	head, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "commit unknown"
	}
	out := "commit " + strings.TrimSpace(string(head))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
		if n := strings.Count(string(st), "\n"); n > 0 {
			out += fmt.Sprintf(" with %d changed files", n)
		}
	}
	return out
}
