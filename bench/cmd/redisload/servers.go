package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// clusterMasters is the size of the cluster topology: masters, no replicas.
const clusterMasters = 3

// topology is a running Redis deployment: one redis-server ("node") or a
// Redis Cluster ("cluster").
type topology struct {
	name    string
	title   string   // for the table's heading
	masters []string // every master's address, for INFO cpu
	stop    func() error
}

// startTopologies starts the servers of every topology in names. On error
// it stops those it started.
func startTopologies(names []string) ([]*topology, error) {
	var out []*topology
	for _, name := range names {
		t, err := startTopology(name)
		if err != nil {
			stopTopologies(out)
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// startTopology starts the servers of the topology name.
func startTopology(name string) (*topology, error) {
	switch name {
	case "node":
		srv, err := testserver.StartRedis()
		if err != nil {
			return nil, err
		}
		return &topology{name: name, title: "one redis-server " + srv.Addr(),
			masters: []string{srv.Addr()}, stop: srv.Stop}, nil
	case "cluster":
		c, err := testserver.StartRedisCluster(clusterMasters)
		if err != nil {
			return nil, err
		}
		return &topology{name: name, title: fmt.Sprintf("Redis Cluster, %d masters, no replicas (%s)", clusterMasters, strings.Join(c.Addrs(), ", ")),
			masters: c.Addrs(), stop: c.Stop}, nil
	}
	return nil, fmt.Errorf("unknown topology %q", name)
}

// stopTopologies stops the servers of every topology (by PID), and
// returns the errors.
func stopTopologies(ts []*topology) error {
	var errs []error
	for _, t := range ts {
		if err := t.stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", t.name, err))
		}
	}
	return errors.Join(errs...)
}

// isCluster reports whether t is a Redis Cluster.
func (t *topology) isCluster() bool { return t.name == "cluster" }

// client returns a go-redis client of t with pool connections (per node),
// which stops a command at its context's deadline.
func (t *topology) client(pool int) redis.UniversalClient {
	if t.isCluster() {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: t.masters, PoolSize: pool, ContextTimeoutEnabled: true})
	}
	return t.nodeClient(pool)
}

// nodeClient is client for the node topology, as a *redis.Client.
func (t *topology) nodeClient(pool int) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: t.masters[0], PoolSize: pool, ContextTimeoutEnabled: true})
}

// cpuMeter reads Redis's own CPU time and command statistics, summed over
// masters, with a client of its own per master.
type cpuMeter struct {
	clients []*redis.Client
}

// newCPUMeter returns a cpuMeter of the masters at addrs.
func newCPUMeter(addrs []string) *cpuMeter {
	m := &cpuMeter{}
	for _, a := range addrs {
		m.clients = append(m.clients, redis.NewClient(&redis.Options{Addr: a, PoolSize: 1}))
	}
	return m
}

// read returns the masters' CPU time and command statistics (INFO cpu
// commandstats), summed over the masters.
func (m *cpuMeter) read(ctx context.Context) (serverStats, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var sum serverStats
	for _, c := range m.clients {
		info, err := c.Info(ctx, "cpu", "commandstats").Result()
		if err != nil {
			return serverStats{}, fmt.Errorf("INFO on %s: %w", c.Options().Addr, err)
		}
		st, err := parseInfo(info)
		if err != nil {
			return serverStats{}, fmt.Errorf("INFO on %s: %w", c.Options().Addr, err)
		}
		sum.add(st)
	}
	return sum, nil
}

// close closes the meter's clients.
func (m *cpuMeter) close() {
	for _, c := range m.clients {
		c.Close()
	}
}

// parseCPU returns used_cpu_sys + used_cpu_user (seconds) of an INFO cpu
// reply.
func parseCPU(info string) (float64, error) {
	var sum float64
	found := 0
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (k != "used_cpu_sys" && k != "used_cpu_user") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", k, err)
		}
		sum += f
		found++
	}
	if found != 2 {
		return 0, errors.New("no used_cpu_sys and used_cpu_user in the reply")
	}
	return sum, nil
}
