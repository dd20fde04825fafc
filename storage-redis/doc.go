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
//
// Errors and logs never carry a session id or a key.
package redisstorage
