package main

import (
	"fmt"
	"log/slog"

	remixshared "github.com/sessionkit/sessionkit/examples/remix-shared"
	"github.com/sessionkit/sessionkit/session"
)

const (
	defaultStorage = "cookie"
	storageChoices = "cookie (unsealed, Remix format)"
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
	}
	return nil, fmt.Errorf("-storage %q: want %s", kind, storageChoices)
}
