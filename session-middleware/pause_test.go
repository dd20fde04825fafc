//go:build unix

package sessionmiddleware

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// pingStorage is a memory storage that asks a real redis-server (PING)
// before each read and save, so that its calls wait for the server as a
// Redis storage's do, without that module's client as a dependency of
// this one. With honour set it sets the socket's deadline from the
// context, as go-redis does with ContextTimeoutEnabled; without, it waits
// for as long as the server does not answer.
type pingStorage struct {
	session.Storage
	addr   string
	honour bool
}

func (ps *pingStorage) ping(ctx context.Context) error {
	// A paused server's kernel still accepts the connection.
	conn, err := net.Dial("tcp", ps.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok && ps.honour {
		if err := conn.SetDeadline(dl); err != nil {
			return err
		}
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("redis answered %q", line)
	}
	return nil
}

func (ps *pingStorage) Read(ctx context.Context, v string) (*session.Session, error) {
	if err := ps.ping(ctx); err != nil {
		return nil, err
	}
	return ps.Storage.Read(ctx, v)
}

func (ps *pingStorage) Save(ctx context.Context, s *session.Session) (string, bool, error) {
	if err := ps.ping(ctx); err != nil {
		return "", false, err
	}
	return ps.Storage.Save(ctx, s)
}

// A redis-server paused with SIGSTOP, as in a failover drill, holds no
// request past the storage timeout: a storage that honours its context
// returns at the deadline on the request's goroutine (the default), and
// one that ignores it is left behind with AbandonLateCalls. Once the
// server is resumed, the same session is served again.
func TestStorageTimeoutPausedRedis(t *testing.T) {
	srv := testserver.Redis(t)
	for _, honour := range []bool{false, true} {
		t.Run(map[bool]string{false: "ignores-context-abandon", true: "honours-context"}[honour], func(t *testing.T) {
			st := &pingStorage{Storage: newMemory(t, session.Options{Logger: quiet}), addr: srv.Addr(), honour: honour}
			const bound = 200 * time.Millisecond
			mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{StorageTimeout: bound, AbandonLateCalls: !honour})
			ck, _ := newSession(t, mw, 1)
			h := mw(http.HandlerFunc(counter))

			if err := syscall.Kill(srv.PID(), syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			resume := func() {
				once.Do(func() {
					if err := syscall.Kill(srv.PID(), syscall.SIGCONT); err != nil {
						t.Error(err)
					}
				})
			}
			defer resume()
			for range 3 {
				rec, took := timed(h, cookieRequest(ck))
				want503(t, "paused redis", rec, "1")
				if took > bound+slack {
					t.Errorf("paused redis: answered after %v, want about %v", took, bound)
				}
			}
			resume()
			if rec := do(h, "GET", "/", ck); rec.Code != 200 || rec.Body.String() != "Count: 2" {
				t.Errorf("resumed: %d %q, want the same session (Count: 2)", rec.Code, rec.Body.String())
			}
		})
	}
}
