package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	sessionmiddleware "github.com/sessionkit/sessionkit/session-middleware"
	"github.com/sessionkit/sessionkit/session/filestorage"
	"github.com/sessionkit/sessionkit/session/memorystorage"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	memcachestorage "github.com/sessionkit/sessionkit/storage-memcache"
	postgresstorage "github.com/sessionkit/sessionkit/storage-postgres"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// storageNames are the storages soak runs, in order.
var storageNames = []string{"memory", "file", "redis", "memcache", "postgres"}

// errSkip marks a storage whose server is not installed.
var errSkip = errors.New("skipped")

// opened is a storage and what to close after it: its client, its servers.
type opened struct {
	st      session.Storage
	closers []func()
}

func (o *opened) close() {
	for i := len(o.closers) - 1; i >= 0; i-- {
		o.closers[i]()
	}
}

// appOptions are the session options examples/app/storage.go gives its
// storages, as `make run` starts it (30 minutes idle, 12 hours lifetime, a
// per-user index under "user", a 30-second RegenerateGrace), for a load of
// users clients all signed in as one user, with two differences:
//
//   - MaxUserSessions is 2*users (at least the app's 10), as the app's
//     -max-user-sessions raises it for a load test: with the app's cap of
//     10, each sign-in past it would end another client's session. Twice
//     the users leaves room for the sessions a failed request strands (its
//     client signs in again without signing out; the stranded session
//     lives until its idle timeout).
//   - Observer is nil, where the app's feeds its event log, its logger and
//     -metrics (code of the app, not of the library, which soak does not
//     run); Logger counts the storages' warnings (newCountingLogger)
//     rather than printing them.
func appOptions(users int, logger *slog.Logger) session.Options {
	return session.Options{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour, UserKey: "user",
		MaxUserSessions: max(2*users, 10), RegenerateGrace: 30 * time.Second, Logger: logger}
}

// openStorage opens a storage as examples/app/storage.go does (its options,
// as appOptions describes them, its clients and server counts), on servers
// started for it, for a load of users clients.
func openStorage(name, tmp string, users int, logger *slog.Logger) (*opened, error) {
	o := appOptions(users, logger)
	op := &opened{}
	var err error
	switch name {
	case "memory":
		op.st, err = memorystorage.New(memorystorage.Options{Session: o})
	case "file":
		op.st, err = filestorage.New(filepath.Join(tmp, "sessions"), filestorage.Options{Session: o})
	case "redis":
		err = openRedis(op, o)
	case "memcache":
		err = openMemcache(op, o)
	case "postgres":
		err = openPostgres(op, o)
	default:
		err = fmt.Errorf("unknown storage %q", name)
	}
	if err != nil {
		op.close()
		return nil, err
	}
	return op, nil
}

func skipIfMissing(err error) error {
	if errors.Is(err, testserver.ErrNotInstalled) {
		return fmt.Errorf("%w: %v", errSkip, err)
	}
	return err
}

func openRedis(op *opened, o session.Options) error {
	srv, err := testserver.StartRedis()
	if err != nil {
		return skipIfMissing(err)
	}
	op.closers = append(op.closers, func() { srv.Stop() })
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{srv.Addr()}, ContextTimeoutEnabled: true})
	op.closers = append(op.closers, func() { client.Close() })
	op.st, err = redisstorage.New(client, redisstorage.Options{Session: o})
	return err
}

func openMemcache(op *opened, o session.Options) error {
	var addrs []string
	for range 3 { // the app's pool of three
		srv, err := testserver.StartMemcached()
		if err != nil {
			return skipIfMissing(err)
		}
		op.closers = append(op.closers, func() { srv.Stop() })
		addrs = append(addrs, srv.Addr())
	}
	servers := new(memcache.ServerList)
	if err := servers.SetServers(addrs...); err != nil {
		return err
	}
	client := memcache.NewFromSelector(servers)
	client.Timeout = 3 * time.Second
	op.closers = append(op.closers, func() { client.Close() })
	var err error
	op.st, err = memcachestorage.New(client, memcachestorage.Options{Session: o})
	return err
}

func openPostgres(op *opened, o session.Options) error {
	pg, err := testserver.StartPostgres()
	if err != nil {
		return skipIfMissing(err)
	}
	op.closers = append(op.closers, func() { pg.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, pg.URL())
	if err != nil {
		return err
	}
	op.closers = append(op.closers, pool.Close)
	if err := postgresstorage.Migrate(ctx, pool, "sessions"); err != nil {
		return err
	}
	op.st, err = postgresstorage.New(pool, postgresstorage.Options{Table: "sessions", Session: o})
	return err
}

// secret signs the session cookie.
const secret = "sessionkit-soak-0123456789abcdef0123456789"

// newHandler serves the example app's session work without its pages: GET
// / increments "visits" and saves; POST /login regenerates the id, sets
// "user" and records the sign-in (MarkAuthenticated), and flashes; POST
// /logout destroys the session (and flashes on a new one). The middleware
// and storage are those of the app.
func newHandler(st session.Storage, logger *slog.Logger) (http.Handler, error) {
	c, err := cookie.New("session", cookie.Options{Secrets: []string{secret}})
	if err != nil {
		return nil, err
	}
	mw, err := sessionmiddleware.New(c, st, sessionmiddleware.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n, _ := session.Value[int](s, "visits")
		s.Set("visits", n+1)
		user, _ := session.Value[string](s, "user")
		fmt.Fprintf(w, "visits=%d user=%s\n", n+1, user)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.RegenerateID(true)
		s.Set("user", "demo")
		s.MarkAuthenticated(time.Now())
		s.Flash("notice", "Welcome, demo!")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Destroy()
		s.Flash("notice", "You have been signed out.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	return mw(mux), nil
}

// countingHandler is a slog.Handler that counts WARN and ERROR records and
// keeps the first message, and drops the rest: the storages' warnings
// under load would otherwise flood the output.
type countingHandler struct {
	n     *atomic.Int64
	first *atomic.Value
}

func newCountingLogger() (*slog.Logger, *atomic.Int64, *atomic.Value) {
	h := countingHandler{n: new(atomic.Int64), first: new(atomic.Value)}
	return slog.New(h), h.n, h.first
}

func (h countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.n.Add(1)
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.first.CompareAndSwap(nil, b.String())
	return nil
}

func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// openFiles counts this process's open file descriptors, or -1 where
// /proc/self/fd does not exist.
func openFiles() float64 {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return float64(len(entries) - 1) // less the descriptor ReadDir held
}
