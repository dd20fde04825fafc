package main

import (
	"fmt"
	"log/slog"

	remixshared "github.com/sessionkit/sessionkit/examples/remix-shared"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

const (
	defaultStorage = "redis"
	storageChoices = "redis (a redis-server started on a free port) or cookie (unsealed, Remix format)"
)

// sharedStorage is the Go side's storage and what the Node app needs to
// reach the same sessions.
type sharedStorage struct {
	storage   session.Storage
	redisAddr string
	describe  string // shown after the storage's name
	stop      func()
}

func startStorage(kind string, logger *slog.Logger) (*sharedStorage, error) {
	switch kind {
	case "cookie":
		st, err := remixshared.NewCookieStorage(logger)
		if err != nil {
			return nil, err
		}
		return &sharedStorage{storage: st, stop: func() {}}, nil
	case "redis":
		srv, err := testserver.StartRedis()
		if err != nil {
			return nil, fmt.Errorf("starting redis-server: %w", err)
		}
		client := remixshared.NewRedisClient(srv.Addr())
		stop := func() {
			client.Close()
			pid := srv.PID()
			if err := srv.Stop(); err != nil {
				logger.Warn("stopping redis-server", "pid", pid, "err", err)
			}
		}
		st, err := remixshared.NewRedisStorage(client, logger)
		if err != nil {
			stop()
			return nil, err
		}
		describe := fmt.Sprintf(" (redis-server pid %d on %s, keys %s<id>)", srv.PID(), srv.Addr(), remixshared.RedisPrefix)
		return &sharedStorage{storage: st, redisAddr: srv.Addr(), describe: describe, stop: stop}, nil
	}
	return nil, fmt.Errorf("-storage %q: want %s", kind, storageChoices)
}
