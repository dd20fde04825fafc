// Package postgresstorage keeps sessions in PostgreSQL, one row per session
// in a table of its own, through a github.com/jackc/pgx/v5 pool (pgxpool).
//
// Migrate creates the table; New returns a session.Storage built on
// session.NewBackendStorage, so ids, flash, regeneration, expiry, merged
// saves, the per-user index and exclusive locks behave exactly as in every
// other storage of package session. What PostgreSQL adds:
//
//   - One statement per step: a read is one SELECT; a save is one INSERT …
//     ON CONFLICT (a new session) or UPDATE (a loaded one), a
//     compare-and-set on the row's version in the same statement; an
//     unchanged session costs nothing; a sliding refresh is one UPDATE of
//     expires_at, at most once per tenth of the idle timeout, that leaves the
//     data and the version alone.
//   - Compare-and-set: every write takes a new version from the table's
//     identity sequence, and a save names the version it read. When another
//     request wrote in between, nothing is written and package session reads
//     the row again and re-applies the request's own changes (merged saves);
//     a row deleted by a concurrent logout or revoke is not written back.
//   - No session id in the database: a record's key is the SHA-256 of its
//     id; a user's index document and a session's lock are rows of the same
//     table under keys of their own ("u…" and "l…", never a record's).
//   - Expiry by the server's clock: each row has expires_at (NULL: never),
//     set from now() on the server; an expired row reads as absent and is
//     written over as if absent. Expired rows are deleted in batches of at
//     most 100, by one write in 64 (no goroutine, no long statement).
//   - Failures are errors, never a new session: the server down, or a
//     request past its context's deadline, makes Read or Save fail (the
//     middleware's error response). After a server restart the pool's broken
//     connections are replaced as they are found, and a statement that
//     failed on one is sent again on another, so the same Storage works
//     again at once.
//
// Errors and logs never carry a session id.
package postgresstorage
