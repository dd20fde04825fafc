package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// remixScript is the Node side, in config.remixDir.
const remixScript = "redis-load.mjs"

// remixNA says why the remix contender cannot run: no node, or no
// node_modules next to the script.
func remixNA(c cell) string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed"
	}
	pkg := filepath.Join(c.cfg.remixDir, "node_modules", "@remix-run", "session-storage-redis")
	if _, err := os.Stat(pkg); err != nil {
		return "no " + pkg + ": run make bench-redis, or npm ci in bench/remix"
	}
	return ""
}

// remixArgs is redis-load.mjs's command line for the cell.
func remixArgs(c cell) []string {
	args := []string{remixScript,
		"--workload", c.workload(),
		"--concurrency", strconv.Itoa(c.clients),
		"--warmup", strconv.FormatFloat(c.cfg.warmup.Seconds(), 'f', -1, 64),
		"--duration", strconv.FormatFloat(c.cfg.duration.Seconds(), 'f', -1, 64),
	}
	if c.topo.isCluster() {
		return append(args, "--cluster", strings.Join(c.topo.masters, ","))
	}
	return append(args, "--url", "redis://"+c.topo.masters[0])
}

// runRemix runs redis-load.mjs for the cell and reads Redis's CPU when it
// says its timed window starts ("start") and when it prints the window's
// count ("ops <int> seconds <float>"). The process is killed by PID if the
// run fails, is interrupted, or takes a minute longer than it should.
func runRemix(ctx context.Context, c cell) (measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.warmup+c.cfg.duration+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", remixArgs(c)...)
	cmd.Dir = c.cfg.remixDir
	cmd.SysProcAttr = procAttr()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return measurement{}, err
	}
	if err := cmd.Start(); err != nil {
		return measurement{}, err
	}
	m, err := readRemix(ctx, c.meter, out)
	if ctx.Err() != nil {
		err = context.Cause(ctx) // interrupted, or too long: Node was killed
	}
	if err != nil {
		cmd.Process.Kill()
	}
	io.Copy(io.Discard, out)
	if werr := cmd.Wait(); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return measurement{}, fmt.Errorf("node %s: %w\n%s", strings.Join(remixArgs(c), " "), err, strings.TrimSpace(stderr.String()))
	}
	return m, nil
}

// readRemix reads redis-load.mjs's output and brackets its timed window
// with readings of Redis's CPU and command statistics.
func readRemix(ctx context.Context, meter *cpuMeter, r io.Reader) (measurement, error) {
	sc := bufio.NewScanner(r)
	var st0 serverStats
	started := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "start":
			v, err := meter.read(ctx)
			if err != nil {
				return measurement{}, err
			}
			st0, started = v, true
		case strings.HasPrefix(line, "ops "):
			if !started {
				return measurement{}, errors.New("an ops line before the start line")
			}
			m, err := parseOpsLine(line)
			if err != nil {
				return measurement{}, err
			}
			st1, err := meter.read(ctx)
			if err != nil {
				return measurement{}, err
			}
			return measured(m.ops, m.seconds, st0, st1), nil
		}
	}
	if err := sc.Err(); err != nil {
		return measurement{}, err
	}
	return measurement{}, errors.New("no ops line")
}

// parseOpsLine parses "ops <int> seconds <float>".
func parseOpsLine(line string) (measurement, error) {
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "ops" || f[2] != "seconds" {
		return measurement{}, fmt.Errorf("want \"ops <int> seconds <float>\", got %q", line)
	}
	ops, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || ops < 1 {
		return measurement{}, fmt.Errorf("ops %q: want a positive count", f[1])
	}
	secs, err := strconv.ParseFloat(f[3], 64)
	if err != nil || secs <= 0 {
		return measurement{}, fmt.Errorf("seconds %q: want a positive number", f[3])
	}
	return measurement{ops: ops, seconds: secs}, nil
}
