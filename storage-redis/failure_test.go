package redisstorage

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// checkNoID fails when err's text holds a raw id or key.
func checkNoID(t *testing.T, err error, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if id != "" && strings.Contains(err.Error(), id) {
			t.Errorf("the error %q carries a raw session id", err)
		}
	}
}

// wantFailure fails the test unless err is an error without id in its text.
func wantFailure(t *testing.T, what string, err error, id string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	checkNoID(t, err, id)
}

// TestServerDown kills the server mid-run: Read and Save fail (never a new
// session), and when it is back the same Storage works again.
func TestServerDown(t *testing.T) {
	srv := testserver.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true, MaxRetries: 1, DialTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	st := mustNew(t, c, Options{KeyPrefix: freshPrefix()})
	id := request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	loaded := read(t, st, id)

	must(t, srv.Kill())
	readWhileDown(t, st, id)
	saveWhileDown(t, st, id, loaded)
	must(t, srv.Restart())

	// Persistence is off: the old session is gone, and reads as a new one.
	if s := read(t, st, id); s.ID() == id {
		t.Error("the restarted empty server still knows the session")
	}
	id2 := request(t, st, "", func(s *session.Session) { s.Set("user", "grace") })
	if s := read(t, st, id2); s.Get("user") != "grace" {
		t.Fatalf("after the restart: Read = %v", s.Get("user"))
	}
}

// readWhileDown: with the server down, reading a stored session fails with
// an error and no session, and locking fails with the connection error;
// reading without a cookie needs no server.
func readWhileDown(t *testing.T, st session.Storage, id string) {
	t.Helper()
	ctx := context.Background()
	s, err := st.Read(ctx, id)
	if err == nil || s != nil {
		t.Fatalf("Read with the server down returned %v, %v; want an error and no session", s != nil, err)
	}
	checkNoID(t, err, id)
	_, err = st.(session.Locking).Lock(ctx, id, session.LockOptions{Wait: time.Second})
	if errors.Is(err, session.ErrLockTimeout) {
		t.Errorf("Lock with the server down: %v, want the connection error", err)
	}
	wantFailure(t, "Lock with the server down", err, id)
	read(t, st, "") // a Read without a cookie needs no server
}

// saveWhileDown: with the server down, saving a changed session or a new
// one fails; destroying a never-stored one needs no server.
func saveWhileDown(t *testing.T, st session.Storage, id string, loaded *session.Session) {
	t.Helper()
	ctx := context.Background()
	loaded.Set("n", 1)
	_, _, err := st.Save(ctx, loaded)
	wantFailure(t, "Save of a changed session with the server down", err, id)
	fresh := read(t, st, "")
	fresh.Set("a", 1)
	_, _, err = st.Save(ctx, fresh)
	wantFailure(t, "Save of a new session with the server down", err, "")
	never := read(t, st, "")
	never.Destroy()
	save(t, st, never) // Destroy of a never-stored session needs no server
}

// TestRefused points the storage at a port where nothing listens.
func TestRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := l.Addr().String()
	l.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	st := mustNew(t, c, Options{})
	const id = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	_, err = st.Read(context.Background(), id)
	wantFailure(t, "Read from a refusing server", err, id)
	if err != nil && !strings.Contains(err.Error(), "refused") {
		t.Errorf("Read from a refusing server: %v, want a connection refused error", err)
	}
	s := session.New()
	s.Set("a", 1)
	_, _, err = st.Save(context.Background(), s)
	wantFailure(t, "Save to a refusing server", err, "")
}

// TestTimeouts makes a real server stop answering (CLIENT PAUSE): the
// client's ReadTimeout and the request's context deadline both end the
// command with an error, and an expired context sends nothing.
func TestTimeouts(t *testing.T) {
	srv := testserver.Redis(t)
	p := &pauser{admin: newClient(t, srv.Addr())}
	st := mustNew(t, newClient(t, srv.Addr()), Options{})
	p.id = request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	t.Run("read timeout", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ReadTimeout: 200 * time.Millisecond, MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		p.readTimeout(t, c)
	})
	t.Run("context deadline", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ReadTimeout: 30 * time.Second, ContextTimeoutEnabled: true, MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		p.contextDeadline(t, c)
	})
	t.Run("expired context sends nothing", func(t *testing.T) { expiredContext(t, newClient(t, srv.Addr()), p.id) })
}

// pauser pauses a server with CLIENT PAUSE through admin; id is a session
// stored on it.
type pauser struct {
	admin *redis.Client
	id    string
}

func (p *pauser) pause(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	must(t, p.admin.Do(ctx, "client", "pause", 1500, "all").Err())
	t.Cleanup(func() { p.admin.Do(ctx, "client", "unpause") })
}

// timed runs fn and fails the test when it took more than 3 s.
func timed(t *testing.T, what string, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("%s took %v", what, d)
	}
}

func (p *pauser) readTimeout(t *testing.T, c *redis.Client) {
	ctx := context.Background()
	c.Ping(ctx) // connect before the pause
	st := mustNew(t, c, Options{Session: session.Options{Logger: slog.New(slog.DiscardHandler)}})
	p.pause(t)
	var err error
	timed(t, "Read with a 200ms ReadTimeout", func() { _, err = st.Read(ctx, p.id) })
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Read from a paused server: %v, want a timeout", err)
	}
}

func (p *pauser) contextDeadline(t *testing.T, c *redis.Client) {
	ctx := context.Background()
	c.Ping(ctx)
	st := mustNew(t, c, Options{})
	p.pause(t)
	var err error
	timed(t, "Read with a 200ms deadline", func() {
		dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err = st.Read(dctx, p.id)
	})
	wantFailure(t, "Read past its deadline", err, p.id)
	s := session.New()
	s.Set("a", 1)
	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, _, err = st.Save(dctx, s)
	wantFailure(t, "Save past its deadline", err, "")
}

// expiredContext: a Read, Save or backend call with a context that is
// already done fails with its error and sends nothing.
func expiredContext(t *testing.T, c *redis.Client, id string) {
	ctx := context.Background()
	h := &roundTrips{}
	c.AddHook(h)
	st := mustNew(t, c, Options{})
	dctx, cancel := context.WithTimeout(ctx, -time.Second)
	defer cancel()
	_, err := st.Read(dctx, id)
	wantIs(t, "Read with an expired context", err, context.DeadlineExceeded)
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	s := session.New()
	s.Set("a", 1)
	_, _, err = st.Save(cctx, s)
	wantIs(t, "Save with a canceled context", err, context.Canceled)
	b := mustBackend(t, c, Options{})
	_, _, getErr := b.Get(cctx, "x")
	_, putErr := b.Put(cctx, "x", []byte("[{},{}]"), time.Minute, versionOf("v"))
	_, lockErr := b.TryLock(cctx, "x", "token", time.Minute)
	for name, err := range map[string]error{
		"Put":               putErr,
		"Delete":            b.Delete(cctx, "x", session.Version{}),
		"Delete at version": b.Delete(cctx, "x", versionOf("v")),
		"Touch":             b.Touch(cctx, "x", time.Minute),
		"TryLock":           lockErr,
		"Unlock":            b.Unlock(cctx, "x", "token"),
		"Get":               getErr,
	} {
		wantIs(t, name+" with a canceled context", err, context.Canceled)
	}
	if n, cmds := h.take(); n != 0 {
		t.Errorf("%d round trips with done contexts: %q", n, cmds)
	}
}

// TestBadRecords stores what is not a session under session keys: garbage
// text, and a key of another Redis type (which Get reports as
// session.ErrCorruptRecord). Each is logged (without the id) and read as
// absent, so the request gets a new session, not an error.
func TestBadRecords(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	ctx := context.Background()
	logs := sessiontest.NewLogs()
	prefix := freshPrefix()
	st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{Logger: logs.Logger()}})
	const garbage = "garbageGarbageGarbageGarbageGarbageGarbage1"
	const hash = "hashHashHashHashHashHashHashHashHashHashHa1"
	c.Set(ctx, keyFor(prefix, garbage), "\x00not json{", 0)
	c.HSet(ctx, keyFor(prefix, hash), "field", "value")
	for _, id := range []string{garbage, hash} {
		before := logs.Warnings()
		s := read(t, st, id)
		if s.ID() == id || s.Len() != 0 {
			t.Errorf("Read of a bad record kept the id or data")
		}
		if logs.Warnings() == before {
			t.Errorf("Read of a bad record logged no warning:\n%s", logs)
		}
		// A new session is saved under a new id; the bad key is left alone.
		s.Set("a", 1)
		save(t, st, s)
	}
	if l := logs.String(); strings.Contains(l, garbage) || strings.Contains(l, hash) {
		t.Errorf("the logs carry a raw id:\n%s", l)
	}
}

// TestNewRefuses checks the options and clients New refuses, and the
// prefixes it takes.
func TestNewRefuses(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	var nilClient *redis.Client
	var nilCluster *redis.ClusterClient
	var nilRing *redis.Ring
	for name, tc := range map[string]struct {
		client redis.UniversalClient
		o      Options
		want   string
	}{
		"nil client":           {nil, Options{}, "client is nil"},
		"nil *redis.Client":    {nilClient, Options{}, "client is nil"},
		"nil *ClusterClient":   {nilCluster, Options{}, "client is nil"},
		"nil *Ring":            {nilRing, Options{}, "client is nil"},
		"negative idle":        {c, Options{Session: session.Options{IdleTimeout: -1}}, "IdleTimeout is negative"},
		"newline in prefix":    {c, Options{KeyPrefix: "session:\n"}, "control character"},
		"NUL in prefix":        {c, Options{KeyPrefix: "a\x00b"}, "control character"},
		"C1 control in prefix": {c, Options{KeyPrefix: "a\u0085"}, "control character"},
		"invalid UTF-8 prefix": {c, Options{KeyPrefix: "a\xffb"}, "UTF-8"},
	} {
		st, err := New(tc.client, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, %v; want an error containing %q", name, st, err, tc.want)
		}
	}
	for _, p := range []string{"", "session:", "myapp:sess:", "{sessions}:", "é:"} {
		_, err := New(c, Options{KeyPrefix: p})
		must(t, err)
	}
	if b := mustBackend(t, c, Options{}); b.prefix != DefaultKeyPrefix || b.plain {
		t.Errorf("default prefix %q, plain keys %v", b.prefix, b.plain)
	}
}

// TestNewWarns checks the warning for a client that ignores context
// deadlines, and its absence for one that honours them.
func TestNewWarns(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	warns := func(client redis.UniversalClient, want string) {
		t.Helper()
		buf.Reset()
		_, err := New(client, Options{Session: session.Options{Logger: logger}})
		must(t, err)
		if !strings.Contains(buf.String(), want) || want == "" && buf.Len() != 0 {
			t.Errorf("New's log %q, want %q", buf.String(), want)
		}
	}
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { plain.Close() })
	warns(plain, "ContextTimeoutEnabled")
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	ap, err := c.AutoPipeline()
	must(t, err)
	t.Cleanup(func() { ap.Close() })
	warns(ap, "AutoPipeliner")
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true})
	t.Cleanup(func() { cluster.Close() })
	warns(c, "")
	warns(cluster, "")
}

// lastWriterWins is a backend that ignores versions: Put is a plain SET and
// Delete a plain DEL, so saves overwrite whatever is there. It is the
// control for TestNoResurrection.
type lastWriterWins struct{ *backend }

func (b lastWriterWins) Put(ctx context.Context, key string, data []byte, ttl time.Duration, _ session.Version) (session.Version, error) {
	if err := b.c.Set(ctx, key, data, ttl).Err(); err != nil {
		return session.Version{}, err
	}
	return versionOf(string(data)), nil
}

func (b lastWriterWins) Delete(ctx context.Context, key string, _ session.Version) error {
	return b.backend.Delete(ctx, key, session.Version{})
}

// resurrectionRun runs rounds of a logout racing with a request that
// changes the same session, against the real server, and counts the rounds
// that left the logged-out session's record in Redis. In even rounds the
// changing request saves only after the logout finished (the interleaving
// that resurrects with a plain SET); in odd rounds the two run freely.
type resurrectionRun struct {
	c           redis.UniversalClient
	st          session.Storage
	prefix      string
	resurrected atomic.Int64
	forced      atomic.Int64 // even rounds whose save came after the logout
}

func resurrections(t *testing.T, c redis.UniversalClient, st session.Storage, prefix string, rounds int) (resurrected, forced int) {
	r := &resurrectionRun{c: c, st: st, prefix: prefix}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := 0; i < rounds; i++ {
		id := request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r.round(t, i, id)
		})
	}
	wg.Wait()
	return int(r.resurrected.Load()), int(r.forced.Load())
}

// round races a logout of session id with a save of a change to it.
func (r *resurrectionRun) round(t *testing.T, i int, id string) {
	ctx := context.Background()
	loaded := make(chan struct{})
	logoutDone := make(chan struct{})
	var saveErr, logoutErr error
	var inner sync.WaitGroup
	inner.Go(func() { saveErr = r.change(ctx, i, id, loaded, logoutDone) })
	inner.Go(func() {
		defer close(logoutDone)
		if i%2 == 0 {
			<-loaded
		}
		logoutErr = r.logout(ctx, id)
	})
	inner.Wait()
	if saveErr != nil || logoutErr != nil {
		t.Errorf("round %d: save %v, logout %v", i, saveErr, logoutErr)
		return
	}
	if n, err := r.c.Exists(ctx, keyFor(r.prefix, id)).Result(); err != nil {
		t.Errorf("EXISTS: %v", err)
	} else if n != 0 {
		r.resurrected.Add(1)
	}
}

// change is the request that changes session id: it reads it, says so on
// loaded, waits in even rounds for the logout to finish, and saves.
func (r *resurrectionRun) change(ctx context.Context, i int, id string, loaded, logoutDone chan struct{}) error {
	s, err := r.st.Read(ctx, id)
	close(loaded)
	if err != nil {
		return err
	}
	if i%2 == 0 {
		<-logoutDone
		if s.ID() == id {
			r.forced.Add(1)
		}
	}
	s.Set("cart", i)
	_, _, err = r.st.Save(ctx, s)
	return err
}

func (r *resurrectionRun) logout(ctx context.Context, id string) error {
	s, err := r.st.Read(ctx, id)
	if err != nil {
		return err
	}
	s.Destroy()
	_, _, err = r.st.Save(ctx, s)
	return err
}

// TestNoResurrection: 0 of 1500 rounds of logout against a concurrent save
// bring the session back, on the real server: the save's compare-and-set
// finds the record gone. The control run, the same rounds through a backend
// that ignores versions (plain SET), shows that the harness catches
// resurrections.
func TestNoResurrection(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	quiet := session.Options{Logger: slog.New(slog.DiscardHandler), IdleTimeout: time.Hour}
	prefix := freshPrefix()
	st := mustNew(t, c, Options{KeyPrefix: prefix, Session: quiet})
	const rounds = 1500
	res, forced := resurrections(t, c, st, prefix, rounds)
	t.Logf("%d rounds, %d with the save forced after the logout", rounds, forced)
	if res != 0 {
		t.Errorf("%d of %d rounds brought a logged-out session back", res, rounds)
	}
	if forced < rounds/2-10 {
		t.Errorf("only %d rounds had the save after the logout", forced)
	}

	cprefix := freshPrefix()
	control, err := session.NewBackendStorage(lastWriterWins{mustBackend(t, c, Options{KeyPrefix: cprefix})}, quiet)
	must(t, err)
	res, forced = resurrections(t, c, control, cprefix, 100)
	if res < forced {
		t.Errorf("control (versions ignored): %d of %d forced rounds resurrected; the harness does not catch resurrection", res, forced)
	}
}
