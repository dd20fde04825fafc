// Command demo runs examples/remix-shared: the Go app and the Remix app on
// two loopback ports sharing one login, and with -storage redis a
// redis-server it starts itself on a free port. It prints both URLs and runs
// until Ctrl-C (SIGINT) or SIGTERM, then stops the Node app and Redis by
// their PIDs. `make demo-remix` runs it from the examples folder.
//
//	go run ./remix-shared/demo [-storage redis|cookie] [-go-addr 127.0.0.1:8080] [-node-port 3000]
//
// SESSION_SECRET (comma separated; the first signs) is used when set,
// otherwise a random secret for this run.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	goAddr := fs.String("go-addr", "127.0.0.1:8080", "the Go app's address (port 0: a free one)")
	nodePort := fs.Int("node-port", 3000, "the Node app's port on 127.0.0.1 (0: a free one)")
	storage := fs.String("storage", defaultStorage, "session storage both apps share: "+storageChoices)
	nodeDir := fs.String("node-dir", "remix-shared/node", "the folder of the Node app (server.mjs, node_modules)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(logger)

	secrets := remixshared.SplitSecrets(os.Getenv("SESSION_SECRET"))
	if len(secrets) == 0 {
		var b [32]byte
		rand.Read(b[:])
		secrets = []string{base64.RawURLEncoding.EncodeToString(b[:])}
	}

	sh, err := startStorage(*storage, logger)
	if err != nil {
		return err
	}
	defer sh.stop()

	ln, err := net.Listen("tcp", *goAddr)
	if err != nil {
		return err
	}
	goURL := "http://" + ln.Addr().String()
	node, err := remixshared.StartNode(remixshared.NodeConfig{
		Dir: *nodeDir, Secrets: secrets, PeerURL: goURL,
		Storage: *storage, RedisAddr: sh.redisAddr, Port: *nodePort, Log: os.Stderr,
	})
	if err != nil {
		ln.Close()
		return err
	}
	defer func() {
		if err := node.Stop(); err != nil {
			logger.Warn("stopping the Node app", "pid", node.PID(), "err", err)
		}
	}()
	h, err := remixshared.NewApp(remixshared.Config{Secrets: secrets, Storage: sh.storage, StorageName: *storage, PeerURL: node.URL, Logger: logger})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fmt.Printf("\nremix-shared demo, %s storage%s\n", *storage, sh.describe)
	fmt.Printf("  Go app:   %s/\n", goURL)
	fmt.Printf("  Node app: %s/\n", node.URL)
	fmt.Printf("Sign in on one (demo / password), open the other. Ctrl-C stops everything.\n\n")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-served:
		runErr = err
	case <-node.Done():
		runErr = errors.New("the Node app exited")
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}
