package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/sessionkit/sessionkit/session"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// lifetime is every contender's session lifetime, so every write sets a
// TTL (Remix's ttl option is the same in seconds).
const lifetime = 24 * time.Hour

// errLost is a request that did not find its session's user_id.
var errLost = errors.New("lost session: user_id is not 42")

// cell is one run: a contender's workload on a topology with a number of
// clients.
type cell struct {
	cfg     *config
	topo    *topology
	meter   *cpuMeter
	clients int
	write   bool
}

// workload names the cell's workload.
func (c cell) workload() string {
	if c.write {
		return "write"
	}
	return "read"
}

// contender is one session store under test.
type contender struct {
	name string
	// na says why the contender cannot run the cell ("" when it can).
	na func(c cell) string
	// run runs the cell and returns its timed window.
	run func(ctx context.Context, c cell) (measurement, error)
}

// contenders lists every contender, in contenderNames' order.
func contenders() []contender {
	return []contender{
		{name: "sessionkit", na: always, run: goRunner(sessionkitWorkers(false))},
		{name: "sessionkit-direct", na: always, run: goRunner(sessionkitWorkers(true))},
		{name: "scs", na: scsNA, run: goRunner(scsWorkers)},
		{name: "remix", na: remixNA, run: runRemix},
	}
}

// always is the na of a contender that runs everywhere.
func always(cell) string { return "" }

// scsNA: goredisstore has no cluster support.
func scsNA(c cell) string {
	if c.topo.isCluster() {
		return "goredisstore takes a *redis.Client"
	}
	return ""
}

// request is one client's request on its own session, on a context with
// the request's deadline.
type request func(ctx context.Context) error

// workersFunc prepares the contender for a cell: one request function per
// client, each on a session it created, and what closes the contender's
// clients.
type workersFunc func(ctx context.Context, c cell) ([]request, func(), error)

// goRunner runs a Go contender's workers under drive.
func goRunner(workers workersFunc) func(context.Context, cell) (measurement, error) {
	return func(ctx context.Context, c cell) (measurement, error) {
		reqs, closeFn, err := workers(ctx, c)
		if err != nil {
			return measurement{}, err
		}
		defer closeFn()
		return drive(ctx, c, reqs)
	}
}

// sessionkitWorkers prepares storage-redis on a fresh go-redis client with
// one pooled connection per client (per node), pipelined unless direct.
func sessionkitWorkers(direct bool) workersFunc {
	return func(ctx context.Context, c cell) ([]request, func(), error) {
		client := c.topo.client(c.clients)
		closeFn := func() { client.Close() }
		st, err := redisstorage.New(client, redisstorage.Options{
			KeyPrefix:  "bench:sessionkit:",
			PlainKeys:  true, // the key layout the Remix side uses
			NoPipeline: direct,
			Session:    session.Options{Lifetime: lifetime},
		})
		if err != nil {
			closeFn()
			return nil, nil, err
		}
		reqs := make([]request, c.clients)
		for i := range reqs {
			id, err := newSessionkitSession(ctx, st)
			if err != nil {
				closeFn()
				return nil, nil, err
			}
			reqs[i] = sessionkitRequest(st, id, c.write)
		}
		return reqs, closeFn, nil
	}
}

// newSessionkitSession stores a new session with the workload's values and
// returns its id.
func newSessionkitSession(ctx context.Context, st session.Storage) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	s, err := st.Read(ctx, "")
	if err != nil {
		return "", err
	}
	s.Set("user_id", 42)
	s.Set("name", "alice")
	id, _, err := st.Save(ctx, s)
	return id, err
}

// sessionkitRequest is the workload on session id: read, check user_id,
// increment the counter for a write, save (nothing to write for a read).
func sessionkitRequest(st session.Storage, id string, write bool) request {
	return func(ctx context.Context) error {
		s, err := st.Read(ctx, id)
		if err != nil {
			return err
		}
		if n, _ := session.Value[int](s, "user_id"); n != 42 {
			return errLost
		}
		if write {
			n, _ := session.Value[int](s, "counter")
			s.Set("counter", n+1)
		}
		_, _, err = st.Save(ctx, s)
		return err
	}
}

// scsWorkers prepares an scs SessionManager with goredisstore on a fresh
// *redis.Client with one pooled connection per client, as
// bench/redis_test.go sets it up.
func scsWorkers(ctx context.Context, c cell) ([]request, func(), error) {
	client := c.topo.nodeClient(c.clients)
	closeFn := func() { client.Close() }
	sm := scs.New()
	sm.Store = goredisstore.NewWithPrefix(client, "bench:scs:")
	sm.Lifetime = lifetime
	reqs := make([]request, c.clients)
	for i := range reqs {
		token, err := newSCSSession(ctx, sm)
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("new session: %w", err)
		}
		reqs[i] = scsRequest(sm, token, c.write)
	}
	return reqs, closeFn, nil
}

// newSCSSession commits a new session with the workload's values and
// returns its token.
func newSCSSession(ctx context.Context, sm *scs.SessionManager) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	ctx, err := sm.Load(ctx, "")
	if err != nil {
		return "", err
	}
	sm.Put(ctx, "user_id", 42)
	sm.Put(ctx, "name", "alice")
	token, _, err := sm.Commit(ctx)
	return token, err
}

// scsRequest is the workload as scs's LoadAndSave middleware and
// bench.SCSHandler do it: load, check user_id, increment the counter for a
// write, and commit only a modified session.
func scsRequest(sm *scs.SessionManager, token string, write bool) request {
	return func(ctx context.Context) error {
		ctx, err := sm.Load(ctx, token)
		if err != nil {
			return err
		}
		if sm.GetInt(ctx, "user_id") != 42 {
			return errLost
		}
		if write {
			sm.Put(ctx, "counter", sm.GetInt(ctx, "counter")+1)
		}
		if sm.Status(ctx) != scs.Modified {
			return nil
		}
		_, _, err = sm.Commit(ctx)
		return err
	}
}
