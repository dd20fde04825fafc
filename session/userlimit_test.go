package session_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// Sign-ins in flight count toward Options.MaxUserSessions: 64 sign-ins of
// one user at once, each slowed between its index update and its record's
// write, leave at most the limit alive under every policy.
func TestUserLimitCountsSignInsInFlight(t *testing.T) {
	const limit, signIns = 3, 64
	for _, policy := range []session.LimitPolicy{session.LimitEndOldest, session.LimitEndLeastRecent, session.LimitRefuse} {
		b := sessiontest.NewBackend(time.Now)
		b.Before(sessiontest.OpPut, func(key string) {
			if !strings.HasPrefix(key, "user:") {
				time.Sleep(2 * time.Millisecond) // the record's write, after the index's
			}
		})
		st := mustStorage(t, b, session.Options{UserKey: "user", MaxUserSessions: limit, UserLimit: policy})
		ctx := context.Background()
		cookies := make([]string, signIns)
		refused := 0
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range cookies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := session.New()
				s.Set("user", "alice")
				v, set, err := st.Save(ctx, s)
				switch {
				case errors.Is(err, session.ErrUserLimit) && policy == session.LimitRefuse:
					mu.Lock()
					refused++
					mu.Unlock()
				case err != nil:
					t.Errorf("Save: %v", err)
				case set:
					cookies[i] = v
				}
			}()
		}
		wg.Wait()
		alive := 0
		for _, c := range cookies {
			if c == "" {
				continue
			}
			if s, err := st.Read(ctx, c); err == nil && s.Get("user") == "alice" {
				alive++
			}
		}
		if alive > limit || alive == 0 {
			t.Errorf("policy %d: %d of %d concurrent sign-ins alive under a limit of %d", policy, alive, signIns, limit)
		}
		if policy == session.LimitRefuse && refused < signIns-limit {
			t.Errorf("LimitRefuse: %d sign-ins refused, want at least %d", refused, signIns-limit)
		}
	}
}

// A refused sign-in is reported as EventRefused, not as a storage error.
func TestUserLimitRefusedEvent(t *testing.T) {
	var got []session.Event
	obs := session.ObserverFunc(func(_ context.Context, e session.Event) { got = append(got, e) })
	st := mustStorage(t, sessiontest.NewBackend(time.Now), session.Options{UserKey: "user", MaxUserSessions: 1, UserLimit: session.LimitRefuse, Observer: obs})
	sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	s := session.New()
	s.Set("user", "ada")
	if _, _, err := st.Save(context.Background(), s); !errors.Is(err, session.ErrUserLimit) {
		t.Fatalf("Save past the limit: %v", err)
	}
	e := got[len(got)-1]
	if e.Kind != session.EventRefused || e.Cause != session.CauseCap || e.User != "ada" || !errors.Is(e.Err, session.ErrUserLimit) {
		t.Errorf("the refused sign-in's event: %+v", e)
	}
}
