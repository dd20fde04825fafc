package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// appSecret is the example app's SESSION_SECRET: fixed, so that a restarted
// app still verifies the users' cookies.
const appSecret = "sessionkit-chaos-0123456789abcdef0123456789"

// buildApp builds examples/app into dir and returns the binary's path.
func buildApp(examplesDir, dir string) (string, error) {
	bin := filepath.Join(dir, "example-app")
	build := exec.Command("go", "build", "-o", bin, "./app")
	build.Dir = examplesDir
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building the example app in %s: %w", examplesDir, err)
	}
	return bin, nil
}

// appFlags is the app's command line in scenario sc, less -addr: its
// storage, the flags sc's prepare set (server addresses, a directory), and
// -max-user-sessions of -users. Every user signs in as the app's demo user,
// and the app's own cap (10 sessions per account) would end all but the
// last ten sign-ins, which the load would count as lost sessions. The cap
// is -users exactly, not more: the relogin scenarios then measure, as
// before the app had a cap of its own (the library's default was 200, the
// default -users), whether sign-ins after a fault push the account past
// its cap and end healthy users' sessions.
func appFlags(cfg *config, sc scenario, extra []string) []string {
	flags := []string{"-storage", sc.storage, "-max-user-sessions", strconv.Itoa(cfg.users)}
	return append(flags, extra...)
}

// appProcess is the example app running as a child process on a fixed
// loopback address, its log in a file.
type appProcess struct {
	bin, addr, logPath string
	args               []string
	cmd                *exec.Cmd
	done               chan struct{}
	log                *os.File
}

// startApp starts the app with args (-storage and its server flags) on a
// free loopback port and waits until it listens.
func startApp(ctx context.Context, bin, logPath string, args ...string) (*appProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	a := &appProcess{bin: bin, addr: addr, logPath: logPath, args: args}
	return a, a.start(ctx)
}

func (a *appProcess) url() string { return "http://" + a.addr }

func (a *appProcess) start(ctx context.Context) error {
	log, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(a.bin, append([]string{"-addr", a.addr}, a.args...)...)
	cmd.Env = append(os.Environ(), "SESSION_SECRET="+appSecret)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return err
	}
	a.cmd, a.log, a.done = cmd, log, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(a.done)
	return a.waitListening(ctx, 30*time.Second)
}

func (a *appProcess) waitListening(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-a.done:
			return fmt.Errorf("the example app exited at start: %s", a.tail(20))
		default:
		}
		if c, err := net.DialTimeout("tcp", a.addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			a.stop()
			return fmt.Errorf("the example app is not listening on %s after %v: %s", a.addr, timeout, a.tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (a *appProcess) pid() int { return a.cmd.Process.Pid }

// kill9 kills the app with SIGKILL, by its PID, and waits for it.
func (a *appProcess) kill9() error {
	if err := syscall.Kill(a.pid(), syscall.SIGKILL); err != nil {
		return err
	}
	<-a.done
	a.log.Close()
	return nil
}

// restart starts the app again, with the same arguments, on the same
// address.
func (a *appProcess) restart(ctx context.Context) error { return a.start(ctx) }

// stop ends the app with SIGTERM (a clean shutdown), then SIGKILL after
// 10 s.
func (a *appProcess) stop() {
	if a == nil || a.cmd == nil {
		return
	}
	select {
	case <-a.done:
	default:
		syscall.Kill(a.pid(), syscall.SIGTERM)
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(a.pid(), syscall.SIGKILL)
			<-a.done
		}
	}
	a.log.Close()
}

// alive reports whether the app process is still running.
func (a *appProcess) alive() bool {
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

// tail returns the log's last n lines.
func (a *appProcess) tail(n int) string {
	data, _ := os.ReadFile(a.logPath)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var (
	logLineRE  = regexp.MustCompile(`level=(WARN|ERROR) msg=("(?:[^"\\]|\\.)*"|\S+)`)
	logErrorRE = regexp.MustCompile(` error=("(?:[^"\\]|\\.)*"|\S+)`)
	hexRE      = regexp.MustCompile(`[0-9a-f]{8,}`)
)

// logCounts counts the app log's WARN and ERROR lines by level and message.
func logCounts(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := logLineRE.FindStringSubmatch(sc.Text()); m != nil {
			key := m[1] + " " + strings.Trim(m[2], `"`)
			if e := logErrorRE.FindStringSubmatch(sc.Text()); e != nil {
				// Session ids and hashes differ line by line: the kind of
				// error is what is counted.
				key += ": " + shorten(hexRE.ReplaceAllString(strings.Trim(e[1], `"`), "…"), 110)
			}
			counts[key]++
		}
	}
	return counts, sc.Err()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
