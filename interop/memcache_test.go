package interop

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	memcachestorage "github.com/sessionkit/sessionkit/storage-memcache"
)

// mcEnv is a sessEnv whose two storages share one memcached: Go's
// memcachestorage (listing that one server, as a deployment shared with
// Remix 0.1.1 must) and Remix's createMemcacheSessionStorage.
type mcEnv struct {
	*sessEnv
	addr   string
	raw    *memcache.Client
	prefix string
	logs   *sessiontest.Logs
}

// startRemixMemcache starts the helper with memcache.mjs, skipping (or
// failing) as startRemix does when the package is not installed.
func startRemixMemcache(t *testing.T) *remix {
	t.Helper()
	p := filepath.Join(nodeDir, "node_modules", "@remix-run", "session-storage-memcache", "package.json")
	if _, err := os.Stat(p); err != nil && nodeMissing() == "" {
		if interopRequired() {
			t.Fatalf("%s is missing (run: cd interop/node && npm ci)", p)
		}
		t.Skipf("skipping: %s is missing (run: cd interop/node && npm ci)", p)
	}
	return startRemix(t, "memcache.mjs")
}

// newMcEnv: prefix "" leaves both sides at their default ("remix:session:");
// remixOpts are extra createMemcacheSessionStorage options (ttlSeconds...).
func newMcEnv(t *testing.T, r *remix, srv *testserver.Server, prefix string, o session.Options, remixOpts map[string]any) *mcEnv {
	t.Helper()
	logs := sessiontest.NewLogs()
	o.Logger = logs.Logger()
	client := memcache.New(srv.Addr())
	client.Timeout = 5 * time.Second // room for a loaded test machine
	st, err := memcachestorage.New(client, memcachestorage.Options{KeyPrefix: prefix, Session: o})
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{"kind": "memcache", "server": srv.Addr()}
	if prefix != "" {
		spec["keyPrefix"] = prefix
	}
	for k, v := range remixOpts {
		spec[k] = v
	}
	if prefix == "" {
		prefix = "remix:session:"
	}
	return &mcEnv{sessEnv: newSessEnv(t, r, st, spec), addr: srv.Addr(), raw: client, prefix: prefix, logs: logs}
}

// key is where both storages keep id's item, computed here independently:
// prefix + hex(SHA-256(id)).
func (e *mcEnv) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return e.prefix + hex.EncodeToString(sum[:])
}

// item returns the raw item stored for id, or nil.
func (e *mcEnv) item(id string) *memcache.Item {
	e.t.Helper()
	it, err := e.raw.Get(e.key(id))
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return it
}

// expiresAt is the absolute expiration memcached holds for id's item, in
// Unix seconds (-1: never), from lru_crawler metadump; the item must exist.
// The crawler can miss an item that moves between LRU segments while it
// walks them, so a miss is asked again.
func (e *mcEnv) expiresAt(id string) int64 {
	e.t.Helper()
	for try := 0; try < 20; try++ {
		if exp := e.metadump(id); exp != 0 {
			return exp
		}
	}
	e.t.Fatalf("lru_crawler metadump does not list %s", e.key(id))
	return 0
}

func (e *mcEnv) metadump(id string) int64 {
	e.t.Helper()
	c, err := net.DialTimeout("tcp", e.addr, time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("lru_crawler metadump all\r\n")); err != nil {
		e.t.Fatal(err)
	}
	want := e.key(id)
	r := bufio.NewReader(c)
	var exp int64
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			e.t.Fatal(err)
		}
		line = strings.TrimSpace(line)
		if line == "END" {
			return exp
		}
		var key string
		var at int64
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "key":
				key, _ = url.QueryUnescape(v)
			case "exp":
				at, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		if key == want {
			exp = at
		}
	}
}

func TestMemcacheVersion(t *testing.T) {
	r := startRemixMemcache(t)
	var v string
	r.mustCall(map[string]any{"op": "memcacheVersion"}, &v)
	if v != "0.1.1" {
		t.Errorf("@remix-run/session-storage-memcache %s, want 0.1.1 (the version these tests pin)", v)
	}
}

// TestMemcacheStorage: Go's memcachestorage and Remix's memcache storage on
// one server read and write each other's sessions.
func TestMemcacheStorage(t *testing.T) {
	r := startRemixMemcache(t)
	srv := testserver.Memcached(t)
	// The round trips every storage pair passes (values of every JSON type,
	// flash, destroy and regenerate on either side).
	storageRoundTrips(t, func(t *testing.T) *sessEnv { return newMcEnv(t, r, srv, "", session.Options{}, nil).sessEnv })

	for _, prefix := range []string{"", "my-app:sess:", strings.Repeat("p", memcachestorage.MaxKeyPrefixLength)} {
		t.Run("Keys/"+strconv.Itoa(len(prefix)), func(t *testing.T) {
			e := newMcEnv(t, r, srv, prefix, session.Options{}, nil)
			// Go writes: the item is at prefix + hex(SHA-256(id)), flags 0,
			// and Remix reads it (Go's metadata element ignored).
			gs, line := e.goReq("", func(s *session.Session) { s.Set("who", "go"); s.Flash("f", "from go") })
			it := e.item(gs.ID())
			if it == nil {
				t.Fatalf("no item at %s", e.key(gs.ID()))
			}
			if it.Flags != 0 || len(recordElems(t, string(it.Value))) != 3 {
				t.Errorf("Go item: flags %d, value %s", it.Flags, it.Value)
			}
			rs := e.remix(requestHeader(line), rxGet("who"), rxGet("f"))
			if rs.loadedID() != gs.ID() || rs.got(t, 0).Value != "go" || rs.got(t, 1).Value != "from go" {
				t.Fatalf("Remix read Go's session as id %v: %s", rs.Loaded.ID, rs.Loaded.Data)
			}
			// Remix consumed the flash and saved with set, at the same key,
			// without Go's metadata.
			if it := e.item(gs.ID()); it == nil || string(it.Value) != `[{"who":"go"},{}]` {
				t.Errorf("Remix's item: %v", it)
			}
			// Remix writes a new session: a UUID id, its item at the same
			// kind of key, and Go reads it.
			rs = e.remix("", rxSet("who", `"remix"`), rxFlash("f", `"from remix"`))
			id := rs.id()
			if !uuidV4RE.MatchString(id) || e.item(id) == nil {
				t.Fatalf("Remix session %q: item at %s: %v", id, e.key(id), e.item(id))
			}
			e.goReq(rs.header(), func(s *session.Session) {
				if s.ID() != id || s.Get("who") != "remix" || s.Get("f") != "from remix" {
					t.Errorf("Go read Remix's session as %q: %v", s.ID(), s.Data())
				}
			})
			// Go's save of that loaded session was a replace over Remix's
			// item: it is there, the flash gone.
			if rs2 := e.remix(rs.header(), rxGet("f"), rxGet("who")); rs2.loadedID() != id || rs2.got(t, 0).Present || rs2.got(t, 1).Value != "remix" {
				t.Errorf("Remix after Go consumed the flash: %s", rs2.Loaded.Data)
			}
		})
	}

	t.Run("DestroyAndRegenerate", func(t *testing.T) {
		e := newMcEnv(t, r, srv, "", session.Options{}, nil)
		// Remix regenerateId(true) on Go's session deletes Go's item.
		gs, line := e.goReq("", func(s *session.Session) { s.Set("user", "ada") })
		rs := e.remix(requestHeader(line), rxRegen(true))
		if rs.id() == gs.ID() || e.item(gs.ID()) != nil || e.item(rs.id()) == nil {
			t.Fatalf("Remix regenerate: new id %v, old item %v", rs.ID, e.item(gs.ID()))
		}
		if s, _ := e.goReq(requestHeader(line), nil); s.ID() == gs.ID() || s.Len() != 0 {
			t.Errorf("Go on the pre-regeneration cookie: %q %v", s.ID(), s.Data())
		}
		// Go RegenerateID(true) on Remix's session deletes Remix's item.
		s, line2 := e.goReq(rs.header(), func(s *session.Session) { s.RegenerateID(true) })
		if e.item(rs.id()) != nil || e.item(s.ID()) == nil {
			t.Fatal("Go regenerate: the old item is still there or the new one is missing")
		}
		if rs2 := e.remix(rs.header(), rxGet("user")); rs2.loadedID() == rs.id() || rs2.got(t, 0).Present {
			t.Errorf("Remix on the pre-regeneration cookie: %v %s", rs2.Loaded.ID, rs2.Loaded.Data)
		}
		// Remix destroys Go's session; Go destroys Remix's.
		rs3 := e.remix(requestHeader(line2), rxGet("user"), rxDestroy())
		if rs3.got(t, 0).Value != "ada" || e.item(s.ID()) != nil {
			t.Fatalf("Remix destroy: user %+v, item %v", rs3.got(t, 0), e.item(s.ID()))
		}
		if g, _ := e.goReq(requestHeader(line2), nil); g.ID() == s.ID() || g.Len() != 0 {
			t.Errorf("Go after Remix's destroy: %q %v", g.ID(), g.Data())
		}
		rs4 := e.remix("", rxSet("user", `"bob"`))
		if _, l := e.goReq(rs4.header(), func(s *session.Session) { s.Destroy() }); l != e.c.Expire() || e.item(rs4.id()) != nil {
			t.Fatalf("Go destroy: line %q, item %v", l, e.item(rs4.id()))
		}
		if rs5 := e.remix(rs4.header(), rxGet("user")); rs5.loadedID() == rs4.id() || rs5.got(t, 0).Present {
			t.Errorf("Remix after Go's destroy: %v", rs5.Loaded.ID)
		}
	})

	t.Run("PrefixesDoNotMix", func(t *testing.T) {
		a := newMcEnv(t, r, srv, "app-a:", session.Options{}, nil)
		b := newMcEnv(t, r, srv, "app-b:", session.Options{}, nil)
		_, line := a.goReq("", func(s *session.Session) { s.Set("x", 1) })
		if rs := b.remix(requestHeader(line), rxGet("x")); rs.got(t, 0).Present {
			t.Error("Remix with another prefix read Go's session")
		}
	})

	t.Run("UnknownIDs", func(t *testing.T) {
		e := newMcEnv(t, r, srv, "", session.Options{}, map[string]any{"useUnknownIds": true})
		// Go mints an id for an unknown one; Remix with useUnknownIds keeps it.
		s, line := e.goReq("", func(s *session.Session) { s.Set("a", 1) })
		s.Destroy()
		e.st.Save(context.Background(), s)
		rs := e.remix(requestHeader(line), rxSet("b", `2`))
		if rs.id() != s.ID() {
			t.Errorf("Remix useUnknownIds: id %v, want %q", rs.ID, s.ID())
		}
		g, _ := e.goReq(rs.header(), nil)
		if g.ID() != s.ID() || g.Get("b") != 2.0 {
			t.Errorf("Go read %q: %v", g.ID(), g.Data())
		}
	})
}

// TestMemcacheExpiry: the expiration each side sends is the one the other
// side's sessions get, and an expired item is a new session on both sides.
func TestMemcacheExpiry(t *testing.T) {
	r := startRemixMemcache(t)
	srv := testserver.Memcached(t)

	t.Run("SameExpiration", func(t *testing.T) {
		// Remix ttlSeconds: 3600 and Go IdleTimeout: 1h store the same
		// expiration, and each reads the other's session.
		e := newMcEnv(t, r, srv, "", session.Options{IdleTimeout: time.Hour}, map[string]any{"ttlSeconds": 3600})
		// Each bound is taken around the write, so a slow machine does not
		// make the check flaky; memcached's clock ticks once a second.
		within := func(who string, exp, before, after int64) {
			t.Helper()
			if exp < before+3600-1 || exp > after+3600+1 {
				t.Errorf("%s item expires at %d, want now+3600 within [%d, %d]", who, exp, before+3599, after+3601)
			}
		}
		before := time.Now().Unix()
		rs := e.remix("", rxSet("a", `1`))
		within("Remix's", e.expiresAt(rs.id()), before, time.Now().Unix())
		before = time.Now().Unix()
		gs, line := e.goReq(rs.header(), func(s *session.Session) { s.Set("b", 2) })
		if gs.ID() != rs.id() {
			t.Fatalf("Go did not load Remix's session")
		}
		within("Go's", e.expiresAt(gs.ID()), before, time.Now().Unix())
		if rs := e.remix(requestHeader(line), rxGet("b")); rs.got(t, 0).Value != 2.0 {
			t.Errorf("Remix after Go's save: %s", rs.Loaded.Data)
		}
	})

	t.Run("ExpiredIsNew", func(t *testing.T) {
		// One second to live on each side; once memcached drops the item,
		// the other side starts a new session from the old cookie.
		e := newMcEnv(t, r, srv, "", session.Options{IdleTimeout: time.Second}, map[string]any{"ttlSeconds": 1})
		_, goLine := e.goReq("", func(s *session.Session) { s.Set("side", "go") })
		rs := e.remix("", rxSet("side", `"remix"`))
		deadline := time.Now().Add(5 * time.Second)
		for {
			rx := e.remix(requestHeader(goLine), rxGet("side"))
			gs, _ := e.goReq(rs.header(), nil)
			if !rx.got(t, 0).Present && gs.ID() != rs.id() {
				if gs.Len() != 0 {
					t.Errorf("Go's new session has data: %v", gs.Data())
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("items with a 1 s TTL still load after 5 s (Remix sees Go's: %v; Go loads Remix's: %v)", rx.got(t, 0).Present, gs.ID() == rs.id())
			}
			time.Sleep(100 * time.Millisecond) // polling the server's clock
		}
	})

	t.Run("Over30Days", func(t *testing.T) {
		// memcached reads an expiration over 30 days as a Unix time. Remix
		// 0.1.1 sends ttlSeconds as it is, so its 31-day sessions expire at
		// once (0.1.2 converts them); Go sends the absolute time, and Remix
		// reads Go's 31-day session.
		const days31 = 31 * 24 * 3600
		e := newMcEnv(t, r, srv, "", session.Options{Lifetime: days31 * time.Second}, map[string]any{"ttlSeconds": days31})
		rs := e.remix("", rxSet("a", `1`))
		if e.item(rs.id()) != nil {
			t.Error("Remix 0.1.1's 31-day item is stored: the package was fixed, update the docs (README: Remix facts)")
		}
		if next := e.remix(rs.header(), rxGet("a")); next.loadedID() == rs.id() || next.got(t, 0).Present {
			t.Errorf("Remix read its own 31-day session back")
		}
		before := time.Now().Unix()
		gs, line := e.goReq("", func(s *session.Session) { s.Set("a", 1) })
		if exp, after := e.expiresAt(gs.ID()), time.Now().Unix(); exp < before+days31-1 || exp > after+days31+1 {
			t.Errorf("Go's 31-day item expires at %d, want now+31 days within [%d, %d]", exp, before+days31-1, after+days31+1)
		}
		if rs := e.remix(requestHeader(line), rxGet("a")); rs.loadedID() != gs.ID() || rs.got(t, 0).Value != 1.0 {
			t.Errorf("Remix did not read Go's 31-day session: %s", rs.Loaded.Data)
		}
	})
}

// TestMemcacheDifferences pins where the two storages part ways.
func TestMemcacheDifferences(t *testing.T) {
	r := startRemixMemcache(t)
	srv := testserver.Memcached(t)

	t.Run("CorruptItem", func(t *testing.T) {
		// Remix throws, with the id in the message; Go logs the item by a
		// hash of the id and starts a new session.
		e := newMcEnv(t, r, srv, "", session.Options{}, nil)
		id := "0b6c3a5e-8f3a-4d2c-9a41-5b7e2f1c9d00"
		if err := e.raw.Set(&memcache.Item{Key: e.key(id), Value: []byte("{not json")}); err != nil {
			t.Fatal(err)
		}
		line, err := e.c.Serialize(id)
		if err != nil {
			t.Fatal(err)
		}
		err = e.r.call(map[string]any{"op": "sessionRequest", "name": sessCookieName, "options": e.ro,
			"header": requestHeader(line), "storage": e.storage, "actions": []act{}}, nil)
		if err == nil || !strings.Contains(err.Error(), id) {
			t.Errorf("Remix on a corrupt item: %v, want an error naming the id", err)
		}
		s, _ := e.goReq(requestHeader(line), nil)
		if s.ID() == id || s.Len() != 0 {
			t.Errorf("Go on a corrupt item: id %q, %v", s.ID(), s.Data())
		}
		if e.logs.Warnings() != 1 || strings.Contains(e.logs.String(), id) {
			t.Errorf("Go's log: %s", e.logs)
		}
	})

	t.Run("Oversized", func(t *testing.T) {
		// Over 1 MB: Remix's set fails and memcached drops the item the
		// key held, so the user is signed out; Go refuses before sending
		// and the session stays.
		big := strings.Repeat("x", 1<<20)
		e := newMcEnv(t, r, srv, "", session.Options{}, nil)
		rs := e.remix("", rxSet("user", `"ann"`))
		if err := e.r.call(map[string]any{"op": "sessionRequest", "name": sessCookieName, "options": e.ro,
			"header": rs.header(), "storage": e.storage, "actions": []act{{"do": "set", "key": "big", "value": big}}}, nil); err == nil {
			t.Fatal("Remix stored a session over 1 MB")
		}
		if e.item(rs.id()) != nil {
			t.Error("memcached kept the item after Remix's oversized set")
		}

		// Go refuses with whichever limit the session passes first: the
		// default record limit of package session, or, with that limit
		// lifted, memcachestorage's item limit. Both wrap
		// session.ErrTooLarge.
		for _, c := range []struct {
			name    string
			o       session.Options
			wantErr error
		}{
			{"default limits", session.Options{}, session.ErrTooLarge},
			{"item limit", session.Options{MaxRecordSize: -1}, memcachestorage.ErrTooLarge},
		} {
			e := newMcEnv(t, r, srv, "", c.o, nil)
			gs, line := e.goReq("", func(s *session.Session) { s.Set("user", "ann") })
			s, err := e.st.Read(context.Background(), e.cookieValueOf(line))
			if err != nil {
				t.Fatal(err)
			}
			s.Set("big", big)
			if _, _, err := e.st.Save(context.Background(), s); !errors.Is(err, c.wantErr) {
				t.Fatalf("%s: Go Save over 1 MB: %v, want %v", c.name, err, c.wantErr)
			}
			if rs := e.remix(requestHeader(line), rxGet("user")); rs.loadedID() != gs.ID() || rs.got(t, 0).Value != "ann" {
				t.Errorf("%s: after Go's refused save Remix reads %v: %s", c.name, rs.Loaded.ID, rs.Loaded.Data)
			}
		}
	})
}
