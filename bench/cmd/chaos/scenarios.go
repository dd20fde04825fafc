package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/jackc/pgx/v5"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	memcachestorage "github.com/sessionkit/sessionkit/storage-memcache"
)

// A scenario is one fault under load.
type scenario struct {
	name, title string
	storage     string // the app's -storage
	relogin     bool   // users whose session was lost sign in again
	multi       bool   // sessions spread over servers, of which one fails
	appRestart  bool   // the fault is the app's own death
	aged        bool   // the fault waits until the sign-ins are -age old
	prepare     func(ctx context.Context, r *scenarioRun) error
}

// scenarios lists every scenario, in the order `make chaos` runs them.
func scenarios() []scenario {
	return []scenario{
		{name: "memory", title: "memory storage, no fault (the baseline)", storage: "memory", prepare: prepareMemory},
		{name: "file-kill", title: "file storage, kill -9 of the app, restarted on the same directory", storage: "file", appRestart: true, prepare: prepareFileKill},
		{name: "redis-aof", title: "one Redis with AOF (appendfsync always), kill -9, restarted on the same port and directory", storage: "redis", prepare: prepareRedisAOF},
		{name: "memcache-kill", title: "three memcached, one killed and restarted empty; its users do not sign in again", storage: "memcache", multi: true, prepare: prepareMemcache},
		{name: "memcache-kill-relogin", title: "three memcached, one killed and restarted empty; its users sign in again; the sessions older than the per-user index's one-minute grace", storage: "memcache", multi: true, relogin: true, aged: true, prepare: prepareMemcache},
		{name: "memcache-kill-relogin-young", title: "the same with sessions younger than a minute: the fault comes -before after everyone signed in", storage: "memcache", multi: true, relogin: true, prepare: prepareMemcache},
		{name: "cluster-kill", title: "Redis Cluster, 3 masters + 3 replicas, kill -9 of a master", storage: "redis-cluster", multi: true, prepare: prepareClusterKill},
		{name: "cluster-pause", title: "Redis Cluster, 3 masters + 3 replicas, SIGSTOP of a master for the during phase, then SIGCONT", storage: "redis-cluster", multi: true, prepare: prepareClusterPause},
		{name: "postgres-kill", title: "PostgreSQL (synchronous_commit on), kill -9 of the postmaster, restarted on the same data", storage: "postgres", prepare: preparePostgres},
	}
}

// scenarioRun is one scenario being run: what prepare set up, and the
// timeline.
type scenarioRun struct {
	cfg     *config
	sc      scenario
	tmp     string // this scenario's directory
	appArgs []string
	app     *appProcess
	load    *load

	// Set by prepare.
	locate  func(ctx context.Context, ids []string) []string // each session's server; nil: one server
	fault   func(ctx context.Context) error                  // injects the fault (records eventFault)
	recover func(ctx context.Context) error                  // ends it; nil: nothing to end
	watch   func(ctx context.Context)                        // runs from the fault to the end, may record events
	checks  func(s *summary, o *outcome) []check
	after   func() []string // runs once the load stopped: notes for the report

	faulted  string
	eventsMu sync.Mutex // the scenario's goroutine and its watch mark events
	events   []event
	cleanups []func()
}

func (r *scenarioRun) cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *scenarioRun) stopAll() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

// mark records an event at the run's clock now.
func (r *scenarioRun) mark(name, detail string) {
	r.eventsMu.Lock()
	defer r.eventsMu.Unlock()
	r.events = append(r.events, event{name: name, at: r.load.since(), detail: detail})
}

// timeline returns the events so far, in order.
func (r *scenarioRun) timeline() []event {
	r.eventsMu.Lock()
	defer r.eventsMu.Unlock()
	out := slices.Clone(r.events)
	slices.SortStableFunc(out, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	return out
}

func skipIfMissing(err error) error {
	if errors.Is(err, testserver.ErrNotInstalled) {
		return fmt.Errorf("%w: %v", errSkip, err)
	}
	return err
}

var errSkip = errors.New("skipped")

func prepareMemory(_ context.Context, r *scenarioRun) error {
	r.fault = func(context.Context) error {
		r.mark(eventFault, "none: the baseline, nothing fails")
		return nil
	}
	r.checks = func(s *summary, _ *outcome) []check {
		return []check{
			doneWhen("no error", !s.anyErr, fmt.Sprintf("%d 5xx, %d without response", s.total.status5xx, s.total.noResponse)),
			sessionsLostCheck(s),
			writesLostCheck(s),
		}
	}
	return nil
}

func sessionsLostCheck(s *summary) check {
	return doneWhen("0 sessions lost", s.usersLost == 0, plural(s.usersLost, "user"))
}

func writesLostCheck(s *summary) check {
	return doneWhen("0 writes lost", s.total.writesLost == 0, fmt.Sprintf("%d", s.total.writesLost))
}

func prepareFileKill(_ context.Context, r *scenarioRun) error {
	dir := filepath.Join(r.tmp, "sessions")
	r.appArgs = []string{"-dir", dir}
	r.fault = func(context.Context) error {
		pid := r.app.pid()
		r.mark(eventFault, fmt.Sprintf("kill -9 of the app (pid %d)", pid))
		return r.app.kill9()
	}
	r.recover = func(ctx context.Context) error {
		r.mark(eventRecover, "the app started again on the same directory and address")
		if err := r.app.restart(ctx); err != nil {
			return err
		}
		r.mark(eventReady, "the app listening again")
		return nil
	}
	var scan fileScan
	r.after = func() []string {
		scan = scanFileStore(dir)
		return []string{scan.String()}
	}
	r.checks = func(s *summary, _ *outcome) []check {
		corrupt := scan.corrupt + r.corruptLogged()
		return []check{
			sessionsLostCheck(s),
			writesLostCheck(s),
			doneWhen("0 corrupt records", corrupt == 0, fmt.Sprintf("%d unreadable files, %d corrupt records logged by the app", scan.corrupt, r.corruptLogged())),
		}
	}
	return nil
}

// corruptLogged counts the app's "corrupt record" warnings.
func (r *scenarioRun) corruptLogged() int {
	counts, _ := logCounts(r.app.logPath)
	n := 0
	for k, v := range counts {
		if strings.Contains(k, "corrupt") {
			n += v
		}
	}
	return n
}

// serverFault kills a testserver.Server at the fault and restarts it at
// the recovery.
func serverFault(r *scenarioRun, s *testserver.Server, what string) {
	r.fault = func(context.Context) error {
		r.faulted = s.Addr()
		r.mark(eventFault, fmt.Sprintf("kill -9 of %s %s (pid %d)", what, s.Addr(), s.PID()))
		return s.Kill()
	}
	r.recover = func(context.Context) error {
		r.mark(eventRecover, fmt.Sprintf("%s restarted on the same port", what))
		if err := s.Restart(); err != nil {
			return err
		}
		r.mark(eventReady, what+" answering again")
		return nil
	}
}

func prepareRedisAOF(_ context.Context, r *scenarioRun) error {
	s, err := testserver.StartRedis("--appendonly", "yes", "--appendfsync", "always")
	if err != nil {
		return skipIfMissing(err)
	}
	r.cleanup(func() { s.Stop() })
	r.appArgs = []string{"-redis", s.Addr()}
	serverFault(r, s, "redis-server")
	r.checks = func(s *summary, _ *outcome) []check {
		return []check{sessionsLostCheck(s), writesLostCheck(s)}
	}
	return nil
}

func prepareMemcache(_ context.Context, r *scenarioRun) error {
	var servers []*testserver.Server
	var addrs []string
	for range 3 {
		s, err := testserver.StartMemcached()
		if err != nil {
			return skipIfMissing(err)
		}
		r.cleanup(func() { s.Stop() })
		servers = append(servers, s)
		addrs = append(addrs, s.Addr())
	}
	r.appArgs = []string{"-memcache", strings.Join(addrs, ",")}
	r.locate = func(_ context.Context, ids []string) []string {
		// The app's own choice: a ServerList of the same addresses, in the
		// same order, keyed as storage-memcache keys a record.
		var sl memcache.ServerList
		sl.SetServers(addrs...)
		out := make([]string, len(ids))
		for i, id := range ids {
			if id == "" {
				continue
			}
			if a, err := sl.PickServer(memcachestorage.DefaultKeyPrefix + session.HashID(id)); err == nil {
				out[i] = a.String()
			}
		}
		return out
	}
	serverFault(r, servers[0], "memcached")
	r.checks = memcacheChecks
	return nil
}

func memcacheChecks(s *summary, _ *outcome) []check {
	healthyOut := s.usersLost - s.usersLostFaulted
	return []check{
		doneWhen("0 healthy users signed out", healthyOut == 0, fmt.Sprintf("%d users whose server never failed lost their session", healthyOut)),
		doneWhen("only the dead server's sessions lost", healthyOut == 0 && s.usersLostFaulted <= s.usersOnFaulted,
			fmt.Sprintf("%d of the %d users on it", s.usersLostFaulted, s.usersOnFaulted)),
	}
}

// startCluster starts the 3+3 cluster and points the app at it.
func startCluster(r *scenarioRun) (*testserver.Cluster, *clusterWatch, error) {
	c, err := testserver.StartRedisClusterWithReplicas(3, 1, r.cfg.nodeTimeout)
	if err != nil {
		return nil, nil, skipIfMissing(err)
	}
	r.cleanup(func() { c.Stop() })
	w := newClusterWatch(c)
	r.cleanup(w.close)
	r.appArgs = []string{"-redis", strings.Join(c.Addrs(), ",")}
	r.locate = func(ctx context.Context, ids []string) []string { return locateCluster(ctx, c.Addrs(), ids) }
	return c, w, nil
}

// pickMaster returns the first master serving slots, and its node.
func pickMaster(ctx context.Context, c *testserver.Cluster, w *clusterWatch) (*testserver.Server, error) {
	masters, err := w.masters(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range c.Nodes {
		for _, m := range masters {
			if n.Addr() == m && n.Running() {
				return n, nil
			}
		}
	}
	return nil, fmt.Errorf("no running master among %v", masters)
}

func prepareClusterKill(_ context.Context, r *scenarioRun) error {
	c, w, err := startCluster(r)
	if err != nil {
		return err
	}
	var victim string
	r.fault = func(ctx context.Context) error {
		n, err := pickMaster(ctx, c, w)
		if err != nil {
			return err
		}
		victim, r.faulted = n.Addr(), n.Addr()
		r.mark(eventFault, fmt.Sprintf("kill -9 of master %s (pid %d)", n.Addr(), n.PID()))
		return n.Kill()
	}
	r.watch = func(ctx context.Context) {
		if poll(ctx, func(ctx context.Context) bool { return w.failedOver(ctx, victim) }) {
			r.mark(eventReady, "cluster_state:ok with the replica promoted")
		}
	}
	r.checks = func(s *summary, o *outcome) []check {
		return []check{
			errorsEndCheck(s, o, 2*time.Second),
			sessionsLostCheck(s),
			doneWhen("writes lost counted", true, fmt.Sprintf("%d: acknowledged by the old master and not yet copied to its replica when it died (asynchronous replication), or lost in the failover", s.total.writesLost)),
		}
	}
	return nil
}

// errorsEndCheck: the last error came at most within of the ready event.
func errorsEndCheck(s *summary, o *outcome, within time.Duration) check {
	what := fmt.Sprintf("errors end within %v of cluster_state:ok", within)
	ready, ok := o.event(eventReady)
	switch {
	case !s.anyErr:
		return doneWhen(what, true, "no errors")
	case !ok:
		return doneWhen(what, false, "the cluster was not seen ok again")
	}
	d := s.lastErr - ready.at
	return doneWhen(what, d <= within, fmt.Sprintf("the last error ended %s after it", signedSecs(d)))
}

func prepareClusterPause(_ context.Context, r *scenarioRun) error {
	c, w, err := startCluster(r)
	if err != nil {
		return err
	}
	var victim *testserver.Server
	r.fault = func(ctx context.Context) error {
		n, err := pickMaster(ctx, c, w)
		if err != nil {
			return err
		}
		victim, r.faulted = n, n.Addr()
		r.mark(eventFault, fmt.Sprintf("SIGSTOP of master %s (pid %d)", n.Addr(), n.PID()))
		r.cleanup(func() { syscall.Kill(n.PID(), syscall.SIGCONT) })
		return syscall.Kill(n.PID(), syscall.SIGSTOP)
	}
	resumed := make(chan struct{})
	r.recover = func(context.Context) error {
		r.mark(eventRecover, fmt.Sprintf("SIGCONT of %s", victim.Addr()))
		err := syscall.Kill(victim.PID(), syscall.SIGCONT)
		close(resumed)
		return err
	}
	r.watch = func(ctx context.Context) {
		foCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			// A pause past the node timeout makes its replica take over.
			if poll(foCtx, func(ctx context.Context) bool { return w.failedOver(ctx, victim.Addr()) }) {
				r.mark("failover", "the paused master's replica promoted, cluster_state:ok")
			}
		}()
		select {
		case <-resumed:
		case <-ctx.Done():
			return
		}
		if poll(ctx, w.allOK) {
			r.mark(eventReady, "cluster_state:ok on every node after the SIGCONT")
		}
	}
	r.checks = func(s *summary, _ *outcome) []check {
		limit := r.cfg.bound + 250*time.Millisecond
		return []check{
			doneWhen(fmt.Sprintf("no request longer than the bound (%v, +250 ms for the rest of the request)", r.cfg.bound), s.phases[1].maxL <= limit && s.phases[2].maxL <= limit,
				fmt.Sprintf("max %s during, %s after; %d requests over %v", ms(s.phases[1].maxL), ms(s.phases[2].maxL), s.total.overBound, r.cfg.bound)),
			sessionsLostCheck(s),
		}
	}
	return nil
}

func preparePostgres(ctx context.Context, r *scenarioRun) error {
	pg, err := testserver.StartPostgres()
	if err != nil {
		return skipIfMissing(err)
	}
	r.cleanup(func() { pg.Stop() })
	// testserver runs PostgreSQL with durability off; a crash of the
	// server (not of the machine: fsync stays off) loses no acknowledged
	// commit once synchronous_commit is on again.
	if err := setSynchronousCommit(ctx, pg.URL()); err != nil {
		return err
	}
	r.appArgs = []string{"-postgres", pg.URL()}
	r.fault = func(context.Context) error {
		r.mark(eventFault, fmt.Sprintf("kill -9 of the postmaster %s (pid %d)", pg.Addr(), pg.PID()))
		return pg.Kill()
	}
	r.recover = func(context.Context) error {
		r.mark(eventRecover, "PostgreSQL restarted on the same data (crash recovery)")
		if err := pg.Restart(); err != nil {
			return err
		}
		r.mark(eventReady, "PostgreSQL accepting logins again")
		return nil
	}
	r.checks = func(s *summary, _ *outcome) []check {
		return []check{sessionsLostCheck(s), writesLostCheck(s)}
	}
	return nil
}

// setSynchronousCommit turns synchronous_commit on for every new session
// of the database: testserver starts the server with it off on its
// command line, which a database's setting overrides (ALTER SYSTEM would
// not). It checks the setting from a new connection.
func setSynchronousCommit(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE postgres SET synchronous_commit = on")
	conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("postgres: turning synchronous_commit on: %w", err)
	}
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&v); err != nil {
		return err
	}
	if v != "on" {
		return fmt.Errorf("postgres: synchronous_commit is %q for a new session, want on", v)
	}
	return nil
}

// fileScan is what a look at the file storage's directory found.
type fileScan struct {
	records, indexes, temps, corrupt int
	err                              error
}

func (f fileScan) String() string {
	if f.err != nil {
		return "file storage directory: " + f.err.Error()
	}
	return fmt.Sprintf("file storage directory after the run: %d session records and %d user indexes, all read back as JSON except %d; %d temporary files left by the kill",
		f.records, f.indexes, f.corrupt, f.temps)
}

// scanFileStore reads every record and user index file under dir (one
// shard directory per two hex digits) and checks that each is whole JSON.
func scanFileStore(dir string) fileScan {
	var f fileScan
	shards, err := os.ReadDir(dir)
	if err != nil {
		f.err = err
		return f
	}
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(dir, sh.Name()))
		if err != nil {
			f.err = err
			return f
		}
		for _, e := range entries {
			f.add(filepath.Join(dir, sh.Name(), e.Name()), e.Name())
		}
	}
	return f
}

func (f *fileScan) add(path, name string) {
	switch {
	case strings.HasPrefix(name, ".tmp-"):
		f.temps++
		return
	case strings.HasPrefix(name, "u-"):
		f.indexes++
	case len(name) == 62:
		f.records++
	default:
		return // locks
	}
	data, err := os.ReadFile(path)
	if err != nil || !wholeFile(name, data) {
		f.corrupt++
	}
}

// wholeFile checks a file of the store: a record is the Remix JSON array;
// a user's index is lines under a "sessionkit-index" header, the last one
// ended.
func wholeFile(name string, data []byte) bool {
	if strings.HasPrefix(name, "u-") {
		return bytes.HasPrefix(data, []byte("sessionkit-index ")) && bytes.HasSuffix(data, []byte("\n"))
	}
	return json.Valid(data)
}
