package postgresstorage

import (
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// TestMerge64 loads one session in 64 goroutines, sets a key of its own in
// each ("k0" … "k63"), and saves all 64 at once (sessiontest.ConcurrentSaves):
// every save must succeed and keep the others' keys, since package session
// answers a conflict by reading the row again and re-applying the request's
// own changes.
func TestMerge64(t *testing.T) {
	const n = 64
	tr := &tracer{}
	pool := newPool(t, server(t), func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = tr
		c.MaxConns = 16
	})
	table := freshTable(t, pool)
	tr.nameStatements(t, table)
	st := mustNew(t, pool, Options{Table: table, Session: session.Options{
		IdleTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler),
	}})
	cookie := request(t, st, "", func(s *session.Session) { s.Set("base", "yes") })
	sessiontest.ConcurrentSaves(t, st, cookie, n, tr.reset) // not counting the n reads
	_, stmts := tr.take()
	counts := map[string]int{}
	for _, s := range stmts {
		counts[s]++
	}
	t.Logf("%d concurrent saves of one session: statements %v (the saves that lost a compare-and-set read the row again and retried)", n, counts)
}

// TestRevokeVsRegenerate: 1000 trials of a login with RegenerateID(true)
// racing RevokeAll of its user (each trial its own user), the revoke started
// with the login or at each step of it in turn (sessiontest.RevokeRace): no
// trial may leave a signed-in session that Sessions does not list.
func TestRevokeVsRegenerate(t *testing.T) {
	pool := newPool(t, server(t), func(c *pgxpool.Config) { c.MaxConns = 16 })
	start := time.Now()
	b := mustBackend(t, pool, Options{Table: freshTable(t, pool)})
	r := sessiontest.RevokeRace(t, b, 1000, 16)
	t.Logf("%d trials (revoke started %q in turn) in %v: %d violations; the login's cookie was still signed in (and listed) %d times, anonymous %d times; %d logins returned an error",
		r.Trials, sessiontest.RevokeRaceStarts, time.Since(start).Round(time.Millisecond), r.Violations, r.LoginKept, r.Revoked, r.LoginErrors)
}
