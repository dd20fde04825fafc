// Command app is the sessionkit example site: a visit counter, a login form
// with a flash message on failure, a page only a signed-in user sees, and
// logout with a "signed out" flash, the session id regenerated on login.
//
//	go run ./examples/app                       # file storage in ./.sessions
//	go run ./examples/app -storage memory
//	go run ./examples/app -storage cookie -addr localhost:9000
//
// Set SESSION_SECRET (32+ characters) to keep sessions valid across
// restarts; without it a random secret is made at start.
package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

type config struct {
	addr, storage, dir string
	secure             bool
	idle, lifetime     time.Duration
}

func run(args []string) error {
	var cfg config
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "localhost:8080", "address to listen on")
	fs.StringVar(&cfg.storage, "storage", "file", "session storage: memory, cookie or file (redis and memcache come with their modules)")
	fs.StringVar(&cfg.dir, "dir", ".sessions", "directory for -storage file")
	fs.BoolVar(&cfg.secure, "secure", false, "send the cookie over HTTPS only (__Host- name); leave off for http://localhost")
	fs.DurationVar(&cfg.idle, "idle", 30*time.Minute, "idle timeout")
	fs.DurationVar(&cfg.lifetime, "lifetime", 12*time.Hour, "absolute session lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	secret := os.Getenv("SESSION_SECRET")
	if secret == "" {
		var b [32]byte
		rand.Read(b[:])
		secret = base64.RawURLEncoding.EncodeToString(b[:])
		logger.Info("SESSION_SECRET is not set: using a random secret, so sessions end when the app restarts")
	}
	name := "session"
	if cfg.secure {
		name = "__Host-session"
	}
	c, err := cookie.New(name, cookie.Options{Secure: cfg.secure, Secrets: []string{secret}})
	if err != nil {
		return err
	}
	st, err := newStorage(cfg, name)
	if err != nil {
		return err
	}
	app, err := newApp(c, st, logger)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: cfg.addr, Handler: app, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("sessionkit example listening", "url", "http://"+cfg.addr, "storage", cfg.storage)
	return srv.ListenAndServe()
}

func newStorage(cfg config, cookieName string) (session.Storage, error) {
	o := session.Options{IdleTimeout: cfg.idle, Lifetime: cfg.lifetime}
	switch cfg.storage {
	case "memory":
		return session.NewMemoryStorage(o), nil
	case "file":
		return session.NewFileStorage(cfg.dir, o)
	case "cookie":
		return session.NewCookieStorage(session.CookieStorageOptions{Options: o, CookieName: cookieName})
	case "redis", "memcache":
		return nil, fmt.Errorf("-storage %s: the %s storage module is not part of this repository yet; use memory, cookie or file", cfg.storage, cfg.storage)
	}
	return nil, errors.New("-storage must be memory, cookie or file")
}
