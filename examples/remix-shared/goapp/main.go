// Command goapp is the Go half of examples/remix-shared on its own: the Go
// app, sharing its session cookie with the Node app (../node/server.mjs)
// started separately with the same SESSION_SECRET.
//
//	SESSION_SECRET=… go run ./remix-shared/goapp -addr 127.0.0.1:8080 -peer http://127.0.0.1:3000
//	SESSION_SECRET=… go run ./remix-shared/goapp -storage redis -redis 127.0.0.1:6379
//
// SESSION_SECRET may list several secrets, comma separated; the first signs.
// `make demo-remix` (../demo) starts Redis and both apps together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	remixshared "github.com/sessionkit/sessionkit/examples/remix-shared"
	"github.com/sessionkit/sessionkit/session"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "goapp:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("goapp", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (use the Node app's host: cookies are shared per host, across ports)")
	peer := fs.String("peer", "http://127.0.0.1:3000", "the Node app's URL")
	storage := fs.String("storage", "cookie", "session storage: cookie (unsealed, Remix format) or redis")
	redisAddr := fs.String("redis", "127.0.0.1:6379", "Redis address for -storage redis (keys "+remixshared.RedisPrefix+"<id>, as the Node app's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(logger)
	secrets := remixshared.SplitSecrets(os.Getenv("SESSION_SECRET"))
	if len(secrets) == 0 {
		return errors.New("set SESSION_SECRET to the secret the Node app uses")
	}
	var st session.Storage
	var err error
	switch *storage {
	case "cookie":
		st, err = remixshared.NewCookieStorage(logger)
	case "redis":
		client := remixshared.NewRedisClient(*redisAddr)
		defer client.Close()
		st, err = remixshared.NewRedisStorage(client, logger)
	default:
		err = fmt.Errorf("-storage %q: want cookie or redis", *storage)
	}
	if err != nil {
		return err
	}
	h, err := remixshared.NewApp(remixshared.Config{Secrets: secrets, Storage: st, StorageName: *storage, PeerURL: *peer, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("Go app: http://%s/\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
