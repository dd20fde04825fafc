package redisstorage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
)

// TestStaleMapErrors: the errors after which the storage asks a Cluster
// client to reload its slot map, and those after which it does not.
func TestStaleMapErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := l.Addr().String()
	l.Close()
	_, refused := net.Dial("tcp", addr)
	if refused == nil {
		t.Fatal("a closed port accepted a connection")
	}
	for err, want := range map[error]bool{
		refused:                            true,
		io.EOF:                             true,
		io.ErrUnexpectedEOF:                true,
		context.DeadlineExceeded:           true,
		redis.ErrPoolTimeout:               true,
		fmt.Errorf("wrapped: %w", refused): true,
		errors.New("CLUSTERDOWN The cluster is down"):                       true,
		errors.New("TRYAGAIN Multiple keys request during rehashing"):       true,
		errors.New("MOVED 3999 127.0.0.1:6381"):                             true,
		errors.New("ASK 3999 127.0.0.1:6381"):                               true,
		errors.New("MASTERDOWN Link with MASTER is down"):                   true,
		errors.New("READONLY You can't write against a read only replica."): true,
		errors.New("LOADING Redis is loading the dataset in memory"):        true,
		context.Canceled: false,
		fmt.Errorf("redisstorage: %w", context.Canceled): false,
		redis.Nil:           false,
		session.ErrConflict: false,
		errors.New("WRONGTYPE Operation against a key holding the wrong kind of value"): false,
		errors.New("NOSCRIPT No matching script"):                                       false,
		nil: false,
	} {
		if got := staleMapError(err); got != want {
			t.Errorf("staleMapError(%v) = %v, want %v", err, got, want)
		}
	}
}

// fakeReloader counts ReloadState calls; each blocks until release is
// closed, when it is not nil.
type fakeReloader struct {
	calls   atomic.Int64
	release chan struct{}
}

func (f *fakeReloader) ReloadState(ctx context.Context) {
	f.calls.Add(1)
	if f.release != nil {
		<-f.release
	}
}

// waitCalls waits up to a second for f to have been called want times.
func (f *fakeReloader) waitCalls(t *testing.T, what string, want int64) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for f.calls.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := f.calls.Load(); got != want {
		t.Errorf("%s: %d reloads, want %d", what, got, want)
	}
}

// stays checks, a little later, that f was called want times and no more.
func (f *fakeReloader) stays(t *testing.T, what string, want int64) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	if got := f.calls.Load(); got != want {
		t.Errorf("%s: %d reloads, want %d", what, got, want)
	}
}

// TestReloadRateLimited: a burst of failing requests from many goroutines
// asks for one reload; the next one is asked reloadEvery later at the
// earliest; errors that say nothing about the slot map ask for none.
func TestReloadRateLimited(t *testing.T) {
	f := &fakeReloader{}
	r := &reloader{c: f}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				r.after(refused)
			}
		})
	}
	wg.Wait()
	f.waitCalls(t, "a burst of 800 connection errors", 1)
	r.after(refused)
	f.stays(t, "another error at once", 1)
	time.Sleep(reloadEvery)
	r.after(redis.Nil)
	r.after(context.Canceled)
	f.stays(t, "errors that say nothing about the cluster", 1)
	r.after(errors.New("CLUSTERDOWN The cluster is down"))
	f.waitCalls(t, "CLUSTERDOWN after reloadEvery", 2)
	var none *reloader
	none.after(refused) // a client that is not a Cluster client
}

// TestReloadNeverBlocks: a reload that takes long neither holds the request
// that asked for it nor lets a second one start before it returns.
func TestReloadNeverBlocks(t *testing.T) {
	f := &fakeReloader{release: make(chan struct{})}
	r := &reloader{c: f}
	start := time.Now()
	r.after(io.EOF)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("after waited %v for the reload", d)
	}
	f.waitCalls(t, "the first error", 1)
	time.Sleep(reloadEvery + 50*time.Millisecond)
	r.after(io.EOF)
	f.stays(t, "an error while the reload runs", 1)
	close(f.release)
	for r.running.Load() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(reloadEvery)
	r.after(io.EOF)
	f.waitCalls(t, "an error after the reload returned", 2)
}

// TestReloadOnlyForClusters: New reloads the slot map of a Cluster client,
// also one that redis.NewUniversalClient returned, and of no other client.
func TestReloadOnlyForClusters(t *testing.T) {
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	universal := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}})
	node := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	for _, c := range []redis.UniversalClient{cluster, universal, node, ring} {
		t.Cleanup(func() { c.Close() })
	}
	for name, tc := range map[string]struct {
		c    redis.UniversalClient
		want bool
	}{
		"ClusterClient":               {cluster, true},
		"NewUniversalClient, 2 addrs": {universal, true},
		"Client":                      {node, false},
		"Ring":                        {ring, false},
	} {
		if got := mustBackend(t, tc.c, Options{}).reload != nil; got != tc.want {
			t.Errorf("%s: reloads the slot map %v, want %v", name, got, tc.want)
		}
	}
}
