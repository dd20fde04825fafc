package redisstorage

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// The failover test's bounds: how long after the cluster is whole again
// (cluster_state:ok on every live node, no slot on the dead master) a
// session may still fail, how long it watches after that, and how long it
// waits for the failover itself.
const (
	failoverRecoveryBound = 2 * time.Second
	failoverWatch         = 3 * time.Second
	failoverDeadline      = 20 * time.Second
)

// TestClusterFailover kills (SIGKILL) one master of a 3-master cluster with
// one replica each and a 1 s cluster-node-timeout, under load: every
// session is read and saved in a loop. Its replica takes over; from the
// moment every live node reports cluster_state:ok and no longer maps a
// slot to the dead master, every session must read and save again within
// failoverRecoveryBound, with no session lost, although the client's
// ClusterStateReloadInterval is go-redis's default (60 s) and the dead
// node's refused connections never make go-redis reload its slot map.
func TestClusterFailover(t *testing.T) {
	cl := testserver.RedisClusterWithReplicas(t, 3, 1, time.Second)
	c := newClusterClient(t, cl)
	if c.Options().ClusterStateReloadInterval != 60*time.Second {
		t.Fatalf("ClusterStateReloadInterval %v: the test wants go-redis's default", c.Options().ClusterStateReloadInterval)
	}
	o := Options{KeyPrefix: freshPrefix(), Session: session.Options{Logger: slog.New(slog.DiscardHandler)}}
	st := mustNew(t, c, o)
	b := mustBackend(t, c, o)
	ids := make([]string, 60)
	for i := range ids {
		ids[i] = request(t, st, "", func(s *session.Session) { s.Set("user", fmt.Sprint("user", i)) })
	}
	victim, onVictim := pickVictim(t, c, b, ids)
	waitReplicated(t, cl)

	l := newFailoverLoad(st, ids)
	l.start(8)
	killed := time.Now()
	killNode(t, cl, victim)
	okAt, err := waitFailover(cl, victim, failoverDeadline)
	if err != nil {
		l.stop()
		t.Fatal(err)
	}
	time.Sleep(failoverWatch)
	l.stop()

	r := l.report(okAt)
	t.Logf("master %s (%d of %d sessions) killed; cluster ok %v later; errors: %d, the last %v after cluster_state:ok; %d sessions never read and saved after it",
		victim, onVictim, len(ids), okAt.Sub(killed).Round(time.Millisecond), r.errors, r.lastErrorAfterOK.Round(time.Millisecond), r.notRecovered)
	if r.lost > 0 {
		t.Errorf("%d reads returned a new session instead of the stored one (lost)", r.lost)
	}
	if r.notRecovered > 0 || r.lastErrorAfterOK > failoverRecoveryBound {
		t.Errorf("errors went on %v after the cluster was ok (%d sessions never recovered); want them to end within %v: the storage does not refresh the slot map",
			r.lastErrorAfterOK.Round(time.Millisecond), r.notRecovered, failoverRecoveryBound)
	}
	if r.errors == 0 {
		t.Error("no request failed while the master was down: the test did not hit it")
	}
}

// pickVictim returns the master that holds the most of ids' records (by the
// cluster's slot map) and how many, after checking that every master holds
// some.
func pickVictim(t *testing.T, c *redis.ClusterClient, b *backend, ids []string) (string, int) {
	t.Helper()
	ctx := context.Background()
	count := map[string]int{}
	for _, id := range ids {
		m, err := c.MasterForKey(ctx, b.Key(id))
		if err != nil {
			t.Fatal(err)
		}
		count[m.Options().Addr]++
	}
	if len(count) != 3 {
		t.Fatalf("sessions on %d masters, want all 3: %v", len(count), count)
	}
	victim := ""
	for addr, n := range count {
		if victim == "" || n > count[victim] {
			victim = addr
		}
	}
	return victim, count[victim]
}

// waitReplicated waits until every replica has every write of its master
// (its offset equals the master's), so that the failover loses no session.
func waitReplicated(t *testing.T, cl *testserver.Cluster) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range cl.Nodes {
		nc := newClient(t, n.Addr())
		for !replicasCaughtUp(nc) {
			if time.Now().After(deadline) {
				t.Fatalf("the replicas of %s did not catch up", n.Addr())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// replicasCaughtUp reports whether node is a replica, or a master whose
// replicas all acknowledged its replication offset.
func replicasCaughtUp(node *redis.Client) bool {
	info, err := node.Info(context.Background(), "replication").Result()
	if err != nil {
		return false
	}
	fields := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[k] = v
		}
	}
	if fields["role"] != "master" {
		return true
	}
	for k, v := range fields {
		if strings.HasPrefix(k, "slave") && !strings.Contains(v, ",offset="+fields["master_repl_offset"]+",") {
			return false
		}
	}
	return fields["connected_slaves"] != "0"
}

// killNode kills the cluster node at addr with SIGKILL.
func killNode(t *testing.T, cl *testserver.Cluster, addr string) {
	t.Helper()
	for _, n := range cl.Nodes {
		if n.Addr() == addr {
			if err := n.Kill(); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no node at %s", addr)
}

// waitFailover returns the first moment at which every live node of cl
// reports cluster_state:ok and maps no slot to dead: the replica has taken
// over and every node knows it.
func waitFailover(cl *testserver.Cluster, dead string, timeout time.Duration) (time.Time, error) {
	var nodes []*redis.Client
	for _, n := range cl.Nodes {
		if n.Addr() != dead {
			nc := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1})
			defer nc.Close()
			nodes = append(nodes, nc)
		}
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if slices.IndexFunc(nodes, func(nc *redis.Client) bool { return !failedOver(nc, dead) }) < 0 {
			return time.Now(), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("the cluster did not fail over from %s within %v", dead, timeout)
}

// failedOver reports whether node says cluster_state:ok and serves no slot
// from dead.
func failedOver(node *redis.Client, dead string) bool {
	ctx := context.Background()
	info, err := node.ClusterInfo(ctx).Result()
	if err != nil || !strings.Contains(info, "cluster_state:ok") {
		return false
	}
	//lint:ignore SA1019 go-redis builds its slot map from CLUSTER SLOTS, so the test watches what the client reads.
	slots, err := node.ClusterSlots(ctx).Result()
	if err != nil {
		return false
	}
	for _, s := range slots {
		if len(s.Nodes) > 0 && s.Nodes[0].Addr == dead {
			return false
		}
	}
	return true
}

// failoverLoad reads and saves every session in a loop, in several
// goroutines, and records for each when it last failed and last succeeded.
type failoverLoad struct {
	st   session.Storage
	ids  []string
	next atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	lastErr []time.Time
	lastOK  []time.Time
	errors  int
	lost    int
}

func newFailoverLoad(st session.Storage, ids []string) *failoverLoad {
	return &failoverLoad{st: st, ids: ids, done: make(chan struct{}),
		lastErr: make([]time.Time, len(ids)), lastOK: make([]time.Time, len(ids))}
}

func (l *failoverLoad) start(workers int) {
	for range workers {
		l.wg.Go(func() {
			for {
				select {
				case <-l.done:
					return
				default:
				}
				i := int(l.next.Add(1)) % len(l.ids)
				l.record(i, l.once(l.ids[i]))
			}
		})
	}
}

func (l *failoverLoad) stop() {
	close(l.done)
	l.wg.Wait()
}

// errLost is once's answer when a read returns a new session.
var errLost = fmt.Errorf("the session was lost")

// once is one request of session id: read it, change it, save it, with a
// request deadline.
func (l *failoverLoad) once(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := l.st.Read(ctx, id)
	if err != nil {
		return err
	}
	if s.ID() != id {
		return errLost
	}
	n, _ := session.Value[int](s, "n")
	s.Set("n", n+1)
	_, _, err = l.st.Save(ctx, s)
	return err
}

func (l *failoverLoad) record(i int, err error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == errLost:
		l.lost++
	case err != nil:
		l.errors++
		l.lastErr[i] = now
	default:
		l.lastOK[i] = now
	}
}

// failoverReport sums up a failoverLoad after the cluster was ok at okAt.
type failoverReport struct {
	errors, lost     int
	lastErrorAfterOK time.Duration // 0 when every error came before okAt
	notRecovered     int           // sessions with no success after okAt and after their last error
}

func (l *failoverLoad) report(okAt time.Time) failoverReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := failoverReport{errors: l.errors, lost: l.lost}
	for i := range l.ids {
		r.lastErrorAfterOK = max(r.lastErrorAfterOK, l.lastErr[i].Sub(okAt))
		if !l.lastOK[i].After(okAt) || !l.lastOK[i].After(l.lastErr[i]) {
			r.notRecovered++
		}
	}
	return r
}
