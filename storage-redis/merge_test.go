package redisstorage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// merge64 loads one session in 64 goroutines, sets a key of its own in
// each ("k0" … "k63"), and saves all 64 at once: every save must succeed
// and keep the others' keys, since package session answers a conflict by
// reading the record again and re-applying the request's own changes.
func merge64(t *testing.T, c redis.UniversalClient) {
	const n = 64
	ctx := context.Background()
	h := &roundTrips{}
	c.AddHook(h)
	st, err := New(c, Options{KeyPrefix: freshPrefix(), Session: session.Options{
		IdleTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler),
	}})
	if err != nil {
		t.Fatal(err)
	}
	cookie := request(t, st, "", func(s *session.Session) { s.Set("base", "yes") })
	loadScripts(t, c)

	var loaded sync.WaitGroup
	loaded.Add(n)
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := st.Read(ctx, cookie)
			if err == nil && s.ID() != cookie {
				err = fmt.Errorf("Read returned a new session")
			}
			if err == nil {
				s.Set(fmt.Sprintf("k%d", i), i)
			}
			loaded.Done()
			<-start
			if err != nil {
				errs[i] = err
				return
			}
			v, _, err := st.Save(ctx, s)
			if err == nil && v != cookie {
				err = fmt.Errorf("Save returned another cookie value")
			}
			errs[i] = err
		})
	}
	loaded.Wait()
	h.reset() // the 64 GETs
	close(start)
	wg.Wait()
	rounds, _ := h.take()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	s, err := st.Read(ctx, cookie)
	if err != nil || s.ID() != cookie {
		t.Fatalf("final Read: %v (new session: %v)", err, s != nil && s.ID() != cookie)
	}
	missing := 0
	for i := range n {
		if v, ok := session.Value[int](s, fmt.Sprintf("k%d", i)); !ok || v != i {
			missing++
		}
	}
	if missing != 0 || s.Get("base") != "yes" {
		t.Errorf("the final record lacks %d of the %d keys (base %v)", missing, n, s.Get("base"))
	}
	t.Logf("%d concurrent saves of one session: %d round trips (conflicts re-read and retried), %d of %d keys kept", n, rounds, n-missing, n)
}

func TestMerge64(t *testing.T) {
	t.Run("node", func(t *testing.T) { merge64(t, newClient(t, testserver.Redis(t).Addr())) })
	t.Run("cluster", func(t *testing.T) { merge64(t, newClusterClient(t, testserver.RedisCluster(t, 3))) })
}
