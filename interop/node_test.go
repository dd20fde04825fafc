package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireEnv makes a missing node or node_modules a test failure instead
// of a skip. CI sets it to 1; "", "0" and "false" mean not required.
const requireEnv = "SESSIONKIT_REQUIRE_INTEROP"

// callTimeout bounds one request to the helper, so a hung node fails the
// test instead of hanging it.
const callTimeout = 20 * time.Second

// nodeDir is the folder of the Node helper and its node_modules.
const nodeDir = "node"

func interopRequired() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(requireEnv))) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

// nodeMissing reports why the helper cannot run, or "" when it can.
func nodeMissing() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not on PATH"
	}
	for _, pkg := range []string{"cookie", "session"} {
		p := filepath.Join(nodeDir, "node_modules", "@remix-run", pkg, "package.json")
		if _, err := os.Stat(p); err != nil {
			return fmt.Sprintf("%s is missing (run: cd interop/node && npm ci)", p)
		}
	}
	return ""
}

// remix is a running Node helper (node/cookie.mjs) that answers JSON-lines
// requests with the real @remix-run packages. Safe for concurrent use:
// calls are serialized.
type remix struct {
	*proc
	t testing.TB // where failures go
}

// with returns the same helper reporting to t (a subtest, say).
func (r *remix) with(t testing.TB) *remix { return &remix{proc: r.proc, t: t} }

// proc is the node process behind one or more remix values.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte // response lines from stdout; closed when stdout ends
	stderr *lockedBuffer

	mu     sync.Mutex
	nextID int64
}

// startRemix starts the helper for one test and stops it in t.Cleanup.
// Extra handler modules (paths relative to interop/node, such as
// "session.mjs") are loaded into the same process. Without node or
// node_modules the test is skipped, or fails when SESSIONKIT_REQUIRE_INTEROP
// is set.
func startRemix(t testing.TB, modules ...string) *remix {
	t.Helper()
	if why := nodeMissing(); why != "" {
		if interopRequired() {
			t.Fatalf("interop tests cannot run: %s (%s is set, so this is a failure)", why, requireEnv)
		}
		t.Skipf("skipping interop test: %s; set %s=1 to make this a failure", why, requireEnv)
	}
	args := append([]string{"cookie.mjs"}, modules...)
	cmd := exec.Command("node", args...)
	cmd.Dir = nodeDir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &remix{t: t, proc: &proc{cmd: cmd, stdin: stdin, lines: make(chan []byte, 1), stderr: &lockedBuffer{}}}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node: %v", err)
	}
	go func() {
		defer close(r.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
		for sc.Scan() {
			r.lines <- append([]byte(nil), sc.Bytes()...)
		}
	}()
	t.Cleanup(func() {
		stdin.Close() // the helper exits at end of input
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if s := r.stderr.String(); s != "" && t.Failed() {
			t.Logf("node stderr:\n%s", s)
		}
	})
	return r
}

// remixError is an exception thrown by the Remix code in the helper.
type remixError struct{ Name, Message string }

func (e *remixError) Error() string { return e.Name + ": " + e.Message }

// call sends one request (a JSON object; "id" is added) and decodes the
// result into out (which may be nil). An exception in the helper is
// returned as a *remixError; a broken helper fails the test.
func (r *remix) call(req map[string]any, out any) error {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextID++
	id := r.nextID
	msg := make(map[string]any, len(req)+1)
	for k, v := range req {
		msg[k] = v
	}
	msg["id"] = id
	line, err := json.Marshal(msg)
	if err != nil {
		r.t.Fatalf("encoding request: %v", err)
	}
	if _, err := r.stdin.Write(append(line, '\n')); err != nil {
		r.t.Fatalf("writing to node: %v\nnode stderr:\n%s", err, r.stderr.String())
	}
	var resp struct {
		ID        int64           `json:"id"`
		Result    json.RawMessage `json:"result"`
		Error     *string         `json:"error"`
		ErrorName string          `json:"errorName"`
	}
	select {
	case b, ok := <-r.lines:
		if !ok {
			r.t.Fatalf("node exited while handling %s\nnode stderr:\n%s", line, r.stderr.String())
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			r.t.Fatalf("bad response %q to %s: %v", b, line, err)
		}
	case <-time.After(callTimeout):
		r.t.Fatalf("no answer from node in %v to %s\nnode stderr:\n%s", callTimeout, line, r.stderr.String())
	}
	if resp.ID != id {
		r.t.Fatalf("response id %d, want %d (request %s)", resp.ID, id, line)
	}
	if resp.Error != nil {
		return &remixError{Name: resp.ErrorName, Message: *resp.Error}
	}
	if out != nil {
		if err := json.Unmarshal(resp.Result, out); err != nil {
			r.t.Fatalf("decoding result %s of %s: %v", resp.Result, line, err)
		}
	}
	return nil
}

// mustCall is call that fails the test on a Remix exception.
func (r *remix) mustCall(req map[string]any, out any) {
	r.t.Helper()
	if err := r.call(req, out); err != nil {
		r.t.Fatalf("remix %v: %v", req["op"], err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil // keep the first MB
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
