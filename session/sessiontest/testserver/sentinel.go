package testserver

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// StartRedisSentinel starts a Redis Sentinel (redis-server --sentinel) on a
// free loopback port that monitors the master at masterAddr under the name
// master, with a quorum of 1, for redis.NewFailoverClient. The caller must
// call Stop.
func StartRedisSentinel(master, masterAddr string) (*Server, error) {
	host, port, err := net.SplitHostPort(masterAddr)
	if err != nil {
		return nil, fmt.Errorf("testserver: sentinel master address: %w", err)
	}
	dir, err := os.MkdirTemp("", "sessionkit-redis-sentinel-")
	if err != nil {
		return nil, err
	}
	// Sentinel rewrites its configuration file, so it lives in dir.
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("sentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 5000\n", master, host, port, master)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s, err := launch("redis-sentinel", "redis-server", false, dir, func(p int) []string {
		return []string{conf, "--sentinel",
			"--port", strconv.Itoa(p),
			"--bind", "127.0.0.1",
			"--daemonize", "no",
			"--logfile", "",
			"--loglevel", "warning",
		}
	}, pingRedis)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// RedisSentinel starts a Sentinel for the test that monitors masterAddr as
// master, and stops it when the test ends; skipped or failed as Redis is.
func RedisSentinel(t testing.TB, master, masterAddr string) *Server {
	t.Helper()
	s, err := StartRedisSentinel(master, masterAddr)
	check(t, err)
	t.Cleanup(func() { s.Stop() })
	return s
}
