package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// clusterNode is one line of CLUSTER NODES as one node sees it.
type clusterNode struct {
	addr   string // host:port, without the bus port
	master bool
	failed bool // flagged fail (not just fail?: the failure is agreed)
	slots  int  // slot ranges it serves
}

// parseClusterNodes reads the output of CLUSTER NODES.
func parseClusterNodes(out string) []clusterNode {
	var nodes []clusterNode
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		flags := strings.Split(f[2], ",")
		n := clusterNode{addr: addr, slots: len(f) - 8}
		for _, fl := range flags {
			switch fl {
			case "master":
				n.master = true
			case "fail":
				n.failed = true
			}
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// clusterWatch asks a Redis Cluster's nodes for their view, through one
// small client per node.
type clusterWatch struct {
	c       *testserver.Cluster
	clients map[string]*redis.Client
}

func newClusterWatch(c *testserver.Cluster) *clusterWatch {
	w := &clusterWatch{c: c, clients: map[string]*redis.Client{}}
	for _, addr := range c.Addrs() {
		w.clients[addr] = redis.NewClient(&redis.Options{
			Addr: addr, PoolSize: 1, MaxRetries: -1,
			DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		})
	}
	return w
}

func (w *clusterWatch) close() {
	for _, c := range w.clients {
		c.Close()
	}
}

// view returns a node's cluster_state and its CLUSTER NODES.
func (w *clusterWatch) view(ctx context.Context, addr string) (string, []clusterNode, error) {
	c := w.clients[addr]
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return "", nil, err
	}
	state := ""
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_state:"); ok {
			state = v
		}
	}
	nodes, err := c.ClusterNodes(ctx).Result()
	if err != nil {
		return "", nil, err
	}
	return state, parseClusterNodes(nodes), nil
}

// masters lists the masters that serve slots, as the first node that
// answers sees them.
func (w *clusterWatch) masters(ctx context.Context) ([]string, error) {
	var lastErr error
	for _, addr := range w.c.Addrs() {
		_, nodes, err := w.view(ctx, addr)
		if err != nil {
			lastErr = err
			continue
		}
		var out []string
		for _, n := range nodes {
			if n.master && !n.failed && n.slots > 0 {
				out = append(out, n.addr)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("no cluster node answers: %w", lastErr)
}

// failedOver reports whether every node but dead sees the cluster ok with
// dead flagged fail and serving no slot: a replica took its slots over.
func (w *clusterWatch) failedOver(ctx context.Context, dead string) bool {
	for _, addr := range w.c.Addrs() {
		if addr == dead {
			continue
		}
		state, nodes, err := w.view(ctx, addr)
		if err != nil || state != "ok" {
			return false
		}
		for _, n := range nodes {
			if n.addr == dead && (!n.failed || n.slots > 0) {
				return false
			}
		}
	}
	return true
}

// allOK reports whether every node reports cluster_state:ok.
func (w *clusterWatch) allOK(ctx context.Context) bool {
	for _, addr := range w.c.Addrs() {
		if state, _, err := w.view(ctx, addr); err != nil || state != "ok" {
			return false
		}
	}
	return true
}

// poll calls cond every 100 ms until it holds (true) or ctx is done.
func poll(ctx context.Context, cond func(context.Context) bool) bool {
	for ctx.Err() == nil {
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		ok := cond(qctx)
		cancel()
		if ok {
			return true
		}
		sleep(ctx, 100*time.Millisecond)
	}
	return false
}

// locateCluster returns, for each session id, the master that holds its
// record: the key is looked up in both of redisstorage's layouts (the hex
// SHA-256 of the id, or the id in clear), whichever exists, so that this
// works whatever the storage's default is.
func locateCluster(ctx context.Context, addrs []string, ids []string) []string {
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer client.Close()
	out := make([]string, len(ids))
	for i, id := range ids {
		if id == "" {
			continue
		}
		for _, key := range []string{redisstorage.DefaultKeyPrefix + session.HashID(id), redisstorage.DefaultKeyPrefix + id} {
			if n, err := client.Exists(ctx, key).Result(); err != nil || n == 0 {
				continue
			}
			if m, err := client.MasterForKey(ctx, key); err == nil {
				out[i] = m.Options().Addr
			}
			break
		}
	}
	return out
}
