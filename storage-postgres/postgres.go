package postgresstorage

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
)

// DefaultTable is the table New and Migrate use when the name is empty.
const DefaultTable = "sessions"

// Options configure New. The zero value is valid: the table "sessions",
// and the zero session.Options (sessions end session.DefaultLifetime, 14
// days, after they were created; records of at most 1 MiB; strict ids;
// slog.Default()).
type Options struct {
	// Table is the table that holds the sessions, created by Migrate: a
	// name of lower-case letters, digits and underscores that does not
	// start with a digit, at most 63 bytes (PostgreSQL's limit), optionally
	// after a schema name of the same form and a dot ("auth.sessions").
	// It is quoted as an identifier in every statement. "": DefaultTable,
	// in the first schema of the connection's search_path.
	Table string

	// Session holds the options every server-side storage takes, which
	// session.NewBackendStorage applies: IdleTimeout (sliding expiry; a
	// read-only request moves the row's expires_at with one UPDATE at most
	// once per tenth of it), Lifetime, UseUnknownIDs, MaxRecordSize,
	// UserKey, MaxUserSessions and Logger (which also gets the warning of
	// a failed sweep of expired rows). Each write sets expires_at to what
	// is left of the session. Now is used for the expiry metadata inside
	// the records; the rows themselves expire by the server's clock
	// (now()), never by Now.
	Session session.Options
}

// New returns a session.Storage that keeps each session's record in a row
// of the table Options.Table, which Migrate creates. The Storage is
// session.NewBackendStorage over a backend that is a session.Backend,
// session.Toucher, session.Locker and session.MultiGetter, so it is also a
// session.Locking, and a session.UserIndex when Options.Session.UserKey is
// set.
//
// New checks the table with two queries (bounded by 10 seconds), so the
// server must be reachable: it returns an error that names Migrate when the
// table does not exist, or lacks this package's columns. It also returns an
// error for a nil pool, an invalid table name, and the options
// session.NewBackendStorage refuses (a negative IdleTimeout), before it
// asks the server anything.
//
// A read is one SELECT, a save one INSERT … ON CONFLICT or UPDATE (a
// compare-and-set on the row's version), an unchanged session costs
// nothing, and a sliding refresh is one UPDATE of expires_at. One write in
// 64 also deletes up to 100 expired rows, in a second statement. pgx
// prepares each statement the first time a connection of the pool runs it
// (one more round trip, once per statement and connection), and pgxpool
// pings a connection that has been idle for over a second before handing it
// out (pgxpool.Config.ShouldPing).
func New(pool *pgxpool.Pool, o Options) (session.Storage, error) {
	b, err := newBackend(pool, o)
	if err != nil {
		return nil, err
	}
	st, err := session.NewBackendStorage(b, o.Session)
	if err != nil {
		return nil, fmt.Errorf("postgresstorage: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	if err := b.checkTable(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

// checkTimeout bounds New's check of the table.
const checkTimeout = 10 * time.Second

// table is a validated table name: its parts and their quoted form.
type table struct {
	name   string         // as given (or DefaultTable)
	ident  pgx.Identifier // schema (optional) and table
	quoted string         // ident.Sanitize()
}

// maxIdentifier is PostgreSQL's longest identifier (NAMEDATALEN - 1);
// longer names are truncated silently, so they are refused.
const maxIdentifier = 63

// parseTable validates name (see Options.Table) and quotes it.
func parseTable(name string) (table, error) {
	if name == "" {
		name = DefaultTable
	}
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return table{}, fmt.Errorf("postgresstorage: table name %q: at most one dot, between a schema and a table", name)
	}
	for _, p := range parts {
		if err := checkIdentifier(p); err != nil {
			return table{}, fmt.Errorf("postgresstorage: table name %q: %w", name, err)
		}
	}
	ident := pgx.Identifier(parts)
	return table{name: name, ident: ident, quoted: ident.Sanitize()}, nil
}

// identChars are the characters of a name in Options.Table.
const identChars = "abcdefghijklmnopqrstuvwxyz0123456789_"

// checkIdentifier says why s cannot be a part of Options.Table's name, or
// returns nil.
func checkIdentifier(s string) error {
	switch {
	case s == "":
		return errors.New("an empty name")
	case len(s) > maxIdentifier:
		return fmt.Errorf("%q is %d bytes, over PostgreSQL's %d", s, len(s), maxIdentifier)
	case s[0] >= '0' && s[0] <= '9':
		return fmt.Errorf("%q starts with a digit", s)
	}
	for _, r := range s {
		if !strings.ContainsRune(identChars, r) {
			return fmt.Errorf("%q holds %q: use lower-case letters, digits and underscores (the name is quoted, so case would matter)", s, string(r))
		}
	}
	return nil
}

// indexName is the name of the table's index on expires_at: table +
// "_expires_at_idx", or, when that would be over 63 bytes (and so be
// truncated, perhaps into another table's index name), the table's first
// 40 bytes and a hash of the whole name.
func (t table) indexName() string {
	base := t.ident[len(t.ident)-1]
	if n := base + "_expires_at_idx"; len(n) <= maxIdentifier {
		return n
	}
	sum := sha256.Sum256([]byte(t.quoted))
	return base[:40] + "_" + hex.EncodeToString(sum[:6]) + "_exp_idx"
}

// Migrate creates the table (DefaultTable when table is "") and its index on
// expires_at when they do not exist; it leaves an existing table as it is,
// so it is safe to call at every start, and from several processes at once
// (a transaction-scoped advisory lock, keyed by a hash of the table name,
// runs them one after the other). When the table and its index are both
// there it sends nothing else, so a database user that may only read and
// write the table (and not create in its schema) can call it too. The
// schema, if the name has one, must exist. The statements are those of the
// README:
//
//	CREATE TABLE IF NOT EXISTS sessions (
//		key        text COLLATE "C" PRIMARY KEY,
//		data       bytea NOT NULL,
//		version    bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
//		expires_at timestamptz,
//		created_at timestamptz NOT NULL DEFAULT now()
//	);
//	CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
func Migrate(ctx context.Context, pool *pgxpool.Pool, table string) error {
	if pool == nil {
		return errors.New("postgresstorage: Migrate: the pool is nil")
	}
	t, err := parseTable(table)
	if err != nil {
		return err
	}
	exists, err := t.exists(ctx, pool)
	if err == nil && !exists {
		err = t.create(ctx, pool)
	}
	if err != nil {
		return fmt.Errorf("postgresstorage: Migrate %s: %w", t.name, err)
	}
	return nil
}

// exists reports whether the table and its index are both there already.
// Migrate then has nothing to create, and sends nothing that needs the
// right to create (CREATE … IF NOT EXISTS asks for it even when the table
// exists, and PostgreSQL 15 gives ordinary users no CREATE on the public
// schema), so an application whose user may only read and write its table
// can call Migrate at every start.
func (t table) exists(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	index := append(pgx.Identifier{}, t.ident[:len(t.ident)-1]...)
	index = append(index, t.indexName())
	var exists bool
	err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL",
		t.quoted, index.Sanitize()).Scan(&exists)
	return exists, err
}

// create runs Migrate's statements in one transaction, after taking a
// transaction-scoped advisory lock keyed by a hash of the table's name, so
// that processes migrating at once run one after the other.
func (t table) create(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	sum := sha256.Sum256([]byte("sessionkit postgres migrate\x00" + t.quoted))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(binary.BigEndian.Uint64(sum[:8]))); err != nil {
		return err
	}
	for _, stmt := range t.schema() {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// schema is Migrate's statements for t.
func (t table) schema() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + t.quoted + ` (
	key        text COLLATE "C" PRIMARY KEY,
	data       bytea NOT NULL,
	version    bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
	expires_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
)`,
		`CREATE INDEX IF NOT EXISTS ` + pgx.Identifier{t.indexName()}.Sanitize() + ` ON ` + t.quoted + ` (expires_at)`,
	}
}

// sweepEvery and sweepBatch pace the deletion of expired rows: one write
// (Put or TryLock) in sweepEvery, per Storage, also deletes up to sweepBatch
// of them, and so does the next write after a sweep that found a full
// batch. Every row is written at least once, so this deletes expired rows
// at up to 100/64 per write, faster than writes can create them.
const (
	sweepEvery = 64
	sweepBatch = 100
)

// statements are the backend's SQL, built once in newBackend for its table.
// "live" is the condition of a row that has not expired, by the server's
// clock; $ttl parameters are microseconds, NULL for no expiry.
type statements struct {
	get, getMulti            string
	insert, update           string
	deleteAny, deleteVersion string
	touch                    string
	lock, unlock             string
	sweep                    string
	// checkColumns and checkIdentity are New's checks of the table.
	checkColumns, checkIdentity string
}

func newStatements(t table, sweepLimit int) statements {
	q := t.quoted
	const live = `(expires_at IS NULL OR expires_at > now())`
	const expiry = `now() + $3::bigint * interval '1 microsecond'`
	return statements{
		get:      `SELECT data, version FROM ` + q + ` WHERE key = $1 AND ` + live,
		getMulti: `SELECT key, data FROM ` + q + ` WHERE key = ANY($1::text[]) AND ` + live,
		// An expired row counts as absent: it is written over, with a new
		// version (never one it had).
		insert: `INSERT INTO ` + q + ` AS t (key, data, expires_at) VALUES ($1, $2, ` + expiry + `)
ON CONFLICT (key) DO UPDATE SET data = excluded.data, version = DEFAULT, expires_at = excluded.expires_at, created_at = now()
WHERE t.expires_at <= now()
RETURNING version`,
		update: `UPDATE ` + q + ` SET data = $2, version = DEFAULT, expires_at = ` + expiry + `
WHERE key = $1 AND version = $4 AND ` + live + `
RETURNING version`,
		deleteAny:     `DELETE FROM ` + q + ` WHERE key = $1`,
		deleteVersion: `DELETE FROM ` + q + ` WHERE key = $1 AND version = $2 AND ` + live,
		touch:         `UPDATE ` + q + ` SET expires_at = now() + $2::bigint * interval '1 microsecond' WHERE key = $1 AND ` + live,
		// A lock row holds its token; the same token takes it again (a
		// statement sent again after a lost connection).
		lock: `INSERT INTO ` + q + ` AS t (key, data, expires_at) VALUES ($1, $2, ` + expiry + `)
ON CONFLICT (key) DO UPDATE SET data = excluded.data, version = DEFAULT, expires_at = excluded.expires_at, created_at = now()
WHERE t.expires_at <= now() OR t.data = excluded.data`,
		unlock: `DELETE FROM ` + q + ` WHERE key = $1 AND data = $2`,
		// The inner SELECT locks the expired rows it picks, skipping (never
		// waiting for) rows that another transaction holds, and the DELETE
		// finds them by ctid (a TID scan, whatever the backlog). A row
		// written since this statement's snapshot, or written back to life
		// before the lock, is not deleted: the lock re-checks the expiry on
		// its newest version, whose ctid the snapshot does not see.
		sweep: fmt.Sprintf(`DELETE FROM %s WHERE ctid IN (SELECT ctid FROM %[1]s WHERE expires_at <= now() LIMIT %d FOR UPDATE SKIP LOCKED)`, q, sweepLimit),

		checkColumns:  `SELECT key, data, version, expires_at, created_at FROM ` + q + ` WHERE false`,
		checkIdentity: `SELECT pg_get_serial_sequence($1, 'version') IS NOT NULL`,
	}
}

// checkTable makes sure the table exists with the columns this package
// uses, its version drawn from a sequence.
func (b *backend) checkTable(ctx context.Context) error {
	migrate := fmt.Sprintf("create it with postgresstorage.Migrate(ctx, pool, %q) before New", b.table.name)
	rows, err := b.pool.Query(ctx, b.q.checkColumns)
	if err == nil {
		rows.Close()
		err = rows.Err()
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
		return fmt.Errorf("postgresstorage: the table %s does not exist: %s", b.table.name, migrate)
	case errors.As(err, &pgErr) && pgErr.Code == "42703": // undefined_column
		return fmt.Errorf("postgresstorage: the table %s lacks a column of this package (%s): it was not made by postgresstorage.Migrate; drop or rename it, then %s", b.table.name, pgErr.Message, migrate)
	case err != nil:
		return fmt.Errorf("postgresstorage: checking the table %s: %w", b.table.name, err)
	}
	var identity bool
	if err := b.pool.QueryRow(ctx, b.q.checkIdentity, b.table.quoted).Scan(&identity); err != nil {
		return fmt.Errorf("postgresstorage: checking the table %s: %w", b.table.name, err)
	}
	if !identity {
		return fmt.Errorf("postgresstorage: the column version of the table %s does not take its values from a sequence (GENERATED ALWAYS AS IDENTITY): it was not made by postgresstorage.Migrate; drop or rename it, then %s", b.table.name, migrate)
	}
	return nil
}

func newBackend(pool *pgxpool.Pool, o Options) (*backend, error) {
	if pool == nil {
		return nil, errors.New("postgresstorage: the pool is nil")
	}
	t, err := parseTable(o.Table)
	if err != nil {
		return nil, err
	}
	return &backend{
		pool:       pool,
		table:      t,
		q:          newStatements(t, sweepBatch),
		logger:     o.Session.WithDefaults().Logger,
		sweepEvery: sweepEvery,
		attempts:   int(pool.Config().MaxConns) + 1,
	}, nil
}
