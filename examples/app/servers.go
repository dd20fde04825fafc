package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// Throwaway servers: with -storage redis, redis-cluster, memcache or postgres
// and no address flag (-redis, -memcache, -postgres), the app starts the
// servers itself, on free loopback ports, each in a temporary directory,
// through session/sessiontest/testserver: one redis-server; a Redis Cluster
// of clusterMasters masters; a pool of memcachePool memcached; one
// PostgreSQL (its own cluster, made by initdb). They live as long as the app:
// after the clean shutdown run stops every one and removes its directory,
// and on Linux the kernel SIGKILLs them if the app dies first (the
// directories then stay in $TMPDIR). The servers run in process groups of
// their own, so a Ctrl-C in the terminal reaches the app only, which then
// shuts down in order: HTTP server, storage connections, servers.

const (
	clusterMasters = 3 // -storage redis-cluster
	memcachePool   = 3 // -storage memcache
)

// startedServer is a throwaway server, for the log and for stopping it.
type startedServer struct {
	kind, addr string
	pid        int
	stop       func() error
}

// startServers starts the servers -storage needs when its address flag is
// empty and sets that flag's value in cfg to their addresses. It returns a
// function that stops them all (call it even on error: it stops those
// already started); nothing is started for the other storages.
func startServers(cfg *config, logger *slog.Logger) (stop func(), err error) {
	var started []startedServer
	stop = func() {
		for i := len(started) - 1; i >= 0; i-- {
			s := started[i]
			if err := s.stop(); err != nil {
				logger.Warn("stopping a throwaway server", "server", s.kind, "addr", s.addr, "error", err)
			}
		}
		if len(started) > 0 {
			logger.Info("stopped the throwaway servers", "count", len(started))
		}
		started = nil
	}
	add := func(kind, addr string, pid int, stopFn func() error) {
		started = append(started, startedServer{kind, addr, pid, stopFn})
		logger.Info("started a throwaway server", "server", kind, "addr", addr, "pid", pid)
	}
	var addrs []string
	switch {
	case cfg.storage == "redis" && cfg.redis == "":
		srv, err := testserver.StartRedis()
		if err != nil {
			return stop, throwawayErr("redis", "-redis", err)
		}
		add("redis-server", srv.Addr(), srv.PID(), srv.Stop)
		cfg.redis = srv.Addr()
	case cfg.storage == "redis-cluster" && cfg.redis == "":
		c, err := testserver.StartRedisCluster(clusterMasters)
		if err != nil {
			return stop, throwawayErr("redis-cluster", "-redis", err)
		}
		for _, n := range c.Nodes {
			add("redis-server (cluster master)", n.Addr(), n.PID(), n.Stop)
		}
		cfg.redis = strings.Join(c.Addrs(), ",")
	case cfg.storage == "memcache" && cfg.memcache == "":
		for range memcachePool {
			srv, err := testserver.StartMemcached()
			if err != nil {
				return stop, throwawayErr("memcache", "-memcache", err)
			}
			add("memcached", srv.Addr(), srv.PID(), srv.Stop)
			addrs = append(addrs, srv.Addr())
		}
		cfg.memcache = strings.Join(addrs, ",")
	case cfg.storage == "postgres" && cfg.postgres == "":
		pg, err := testserver.StartPostgres()
		if err != nil {
			return stop, throwawayErr("postgres", "-postgres", err)
		}
		add("postgres", pg.Addr(), pg.PID(), pg.Stop)
		cfg.postgres = pg.URL()
	}
	return stop, nil
}

func throwawayErr(storage, flag string, err error) error {
	msg := fmt.Sprintf("-storage %s: starting a throwaway server (give %s to use a running one)", storage, flag)
	if errors.Is(err, testserver.ErrNotInstalled) {
		msg += "; `make deps` installs the servers"
	}
	return fmt.Errorf("%s: %w", msg, err)
}
