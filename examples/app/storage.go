package main

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
)

// storageNames are the values -storage accepts in this build, in the order
// the usage text lists them.
var storageNames = []string{"memory", "file", "cookie"}

// storageInfo describes the storage the app runs on, for the pages.
type storageInfo struct {
	Name       string // the -storage value
	Where      string // where the session data lives, in a few words
	ClientSide bool   // the whole session travels in the cookie
	Sealed     bool   // cookie storage with keys: the payload is encrypted
	// Users lists and revokes a user's sessions (the account page's
	// "Active sessions"); nil for cookie storage, which cannot revoke.
	Users session.UserIndex
}

// newStorage returns the storage -storage names: every storage choice of the
// app is made here, so a new storage module adds one case. The secret derives
// the key that -seal encrypts cookie payloads with.
func newStorage(cfg config, cookieName, secret string) (session.Storage, storageInfo, error) {
	// UserKey: the storages index each user's sessions under the "user"
	// value, so the account page can list them and sign them out.
	o := session.Options{IdleTimeout: cfg.idle, Lifetime: cfg.lifetime, UserKey: userKey}
	info := storageInfo{Name: cfg.storage}
	if cfg.seal && cfg.storage != "cookie" {
		return nil, info, fmt.Errorf("-seal applies to -storage cookie only (not %q)", cfg.storage)
	}
	switch cfg.storage {
	case "memory":
		info.Where = "in this process's memory; gone when the app stops"
		st := session.NewMemoryStorage(o)
		info.Users, _ = st.(session.UserIndex)
		return st, info, nil
	case "file":
		info.Where = fmt.Sprintf("one file per session under %s/", cfg.dir)
		st, err := session.NewFileStorage(cfg.dir, o)
		info.Users, _ = st.(session.UserIndex)
		return st, info, err
	case "cookie":
		info.ClientSide = true
		copts := session.CookieStorageOptions{Options: o, CookieName: cookieName}
		if cfg.seal {
			key, err := sealKey(secret)
			if err != nil {
				return nil, info, err
			}
			copts.Keys = [][]byte{key}
			info.Sealed = true
			info.Where = "the whole session travels in the cookie, encrypted with AES-256-GCM"
		} else {
			info.Where = "the whole session travels in the cookie, signed but readable"
		}
		st, err := session.NewCookieStorage(copts)
		return st, info, err
	case "redis", "memcache":
		return nil, info, fmt.Errorf("-storage %s is not available in this build: the %s storage module is not part of this repository yet; use memory, file or cookie", cfg.storage, cfg.storage)
	}
	return nil, info, fmt.Errorf("-storage %q: want memory, file or cookie", cfg.storage)
}

// sealKey derives the 32-byte AES key for -seal from SESSION_SECRET, so one
// secret configures the app; a real deployment keeps a separate key ring.
func sealKey(secret string) ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(secret), nil, "sessionkit example: cookie storage seal key", 32)
}
