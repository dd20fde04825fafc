package testserver

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// StartRedis starts redis-server on a free loopback port with persistence
// off. extra arguments are appended to the command line (for example
// "--maxmemory", "10mb"). The caller must call Stop.
func StartRedis(extra ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", "sessionkit-redis-")
	if err != nil {
		return nil, err
	}
	s, err := launch("redis", "redis-server", false, dir, func(port int) []string {
		return append(redisArgs(port), extra...)
	}, pingRedis)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func redisArgs(port int) []string {
	return []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", "",
		"--loglevel", "warning",
	}
}

func pingRedis(addr string) error {
	reply, err := ask(addr, "PING")
	if err != nil {
		return err
	}
	if reply != "+PONG" {
		return fmt.Errorf("PING answered %q", reply)
	}
	return nil
}

// Cluster is a Redis Cluster of masters without replicas, each a Server on
// its own loopback port.
type Cluster struct {
	Nodes []*Server
}

// Addrs lists the nodes' addresses, for redis.ClusterOptions.Addrs.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Stop stops every node.
func (c *Cluster) Stop() error {
	var first error
	for _, n := range c.Nodes {
		if err := n.Stop(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// StartRedisCluster starts masters redis-server processes in cluster mode
// on free loopback ports, joins them with `redis-cli --cluster create`
// (slots spread evenly, no replicas) and waits until every node reports
// cluster_state:ok. The caller must call Stop.
func StartRedisCluster(masters int) (*Cluster, error) {
	if masters < 3 {
		return nil, fmt.Errorf("testserver: a Redis Cluster needs at least 3 masters, not %d", masters)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("%w: redis-cli (%s)", ErrNotInstalled, installHint("redis-cli"))
	}
	c := &Cluster{}
	for i := 0; i < masters; i++ {
		dir, err := os.MkdirTemp("", "sessionkit-redis-cluster-")
		if err != nil {
			c.Stop()
			return nil, err
		}
		n, err := launch("redis", "redis-server", true, dir, func(port int) []string {
			return append(redisArgs(port),
				"--cluster-enabled", "yes",
				"--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "2000",
			)
		}, pingRedis)
		if err != nil {
			os.RemoveAll(dir)
			c.Stop()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("testserver: redis-cli --cluster create: %v: %s", err, out)
	}
	if err := c.WaitReady(15 * time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// WaitReady waits until every running node reports cluster_state:ok and
// knows every other node's slots, as after a create or a node's restart.
func (c *Cluster) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		for {
			state, err := clusterState(n.Addr())
			if err == nil && state == "ok" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("testserver: cluster node %s not ready after %v (state %q, %v)", n.Addr(), timeout, state, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// clusterState asks a node for CLUSTER INFO and returns its cluster_state.
func clusterState(addr string) (string, error) {
	out, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", addr[strings.LastIndexByte(addr, ':')+1:], "cluster", "info").Output()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_state:"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("no cluster_state in %q", out)
}
