package redisstorage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// stateReloader is a client that keeps a Redis Cluster's slot map:
// *redis.ClusterClient, also as the redis.UniversalClient that
// redis.NewUniversalClient returns for several addresses.
type stateReloader interface {
	ReloadState(ctx context.Context)
}

var _ stateReloader = (*redis.ClusterClient)(nil)

// reloadEvery is the shortest time between two reloads of the slot map that
// the storage asks for. go-redis sends every command for a dead master's
// slots to that master until its slot map changes, and it reloads the map
// only on its own interval (60 s by default) or after a MOVED or ASK, which
// a dead node never answers: without a reload of ours, requests keep
// failing long after a replica took over. While the cluster is down every
// failing request would ask for one; a few per second find the new master
// soon after the failover without loading the nodes with CLUSTER SLOTS.
const reloadEvery = 250 * time.Millisecond

// reloadTimeout bounds a reload in case the client's ReloadState waits for
// it (go-redis v9's returns at once and reloads in the background).
const reloadTimeout = 10 * time.Second

// reloader asks a Cluster client to reload its slot map after an error that
// says it may be stale: rate-limited to one request per reloadEvery, one at
// a time, and never on the goroutine of the request that failed, which has
// waited long enough.
type reloader struct {
	c       stateReloader
	next    atomic.Int64 // Unix nanoseconds before which no reload is asked
	running atomic.Bool  // a ReloadState call has not returned yet
}

// after asks for a reload when err says that the slot map may be stale and
// the last request was reloadEvery ago or more. A nil reloader (a client
// that is not a Cluster client) does nothing.
func (r *reloader) after(err error) {
	if r == nil || !staleMapError(err) {
		return
	}
	now := time.Now().UnixNano()
	next := r.next.Load()
	if now < next || !r.next.CompareAndSwap(next, now+int64(reloadEvery)) {
		return
	}
	if !r.running.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer r.running.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
		defer cancel()
		r.c.ReloadState(ctx)
	}()
}

// staleMapError reports whether err may come from a slot map that no longer
// matches the cluster: a node that is gone or does not answer, or a node
// that says the cluster changed. A canceled context says nothing about the
// cluster (the client went away).
func staleMapError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	return connectionError(err) || clusterError(err)
}

// connectionError reports whether err is a failed, broken or timed out
// connection: a dead node refuses or resets, a stopped one times out.
func connectionError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed)
}

// clusterError reports whether err is a Redis answer about the cluster's
// shape: down, failing over, migrating, or a node that is no longer a
// master or not ready.
func clusterError(err error) bool {
	_, moved := redis.IsMovedError(err)
	_, ask := redis.IsAskError(err)
	return moved || ask ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsReadOnlyError(err) || redis.IsLoadingError(err)
}

// fail is the error of operation op that Redis answered with err, after
// asking a Cluster client to reload its slot map when err says it may be
// stale.
func (b *backend) fail(op string, err error) error {
	b.reload.after(err)
	return fmt.Errorf("redisstorage: %s: %w", op, err)
}
