package postgresstorage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
)

// TestKeys: a record's key is hex(SHA-256(id)); index and lock keys are a
// letter and 63 hex digits, so never a record's; and after a login, a
// listing and a lock, no row holds the session id.
func TestKeys(t *testing.T) {
	pool := newPool(t, server(t), nil)
	table := freshTable(t, pool)
	b := mustBackend(t, pool, Options{Table: table})
	id := session.New().ID()
	sum := sha256.Sum256([]byte(id))
	if b.Key(id) != hex.EncodeToString(sum[:]) {
		t.Errorf("Key = %s, want hex(SHA-256(id))", b.Key(id))
	}
	record := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, k := range []string{b.IndexKey("ada"), b.IndexKey(""), b.lockKey(id)} {
		if len(k) != 64 || record.MatchString(k) || !regexp.MustCompile(`^[ul][0-9a-f]{63}$`).MatchString(k) {
			t.Errorf("key %q: want a letter u or l and 63 hex digits", k)
		}
	}
	if b.IndexKey("ada") == b.IndexKey("bob") || b.lockKey(id) == b.lockKey(id+"x") {
		t.Error("keys collide")
	}

	st := mustNew(t, pool, Options{Table: table, Session: session.Options{UserKey: "user"}})
	ctx := context.Background()
	cookie := request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	release, err := st.(session.Locking).Lock(ctx, cookie, session.LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.(session.UserIndex).Sessions(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	var n, total int
	err = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE strpos(key, $1) > 0 OR position(convert_to($1, 'UTF8') IN data) > 0), count(*) FROM `+b.table.quoted, cookie).Scan(&n, &total)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 || total != 3 {
		t.Errorf("%d of %d rows hold the session id; want 0 of 3 (record, index, lock)", n, total)
	}
	release()
}

// TestVersions: every write takes a new version, and a key deleted and
// written again never gets back a version it had, so a request holding
// the deleted row's version cannot write over the new row.
func TestVersions(t *testing.T) {
	pool := newPool(t, server(t), nil)
	b := mustBackend(t, pool, Options{Table: freshTable(t, pool)})
	ctx := context.Background()
	key := b.IndexKey("ada") // a key that is written again after a delete
	v1, err := b.Put(ctx, key, []byte("one"), time.Hour, session.Version{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, key, v1); err != nil {
		t.Fatal(err)
	}
	v2, err := b.Put(ctx, key, []byte("two"), time.Hour, session.Version{})
	if err != nil {
		t.Fatal(err)
	}
	if v2 == v1 {
		t.Fatalf("the key written again after a delete got its old version %v", v1)
	}
	if _, err := b.Put(ctx, key, []byte("stale"), time.Hour, v1); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put at the deleted row's version = %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, key, v1); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Delete at the deleted row's version = %v, want ErrConflict", err)
	}
	// Versions this backend never returns are conflicts, not errors.
	for _, v := range []session.Version{{Tag: "x"}, {N: 1 << 63}} {
		if _, err := b.Put(ctx, key, []byte("x"), 0, v); !errors.Is(err, session.ErrConflict) {
			t.Errorf("Put at %v = %v, want ErrConflict", v, err)
		}
	}
	// A Touch keeps the version; a Put of the same bytes does not.
	if err := b.Touch(ctx, key, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	v3, err := b.Put(ctx, key, []byte("two"), time.Hour, v2)
	if err != nil {
		t.Fatalf("Put at the version before a Touch: %v", err)
	}
	if v3 == v2 {
		t.Error("a rewrite with the same bytes kept the version")
	}
	if data, v, err := b.Get(ctx, key); err != nil || string(data) != "two" || v != v3 {
		t.Errorf("Get = %q, %v, %v; want two, %v", data, v, err, v3)
	}
}

// TestExpiry: rows expire by the server's clock. An expired row reads as
// absent (Get, GetMulti), cannot be touched, written or deleted at its old
// version, and is written over by a Put at the zero version, with a new
// version. expires_at is now() + the time to live, or NULL.
func TestExpiry(t *testing.T) {
	pool := newPool(t, server(t), nil)
	b := mustBackend(t, pool, Options{Table: freshTable(t, pool)})
	ctx := context.Background()
	left := func(t *testing.T, key string) (time.Duration, bool) {
		t.Helper()
		var us *int64
		err := pool.QueryRow(ctx, `SELECT (extract(epoch FROM expires_at - now()) * 1e6)::bigint FROM `+b.table.quoted+` WHERE key = $1`, key).Scan(&us)
		if err != nil {
			t.Fatal(err)
		}
		if us == nil {
			return 0, false
		}
		return time.Duration(*us) * time.Microsecond, true
	}

	short, long, never := b.Key("short"), b.Key("long"), b.Key("never")
	vs, err := b.Put(ctx, short, []byte("s"), 300*time.Millisecond, session.Version{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, long, []byte("l"), time.Hour, session.Version{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, never, []byte("n"), 0, session.Version{}); err != nil {
		t.Fatal(err)
	}
	if d, ok := left(t, long); !ok || d > time.Hour || d < time.Hour-5*time.Second {
		t.Errorf("a row written with a TTL of 1h expires in %v (%v)", d, ok)
	}
	if _, ok := left(t, never); ok {
		t.Error("a row written without a TTL has an expires_at")
	}
	if err := b.Touch(ctx, long, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if d, _ := left(t, long); d > 2*time.Hour || d < 2*time.Hour-5*time.Second {
		t.Errorf("after a Touch of 2h the row expires in %v", d)
	}
	if err := b.Touch(ctx, long, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := left(t, long); ok {
		t.Error("a Touch with no TTL left an expires_at")
	}

	time.Sleep(400 * time.Millisecond)
	if _, _, err := b.Get(ctx, short); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get of an expired row = %v, want ErrNotFound", err)
	}
	got, err := b.GetMulti(ctx, []string{short, long, never, short})
	if err != nil || got[0] != nil || string(got[1]) != "l" || string(got[2]) != "n" || got[3] != nil {
		t.Errorf("GetMulti = %q, %v", got, err)
	}
	if err := b.Touch(ctx, short, time.Hour); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch of an expired row = %v, want ErrNotFound", err)
	}
	if _, err := b.Put(ctx, short, []byte("x"), time.Hour, vs); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put at an expired row's version = %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, short, vs); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Delete at an expired row's version = %v, want ErrConflict", err)
	}
	vn, err := b.Put(ctx, short, []byte("new"), time.Hour, session.Version{})
	if err != nil || vn == vs {
		t.Fatalf("Put at the zero version over an expired row = %v, %v; want a new version", vn, err)
	}
	if data, v, err := b.Get(ctx, short); err != nil || string(data) != "new" || v != vn {
		t.Errorf("Get after writing over an expired row = %q, %v, %v", data, v, err)
	}

	// Through the storage: the idle timeout, or the lifetime left.
	t.Run("storage", func(t *testing.T) {
		st := mustNew(t, pool, Options{Table: b.table.name, Session: session.Options{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour}})
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		if d, ok := left(t, b.Key(id)); !ok || d > 30*time.Minute || d < 30*time.Minute-5*time.Second {
			t.Errorf("a session with a 30-minute idle timeout expires in %v", d)
		}
		forever := mustNew(t, pool, Options{Table: b.table.name, Session: session.Options{Lifetime: -1}})
		id = request(t, forever, "", func(s *session.Session) { s.Set("a", 1) })
		if d, ok := left(t, b.Key(id)); ok {
			t.Errorf("a session without expiry expires in %v", d)
		}
	})
}

// TestLocks: a lock row expires by the server's clock, and the token that
// holds a lock takes it again (a TryLock sent again after a lost
// connection), another token does not.
func TestLocks(t *testing.T) {
	pool := newPool(t, server(t), nil)
	b := mustBackend(t, pool, Options{Table: freshTable(t, pool)})
	ctx := context.Background()
	id := session.New().ID()
	for i, want := range []bool{true, true} {
		if ok, err := b.TryLock(ctx, id, "t1", 200*time.Millisecond); ok != want || err != nil {
			t.Fatalf("TryLock %d by t1 = %v, %v", i, ok, err)
		}
	}
	if ok, _ := b.TryLock(ctx, id, "t2", time.Minute); ok {
		t.Fatal("t2 took the lock t1 holds")
	}
	time.Sleep(300 * time.Millisecond)
	if ok, err := b.TryLock(ctx, id, "t2", time.Minute); !ok || err != nil {
		t.Fatalf("TryLock of an expired lock = %v, %v", ok, err)
	}
	if err := b.Unlock(ctx, id, "t1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.TryLock(ctx, id, "t3", time.Minute); ok {
		t.Error("the old holder's Unlock freed the new holder's lock")
	}
	if _, err := b.TryLock(ctx, id, "t3", 0); err == nil {
		t.Error("TryLock with no TTL: no error")
	}
	if _, _, err := b.Get(ctx, b.Key(id)); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("a lock made a record appear: %v", err)
	}
}

// TestSweep: one write in sweepEvery deletes up to 100 expired rows
// (records, index documents, locks), and the writes after a sweep that
// found a full batch sweep again until the backlog is gone; live rows and
// rows without expiry stay. Writes between sweeps send one statement.
func TestSweep(t *testing.T) {
	tr := &tracer{}
	pool := newPool(t, server(t), func(c *pgxpool.Config) { c.ConnConfig.Tracer = tr })
	table := freshTable(t, pool)
	tr.nameStatements(t, table)
	b := mustBackend(t, pool, Options{Table: table})
	b.sweepEvery = 10
	ctx := context.Background()
	// 250 expired rows of every kind, 30 live, 20 without expiry.
	_, err := pool.Exec(ctx, `INSERT INTO `+b.table.quoted+` (key, data, expires_at)
SELECT (ARRAY['', 'u', 'l'])[i % 3 + 1] || substr(encode(sha256(i::text::bytea), 'hex'), 1, 63 + (i % 3 = 0)::int),
	'\x00', CASE WHEN i <= 250 THEN now() - interval '1 second' WHEN i <= 280 THEN now() + interval '1 hour' END
FROM generate_series(1, 300) i`)
	if err != nil {
		t.Fatal(err)
	}
	if all, expired := rows(t, pool, table); all != 300 || expired != 250 {
		t.Fatalf("%d rows, %d expired; want 300, 250", all, expired)
	}
	write := func(i int) []string {
		tr.reset()
		if _, err := b.Put(ctx, b.Key(fmt.Sprint("w", i)), []byte("x"), time.Hour, session.Version{}); err != nil {
			t.Fatal(err)
		}
		_, all := tr.take()
		var stmts []string
		for _, s := range all {
			if !strings.HasPrefix(s, "prepare ") { // a new connection's first use
				stmts = append(stmts, s)
			}
		}
		return stmts
	}
	var sweeps []int
	for i := 1; i <= 40; i++ {
		stmts := write(i)
		switch len(stmts) {
		case 1:
		case 2:
			if stmts[1] != "sweep" {
				t.Fatalf("write %d sent %q", i, stmts)
			}
			sweeps = append(sweeps, i)
		default:
			t.Fatalf("write %d sent %q", i, stmts)
		}
	}
	// Write 10 sweeps 100, and so do 11 and 12 (each found a full batch); 12
	// found 50, so the next sweep is at 20, 30 and 40, which find none.
	if want := []int{10, 11, 12, 20, 30, 40}; fmt.Sprint(sweeps) != fmt.Sprint(want) {
		t.Errorf("the writes that swept: %v, want %v", sweeps, want)
	}
	if all, expired := rows(t, pool, table); all != 50+40 || expired != 0 {
		t.Errorf("after the sweeps: %d rows, %d expired; want the 50 live ones and the 40 written, none expired", all, expired)
	}
	// A sweep skips rows that another transaction holds.
	if _, err := pool.Exec(ctx, `UPDATE `+b.table.quoted+` SET expires_at = now() - interval '1 second' WHERE key IN (SELECT key FROM `+b.table.quoted+` WHERE expires_at IS NOT NULL LIMIT 5)`); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+b.table.quoted+` WHERE expires_at <= now() LIMIT 2 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if n, err := b.sweep(sctx); err != nil || n != 3 {
		t.Errorf("a sweep with 2 of 5 expired rows locked elsewhere deleted %d, %v; want 3 at once", n, err)
	}
}
