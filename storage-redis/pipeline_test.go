package redisstorage

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// batchHook records the largest pipeline the client sent.
type batchHook struct{ largest atomic.Int64 }

func (h *batchHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *batchHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *batchHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for n := int64(len(cmds)); ; {
			cur := h.largest.Load()
			if n <= cur || h.largest.CompareAndSwap(cur, n) {
				break
			}
		}
		return next(ctx, cmds)
	}
}

// Concurrent requests share batches: with 64 goroutines reading and
// saving at once, the autopipeliner sends several commands in one write,
// and every request still gets its own session.
func TestConcurrentRequestsShareBatches(t *testing.T) {
	srv := testserver.Redis(t)
	c := newClient(t, srv.Addr())
	hook := &batchHook{}
	c.AddHook(hook)
	st := mustNew(t, c, Options{KeyPrefix: freshPrefix()})
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := request(t, st, "", func(s *session.Session) { s.Set("g", g) })
			for range 30 {
				id = request(t, st, id, func(s *session.Session) {
					if n, _ := session.Value[int](s, "g"); n != g {
						t.Errorf("goroutine %d read %d", g, n)
					}
					s.Set("g", g)
				})
			}
		}()
	}
	wg.Wait()
	if hook.largest.Load() < 2 {
		t.Errorf("the largest pipeline held %d commands; want concurrent requests to share batches", hook.largest.Load())
	}
}
