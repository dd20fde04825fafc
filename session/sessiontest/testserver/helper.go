package testserver

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Helper is the running test binary started again as a second process that
// runs one test of its own, for tests of what holds between processes
// (locks, a storage that two servers share). The helper test recognises
// its role by an environment variable the caller passes, and skips
// otherwise. The two talk in lines: the helper prints lines that the test
// waits for with Expect, and reads the ones the test Sends; closing its
// standard input (Wait) tells it to finish.
type Helper struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr lockedBuffer

	mu     sync.Mutex
	out    []string // the lines read, for failure messages
	waited bool
	err    error
}

// StartHelper starts the test binary running only the test named test,
// with env (KEY=value) added to this process's environment. The helper
// process is waited for when the test ends, if Wait was not called.
func StartHelper(t testing.TB, test string, env ...string) *Helper {
	t.Helper()
	h := &Helper{t: t, cmd: exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")}
	h.cmd.Env = append(os.Environ(), env...)
	h.cmd.Stderr = &h.stderr
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h.lines = bufio.NewScanner(stdout)
	t.Cleanup(func() { h.Wait() })
	return h
}

// Expect reads the helper's output until the line want, and fails the test
// (with what the helper printed) when the helper ends first.
func (h *Helper) Expect(want string) {
	h.t.Helper()
	for h.lines.Scan() {
		line := h.lines.Text()
		h.mu.Lock()
		h.out = append(h.out, line)
		h.mu.Unlock()
		if line == want {
			return
		}
	}
	err := h.Wait()
	h.t.Fatalf("the helper process ended before printing %q (%v):\n%s", want, err, h.Output())
}

// Send writes line (and a newline) to the helper's standard input.
func (h *Helper) Send(line string) {
	h.t.Helper()
	if _, err := io.WriteString(h.stdin, line+"\n"); err != nil {
		h.t.Fatalf("writing to the helper process: %v", err)
	}
}

// Wait closes the helper's standard input, reads the rest of its output and
// waits for it to exit, and returns how it ended (with its output in the
// error). A second call returns the first one's result.
func (h *Helper) Wait() error {
	h.mu.Lock()
	if h.waited {
		defer h.mu.Unlock()
		return h.err
	}
	h.waited = true
	h.mu.Unlock()
	h.stdin.Close()
	var rest []string
	for h.lines.Scan() {
		rest = append(rest, h.lines.Text())
	}
	err := h.cmd.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.out = append(h.out, rest...)
	if err != nil {
		h.err = fmt.Errorf("the helper process: %w\n%s", err, h.outputLocked())
	}
	return h.err
}

// Output returns what the helper printed so far, on both outputs.
func (h *Helper) Output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.outputLocked()
}

func (h *Helper) outputLocked() string {
	return strings.Join(h.out, "\n") + "\n" + h.stderr.String()
}

// Running reports whether the helper process has not exited yet.
func (h *Helper) Running() bool {
	return h.cmd.Process.Signal(syscall.Signal(0)) == nil
}
