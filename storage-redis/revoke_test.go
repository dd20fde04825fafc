package redisstorage

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// TestRevokeVsRegenerate: 1000 trials on a 3-master Cluster (300 on one
// node) of a login with RegenerateID(true) racing RevokeAll of its user, the
// revoke started with the login or at each step of it in turn
// (sessiontest.RevokeRace): no trial may leave a signed-in session that
// Sessions does not list.
func TestRevokeVsRegenerate(t *testing.T) {
	for _, tc := range []struct {
		name            string
		client          func(t *testing.T) redis.UniversalClient
		trials, workers int
	}{
		{"cluster", func(t *testing.T) redis.UniversalClient { return newClusterClient(t, testserver.RedisCluster(t, 3)) }, 1000, 16},
		{"node", func(t *testing.T) redis.UniversalClient { return newClient(t, testserver.Redis(t).Addr()) }, 300, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			b := mustBackend(t, tc.client(t), Options{KeyPrefix: freshPrefix()})
			r := sessiontest.RevokeRace(t, b, tc.trials, tc.workers)
			t.Logf("%d trials (revoke started %q in turn) in %v: %d violations; the login's cookie was still signed in (and listed) %d times, anonymous %d times; %d logins returned an error",
				r.Trials, sessiontest.RevokeRaceStarts, time.Since(start).Round(time.Millisecond), r.Violations, r.LoginKept, r.Revoked, r.LoginErrors)
		})
	}
}
