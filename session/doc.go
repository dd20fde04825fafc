// Package session holds web sessions for net/http: a Session with values and
// flash messages, and the Storage that loads and saves it. It is the Go
// counterpart of @remix-run/session and reads and writes the same records.
//
// Most programs use it through the session middleware (package
// sessionmiddleware), which loads the session before the handler runs and
// saves it before the response headers go out; a handler reads it with
// FromContext:
//
//	s := session.FromContext(r.Context())
//	n, _ := session.Value[int](s, "visits")
//	s.Set("visits", n+1)
//
// # Storages
//
// Every storage is a subpackage (memorystorage, filestorage, cookiestorage)
// or a module of its own (storage-redis, storage-memcache,
// storage-postgres), and each stands on one of two public contracts of this
// package:
//
//   - Server-side storages implement Backend, a small versioned key-value
//     interface, and NewBackendStorage turns it into a Storage: the cookie
//     holds only the id, and this package enforces the rules (fixation-safe
//     ids, expiry, flash, deletes after RegenerateID(true) and Destroy, size
//     limits, merged concurrent saves, the per-user index of UserIndex).
//   - Client-side storages implement ClientCodec, which turns the session's
//     payload into a cookie value and back, and NewClientStorage applies the
//     same rules.
//
// The sessiontest package is the conformance suite that proves a storage.
//
// # Defaults
//
// The zero Options are safe: a session ends DefaultLifetime (14 days) after
// it was created, with no idle timeout unless Options.IdleTimeout is set; a
// server-side record is at most DefaultMaxRecordSize (1 MiB); ids the store
// does not know are never adopted; a backend error is returned, never
// turned into a new session (which would sign users out); a corrupt record
// is logged and read as absent.
//
// # Concurrency
//
// A Session is safe for concurrent use within a request. Between requests,
// concurrent saves of a server-side storage merge: every save writes over
// the version its request read, and one that finds the record changed
// re-applies its own changes to the fresh record (the rules are in
// merge.go and the README). A logout, a revoke or a regenerated id wins over
// a request that loaded the session before it. For a handler that reads and
// then writes one key, Locking serializes the requests of one session.
//
// The README has the guide: login and logout, flash messages, remember me,
// sessions per user, exclusive sessions and writing a storage.
package session
