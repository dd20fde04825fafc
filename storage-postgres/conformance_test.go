package postgresstorage

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// conformance runs the whole session conformance suite (its backend
// contract, per-user, merged-save and exclusive-lock scenarios included)
// over pool, each scenario on a table of its own. PostgreSQL expires rows
// by its own clock, so the scenarios that need the store to follow the
// suite's fake clock are left out (ClockControlsExpiry false); expiry by the
// server's clock is tested in TestExpiry.
func conformance(t *testing.T, pool *pgxpool.Pool) {
	sessiontest.Run(t, sessiontest.Config{
		Backend: func(t *testing.T, o session.Options) session.Backend {
			return countedBackend{mustBackend(t, pool, Options{Table: freshTable(t, pool), Session: o})}
		},
	})
}

func TestConformance(t *testing.T) {
	conformance(t, newPool(t, server(t), nil))
}

// TestConformanceExecModes runs the suite again with pgx's
// QueryExecModeExec and QueryExecModeSimpleProtocol, which prepare nothing
// on the connections (as a PgBouncer in transaction mode requires): every
// statement's parameters must then have types that the server infers or
// that the statement casts.
func TestConformanceExecModes(t *testing.T) {
	for name, mode := range map[string]pgx.QueryExecMode{
		"exec":            pgx.QueryExecModeExec,
		"simple protocol": pgx.QueryExecModeSimpleProtocol,
	} {
		t.Run(name, func(t *testing.T) {
			conformance(t, newPool(t, server(t), func(c *pgxpool.Config) {
				c.ConnConfig.DefaultQueryExecMode = mode
			}))
		})
	}
}
