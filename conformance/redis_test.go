package conformance

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// TestRedisConformance runs the whole conformance suite on storage-redis
// over miniredis, with ClockControlsExpiry: every scenario gets its own
// miniredis whose clock is the scenario's fake clock, so the scenarios that
// need the store to expire keys when that clock moves (idle timeouts,
// sliding refresh), which storage-redis's own run on a real redis-server
// leaves out, run here. The scenarios that test the backend itself
// (Config.Backend) are not run: the backend is unexported, and
// storage-redis runs them on real servers.
func TestRedisConformance(t *testing.T) {
	var stores sync.Map // session.Storage → *miniStore
	store := func(st session.Storage) *miniStore {
		s, _ := stores.Load(st)
		return s.(*miniStore)
	}
	sessiontest.Run(t, sessiontest.Config{
		New: func(t *testing.T, o session.Options) (session.Storage, error) {
			s := newMiniStore(t, o.Now)
			st, err := redisstorage.New(s.client, redisstorage.Options{Session: o})
			if err == nil {
				stores.Store(st, s)
			}
			return st, err
		},
		ServerSide:          true,
		ClockControlsExpiry: true,
		UserIndex:           true,
		Locks:               true,
		Count: func(t *testing.T, st session.Storage) int {
			return store(st).records()
		},
		Put: func(t *testing.T, st session.Storage, id string, rec []byte) {
			// A plain SET with no expiry, under the key the storage gives
			// the id (its SHA-256, by default).
			if err := store(st).client.Set(context.Background(), recordKey(id), rec, 0).Err(); err != nil {
				t.Fatalf("Put: %v", err)
			}
		},
		Get: func(t *testing.T, st session.Storage, id string) ([]byte, bool) {
			rec, err := store(st).client.Get(context.Background(), recordKey(id)).Bytes()
			if errors.Is(err, redis.Nil) {
				return nil, false
			}
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			return rec, true
		},
	})
}

// TestMiniredisFollowsTheClock checks the link the suite's clock scenarios
// rely on: a key's TTL counts down as the fake clock moves, and the key is
// gone once the clock passes it, with no real time passing.
func TestMiniredisFollowsTheClock(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	s := newMiniStore(t, clock.Now)
	st, err := redisstorage.New(s.client, redisstorage.Options{Session: session.Options{Now: clock.Now, IdleTimeout: 10 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	cookie, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("k", 1) })
	key := recordKey(cookie)
	if ttl := s.mr.TTL(key); ttl != 10*time.Minute {
		t.Fatalf("TTL after the save = %v, want 10m", ttl)
	}
	clock.Advance(4 * time.Minute)
	s.sync()
	if ttl := s.mr.TTL(key); ttl != 6*time.Minute {
		t.Errorf("TTL 4 min later = %v, want 6m", ttl)
	}
	clock.Advance(6 * time.Minute)
	s.sync()
	if s.mr.Exists(key) {
		t.Error("the key outlived its TTL on the fake clock")
	}
}

// miniStore is one storage's server: its own miniredis, whose clock is the
// storage's Options.Now, and a go-redis client to it.
type miniStore struct {
	mr     *miniredis.Miniredis
	client *redis.Client
	now    func() time.Time

	mu   sync.Mutex
	last time.Time // the latest time given to mr
}

// newMiniStore starts a miniredis that follows now: with ClockTTL on,
// miniredis counts every TTL down by the time its clock (SetTime) moved, so
// setting its clock to now() before every command (a go-redis hook) expires
// keys as a Redis living on that clock would have by then, coherently with
// TIME and PEXPIREAT. options, if any, adjust the client's options.
func newMiniStore(t *testing.T, now func() time.Time, options ...func(*redis.Options)) *miniStore {
	t.Helper()
	s := &miniStore{mr: miniredis.RunT(t), now: now}
	s.sync()
	s.mr.ClockTTL(true) // counts from the time sync just set
	o := &redis.Options{Addr: s.mr.Addr(), ContextTimeoutEnabled: true}
	for _, f := range options {
		f(o)
	}
	s.client = redis.NewClient(o)
	s.client.AddHook(s)
	t.Cleanup(func() { s.client.Close() })
	return s
}

// sync moves miniredis's clock to now(). It never moves it back: of two
// concurrent commands, the one that read the clock first may come second.
func (s *miniStore) sync() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.now(); t.After(s.last) {
		s.mr.SetTime(t)
		s.last = t
	}
}

// records counts the session records (not the index documents and locks,
// whose keys hold a ':' after the prefix) that are live at now().
func (s *miniStore) records() int {
	s.sync()
	n := 0
	for _, k := range s.mr.Keys() {
		if rest, ok := strings.CutPrefix(k, redisstorage.DefaultKeyPrefix); ok && !strings.Contains(rest, ":") {
			n++
		}
	}
	return n
}

// DialHook, ProcessHook and ProcessPipelineHook make miniStore a redis.Hook
// that syncs the clock before every command and pipeline.
func (s *miniStore) DialHook(next redis.DialHook) redis.DialHook { return next }

func (s *miniStore) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		s.sync()
		return next(ctx, cmd)
	}
}

func (s *miniStore) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		s.sync()
		return next(ctx, cmds)
	}
}

// recordKey is the Redis key of id's record under the default options.
func recordKey(id string) string { return redisstorage.DefaultKeyPrefix + session.HashID(id) }
