package testserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RequireEnv is the environment variable that turns a missing server binary
// from a skipped test into a failed one.
const RequireEnv = "SESSIONKIT_REQUIRE_SERVERS"

// ErrNotInstalled is returned by the Start functions when the server's binary
// is not on PATH.
var ErrNotInstalled = errors.New("testserver: not installed")

// readyTimeout bounds how long a server may take to answer its first ping.
const readyTimeout = 10 * time.Second

// Server is one running server process on a loopback port.
type Server struct {
	kind string   // "redis" or "memcached", for messages
	bin  string   // absolute path of the binary
	args []string // arguments, the port included
	port int
	dir  string // working directory; removed by Stop when owned
	ping func(addr string) error

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	output *lockedBuffer
}

// Addr is the server's "127.0.0.1:port" address.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// PID is the server process's id, or 0 when it is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running reports whether the process is still alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Kill stops the process with SIGKILL, as a crash would, and waits for it.
// The server can be started again on the same port with Restart.
func (s *Server) Kill() error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Kill()
	<-done
	return nil
}

// Restart starts a killed server again on the same port and waits until it
// answers.
func (s *Server) Restart() error {
	if s.Running() {
		return fmt.Errorf("testserver: %s on %s is still running", s.kind, s.Addr())
	}
	var err error
	// The port was just released; another process may take it in between,
	// so a few tries are allowed.
	for try := 0; try < 20; try++ {
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Stop kills the process and removes its working directory.
func (s *Server) Stop() error {
	err := s.Kill()
	if s.dir != "" {
		if rmErr := os.RemoveAll(s.dir); err == nil {
			err = rmErr
		}
	}
	return err
}

// Output is what the process printed so far, for failure messages.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.output == nil {
		return ""
	}
	return s.output.String()
}

func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testserver: start %s: %w", s.kind, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done, s.output = cmd, done, out
	s.mu.Unlock()

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-done:
			s.mu.Lock()
			s.cmd, s.done = nil, nil
			s.mu.Unlock()
			return fmt.Errorf("testserver: %s on port %d exited at start: %s", s.kind, s.port, strings.TrimSpace(out.String()))
		default:
		}
		err := s.ping(s.Addr())
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			_ = s.Kill()
			return fmt.Errorf("testserver: %s on port %d not ready after %v: %v; output: %s", s.kind, s.port, readyTimeout, err, strings.TrimSpace(out.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// launch finds a free port (and, when bus is true, a free port+10000 for the
// Redis Cluster bus), builds the arguments for it and starts the server,
// trying another port when the chosen one was taken in between.
func launch(kind, name string, bus bool, dir string, args func(port int) []string, ping func(string) error) (*Server, error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s (%s)", ErrNotInstalled, name, installHint(name))
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := freePort(bus)
		if err != nil {
			return nil, err
		}
		s := &Server{kind: kind, bin: bin, args: args(port), port: port, dir: dir, ping: ping}
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// freePort returns a loopback TCP port that is free now. With bus, the port
// is also below 55536 and port+10000 is free.
func freePort(bus bool) (int, error) {
	for try := 0; try < 50; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("testserver: no free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !bus {
			l.Close()
			return port, nil
		}
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		l.Close()
		if err != nil {
			continue
		}
		l2.Close()
		return port, nil
	}
	return 0, errors.New("testserver: no free port pair for a cluster node")
}

func installHint(name string) string {
	pkg := name
	if name == "redis-cli" {
		pkg = "redis-tools"
	}
	return "install it with `apt-get install -y " + pkg + "` or `make deps`"
}

// ask sends one line to addr and returns the first line of the answer.
func ask(addr, line string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(line + "\r\n")); err != nil {
		return "", err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(reply), err
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 { // keep the start, where startup errors are
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
