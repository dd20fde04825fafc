package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// binDir holds the app binary that the process tests build once.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// appBinary builds the app once per test run, with the race detector when
// the tests have it.
func appBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "sessionkit-app-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "app")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// appProcess is the app binary running on a free loopback port.
type appProcess struct {
	args   []string // the flags it was started with
	cmd    *exec.Cmd
	URL    string
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, once done is closed
}

var urlLine = regexp.MustCompile(`msg="sessionkit example listening" url=(\S+)`)

// startApp starts the app with args (plus -addr 127.0.0.1:0) and env, and
// returns once it logged the address it listens on. The process is killed
// at the end of the test if it still runs.
func startApp(t *testing.T, env []string, args ...string) *appProcess {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the process tests stop the app with SIGINT or SIGTERM, which only Unix delivers")
	}
	cmd := exec.Command(appBinary(t), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &appProcess{args: args, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		// Copy every line, and report the listening URL once.
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.WriteString(line + "\n")
			if m := urlLine.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pipe)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("app stderr:\n%s", p.stderr.String())
		}
	})
	select {
	case p.URL = <-found:
	case <-p.done:
		t.Fatalf("the app exited before listening: %v\n%s", p.err, p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the app did not log its address within 30s:\n%s", p.stderr.String())
	}
	return p
}

// stop sends sig and waits for the process to exit, returning its exit code.
func (p *appProcess) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the app did not exit within 30s of %v", sig)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestSignalShutdown: SIGINT (Ctrl-C) and SIGTERM stop the server cleanly
// and the program exits 0, so `make run` ends without "Error 1".
func TestSignalShutdown(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startApp(t, []string{"SESSION_SECRET=" + testSecret}, "-storage", "memory")
			resp, err := http.Get(p.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /: status %d", resp.StatusCode)
			}
			if code := p.stop(t, sig); code != 0 {
				t.Fatalf("exit code %d after %v, want 0\n%s", code, sig, p.stderr.String())
			}
			out := p.stderr.String()
			for _, want := range []string{`msg="shutting down"`, `msg=stopped`} {
				if !strings.Contains(out, want) {
					t.Fatalf("stderr lacks %s:\n%s", want, out)
				}
			}
		})
	}
}

// TestOneLogFormat: the library's warnings (here the middleware's weak
// secret warning) come out through the app's slog handler, like its own
// lines.
func TestOneLogFormat(t *testing.T) {
	p := startApp(t, []string{"SESSION_SECRET=short"}, "-storage", "memory")
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	out := p.stderr.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "shorter than") {
		t.Fatalf("no weak-secret warning in the app's format:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "time=") {
			t.Errorf("a log line in another format: %q", line)
		}
	}
}

// TestBadFlagsExit: a storage server that does not answer is a clear error
// and exit 1, before the app listens.
func TestBadFlagsExit(t *testing.T) {
	cmd := exec.Command(appBinary(t), "-storage", "redis", "-redis", "127.0.0.1:1", "-addr", "127.0.0.1:0")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit code 1, got %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "app: -storage redis: no Redis answers at 127.0.0.1:1 (-redis)") {
		t.Fatalf("unclear message:\n%s", out)
	}
}

// TestRunArguments: run's errors for bad command lines, before listening.
func TestRunArguments(t *testing.T) {
	t.Setenv("SESSION_SECRET", testSecret)
	defaultLogger := slog.Default()
	t.Cleanup(func() { slog.SetDefault(defaultLogger) }) // run installs its own
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, flag.ErrHelp.Error()},
		{[]string{"-storage", "memory", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"-storage", "memcache", "-memcache", "127.0.0.1:1"}, "-storage memcache: a server at 127.0.0.1:1 (-memcache) does not answer"},
		{[]string{"-storage", "postgres", "-postgres", "postgres://127.0.0.1:1/postgres?sslmode=disable"}, "-storage postgres: no PostgreSQL answers at 127.0.0.1:1 (-postgres)"},
		{[]string{"-storage", "memory", "-seal"}, "-seal applies to -storage cookie only"},
		{[]string{"-storage", "memory", "-addr", "127.0.0.1:-1"}, "invalid port"},
	} {
		err := run(context.Background(), tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run %q: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

var startedLine = regexp.MustCompile(`msg="started a throwaway server" server=(?:"[^"]*"|\S+) addr=(\S+) pid=(\d+)`)

// TestThrowawayServers: `make run STORAGE=redis|redis-cluster|memcache|postgres`
// runs the app with -storage and no address, so it starts its own servers
// (one Redis, a Cluster of 3 masters, a pool of 3 memcached, a PostgreSQL),
// serves pages on them, and on SIGINT exits 0 having stopped every server
// and removed every directory it made.
func TestThrowawayServers(t *testing.T) {
	for _, tc := range []struct {
		storage string
		servers int
		needs   []string // binaries; postgres is looked up like testserver does
		located string   // what the page says about where the session is
	}{
		{"redis", 1, []string{"redis-server"}, ""},
		{"redis-cluster", clusterMasters, []string{"redis-server", "redis-cli"}, "on the master at 127.0.0.1:"},
		{"memcache", memcachePool, []string{"memcached"}, "on the memcached at 127.0.0.1:"},
		{"postgres", 1, nil, "a row of the table sessions (database postgres, at 127.0.0.1:"},
	} {
		t.Run(tc.storage, func(t *testing.T) {
			for _, bin := range tc.needs {
				if _, err := exec.LookPath(bin); err != nil {
					skipOrFail(t, bin+" is not installed")
				}
			}
			if tc.storage == "postgres" && !postgresInstalled() {
				skipOrFail(t, "PostgreSQL is not installed")
			}
			// A TMPDIR of the test's own, which the servers' directories go
			// into, open to the user postgres that PostgreSQL runs as under
			// root (hence under /tmp, not under a private temporary folder).
			base := ""
			if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
				base = "/tmp"
			}
			tmp, err := os.MkdirTemp(base, "sessionkit-app-servers-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(tmp) })
			if err := os.Chmod(tmp, 0o777); err != nil {
				t.Fatal(err)
			}

			p := startApp(t, []string{"SESSION_SECRET=" + testSecret, "TMPDIR=" + tmp}, "-storage", tc.storage)
			var pids []int
			for _, m := range startedLine.FindAllStringSubmatch(p.stderr.String(), -1) {
				var pid int
				fmt.Sscan(m[2], &pid)
				pids = append(pids, pid)
			}
			if len(pids) != tc.servers {
				t.Fatalf("started %d servers, want %d:\n%s", len(pids), tc.servers, p.stderr.String())
			}
			for _, pid := range pids {
				if err := syscall.Kill(pid, 0); err != nil {
					t.Fatalf("server pid %d is not running: %v", pid, err)
				}
			}
			for i := 0; i < 2; i++ { // a new session, then the saved one
				resp, err := http.Get(p.URL + "/")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<strong>"+tc.storage+"</strong>") {
					t.Fatalf("GET /: status %d\n%s", resp.StatusCode, body)
				}
				if tc.located != "" {
					mustContain(t, between(string(body), `<td id="located">`, "</td>"), tc.located)
				}
			}

			if code := p.stop(t, syscall.SIGINT); code != 0 {
				t.Fatalf("exit code %d after SIGINT, want 0\n%s", code, p.stderr.String())
			}
			mustContain(t, p.stderr.String(), `msg=stopped`, fmt.Sprintf(`msg="stopped the throwaway servers" count=%d`, tc.servers))
			for _, pid := range pids {
				if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
					t.Errorf("server pid %d still exists after the app exited (kill 0: %v)", pid, err)
				}
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				var names []string
				for _, e := range left {
					names = append(names, e.Name())
				}
				t.Errorf("left in TMPDIR: %q", names)
			}
		})
	}
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if testserver.Required() {
		t.Fatal(why)
	}
	t.Skip(why)
}

// postgresInstalled reports whether initdb is on PATH or in Debian's
// /usr/lib/postgresql/<version>/bin, where testserver looks.
func postgresInstalled() bool {
	if _, err := exec.LookPath("initdb"); err == nil {
		return true
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	return len(m) > 0
}

// TestMetricsFlag: the app started with -metrics serves the session metrics
// at GET /metrics in the Prometheus text format: after a few pages, the
// read and save histograms (in seconds) have counts. Without it there is no
// such route.
func TestMetricsFlag(t *testing.T) {
	p := startApp(t, []string{"SESSION_SECRET=" + testSecret}, "-storage", "memory", "-metrics")
	cl := newBrowser(t)
	get(t, cl, p.URL+"/")
	get(t, cl, p.URL+"/")
	signIn(t, p.URL, cl)
	code, body := get(t, http.DefaultClient, p.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", code)
	}
	mustHaveHistograms(t, body)
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	plain := startApp(t, []string{"SESSION_SECRET=" + testSecret}, "-storage", "memory")
	if code, _ := get(t, http.DefaultClient, plain.URL+"/metrics"); code != http.StatusNotFound {
		t.Fatalf("without -metrics, GET /metrics: status %d, want 404", code)
	}
}
