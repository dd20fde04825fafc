//go:build unix

package redisstorage

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// A redis-server paused with SIGSTOP (a failover drill, a long fork) fails
// each read and save at its context's deadline, pipelined or not, and the
// same session is served again once the server is resumed: the request's
// wait for a pipelined command ends at its deadline even though the batch
// it rides in is still waiting for the server.
func TestPausedServerFailsAtTheDeadline(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(map[bool]string{false: "pipelined", true: "NoPipeline"}[direct], func(t *testing.T) {
			if !direct {
				pipelineAll(t)
			}
			srv := testserver.Redis(t)
			st := mustNew(t, newClient(t, srv.Addr()), Options{KeyPrefix: freshPrefix(), NoPipeline: direct})
			id := request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
			if err := syscall.Kill(srv.PID(), syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			resume := func() { once.Do(func() { _ = syscall.Kill(srv.PID(), syscall.SIGCONT) }) }
			defer resume()
			const bound = 150 * time.Millisecond
			for _, op := range []string{"read", "save", "read"} {
				ctx, cancel := context.WithTimeout(context.Background(), bound)
				start := time.Now()
				var err error
				if op == "read" {
					_, err = st.Read(ctx, id)
				} else {
					s := session.Restore(id, session.Data{})
					s.Set("n", 2)
					_, _, err = st.Save(ctx, s)
				}
				took := time.Since(start)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s on a paused server: %v, want the deadline's error", op, err)
				}
				if took > bound+500*time.Millisecond {
					t.Errorf("%s on a paused server returned after %v, want about %v", op, took, bound)
				}
			}
			resume()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s, err := st.Read(ctx, id)
			if err != nil || s.ID() != id {
				t.Fatalf("after the resume: %v; want the session", err)
			}
		})
	}
}
