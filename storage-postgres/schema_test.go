package postgresstorage

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
)

func TestTableNames(t *testing.T) {
	for _, name := range []string{"", "sessions", "_s", "s1", "public.sessions", "a_b.c_d", strings.Repeat("x", 63), "s." + strings.Repeat("y", 63)} {
		if _, err := parseTable(name); err != nil {
			t.Errorf("parseTable(%q): %v", name, err)
		}
	}
	for _, name := range []string{
		"Sessions", "1sessions", "my-sessions", "my sessions", `a"b`, "a;drop table x", "a.b.c", ".a", "a.", "ä",
		strings.Repeat("x", 64), strings.Repeat("x", 64) + ".s", "sessions\x00",
	} {
		if _, err := parseTable(name); err == nil {
			t.Errorf("parseTable(%q) accepted it", name)
		}
	}
	if got, _ := parseTable(""); got.quoted != `"sessions"` {
		t.Errorf(`"" quotes as %s, want "sessions"`, got.quoted)
	}
	if got, _ := parseTable("auth.sessions"); got.quoted != `"auth"."sessions"` {
		t.Errorf(`auth.sessions quotes as %s`, got.quoted)
	}
	// New and Migrate refuse them too, before any statement.
	pool := newPool(t, server(t), nil)
	if _, err := New(pool, Options{Table: "Sessions"}); err == nil || !strings.Contains(err.Error(), "lower-case") {
		t.Errorf("New with an upper-case table name: %v", err)
	}
	if err := Migrate(context.Background(), pool, "x;y"); err == nil {
		t.Error("Migrate with a bad name: no error")
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil): no error")
	}
	if _, err := New(pool, Options{Session: session.Options{IdleTimeout: -1}}); err == nil {
		t.Error("New with a negative IdleTimeout: no error")
	}
}

// TestNewChecksTable: New names Migrate when the table is missing (or in a
// schema that is missing), or is not this package's.
func TestNewChecksTable(t *testing.T) {
	pool := newPool(t, server(t), nil)
	ctx := context.Background()
	for _, name := range []string{"never_made", "no_schema.sessions"} {
		_, err := New(pool, Options{Table: name})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("postgresstorage.Migrate(ctx, pool, %q)", name)) || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("New with the missing table %s: %v; want an error naming Migrate", name, err)
		}
	}
	// Tables made by hand, not as Migrate makes them.
	for name, def := range map[string]string{
		"hand_no_expiry":  `key text PRIMARY KEY, data bytea NOT NULL, version bigint NOT NULL`,
		"hand_no_version": `key text PRIMARY KEY, data bytea NOT NULL, expires_at timestamptz, created_at timestamptz`,
		"hand_counter":    `key text PRIMARY KEY, data bytea NOT NULL, version bigint NOT NULL DEFAULT 1, expires_at timestamptz, created_at timestamptz`,
	} {
		name = fmt.Sprintf("%s_%d", name, tableSeq.Add(1)) // -count=N reuses the server
		if _, err := pool.Exec(ctx, `CREATE TABLE `+name+` (`+def+`)`); err != nil {
			t.Fatal(err)
		}
		_, err := New(pool, Options{Table: name})
		if err == nil || !strings.Contains(err.Error(), "Migrate") {
			t.Errorf("New with the table %s (%s): %v; want an error naming Migrate", name, def, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestMigrate: Migrate twice, and from 8 goroutines at once, is fine; it
// makes the table New accepts, with its index on expires_at, also in a
// schema, and with names so long that the index name needs a hash.
func TestMigrate(t *testing.T) {
	pool := newPool(t, server(t), nil)
	ctx := context.Background()
	indexes := func(t *testing.T, table string) []string {
		t.Helper()
		tb, _ := parseTable(table)
		var schema any // nil: the current schema
		if len(tb.ident) == 2 {
			schema = tb.ident[0]
		}
		rows, err := pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = coalesce($1::text, current_schema()) AND tablename = $2 AND indexdef LIKE '%(expires_at)' ORDER BY 1`,
			schema, tb.ident[len(tb.ident)-1])
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		return names
	}
	works := func(t *testing.T, table string) {
		t.Helper()
		st := mustNew(t, pool, Options{Table: table})
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		if s, err := st.Read(ctx, id); err != nil || s.Get("a") == nil {
			t.Fatalf("Read: %v", err)
		}
		if ix := indexes(t, table); len(ix) != 1 {
			t.Errorf("%s has the indexes %q on expires_at, want one", table, ix)
		}
	}

	t.Run("twice", func(t *testing.T) {
		for range 2 {
			if err := Migrate(ctx, pool, "migrate_twice"); err != nil {
				t.Fatal(err)
			}
		}
		works(t, "migrate_twice")
		if err := Migrate(ctx, pool, "migrate_twice"); err != nil {
			t.Fatalf("Migrate of a table in use: %v", err)
		}
	})
	t.Run("concurrently", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = Migrate(ctx, pool, "migrate_concurrent") })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate %d: %v", i, err)
			}
		}
		works(t, "migrate_concurrent")
	})
	t.Run("default", func(t *testing.T) {
		if err := Migrate(ctx, pool, ""); err != nil {
			t.Fatal(err)
		}
		works(t, DefaultTable)
	})
	t.Run("schema", func(t *testing.T) {
		schema := fmt.Sprintf("auth%d", tableSeq.Add(1))
		if _, err := pool.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
			t.Fatal(err)
		}
		if err := Migrate(ctx, pool, schema+".sessions"); err != nil {
			t.Fatal(err)
		}
		works(t, schema+".sessions")
		if err := Migrate(ctx, pool, "nope.sessions"); err == nil {
			t.Error("Migrate into a schema that does not exist: no error")
		}
	})
	t.Run("long names", func(t *testing.T) {
		// Two names of 63 bytes that share their first 50: table +
		// "_expires_at_idx" would be truncated to one index name.
		a := strings.Repeat("a", 50) + strings.Repeat("1", 13)
		b := strings.Repeat("a", 50) + strings.Repeat("2", 13)
		for _, name := range []string{a, b} {
			if err := Migrate(ctx, pool, name); err != nil {
				t.Fatal(err)
			}
			works(t, name)
		}
		ta, _ := parseTable(a)
		tb, _ := parseTable(b)
		if ta.indexName() == tb.indexName() || len(ta.indexName()) > maxIdentifier {
			t.Errorf("index names %q and %q", ta.indexName(), tb.indexName())
		}
	})
}

// TestMigrateLeastPrivilege: an application whose database user may only
// read and write its existing table (PostgreSQL 15 gives ordinary users no
// CREATE on the public schema) can call Migrate at every start; for a table
// that is missing, Migrate reports the missing right.
func TestMigrateLeastPrivilege(t *testing.T) {
	srv := server(t)
	admin := newPool(t, srv, nil)
	ctx := context.Background()
	table := freshTable(t, admin)
	role := "app_" + strings.TrimPrefix(table, "t")
	for _, stmt := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON " + table + " TO " + role,
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "REVOKE ALL ON "+table+" FROM "+role)
		admin.Exec(context.Background(), "DROP ROLE "+role)
	})
	cfg, err := pgxpool.ParseConfig(strings.Replace(srv.URL(), "postgres@", role+"@", 1))
	if err != nil {
		t.Fatal(err)
	}
	app, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	if err := Migrate(ctx, app, table); err != nil {
		t.Fatalf("Migrate of an existing table without the right to create: %v", err)
	}
	st, err := New(app, Options{Table: table})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	cookie := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	request(t, st, cookie, func(s *session.Session) {
		if s.Get("a") != 1.0 {
			t.Errorf("the least-privileged user's session: %v", s.Data())
		}
	})
	if err := Migrate(ctx, app, "never_made_here"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("Migrate of a missing table without the right to create = %v, want permission denied", err)
	}
}
