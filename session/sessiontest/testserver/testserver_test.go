package testserver

import (
	"strings"
	"testing"
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
