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

// TestServerDown kills the server mid-run: Read and Save fail (never a new
// session), and when it is back the same Storage works again.
func TestServerDown(t *testing.T) {
	srv := testserver.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true, MaxRetries: 1, DialTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	st := mustNew(t, c, Options{KeyPrefix: freshPrefix()})
	ctx := context.Background()
	id := request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	loaded, err := st.Read(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	s, err := st.Read(ctx, id)
	if err == nil {
		t.Fatalf("Read with the server down returned a session (new: %v) and no error", s.ID() != id)
	}
	if s != nil {
		t.Error("Read returned a session with its error")
	}
	checkNoID(t, err, id)
	loaded.Set("n", 1)
	if _, _, err := st.Save(ctx, loaded); err == nil {
		t.Error("Save of a changed session with the server down: no error")
	} else {
		checkNoID(t, err, id)
	}
	fresh, err := st.Read(ctx, "")
	if err != nil {
		t.Fatalf("Read without a cookie needs no server, got %v", err)
	}
	fresh.Set("a", 1)
	if _, _, err := st.Save(ctx, fresh); err == nil {
		t.Error("Save of a new session with the server down: no error")
	}
	if _, err := st.(session.Locking).Lock(ctx, id, session.LockOptions{Wait: time.Second}); err == nil || errors.Is(err, session.ErrLockTimeout) {
		t.Errorf("Lock with the server down: %v, want the connection error", err)
	} else {
		checkNoID(t, err, id)
	}
	loaded2, _ := st.Read(ctx, "")
	loaded2.Destroy()
	if _, _, err := st.Save(ctx, loaded2); err != nil {
		t.Errorf("Destroy of a never-stored session needs no server, got %v", err)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// Persistence is off: the old session is gone, and reads as a new one.
	s, err = st.Read(ctx, id)
	if err != nil {
		t.Fatalf("Read after the server came back: %v", err)
	}
	if s.ID() == id {
		t.Error("the restarted empty server still knows the session")
	}
	id2 := request(t, st, "", func(s *session.Session) { s.Set("user", "grace") })
	s, err = st.Read(ctx, id2)
	if err != nil || s.Get("user") != "grace" {
		t.Fatalf("after the restart: Read = %v, %v", s.Get("user"), err)
	}
}

// TestRefused points the storage at a port where nothing listens.
func TestRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	st := mustNew(t, c, Options{})
	const id = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	if _, err := st.Read(context.Background(), id); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Read from a refusing server: %v, want a connection refused error", err)
	} else {
		checkNoID(t, err, id)
	}
	s := session.New()
	s.Set("a", 1)
	if _, _, err := st.Save(context.Background(), s); err == nil {
		t.Error("Save to a refusing server: no error")
	}
}

// TestTimeouts makes a real server stop answering (CLIENT PAUSE): the
// client's ReadTimeout and the request's context deadline both end the
// command with an error, and an expired context sends nothing.
func TestTimeouts(t *testing.T) {
	srv := testserver.Redis(t)
	admin := newClient(t, srv.Addr())
	ctx := context.Background()
	id := func() string {
		st := mustNew(t, newClient(t, srv.Addr()), Options{})
		return request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	}()
	pause := func(t *testing.T) {
		t.Helper()
		if err := admin.Do(ctx, "client", "pause", 1500, "all").Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Do(ctx, "client", "unpause") })
	}

	t.Run("read timeout", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ReadTimeout: 200 * time.Millisecond, MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		c.Ping(ctx) // connect before the pause
		st := mustNew(t, c, Options{Session: session.Options{Logger: slog.New(slog.DiscardHandler)}})
		pause(t)
		start := time.Now()
		_, err := st.Read(ctx, id)
		if err == nil {
			t.Fatal("Read from a paused server: no error")
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Read: %v, want a timeout", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Read took %v with a 200ms ReadTimeout", d)
		}
	})
	t.Run("context deadline", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ReadTimeout: 30 * time.Second, ContextTimeoutEnabled: true, MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		c.Ping(ctx)
		st := mustNew(t, c, Options{})
		pause(t)
		dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := st.Read(dctx, id)
		if err == nil {
			t.Fatal("Read past its deadline: no error")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Read took %v with a 200ms deadline", d)
		}
		s := session.New()
		s.Set("a", 1)
		dctx2, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel2()
		if _, _, err := st.Save(dctx2, s); err == nil {
			t.Error("Save past its deadline: no error")
		}
	})
	t.Run("expired context sends nothing", func(t *testing.T) {
		c := newClient(t, srv.Addr())
		h := &roundTrips{}
		c.AddHook(h)
		st := mustNew(t, c, Options{})
		dctx, cancel := context.WithTimeout(ctx, -time.Second)
		defer cancel()
		if _, err := st.Read(dctx, id); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Read with an expired context: %v", err)
		}
		cctx, cancel2 := context.WithCancel(ctx)
		cancel2()
		s := session.New()
		s.Set("a", 1)
		if _, _, err := st.Save(cctx, s); !errors.Is(err, context.Canceled) {
			t.Errorf("Save with a canceled context: %v", err)
		}
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
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a canceled context: %v", name, err)
			}
		}
		if n, cmds := h.take(); n != 0 {
			t.Errorf("%d round trips with done contexts: %q", n, cmds)
		}
	})
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
	c.Set(ctx, prefix+garbage, "\x00not json{", 0)
	c.HSet(ctx, prefix+hash, "field", "value")
	for _, id := range []string{garbage, hash} {
		before := logs.Warnings()
		s, err := st.Read(ctx, id)
		if err != nil {
			t.Fatalf("Read of a bad record: %v", err)
		}
		if s.ID() == id || s.Len() != 0 {
			t.Errorf("Read of a bad record kept the id or data")
		}
		if logs.Warnings() == before {
			t.Errorf("Read of a bad record logged no warning:\n%s", logs)
		}
		// A new session is saved under a new id; the bad key is left alone.
		s.Set("a", 1)
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if l := logs.String(); strings.Contains(l, garbage) || strings.Contains(l, hash) {
		t.Errorf("the logs carry a raw id:\n%s", l)
	}
}

// TestNew checks the options New refuses and the warning for a client that
// ignores context deadlines.
func TestNew(t *testing.T) {
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
		if _, err := New(c, Options{KeyPrefix: p}); err != nil {
			t.Errorf("New with KeyPrefix %q: %v", p, err)
		}
	}
	if b, _ := newBackend(c, Options{}); b.prefix != DefaultKeyPrefix {
		t.Errorf("default prefix %q", b.prefix)
	}

	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { plain.Close() })
	if _, err := New(plain, Options{Session: session.Options{Logger: logger}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "ContextTimeoutEnabled") {
		t.Errorf("no warning for a client without ContextTimeoutEnabled: %q", buf.String())
	}
	buf.Reset()
	ap, err := c.AutoPipeline()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ap.Close() })
	if _, err := New(ap, Options{Session: session.Options{Logger: logger}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "AutoPipeliner") {
		t.Errorf("no warning for an AutoPipeliner: %q", buf.String())
	}
	buf.Reset()
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true})
	t.Cleanup(func() { cluster.Close() })
	for _, cl := range []redis.UniversalClient{c, cluster} {
		if _, err := New(cl, Options{Session: session.Options{Logger: logger}}); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("a warning for clients with ContextTimeoutEnabled: %q", buf.String())
	}
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

// resurrections runs rounds of a logout racing with a request that changes
// the same session, against the real server, and returns how many rounds
// left the logged-out session's record in Redis. In even rounds the
// changing request saves only after the logout finished (the interleaving
// that resurrects with a plain SET); in odd rounds the two run freely.
func resurrections(t *testing.T, c redis.UniversalClient, st session.Storage, prefix string, rounds int) (resurrected, forced int) {
	ctx := context.Background()
	var res, frc atomic.Int64
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := 0; i < rounds; i++ {
		id := request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			loaded := make(chan struct{})
			logoutDone := make(chan struct{})
			var saveErr, logoutErr error
			var inner sync.WaitGroup
			inner.Add(2)
			go func() { // the request that changes the session
				defer inner.Done()
				s, err := st.Read(ctx, id)
				close(loaded)
				if err != nil {
					saveErr = err
					return
				}
				if i%2 == 0 {
					<-logoutDone
					if s.ID() == id {
						frc.Add(1)
					}
				}
				s.Set("cart", i)
				_, _, saveErr = st.Save(ctx, s)
			}()
			go func() { // the logout
				defer inner.Done()
				defer close(logoutDone)
				if i%2 == 0 {
					<-loaded
				}
				s, err := st.Read(ctx, id)
				if err != nil {
					logoutErr = err
					return
				}
				s.Destroy()
				_, _, logoutErr = st.Save(ctx, s)
			}()
			inner.Wait()
			if saveErr != nil || logoutErr != nil {
				t.Errorf("round %d: save %v, logout %v", i, saveErr, logoutErr)
				return
			}
			if n, err := c.Exists(ctx, prefix+id).Result(); err != nil {
				t.Errorf("EXISTS: %v", err)
			} else if n != 0 {
				res.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(res.Load()), int(frc.Load())
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
	if err != nil {
		t.Fatal(err)
	}
	res, forced = resurrections(t, c, control, cprefix, 100)
	if res < forced {
		t.Errorf("control (versions ignored): %d of %d forced rounds resurrected; the harness does not catch resurrection", res, forced)
	}
}
