// Package memorystorage is a session.Storage that keeps records in this
// process's memory: for tests, development and single-process programs.
// Records are kept as encoded bytes, expire with their time to live, and
// number at most Options.MaxSessions.
//
// # Eviction
//
// At MaxSessions, storing a new session evicts one, so that memory stays
// bounded. The order is that of a segmented LRU, built so that a flood of
// new sessions (requests without a cookie, each storing a session, such as
// a home page or a failed sign-in that flashes an error) cannot evict the
// users who are signed in:
//
//   - A new record enters on probation. It leaves probation for good when
//     it is used again: read, touched, or written over the version read,
//     which is what the next request of its user does.
//   - Expired records go first (each write of a new session removes a few).
//   - Then the record on probation the longest: a session that never came
//     back. A flood's sessions all wait there, so they evict each other.
//   - Only when no record is on probation: the record closest to expiry.
//     Under sliding expiry (IdleTimeout) that is the session idle the
//     longest; records that never expire go last. These are ordered by
//     expiry rather than by last use so that a read takes only the read
//     lock, except the one read that takes a record off probation.
//
// The per-user index documents (Options.Session.UserKey) are kept apart and
// never evicted, so a session can always be revoked. A session written under
// a new id (a sign-in with RegenerateID) is on probation until the user's
// next request, and a client that keeps each cookie and comes back looks
// like a user: against such floods, limit requests per client in front of
// the storage (the example app throttles its sign-in form).
//
// Each write does O(log n) work on the expiry heap and O(1) on probation,
// and removes at most a bounded number of expired records. The warning that
// the storage is full is logged once.
package memorystorage
