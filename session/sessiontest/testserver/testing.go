package testserver

import (
	"errors"
	"os"
	"testing"
	"time"
)

// Redis starts a redis-server for the test and stops it when the test ends.
// When redis-server is not installed the test is skipped with an install
// hint, or fails when SESSIONKIT_REQUIRE_SERVERS=1.
func Redis(t testing.TB, extra ...string) *Server {
	t.Helper()
	s, err := StartRedis(extra...)
	check(t, err)
	t.Cleanup(func() { s.Stop() })
	return s
}

// RedisCluster starts a Redis Cluster of masters nodes for the test and
// stops it when the test ends; skipped or failed as Redis is.
func RedisCluster(t testing.TB, masters int) *Cluster {
	t.Helper()
	c, err := StartRedisCluster(masters)
	check(t, err)
	t.Cleanup(func() { c.Stop() })
	return c
}

// RedisClusterWithReplicas starts a Redis Cluster of masters masters with
// replicas replicas each and the given cluster-node-timeout for the test
// (StartRedisClusterWithReplicas), and stops it when the test ends; skipped
// or failed as Redis is.
func RedisClusterWithReplicas(t testing.TB, masters, replicas int, nodeTimeout time.Duration) *Cluster {
	t.Helper()
	c, err := StartRedisClusterWithReplicas(masters, replicas, nodeTimeout)
	check(t, err)
	t.Cleanup(func() { c.Stop() })
	return c
}

// Memcached starts a memcached for the test and stops it when the test
// ends; skipped or failed as Redis is.
func Memcached(t testing.TB, extra ...string) *Server {
	t.Helper()
	s, err := StartMemcached(extra...)
	check(t, err)
	t.Cleanup(func() { s.Stop() })
	return s
}

// Required reports whether SESSIONKIT_REQUIRE_SERVERS=1 is set, so a
// missing server must fail the test instead of skipping it.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

func check(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrNotInstalled) && !Required() {
		t.Skipf("%v; set %s=1 to fail instead of skipping", err, RequireEnv)
	}
	t.Fatal(err)
}
