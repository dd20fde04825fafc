// Command app is the sessionkit example site: a visit counter, a login form
// with a flash message on failure, a page only a signed-in user sees, and
// logout with a "signed out" flash, the session id regenerated on login. Every
// page shows what the session holds at that moment, and forms are protected
// against cross-site request forgery by net/http.CrossOriginProtection.
//
//	go run ./examples/app                       # file storage in ./.sessions
//	go run ./examples/app -storage memory
//	go run ./examples/app -storage cookie -seal -addr localhost:9000
//	go run ./examples/app -storage redis-cluster  # starts 3 throwaway masters
//	go run ./examples/app -storage redis -redis 127.0.0.1:6379
//	go run ./examples/app -storage memcache -memcache 127.0.0.1:11211,127.0.0.1:11212
//	go run ./examples/app -storage postgres -postgres 'postgres://app@127.0.0.1:5432/app?sslmode=disable'
//	go run ./examples/app -metrics               # GET /metrics: Prometheus text format
//
// With -storage redis, redis-cluster, memcache or postgres and no address
// flag, the app starts throwaway servers on free loopback ports (one Redis, a
// Redis Cluster of 3 masters, a pool of 3 memcached, one PostgreSQL) and
// stops them, removing their files, when it exits (servers.go).
//
// The storage reports each session's lifecycle events (session.Observer) to
// the app, which lists the recent ones of a session on its pages and says
// why a browser was signed out (events.go), and to the log. With -metrics
// they also become OpenTelemetry metrics, exported for Prometheus at
// GET /metrics (metrics.go).
//
// -storage postgres creates its table, sessions, at start when it is
// missing; the -postgres URL may also carry pgx's pool settings, such as
// pool_max_conns=8.
//
// Set SESSION_SECRET (32+ characters) to keep sessions valid across
// restarts; without it a random secret is made at start. SIGINT (Ctrl-C) and
// SIGTERM shut the server down cleanly, letting requests in flight finish,
// and the program exits 0.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts the shutdown, a second one kills
		// the program at once, as usual.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

type config struct {
	addr, storage, dir string
	redis, memcache    string // server addresses, comma-separated
	postgres           string // a PostgreSQL connection URL
	secure, seal       bool
	metrics            bool
	idle, lifetime     time.Duration
	maxUserSessions    int // 0: maxUserSessions

	// Not flags: what run (or a test) gives the storage.
	observer session.Observer // Options.Observer; nil: none
	// now is a test's clock, nil for time.Now: every storage's
	// Options.Now (ClientOptions.Now for cookie storage, and its epoch
	// store's), so that expiry and RequireRecentAuth follow it. The app
	// takes the same clock (appConfig.now).
	now func() time.Time
}

// shutdownTimeout bounds how long requests in flight may take to finish
// once a signal asked the server to stop.
const shutdownTimeout = 10 * time.Second

// run serves the app until ctx is done, then shuts the server down; it
// returns nil after a clean shutdown.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}

	// One handler for everything: the app's lines and the library's
	// warnings (weak secrets, corrupt records) come out in one format.
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	slog.SetDefault(logger)

	secret := sessionSecret(logger)
	name := "session"
	if cfg.secure {
		name = "__Host-session"
	}
	c, err := cookie.New(name, cookie.Options{Secure: cfg.secure, Secrets: []string{secret}})
	if err != nil {
		return err
	}
	// Throwaway servers when -storage needs one and no address was given;
	// stopped last, after the HTTP server and the storage's connections.
	stopServers, err := startServers(&cfg, logger)
	defer stopServers()
	if err != nil {
		return err
	}
	acfg, stopMetrics, err := observe(&cfg, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	st, info, err := newStorage(cfg, name, secret)
	if err != nil {
		return err
	}
	if info.Close != nil {
		defer info.Close() // after the shutdown: requests in flight use it
	}
	acfg.storage, acfg.idle, acfg.lifetime, acfg.now = info, cfg.idle, cfg.lifetime, cfg.now
	app, err := newApp(c, st, acfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("sessionkit example listening", "url", listenURL(cfg.addr, ln.Addr()), "storage", info.Name, "sealed", info.Sealed, "metrics", cfg.metrics)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// parseFlags reads the command line into a config, writing the usage and
// the errors of flag parsing to stderr. A test reads the flags a row of
// its table starts the binary with through it, to serve the same setup in
// its own process.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", "localhost:8080", "address to listen on (port 0: any free port)")
	fs.StringVar(&cfg.storage, "storage", "file", "session storage: "+strings.Join(storageNames, ", "))
	fs.StringVar(&cfg.dir, "dir", ".sessions", "directory for -storage file")
	fs.StringVar(&cfg.redis, "redis", "", "with -storage redis: the server's address, or several seed nodes of a Redis Cluster, comma-separated; with -storage redis-cluster: seed nodes (empty: start throwaway servers)")
	fs.StringVar(&cfg.memcache, "memcache", "", "with -storage memcache: memcached addresses, comma-separated (empty: start a throwaway pool of 3)")
	fs.StringVar(&cfg.postgres, "postgres", "", "with -storage postgres: the server's connection URL, pgx's format; the table is sessions (empty: start a throwaway server)")
	fs.BoolVar(&cfg.seal, "seal", false, "with -storage cookie: encrypt the payload (AES-256-GCM) instead of only signing it")
	fs.BoolVar(&cfg.secure, "secure", false, "send the cookie over HTTPS only (__Host- name); leave off for http://localhost")
	fs.BoolVar(&cfg.metrics, "metrics", false, "serve the session metrics (OpenTelemetry, Prometheus exporter) at GET /metrics")
	fs.DurationVar(&cfg.idle, "idle", 30*time.Minute, "idle timeout")
	fs.DurationVar(&cfg.lifetime, "lifetime", 12*time.Hour, "absolute session lifetime")
	fs.IntVar(&cfg.maxUserSessions, "max-user-sessions", maxUserSessions, "sessions one account may have at once; a sign-in past it ends the oldest (a load test that signs many clients in as demo raises it)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q (flags only; see -h)", fs.Args())
	}
	return cfg, nil
}

// sessionSecret returns SESSION_SECRET, or a random secret (logged) when it
// is not set.
func sessionSecret(logger *slog.Logger) string {
	secret := os.Getenv("SESSION_SECRET")
	if secret == "" {
		var b [32]byte
		rand.Read(b[:])
		secret = base64.RawURLEncoding.EncodeToString(b[:])
		logger.Info("SESSION_SECRET is not set: using a random secret, so sessions end when the app restarts")
	}
	return secret
}

// observe sets cfg.observer, the storage's Observer: the app's event log
// (returned in the appConfig for the pages), the logger, and with -metrics
// the OpenTelemetry exporter, whose /metrics handler it also returns in the
// appConfig. stop shuts the MeterProvider down.
func observe(cfg *config, logger *slog.Logger) (acfg appConfig, stop func(), err error) {
	acfg.events = newEventLog(cfg.now)
	stop = func() {}
	var exported session.Observer
	if cfg.metrics {
		m, err := newMetrics()
		if err != nil {
			return acfg, stop, fmt.Errorf("-metrics: %w", err)
		}
		stop = func() { m.Shutdown(context.Background()) }
		acfg.metrics, exported = m.Handler, m.Observer
	}
	cfg.observer = acfg.events.observer(logger, exported)
	return acfg, stop, nil
}

// listenURL is the address to open in a browser: the host as given (so
// "localhost" stays "localhost") with the port actually bound.
func listenURL(addr string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	_, port, err2 := net.SplitHostPort(bound.String())
	if err != nil || err2 != nil {
		return "http://" + bound.String()
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
