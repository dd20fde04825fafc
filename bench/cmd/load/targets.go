package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gorilla/sessions"
	"github.com/sessionkit/sessionkit/bench"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/memorystorage"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

func numCPU() int { return runtime.GOMAXPROCS(0) }

// targets lists what `make load` measures, in table order.
func targets() []target {
	return []target{
		minimal("sessionkit-memory", "sessionkit minimal, memory"),
		minimal("scs-memory", "scs minimal, memory"),
		minimal("sessionkit-cookie", "sessionkit minimal, cookie"),
		minimal("gorilla-cookie", "gorilla minimal, cookie"),
		exampleApp("app-memory", "example app, memory", nil, "-storage", "memory"),
		exampleApp("app-cookie", "example app, cookie", nil, "-storage", "cookie"),
		exampleApp("app-file", "example app, file", nil, "-storage", "file"),
		exampleApp("app-redis", "example app, Redis (1 node)", redisNode, "-storage", "redis"),
		mix(exampleApp("app-redis-mix", "example app, Redis (1 node): each visit a page and its 2 assets", redisNode, "-storage", "redis")),
		exampleApp("app-redis-cluster", "example app, Redis Cluster (3 masters)", redisCluster, "-storage", "redis"),
		exampleApp("app-memcache", "example app, Memcache", memcached, "-storage", "memcache"),
		exampleApp("app-postgres", "example app, PostgreSQL", postgres, "-storage", "postgres"),
	}
}

// minimal serves one of the bench module's handlers from this program,
// re-executed with -serve.
func minimal(kind, label string) target {
	return target{name: kind, label: label, start: func(ctx context.Context, env *environment) (string, func(), error) {
		addr, err := freeAddr()
		if err != nil {
			return "", nil, err
		}
		stop, err := startProcess(ctx, addr, env.self, []string{"-serve", kind, "-addr", addr})
		return "http://" + addr + "/", stop, err
	}}
}

// mix makes t a realistic mix: each visit asks for the page and then its
// two assets (stylesheet and icon), all three through the app's session
// middleware; only the page asks for the session.
func mix(t target) target {
	t.paths = []string{"/", "/static/app.css", "/static/favicon.svg"}
	return t
}

// A server starter returns the example app's extra arguments for it.
type serverStarter func(env *environment) ([]string, error)

// exampleApp runs examples/app with args and, when server is set, the
// server it needs.
func exampleApp(name, label string, server serverStarter, args ...string) target {
	return target{name: name, label: label, start: func(ctx context.Context, env *environment) (string, func(), error) {
		if server != nil {
			extra, err := server(env)
			if err != nil {
				return "", nil, err
			}
			args = append(append([]string(nil), args...), extra...)
		}
		addr, err := freeAddr()
		if err != nil {
			return "", nil, err
		}
		all := append([]string{"-addr", addr, "-dir", filepath.Join(env.tmp, "sessions-"+name)}, args...)
		stop, err := startProcess(ctx, addr, env.app, all, "SESSION_SECRET="+bench.Secret)
		return "http://" + addr + "/", stop, err
	}}
}

func skipIfMissing(err error) error {
	if errors.Is(err, testserver.ErrNotInstalled) {
		return fmt.Errorf("%w: %v", errSkip, err)
	}
	return err
}

func redisNode(env *environment) ([]string, error) {
	s, err := testserver.StartRedis()
	if err != nil {
		return nil, skipIfMissing(err)
	}
	env.stoppers = append(env.stoppers, func() { s.Stop() })
	env.redis = s.Addr()
	return []string{"-redis", s.Addr()}, nil
}

func redisCluster(env *environment) ([]string, error) {
	c, err := testserver.StartRedisCluster(3)
	if err != nil {
		return nil, skipIfMissing(err)
	}
	env.stoppers = append(env.stoppers, func() { c.Stop() })
	return []string{"-redis", strings.Join(c.Addrs(), ",")}, nil
}

func memcached(env *environment) ([]string, error) {
	s, err := testserver.StartMemcached()
	if err != nil {
		return nil, skipIfMissing(err)
	}
	env.stoppers = append(env.stoppers, func() { s.Stop() })
	return []string{"-memcache", s.Addr()}, nil
}

func postgres(env *environment) ([]string, error) {
	s, err := testserver.StartPostgres()
	if err != nil {
		return nil, skipIfMissing(err)
	}
	env.stoppers = append(env.stoppers, func() { s.Stop() })
	return []string{"-postgres", s.URL()}, nil
}

// serveMinimal is the -serve mode: one handler of the bench module on addr,
// until SIGTERM.
func serveMinimal(kind, addr string) error {
	var h http.Handler
	var err error
	switch kind {
	case "sessionkit-memory":
		var st session.Storage
		if st, err = memorystorage.New(memorystorage.Options{}); err == nil {
			h, err = bench.SessionkitHandler(st, true)
		}
	case "sessionkit-cookie":
		var st session.Storage
		if st, err = cookiestorage.New(cookiestorage.Options{CookieName: "session"}); err == nil {
			h, err = bench.SessionkitHandler(st, true)
		}
	case "scs-memory":
		h = bench.SCSHandler(scs.New(), true)
	case "gorilla-cookie":
		h = bench.GorillaHandler(sessions.NewCookieStore([]byte(bench.Secret)), true)
	default:
		return fmt.Errorf("unknown -serve %q", kind)
	}
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-sigterm()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func sigterm() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	notify(c)
	return c
}
