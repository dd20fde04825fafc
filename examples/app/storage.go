package main

import (
	"cmp"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/filestorage"
	"github.com/sessionkit/sessionkit/session/memorystorage"
	memcachestorage "github.com/sessionkit/sessionkit/storage-memcache"
	postgresstorage "github.com/sessionkit/sessionkit/storage-postgres"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// storageNames are the values -storage accepts in this build, in the order
// the usage text lists them.
var storageNames = []string{"memory", "file", "cookie", "redis", "redis-cluster", "memcache", "postgres"}

// serverCheckTimeout bounds the check, at start, that a Redis, Memcache or
// PostgreSQL server answers, so a wrong address is a clear error rather than
// a 500 on the first request.
const serverCheckTimeout = 3 * time.Second

// postgresTable is the table -storage postgres keeps sessions in; the app
// creates it at start when it is missing (postgresstorage.Migrate).
const postgresTable = "sessions"

// storageInfo describes the storage the app runs on, for the pages.
type storageInfo struct {
	Name       string // the -storage value
	Where      string // where the session data lives, in a few words
	ClientSide bool   // the whole session travels in the cookie
	Sealed     bool   // cookie storage with keys: the payload is encrypted
	// Users lists and revokes a user's sessions (the account page's
	// "Active sessions"); nil for cookie storage, which keeps no list.
	Users session.UserIndex
	// Epochs ends every session of a user but one at once (a password
	// change, "sign out everywhere else"): every storage has it, cookie
	// storage through the epoch store it checks its cookies against.
	Epochs session.Epochs
	// Locate says where the record of the session with this id lives, when
	// that depends on the id: the Redis Cluster master that holds its key,
	// the memcached of the pool that its key hashes to. Nil otherwise.
	Locate func(ctx context.Context, id string) string
	// Close releases the storage's connections to its server; nil when it
	// holds none.
	Close func()
}

// newStorage returns the storage -storage names (see openStorage), its
// per-user index when it keeps one (every storage but cookie storage), and
// its per-user epochs (every storage). They are found here, on the storage
// itself, because the app may be handed a wrapper of it (a test's).
func newStorage(cfg config, cookieName, secret string) (session.Storage, storageInfo, error) {
	st, info, err := openStorage(cfg, cookieName, secret)
	if err == nil {
		info.Users, _ = st.(session.UserIndex)
		info.Epochs, _ = st.(session.Epochs)
	}
	return st, info, err
}

// maxUserSessions is how many sessions one account may have at once,
// unless -max-user-sessions says otherwise: a sign-in past it ends the
// account's oldest session, which is then told why (events.go). The
// library's default is meant for programs that sign in from many machines;
// a person has a handful of devices, and a small cap keeps "Active
// sessions" short enough to read. A load test that signs many clients in
// as one demo user raises it.
const maxUserSessions = 10

// regenerateGrace is session.Options.RegenerateGrace: for this long after
// a request that rotates a session's id (RegenerateID(true)), the old id
// still leads to the session, under its new id, so that a client whose
// response was lost can retry with its old cookie. The library gives the
// window to a rotation alone: the same user before and after, no
// MarkAuthenticated in the request, no Epochs.Bump that kept the session.
// Every rotation this app makes is a change of privilege, so none gets it:
// a sign-in and signing in again (login, which marks the sign-in) and a
// password change (changePassword, after its Bump) delete the old id's
// record at once, and whoever planted or stole that id (session fixation)
// is left with nothing. (Cookie storage keeps no record to forward and
// has no such option.) A sign-in whose response was lost needs no window:
// its retry carries the password and signs in again. The option matters to
// an app that also rotates signed-in ids on its own, say once an hour; it
// is set here to show where it goes, and so that the tests check that it
// leaves the app's old ids dead (TestRegenerateGrace).
const regenerateGrace = 30 * time.Second

// openStorage opens the storage -storage names: every storage choice of the
// app is made here, so a new storage module adds one case. The secret derives
// the key that -seal encrypts cookie payloads with.
func openStorage(cfg config, cookieName, secret string) (session.Storage, storageInfo, error) {
	// UserKey: the storages index each user's sessions under the "user"
	// value, so the account page can list them and sign them out.
	// Observer: the lifecycle events go to the app (events.go), the log and
	// -metrics. Now: the app's clock when a test sets one, for expiry and
	// for RequireRecentAuth's age of a sign-in (password.go); cookie
	// storage and its epoch store take it too.
	o := session.Options{IdleTimeout: cfg.idle, Lifetime: cfg.lifetime, UserKey: userKey, Observer: cfg.observer, Now: cfg.now,
		MaxUserSessions: cmp.Or(cfg.maxUserSessions, maxUserSessions), RegenerateGrace: regenerateGrace}
	info := storageInfo{Name: cfg.storage}
	if cfg.seal && cfg.storage != "cookie" {
		return nil, info, fmt.Errorf("-seal applies to -storage cookie only (not %q)", cfg.storage)
	}
	switch cfg.storage {
	case "memory":
		info.Where = "in this process's memory; gone when the app stops"
		st, err := memorystorage.New(memorystorage.Options{Session: o})
		return st, info, err
	case "file":
		dir := cfg.dir
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs // the real folder, wherever the app was started from
		}
		info.Where = fmt.Sprintf("one file per session under %s%c", dir, filepath.Separator)
		st, err := filestorage.New(cfg.dir, filestorage.Options{Session: o})
		return st, info, err
	case "cookie":
		return openCookie(cfg, cookieName, secret, info)
	case "redis", "redis-cluster":
		// One address is a single server; several, or -storage
		// redis-cluster, are the seed nodes of a Redis Cluster.
		// ContextTimeoutEnabled makes a request's deadline bound its
		// commands.
		addrs := splitAddrs(cfg.redis)
		uo := &redis.UniversalOptions{Addrs: addrs, ContextTimeoutEnabled: true}
		if cfg.storage == "redis-cluster" {
			uo.IsClusterMode = true
		}
		client := redis.NewUniversalClient(uo)
		ctx, cancel := context.WithTimeout(context.Background(), serverCheckTimeout)
		defer cancel()
		if err := client.Ping(ctx).Err(); err != nil {
			client.Close()
			return nil, info, fmt.Errorf("-storage %s: no Redis answers at %s (-redis): %w", cfg.storage, cfg.redis, err)
		}
		if cluster, ok := client.(*redis.ClusterClient); ok {
			info.Where = fmt.Sprintf("in a Redis Cluster (seeds %s), under the key session:<sha256 of the id>, on the master that serves its hash slot", cfg.redis)
			info.Locate = func(ctx context.Context, id string) string {
				master, err := cluster.MasterForKey(ctx, redisstorage.DefaultKeyPrefix+session.HashID(id))
				if err != nil {
					return "unknown right now (" + err.Error() + ")"
				}
				return "on the master at " + master.Options().Addr + ", which serves the hash slot of its key"
			}
		} else {
			info.Where = fmt.Sprintf("in Redis at %s, under the key session:<sha256 of the id>", cfg.redis)
		}
		info.Close = func() { client.Close() }
		st, err := redisstorage.New(client, redisstorage.Options{Session: o})
		return st, info, err
	case "memcache":
		// Several addresses spread sessions over the servers by key.
		// The ServerList picks a session's server from its key; the page
		// asks it the same (PickServer).
		servers := new(memcache.ServerList)
		if err := servers.SetServers(splitAddrs(cfg.memcache)...); err != nil {
			return nil, info, fmt.Errorf("-storage memcache: -memcache %s: %w", cfg.memcache, err)
		}
		client := memcache.NewFromSelector(servers)
		client.Timeout = serverCheckTimeout
		if err := client.Ping(); err != nil {
			client.Close()
			return nil, info, fmt.Errorf("-storage memcache: a server at %s (-memcache) does not answer: %w", cfg.memcache, err)
		}
		info.Where = fmt.Sprintf("in memcached at %s, under the key remix:session:<sha256 of the id>", cfg.memcache)
		if len(splitAddrs(cfg.memcache)) > 1 {
			info.Where = fmt.Sprintf("in a pool of memcached (%s), under the key remix:session:<sha256 of the id>, on the server that key hashes to", cfg.memcache)
			info.Locate = func(_ context.Context, id string) string {
				sum := sha256.Sum256([]byte(id))
				addr, err := servers.PickServer(memcachestorage.DefaultKeyPrefix + hex.EncodeToString(sum[:]))
				if err != nil {
					return "unknown right now (" + err.Error() + ")"
				}
				return "on the memcached at " + addr.String() + ", which its key hashes to"
			}
		}
		info.Close = func() { client.Close() }
		st, err := memcachestorage.New(client, memcachestorage.Options{Session: o})
		return st, info, err
	case "postgres":
		return openPostgres(cfg.postgres, o, info)
	}
	return nil, info, fmt.Errorf("-storage %q: want one of %s", cfg.storage, strings.Join(storageNames, ", "))
}

// openCookie returns cookie storage, signed or (-seal) sealed. A session in
// a cookie cannot be listed or deleted, but it can be ended: the storage
// stamps each sign-in with its user's epoch, kept on the server, and refuses
// a cookie stamped below the current one, so a password change or "sign out
// everywhere else" (session.Epochs.Bump) reaches every browser.
func openCookie(cfg config, cookieName, secret string, info storageInfo) (session.Storage, storageInfo, error) {
	info.ClientSide = true
	epochs, err := epochStore(cfg)
	if err != nil {
		return nil, info, err
	}
	copts := cookiestorage.Options{
		CookieName: cookieName,
		Session: session.ClientOptions{IdleTimeout: cfg.idle, Lifetime: cfg.lifetime, Observer: cfg.observer, Now: cfg.now,
			UserKey: userKey, Epochs: epochs},
	}
	info.Where = "the whole session travels in the cookie, signed but readable"
	if cfg.seal {
		key, err := sealKey(secret)
		if err != nil {
			return nil, info, err
		}
		copts.Keys = [][]byte{key}
		info.Sealed = true
		info.Where = "the whole session travels in the cookie, encrypted with AES-256-GCM"
	}
	st, err := cookiestorage.New(copts)
	return st, info, err
}

// epochStore returns where cookie storage keeps its users' epochs: a
// memory storage of this process, which holds nothing but them (its
// per-user index documents). It is enough for one process. Several
// processes behind a load balancer need one they share (Redis,
// PostgreSQL), or a password change in one would not end the cookies that
// the others accept.
func epochStore(cfg config) (session.Epochs, error) {
	st, err := memorystorage.New(memorystorage.Options{Session: session.Options{UserKey: userKey, Now: cfg.now}})
	if err != nil {
		return nil, err
	}
	ep, ok := st.(session.Epochs)
	if !ok {
		return nil, errors.New("-storage cookie: the epoch store keeps no epochs")
	}
	return ep, nil
}

// openPostgres connects a pgx pool to the PostgreSQL server the URL (or
// key=value connection string) names, checks that it answers, creates the
// sessions table when it is missing, and returns the storage on it. The
// pages name the server and the table, never the URL: it may hold a
// password.
func openPostgres(connString string, o session.Options, info storageInfo) (session.Storage, storageInfo, error) {
	pcfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, info, fmt.Errorf("-storage postgres: -postgres: %w", err)
	}
	cc := pcfg.ConnConfig
	at := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		return nil, info, fmt.Errorf("-storage postgres: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), serverCheckTimeout)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, info, fmt.Errorf("-storage postgres: no PostgreSQL answers at %s (-postgres): %w", at, err)
	}
	// Migrate needs CREATE on the schema even when the table exists, which a
	// least-privilege user (its table made by an administrator) lacks: New's
	// check of the table decides, and Migrate's error is reported only when
	// the table is not usable.
	migrateErr := postgresstorage.Migrate(ctx, pool, postgresTable)
	st, err := postgresstorage.New(pool, postgresstorage.Options{Table: postgresTable, Session: o})
	if err != nil {
		pool.Close()
		if migrateErr != nil {
			return nil, info, fmt.Errorf("-storage postgres: creating the table %s: %w", postgresTable, migrateErr)
		}
		return nil, info, fmt.Errorf("-storage postgres: %w", err)
	}
	info.Where = fmt.Sprintf("in PostgreSQL at %s, one row per session in the table %s of the database %s", at, postgresTable, cc.Database)
	info.Locate = func(context.Context, string) string {
		return fmt.Sprintf("a row of the table %s (database %s, at %s), keyed by the SHA-256 of its id", postgresTable, cc.Database, at)
	}
	info.Close = pool.Close
	return st, info, nil
}

// splitAddrs splits a comma-separated address list, dropping blanks.
func splitAddrs(list string) []string {
	var addrs []string
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// sealKey derives the 32-byte AES key for -seal from SESSION_SECRET, so one
// secret configures the app; a real deployment keeps a separate key ring.
func sealKey(secret string) ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(secret), nil, "sessionkit example: cookie storage seal key", 32)
}
