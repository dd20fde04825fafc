package redisstorage

import (
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// merge64 loads one session in 64 goroutines, sets a key of its own in
// each ("k0" … "k63"), and saves all 64 at once: every save must succeed
// and keep the others' keys, since package session answers a conflict by
// reading the record again and re-applying the request's own changes.
func merge64(t *testing.T, c redis.UniversalClient) {
	const n = 64
	h := &roundTrips{}
	c.AddHook(h)
	st := mustNew(t, c, Options{KeyPrefix: freshPrefix(), Session: session.Options{
		IdleTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler),
	}})
	cookie := request(t, st, "", func(s *session.Session) { s.Set("base", "yes") })
	loadScripts(t, c)
	sessiontest.ConcurrentSaves(t, st, cookie, n, h.reset) // not counting the n GETs
	rounds, _ := h.take()
	t.Logf("%d concurrent saves of one session: %d round trips (conflicts re-read and retried)", n, rounds)
}

func TestMerge64(t *testing.T) {
	t.Run("node", func(t *testing.T) { merge64(t, newClient(t, testserver.Redis(t).Addr())) })
	t.Run("cluster", func(t *testing.T) { merge64(t, newClusterClient(t, testserver.RedisCluster(t, 3))) })
}
