package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// outages are the two ways the tests below make miniredis fail: every
// command answered with an error (a server that is loading, or refuses
// writes), and the server gone (closed, then restarted on the same port
// with its data).
var outages = []struct {
	name       string
	fail, heal func(t *testing.T, s *miniStore)
}{
	{
		"error replies",
		func(t *testing.T, s *miniStore) { s.mr.SetError("LOADING Redis is loading the dataset in memory") },
		func(t *testing.T, s *miniStore) { s.mr.SetError("") },
	},
	{
		"server down",
		func(t *testing.T, s *miniStore) { s.mr.Close() },
		func(t *testing.T, s *miniStore) {
			if err := s.mr.Restart(); err != nil {
				t.Fatal(err)
			}
		},
	},
}

const userKey = "user"

// newFailureStore is storage-redis on its own miniredis, with a per-user
// index.
func newFailureStore(t *testing.T) (*miniStore, session.Storage) {
	t.Helper()
	clock := sessiontest.NewFakeClock(time.Time{})
	// No command retries and one dial: during an outage a command fails at
	// once, rather than after retries and dial backoff that would only make
	// the test slower.
	s := newMiniStore(t, clock.Now, func(o *redis.Options) { o.MaxRetries, o.DialerRetries = -1, 1 })
	st, err := redisstorage.New(s.client, redisstorage.Options{Session: session.Options{
		Now: clock.Now, IdleTimeout: time.Hour, UserKey: userKey, Logger: sessiontest.NewLogs().Logger(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// TestRedisOutageReadSave checks that while the server fails, reading a
// session fails rather than returning a new one (which would sign the user
// out), saving a change fails, and that both work again, with the data
// intact, once the server is back.
func TestRedisOutageReadSave(t *testing.T) {
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			s, st := newFailureStore(t)
			ctx := context.Background()
			cookie, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set(userKey, "ada") })
			loaded, err := st.Read(ctx, cookie)
			if err != nil {
				t.Fatal(err)
			}
			loaded.Set("theme", "dark")

			o.fail(t, s)
			if got, err := st.Read(ctx, cookie); err == nil {
				t.Errorf("Read during the outage: no error, a session holding %v", got.Data())
			}
			if _, _, err := st.Save(ctx, loaded); err == nil {
				t.Error("Save during the outage: no error")
			}

			o.heal(t, s)
			if _, _, err := st.Save(ctx, loaded); err != nil {
				t.Fatalf("Save after the outage: %v", err)
			}
			got, err := st.Read(ctx, cookie)
			if err != nil {
				t.Fatalf("Read after the outage: %v", err)
			}
			if got.ID() != loaded.ID() || got.Get(userKey) != "ada" || got.Get("theme") != "dark" {
				t.Errorf("after the outage: same id %v, data %v; want the signed-in session with theme dark", got.ID() == loaded.ID(), got.Data())
			}
		})
	}
}

// TestRedisOutageUserIndex checks that listing and revoking a user's
// sessions report the outage as an error (not as "no sessions", or a revoke
// that did nothing), and work once the server is back.
func TestRedisOutageUserIndex(t *testing.T) {
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			s, st := newFailureStore(t)
			ix := st.(session.UserIndex)
			ctx := context.Background()
			cookie, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set(userKey, "ada") })
			list, err := ix.Sessions(ctx, "ada")
			if err != nil || len(list) != 1 {
				t.Fatalf("Sessions = %v, %v; want one", list, err)
			}

			o.fail(t, s)
			if got, err := ix.Sessions(ctx, "ada"); err == nil {
				t.Errorf("Sessions during the outage = %v and no error", got)
			}
			if err := ix.Revoke(ctx, "ada", list[0].Handle); err == nil {
				t.Error("Revoke during the outage: no error")
			}
			if n, err := ix.RevokeAll(ctx, "ada"); err == nil {
				t.Errorf("RevokeAll during the outage = %d and no error", n)
			}

			o.heal(t, s)
			if got, err := ix.Sessions(ctx, "ada"); err != nil || len(got) != 1 || got[0].Handle != list[0].Handle {
				t.Fatalf("Sessions after the outage = %v, %v; want the one session", got, err)
			}
			if err := ix.Revoke(ctx, "ada", list[0].Handle); err != nil {
				t.Fatalf("Revoke after the outage: %v", err)
			}
			got, err := st.Read(ctx, cookie)
			if err != nil {
				t.Fatalf("Read after the outage: %v", err)
			}
			if got.Has(userKey) {
				t.Errorf("the revoked session still loads after the outage: %v", got.Data())
			}
		})
	}
}
