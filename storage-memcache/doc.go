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
// # Keys, items and expiry
//
// A session lives in one item under Options.KeyPrefix + hex(SHA-256(id))
// (prefix "remix:session:" by default, as Remix), so the id itself never
// reaches the servers. The item holds the Remix JSON record [values, flash]
// with a third element of metadata (creation and save times) that Remix
// ignores. gomemcache picks the server of each key by a hash of the key; a
// session stays on its server for its whole life.
//
// Items expire with the session: the expiration sent is the smaller of
// Options.Session.IdleTimeout and the Lifetime left, in whole seconds,
// rounded up; beyond 30 days memcached reads numbers as Unix times, so longer
// TTLs are sent as absolute times. 0 (never expire) is sent only when there
// is no IdleTimeout and Lifetime is negative (zero means the 14-day
// session.DefaultLifetime). A read-only request refreshes an idle
// timeout with a single touch, at most once a tenth of the timeout, without
// rewriting the data; an unchanged session costs no command at all.
//
// # Failures
//
// A server that is down, refuses the connection or does not answer within
// client.Timeout makes Read and Save return an error: the request fails
// rather than starting a new session, which would sign the user out. Only
// the sessions on that server are affected. An item that does not parse as a
// session record is logged (by a hash of the id, never the id) and treated
// as absent.
//
// A save of a session loaded by the request is a memcache replace, so a
// request that loaded a session before a concurrent logout cannot bring it
// back. A record larger than Options.MaxItemSize (1 MB) fails Save with
// ErrTooLarge before anything is sent, and the stored session stays intact.
package memcachestorage
