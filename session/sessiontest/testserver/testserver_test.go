package testserver

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRedisStartKillRestart(t *testing.T) {
	s := Redis(t)
	if err := pingRedis(s.Addr()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("Addr = %q, want a loopback address", s.Addr())
	}
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if s.Running() || s.PID() != 0 {
		t.Fatal("server still running after Kill")
	}
	if err := pingRedis(s.Addr()); err == nil {
		t.Fatal("a killed server answered PING")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := pingRedis(s.Addr()); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
}

func TestMemcached(t *testing.T) {
	s := Memcached(t)
	if err := pingMemcached(s.Addr()); err != nil {
		t.Fatal(err)
	}
	reply, err := ask(s.Addr(), "set k 0 0 1\r\nx")
	if err != nil || reply != "STORED" {
		t.Fatalf("set answered %q, %v", reply, err)
	}
}

func TestRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster start takes a few seconds")
	}
	c := RedisCluster(t, 3)
	if len(c.Addrs()) != 3 {
		t.Fatalf("%d nodes", len(c.Addrs()))
	}
	for _, a := range c.Addrs() {
		state, err := clusterState(a)
		if err != nil || state != "ok" {
			t.Fatalf("node %s: state %q, %v", a, state, err)
		}
	}
	// A killed and restarted master rejoins with its slots.
	n := c.Nodes[1]
	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(15e9); err != nil {
		t.Fatal(err)
	}
}

func TestMissingBinary(t *testing.T) {
	_, err := launch("nope", "sessionkit-no-such-server", false, t.TempDir(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "apt-get install") {
		t.Fatalf("err = %v, want an install hint", err)
	}
}

func TestPostgres(t *testing.T) {
	start := time.Now()
	p := PostgresServer(t)
	t.Logf("initdb and start in %v", time.Since(start).Round(time.Millisecond))
	if err := pingPostgres(p.Addr()); err != nil {
		t.Fatal(err)
	}
	if want := "postgres://postgres@127.0.0.1:" + strconv.Itoa(p.Port()) + "/postgres?sslmode=disable"; p.URL() != want {
		t.Errorf("URL = %q, want %q", p.URL(), want)
	}
	if os.Geteuid() == 0 && runtime.GOOS == "linux" {
		// PostgreSQL refuses root: the server must run as postgres.
		status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.PID()), "status"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" && f[1] == "0" {
				t.Errorf("the server runs as root: %s", line)
			}
		}
	}

	// A fast restart keeps the data and the port.
	pid := p.PID()
	start = time.Now()
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart in %v", time.Since(start).Round(time.Millisecond))
	if p.PID() == pid || pingPostgres(p.Addr()) != nil {
		t.Fatalf("after Restart: pid %d (was %d), ping %v", p.PID(), pid, pingPostgres(p.Addr()))
	}

	// A crash, then a restart with crash recovery.
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Running() || p.PID() != 0 {
		t.Fatal("server still running after Kill")
	}
	if err := pingPostgres(p.Addr()); err == nil {
		t.Fatal("a killed server accepted a login")
	}
	if err := p.Restart(); err != nil {
		t.Fatalf("Restart after Kill: %v\n%s", err, p.Output())
	}
	if err := pingPostgres(p.Addr()); err != nil {
		t.Fatalf("after Restart: %v", err)
	}

	dir := p.srv.dir
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the server's directory is still there after Stop: %v", err)
	}
	if err := p.Restart(); err == nil {
		t.Error("Restart after Stop succeeded")
	}
}
