// Package redisstorage keeps sessions in Redis: one node, Sentinel, Ring or
// Redis Cluster, through any github.com/redis/go-redis/v9 client. It is the
// Go counterpart of @remix-run/session-storage-redis and shares its keys and
// records with it: a session's record is the Remix JSON [values, flash]
// (plus a metadata element that Remix ignores) stored as a string under
// "session:" + id.
//
// New returns a session.Storage built on session.NewBackendStorage, so ids,
// flash, regeneration and expiry behave exactly as in every other storage of
// package session. What Redis adds:
//
//   - One round trip per request at most: a read is one GET; a save is one
//     SET with its TTL (PX), or after RegenerateID(true) one pipeline of the
//     new SET and the old id's DEL; an unchanged session costs nothing; a
//     sliding refresh is one PEXPIRE, at most once per tenth of the idle
//     timeout.
//   - No resurrection: a session loaded by this request is rewritten with
//     SET … XX, so a request that loaded it before a concurrent logout or
//     login cannot write it back.
//   - Redis keeps the expiry: every write sets the key's TTL to what is left
//     of the session (the idle timeout, or less near the end of its
//     Lifetime), so Redis drops ended sessions itself.
//   - Failures are errors, never a new session: Redis down, refusing, slow
//     past the client's timeouts or past the request's context deadline
//     makes Read or Save fail (the middleware's error response), and the
//     same Storage works again when the server is back. A key that does not
//     hold a valid record is logged and read as absent.
//   - Sessions per user: with Options.Session.UserKey set, the Storage
//     implements session.UserIndex. Each user's sessions are a Redis hash,
//     KeyPrefix + "user:" + the user name (handle → id), whose TTL is the
//     session lifetime from its last new member, so it outlives them all.
//     Its commands ride in the same pipeline as the record's write (login,
//     logout, Destroy); a save that keeps the user sends none. A login that
//     changes the id costs a second round trip, which deletes the old record
//     only after the new one is indexed, and a revoke reads the index again
//     after its deletes, so a save racing with a revoke cannot bring the
//     session back. Listing is one round trip on a single node (a script
//     that reads the index and its records) and two on a Cluster or Ring
//     (HGETALL, then the records' GETs in one pipeline); a revoke three.
//     Pipelines only, never MULTI/EXEC, so it works on a Cluster.
//
// Errors and logs never carry a session id or a key.
package redisstorage
