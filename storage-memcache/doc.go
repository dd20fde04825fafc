// Package memcachestorage keeps web sessions in memcache, over one server or
// a pool of them: a session.Storage for the sessionkit session middleware,
// and the Go counterpart of @remix-run/session-storage-memcache, whose items
// it reads and writes.
//
//	client := memcache.New("10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211")
//	st, err := memcachestorage.New(client, memcachestorage.Options{
//		Session: session.Options{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mw, err := sessionmiddleware.New(sessionCookie, st, sessionmiddleware.Options{})
//
// The storage is session.NewBackendStorage over a memcache backend (a
// session.Backend, Toucher and Locker): package session does the ids,
// expiry, merging and the per-user index, and this package stores bytes
// under keys with compare-and-swap.
//
// # Keys, items and expiry
//
// A session lives in one item under Options.KeyPrefix + hex(SHA-256(id))
// (prefix "remix:session:" by default, as Remix), so the id itself never
// reaches the servers. The item holds the Remix JSON record [values, flash]
// with a third element of metadata (creation and save times) that Remix
// ignores. gomemcache picks the server of each key by a hash of the key; a
// session stays on its server for its whole life. Two other kinds of items
// share the prefix, each followed by a letter and 63 hex digits of a
// SHA-256, so that they never take a record's key: the index document of a
// user (KeyPrefix + "u" + ..., with Options.Session.UserKey) and the lock of
// a session (KeyPrefix + "l" + ...).
//
// Items expire with the session: the expiration sent is the smaller of
// Options.Session.IdleTimeout and the Lifetime left, in whole seconds,
// rounded up; beyond 30 days memcached reads numbers as Unix times, so longer
// TTLs are sent as absolute times. 0 (never expire) is sent only when there
// is no IdleTimeout and Lifetime is negative (zero means the 14-day
// session.DefaultLifetime).
//
// # Commands
//
// A read is one gets, which returns the item with its CAS id: the version
// the request's save writes over. Saving a changed session is one cas at
// that version (a new session: one add), an unchanged session sends
// nothing, and the sliding refresh of an idle timeout is one touch, at most
// once a tenth of the timeout, which leaves the data and the CAS id as they
// are. A destroy is one delete.
//
// # Concurrent requests
//
// A save whose cas fails because another request (or a Remix app, whose set
// moves the CAS id) saved the session since it was read does not overwrite
// it: package session reads the item again and re-applies this request's own
// changes (a gets and a cas more), so concurrent requests that set different
// keys all keep their changes. A logout (Destroy) or a revoke wins over a
// concurrent save, which drops its changes (logged). Two requests that read
// and then write the same key (a counter, a cart) need the session's lock
// instead: the Storage implements session.Locking, and requests that take
// the lock run one at a time, across processes.
// The lock is one add of the lock item, holding the holder's token, expiring
// after the lock's TTL rounded up to whole seconds; freeing it is a gets and,
// while the token still holds it, a cas.
//
// # Tombstones
//
// memcache has no conditional delete. A delete at a version (the old record
// after RegenerateID(true), an unlock, and whatever else package session
// deletes only if unchanged) is a cas of an empty value with an expiration
// already past, so memcached drops the item in the same command that
// checked its CAS id, and a write that another request makes just
// afterwards is never removed. An empty item is a tombstone: it reads as
// absent, and a write of a new session or document over it succeeds.
//
// # Failures
//
// A server that is down, refuses the connection or does not answer within
// client.Timeout makes Read and Save return an error: the request fails
// rather than starting a new session, which would sign the user out. Only
// the sessions on that server are affected. An item that does not parse as a
// session record is logged (by a hash of the id, never the id) and treated
// as absent. A record larger than Options.MaxItemSize (1 MB) fails Save with
// ErrTooLarge before anything is sent, and the stored session stays intact.
//
// # Sessions per user
//
// With Options.Session.UserKey set, the Storage implements
// session.UserIndex. Package session keeps each user's sessions in one index
// document (handles and the records' keys, never an id) under KeyPrefix +
// "u" + a hash of the user name, read with gets and written with add and
// cas like a record, so concurrent logins and revokes never lose a member.
// The index and the record may be on different servers: a login whose index
// write fails returns an error and leaves the stored record as it was.
package memcachestorage
