// Package memcachestorage keeps web sessions in memcache, over one server or
// a pool of them: a session.Storage for the sessionkit session middleware,
// and the Go counterpart of @remix-run/session-storage-memcache, whose items
// it reads and writes. Example goes through two requests; the README has a
// whole program behind the session middleware.
//
// The storage is session.NewBackendStorage over a memcache backend (a
// session.Backend, Toucher, Locker and MultiGetter): package session does
// the ids, expiry, merging and the per-user index, and this package stores
// bytes under keys with compare-and-swap.
//
// # Keys, items and expiry
//
// A session lives in one item under Options.KeyPrefix + session.HashID(id),
// the hex SHA-256 of the id (prefix "remix:session:" by default, as Remix),
// so the id itself never reaches the servers. The item holds the Remix JSON
// record [values, flash] with a third element of metadata (creation and
// save times) that Remix ignores. gomemcache picks the server of each key by
// a hash of the key. A user's index document (KeyPrefix + "u" + ..., with
// Options.Session.UserKey) and a session's lock (KeyPrefix + "l" + ...)
// share the prefix, each followed by a letter and 63 hex digits of a
// SHA-256, so that they never take a record's key.
//
// Items expire with the session: the smaller of Options.Session.IdleTimeout
// and the Lifetime left (session.DefaultLifetime, 14 days from creation,
// when Lifetime is 0), in whole seconds rounded up, and as an absolute Unix
// time beyond the 30 days up to which memcached reads seconds. An item never
// expires only when there is no IdleTimeout and Lifetime is negative.
//
// # Commands and concurrent requests
//
// A read is one gets, whose CAS id is the version the request's save writes
// over: one cas (a new session: one add). An unchanged session sends
// nothing, and the sliding refresh of an idle timeout is one touch, at most
// once a tenth of the timeout. A save whose cas fails because another
// request (or a Remix app's set) changed the item does not overwrite it:
// package session reads the item again and re-applies this request's own
// changes, so concurrent requests that set different keys all keep them,
// and a logout or a revoke wins over a concurrent save. memcache has no
// conditional delete, so a delete at a version is a cas of an empty value
// that expires at once (a tombstone, which reads as absent). The Storage
// implements session.Locking (a lock is one add of the lock item) and, with
// Options.Session.UserKey set, session.UserIndex.
//
// # Limits and failures
//
// Save refuses a session over Options.MaxItemSize (with ErrTooLarge) or over
// Options.Session.MaxRecordSize, the stricter of the two, before anything
// is sent: memcached deletes what a key held when an oversized set fails,
// which would sign the user out. A server that is down or does not answer
// within client.Timeout makes Read and Save return an error, never a new
// session; only the sessions on that server are affected. An item that
// does not parse as a session record is logged (by a hash of the id, never
// the id) and treated as absent.
package memcachestorage
