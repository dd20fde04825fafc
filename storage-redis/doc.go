// Package redisstorage keeps sessions in Redis: one node, Sentinel, Ring or
// Redis Cluster, through any github.com/redis/go-redis/v9 client. It is the
// Go counterpart of @remix-run/session-storage-redis and writes its records:
// a session's record is the Remix JSON [values, flash] (plus a metadata
// element that Remix ignores) stored as a string under "session:" + the
// hex SHA-256 of the id (session.HashID), so that a session id, a bearer
// credential, never shows in a key list, a dump, a replica or the slow log.
// With Options.PlainKeys the key is Remix's, "session:" + id, and a Remix
// app and a Go service share the sessions.
//
// New returns a session.Storage built on session.NewBackendStorage, so ids,
// flash, regeneration, expiry, merged saves, the per-user index and
// exclusive locks behave exactly as in every other storage of package
// session. What Redis adds:
//
//   - Few round trips: a read is one GET; a save is one EVALSHA of a
//     compare-and-set script on the record's key; an unchanged session
//     costs nothing; a sliding refresh is one PEXPIRE, at most once per
//     tenth of the idle timeout. After RegenerateID(true) the new record's
//     write and the old one's delete are one round trip each. With
//     Options.Session.UserKey set, a login or logout that changes the
//     per-user index costs a few more, made by package session on the
//     index document.
//   - Compare-and-set: a key's version is its bytes. A save sends the bytes
//     it read (their SHA-1 above 4 KiB), and the script writes only while
//     the key still holds them, in the same round trip; otherwise nothing
//     is written and package session reads the record again and
//     re-applies the request's own changes (merged saves), so concurrent
//     requests that change different keys of one session all keep their
//     changes. Any write in between counts, this package's or another
//     program's (a Remix app's plain SET). A record deleted by a
//     concurrent logout or revoke is not written back.
//   - Exclusive sessions: the Storage is a session.Locking. A session's lock
//     is the key prefix + "lock:" + the id's hash (or the id with
//     PlainKeys), taken with SET … NX PX (so it ends at its TTL if its
//     holder dies) and freed by a script that deletes it only for the token
//     that holds it.
//   - Sessions per user: with Options.Session.UserKey set, the Storage is a
//     session.UserIndex. Package session keeps each user's index as one
//     document, a string under prefix + "index:" + the user name, read and
//     written with the same GET and compare-and-set script as the records.
//   - Cluster-safe: every script reads and writes one key, so it runs on the
//     node that owns that key; nothing uses MULTI/EXEC or more than one key
//     per command. When a command through a *redis.ClusterClient fails in a
//     way that says its slot map may be stale (a dead or silent node,
//     CLUSTERDOWN, TRYAGAIN, MOVED, ASK, ...), the storage asks the client
//     to reload the map, in the background and rate-limited, so requests
//     reach a replica that took over a dead master soon after the failover
//     rather than at the client's next periodic reload.
//   - Redis keeps the expiry: every write sets the key's TTL to what is left
//     of the session (the smaller of the idle timeout and the Lifetime
//     left, 14 days from creation by default), so Redis drops ended
//     sessions itself.
//   - Failures are errors, never a new session: Redis down, refusing, slow
//     past the client's timeouts or past the request's context deadline
//     makes Read or Save fail (the middleware's error response), and the
//     same Storage works again when the server is back. A key that does not
//     hold a valid record (garbage, or another Redis type than a string) is
//     logged and read as absent.
//
// Errors and logs never carry a session id or a key.
package redisstorage
