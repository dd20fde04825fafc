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

// Cluster is a Redis Cluster, each node a Server on its own loopback port:
// masters only (StartRedisCluster), or masters with replicas
// (StartRedisClusterWithReplicas), which can fail over.
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
	return startCluster(masters, 0, 2*time.Second)
}

// StartRedisClusterWithReplicas starts a Redis Cluster of masters masters,
// each with replicas replicas (masters*(1+replicas) redis-server processes
// on free loopback ports), whose nodes consider a peer failed after
// nodeTimeout (cluster-node-timeout): a replica takes over a dead master a
// little more than that later, which a failover test wants short (1 or 2
// s rather than Redis's 15). It waits until every node reports
// cluster_state:ok and every replica's link to its master is up, so that
// what a master holds is replicated and it can fail over. The caller must
// call Stop.
func StartRedisClusterWithReplicas(masters, replicas int, nodeTimeout time.Duration) (*Cluster, error) {
	if replicas < 1 {
		return nil, fmt.Errorf("testserver: a cluster with replicas needs at least 1 replica per master, not %d", replicas)
	}
	if nodeTimeout < 100*time.Millisecond {
		return nil, fmt.Errorf("testserver: cluster node timeout %v is below 100ms", nodeTimeout)
	}
	return startCluster(masters, replicas, nodeTimeout)
}

// startCluster starts masters*(1+replicas) cluster nodes, creates the
// cluster with redis-cli and waits until it is ready (and, with replicas,
// until every replica is linked to its master).
func startCluster(masters, replicas int, nodeTimeout time.Duration) (*Cluster, error) {
	if masters < 3 {
		return nil, fmt.Errorf("testserver: a Redis Cluster needs at least 3 masters, not %d", masters)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("%w: redis-cli (%s)", ErrNotInstalled, installHint("redis-cli"))
	}
	c := &Cluster{}
	for i := 0; i < masters*(1+replicas); i++ {
		n, err := startClusterNode(nodeTimeout)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("testserver: redis-cli --cluster create: %v: %s", err, out)
	}
	if err := c.WaitReady(15 * time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	if replicas > 0 {
		if err := c.waitReplicasLinked(masters*replicas, 15*time.Second); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// startClusterNode starts one redis-server in cluster mode, in a directory
// of its own (for its nodes.conf).
func startClusterNode(nodeTimeout time.Duration) (*Server, error) {
	dir, err := os.MkdirTemp("", "sessionkit-redis-cluster-")
	if err != nil {
		return nil, err
	}
	n, err := launch("redis", "redis-server", true, dir, func(port int) []string {
		return append(redisArgs(port),
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10),
		)
	}, pingRedis)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return n, nil
}

// waitReplicasLinked waits until want nodes are replicas whose link to
// their master is up (INFO replication: role:slave, master_link_status:up).
func (c *Cluster) waitReplicasLinked(want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		linked := 0
		for _, n := range c.Nodes {
			if info, err := redisCLI(n.Addr(), "info", "replication"); err == nil &&
				strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up") {
				linked++
			}
		}
		if linked >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testserver: %d of %d cluster replicas linked to their master after %v", linked, want, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
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
	out, err := redisCLI(addr, "cluster", "info")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_state:"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("no cluster_state in %q", out)
}

// redisCLI runs redis-cli with args against the server at addr and returns
// what it printed.
func redisCLI(addr string, args ...string) (string, error) {
	args = append([]string{"-h", "127.0.0.1", "-p", addr[strings.LastIndexByte(addr, ':')+1:]}, args...)
	out, err := exec.Command("redis-cli", args...).Output()
	return string(out), err
}
