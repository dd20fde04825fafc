package remixshared

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNodeMissing is returned by StartNode when node is not on PATH or the
// Node app's packages are not installed.
var ErrNodeMissing = errors.New("remixshared: the Node app cannot start")

// NodeConfig says how to start the Node app (node/server.mjs).
type NodeConfig struct {
	// Dir is the folder of server.mjs and its node_modules. Required.
	Dir string
	// Secrets sign the session cookie; the same as the Go app's. Required.
	Secrets []string
	// PeerURL is the Go app's base URL. Required.
	PeerURL string
	// Storage is "cookie" or "redis".
	Storage string
	// RedisAddr is the Redis server's host:port, for Storage "redis".
	RedisAddr string
	// Port is the port to listen on; 0 picks a free one.
	Port int
	// Log gets the app's stderr (and stdout after the first line); nil
	// discards it.
	Log io.Writer
}

// NodeApp is a running Node app.
type NodeApp struct {
	// URL is where it listens, "http://127.0.0.1:PORT".
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the process's exit, valid once done is closed
}

// nodeStartTimeout bounds how long the Node app may take to listen: loading
// the packages takes a few seconds on a busy machine.
const nodeStartTimeout = 30 * time.Second

// StartNode starts the Node app and waits until it listens. The caller must
// call Stop.
func StartNode(cfg NodeConfig) (*NodeApp, error) {
	switch {
	case cfg.Storage != "cookie" && cfg.Storage != "redis":
		return nil, fmt.Errorf("remixshared: NodeConfig.Storage is %q, want cookie or redis", cfg.Storage)
	case cfg.Storage == "redis" && cfg.RedisAddr == "":
		return nil, errors.New("remixshared: NodeConfig.RedisAddr is empty")
	case len(cfg.Secrets) == 0:
		return nil, errors.New("remixshared: NodeConfig.Secrets is empty; both apps need the same secret")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node is not on PATH (Debian: apt-get install nodejs npm)", ErrNodeMissing)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "node_modules", "@remix-run", "session-middleware")); err != nil {
		return nil, fmt.Errorf("%w: its packages are not installed (run: cd %s && npm ci)", ErrNodeMissing, cfg.Dir)
	}
	args := []string{"server.mjs",
		"--port", fmt.Sprint(cfg.Port),
		"--peer", cfg.PeerURL,
		"--storage", cfg.Storage,
		"--cookie", CookieName,
		"--prefix", RedisPrefix,
		"--idle", fmt.Sprint(int(IdleTimeout / time.Second)),
	}
	if cfg.Storage == "redis" {
		args = append(args, "--redis", "redis://"+cfg.RedisAddr)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = cfg.Dir
	cmd.Env = append(os.Environ(), "SESSION_SECRET="+strings.Join(cfg.Secrets, ","))
	cmd.SysProcAttr = sysProcAttr()
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	var stderr bytes.Buffer
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		stderr.Write(p)
		return logw.Write(p)
	})
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &NodeApp{cmd: cmd, done: make(chan struct{})}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "listening on "); ok && !found {
				found = true
				listening <- u
				continue
			}
			fmt.Fprintln(logw, line)
		}
		if !found {
			close(listening)
		}
		// Wait only after the pipe is drained, as os/exec asks.
		n.err = cmd.Wait()
		close(n.done)
	}()
	select {
	case u, ok := <-listening:
		if ok {
			n.URL = u
			return n, nil
		}
		<-n.done
		mu.Lock()
		defer mu.Unlock()
		return nil, fmt.Errorf("remixshared: the Node app exited before listening (%v): %s", n.err, strings.TrimSpace(stderr.String()))
	case <-time.After(nodeStartTimeout):
		n.Stop()
		return nil, fmt.Errorf("remixshared: the Node app did not listen within %v", nodeStartTimeout)
	}
}

// Done is closed when the Node process has exited.
func (n *NodeApp) Done() <-chan struct{} { return n.done }

// PID is the Node process's id.
func (n *NodeApp) PID() int { return n.cmd.Process.Pid }

// Stop sends SIGTERM (the app closes its server and Redis connection), then
// SIGKILL if it has not exited after five seconds, and waits for it.
func (n *NodeApp) Stop() error {
	select {
	case <-n.done:
		return nil
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(5 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
	return n.err
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
