package session

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Sessions per user (Options.UserKey): NewBackendStorage keeps, for every
// user, an index document of that user's sessions (index_doc.go) under the
// backend's IndexKey, written with the same versioned Put as the records, and
// its Storage implements UserIndex. A save that changes neither the user nor
// the id does no index work; one that does (a login, a logout, Destroy,
// RegenerateID of a signed-in session) follows the write order below, which
// holds on any backend, a Redis Cluster included, where the index and the
// record live on different nodes and no step is atomic with another:
//
//  1. A record joins its user's index before it is written (add), and the
//     save checks there that the record it was loaded from is a live member
//     (a revoke wins). A failed write then leaves only an index member
//     whose record does not name the user: nothing live changed.
//  2. The record is written (compare-and-set, merged on a conflict).
//  3. The save reads the index again: if its member was revoked meanwhile,
//     it deletes what it wrote (verify).
//  4. Old records are deleted, then leave the index (best effort: a member
//     whose record is gone or names another user is never listed, and is
//     pruned by the next change).
//
// A revoke first marks its members revoked in the index (one
// compare-and-set), then deletes their records, then removes them. A save
// racing it either wrote the index first (the revoke's compare-and-set fails,
// it reads again and revokes the new member too) or sees the mark in step 1
// or 3. A revoke that fails midway leaves its members marked, and the next
// revoke of that user finishes them.

// UserIndex lists and ends the sessions of one user. The Storage that
// NewBackendStorage returns (and so every server-side storage) implements
// it when Options.UserKey is set; find it with a type assertion:
//
//	ix, ok := st.(session.UserIndex)
//
// Cookie storage does not implement it: a session that lives in the cookie
// cannot be listed or revoked on the server.
type UserIndex interface {
	// Sessions returns the live sessions of user, newest LastSeen first.
	// Expired sessions are never listed; "" has no sessions.
	Sessions(ctx context.Context, user string) ([]SessionInfo, error)
	// Revoke ends user's session with this handle: its record is deleted,
	// so the next request with its cookie is anonymous. A handle that is
	// not one of user's sessions (unknown, expired, or another user's) is
	// not an error and ends nothing.
	Revoke(ctx context.Context, user, handle string) error
	// RevokeAll ends every session of user except those whose handles are
	// listed (typically the current one, Session.Handle), and returns how
	// many live sessions it ended.
	RevokeAll(ctx context.Context, user string, except ...string) (int, error)
}

// SessionInfo describes one session of a user, as UserIndex lists it.
type SessionInfo struct {
	// Handle names the session for Revoke: opaque, stable for one id and
	// derived from it one-way (it never reveals the id, which is a bearer
	// credential); a session gets a new handle when RegenerateID's new id is
	// saved.
	Handle string
	// Created is when the session was created, kept across RegenerateID;
	// zero for a record without metadata (written by Remix).
	Created time.Time
	// LastSeen is when the session was last saved (a sliding refresh that
	// only extends the record's time to live does not move it; with
	// Options.IdleTimeout on a backend that touches, the record is
	// rewritten at least every half timeout, so LastSeen lags the last
	// request by less than that).
	LastSeen time.Time
	// Device summarises the browser and system of the session's client at
	// its last write ("Firefox on Linux"; DeviceOf), and Network its
	// network ("203.0.113.0/24"; NetworkOf): "" when unknown (a session
	// saved without Session.SetClient, which the session middleware
	// calls). They move with writes that happen anyway (see SetClient).
	Device, Network string
}

// handleOf derives a session's handle from its id: the first 128 bits of a
// domain-separated SHA-256 of the id, as 22 characters of base64url. An id
// has 256 random bits, so the handle cannot be turned back into it; the
// domain string keeps it distinct from the hashes of logID and of file
// storage's paths.
func handleOf(id string) string {
	sum := sha256.Sum256([]byte("sessionkit session handle\x00" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// Handle returns the handle under which UserIndex lists this session: derived
// one-way from its id, stable for one id. It is "" before the session's first
// save and for a destroyed session. After RegenerateID it stays the old id's
// handle until the save that stores the new id.
func (s *Session) Handle() string {
	s.lock()
	defer s.mu.Unlock()
	if !s.stored || s.destroyed {
		return ""
	}
	return handleOf(s.rec.originalID)
}

// userOf returns the user that values name under key: the string stored
// there, or "" (none, or not a string).
func userOf(values fields, key string) string {
	if key == "" {
		return ""
	}
	f, _ := values.Lookup(key)
	u, _ := f.Str() // unboxed: a save asks on every request
	return u
}

// indexPlan is the index work of a save (savePlan.index).
type indexPlan struct {
	needed bool
	from   string // the user whose index lists the session's stored records
	to     string // the user whose index lists the session after the save
	// add: the record written joins to's index (step 1) and is verified
	// there after the write (step 3).
	add bool
	// require: the record loaded must still be a live member of from's
	// index, so that a login racing a revoke cannot carry the revoked
	// session over to a new id.
	require bool
	// remove: records leave from's index after the save (step 4): the
	// deleted ones, and the written one when it no longer names from.
	remove bool
}

// decideIndex is decideSave's index case: it reads the snapshot and the plan
// decided so far. Only saves that write the session's data (not a sliding
// refresh) or delete records can change the index, and of those only the
// ones that change the user or the id, or delete an indexed record.
func decideIndex(snap *saveSnapshot, p *savePlan) indexPlan {
	ix := indexPlan{from: snap.indexed, to: snap.indexed}
	switch {
	case p.write == writeRecord && !p.refresh:
		ix.to = snap.user
		ix.add = ix.to != "" && (ix.to != ix.from || snap.id != snap.originalID || !snap.stored)
		ix.require = ix.add && snap.stored && ix.from != ""
		ix.remove = ix.from != "" && (ix.to != ix.from || len(p.deletes) > 0)
	case len(p.deletes) > 0:
		ix.to = ""
		ix.remove = ix.from != ""
	}
	ix.needed = ix.add || ix.remove
	return ix
}

// errRevoked is what the index steps of a save return when the session was
// revoked meanwhile: the save is dropped.
var errRevoked = errors.New("session: revoked")

// indexed is run for a save with index work: step 1, then run (which does
// steps 2 to 4).
func (x *execution) indexed(ctx context.Context) (string, bool, error) {
	if x.plan.index.add {
		err := x.checkSource(ctx)
		if err == nil {
			err = x.addToIndex(ctx)
		}
		if errors.Is(err, errRevoked) {
			return x.dropped(ctx)
		}
		if err != nil {
			return "", false, fmt.Errorf("session: save %s: %w", logID(x.snap.id), err)
		}
	}
	return x.run(ctx)
}

// checkSource is sourceLive on the index of the user the session is moving
// from, when the save requires it and that index is not the one addToIndex
// changes (which checks it in the same update).
func (x *execution) checkSource(ctx context.Context) error {
	ix := &x.plan.index
	if !ix.require || ix.from == ix.to {
		return nil
	}
	d, _, err := x.st.readIndex(ctx, ix.from)
	if err != nil {
		return err
	}
	return x.sourceLive(ctx, &d)
}

// addToIndex adds the session to its user's index (step 1), ending that
// user's sessions past Options.MaxUserSessions by Options.UserLimit
// (x.evicted), or refusing the sign-in (ErrUserLimit).
func (x *execution) addToIndex(ctx context.Context) error {
	st, ix := x.st, &x.plan.index
	m := indexMember{handle: handleOf(x.snap.id), key: st.b.Key(x.snap.id), added: timeMS(x.now),
		expires: lifetimeEnd(&st.o, x.plan.created)}
	return st.updateIndex(ctx, ix.to, func(d *indexDoc) (bool, error) {
		if ix.require && ix.from == ix.to {
			if err := x.sourceLive(ctx, d); err != nil {
				return false, err
			}
		}
		x.evicted = false // this attempt decides anew: an earlier one's write did not land
		added := d.add(m)
		capped, err := x.capIndex(ctx, d)
		return added || capped, err
	})
}

// loginGrace is how long after it joined its user's index a member may lack
// its record without counting as gone: a sign-in adds the member before it
// writes the record (step 1).
const loginGrace = time.Minute

// capIndex keeps user's index d within Options.MaxUserSessions live
// sessions, by Options.UserLimit's policy, and reports whether it changed
// d. It counts the sessions whose records are there, and the sign-ins
// younger than loginGrace whose records are not written yet (so that many
// sign-ins at once cannot pass the cap), before it ends any: it reads the
// records of the user's other members. A member whose record is gone
// (expired, deleted, lost with a cache server that restarted empty) or
// names another user leaves the index once it is past loginGrace. When
// the records cannot be read (a server is down), it ends nothing: a server
// that fails must never sign out the users whose servers are fine. The
// sessions it marks revoked are ended by the save (x.evicted), the younger
// sign-ins without a record first (a sign-in in flight that is ended so
// fails: its save finds itself revoked); under LimitRefuse it ends none and
// fails the sign-in with ErrUserLimit.
func (x *execution) capIndex(ctx context.Context, d *indexDoc) (bool, error) {
	max := x.st.o.maxUserSessions()
	if max <= 0 || d.liveCount(x.now) <= max {
		return false, nil
	}
	live, dropped, err := x.settle(ctx, d)
	if err != nil {
		x.st.o.Logger.WarnContext(ctx, "session: a user is past Options.MaxUserSessions, but their sessions' records cannot be read; none is ended", "error", err)
		return false, nil
	}
	// The session being saved counts too: its record is written next.
	over := len(live) + 1 - max
	if over > 0 && x.st.o.UserLimit == LimitRefuse {
		return false, fmt.Errorf("%w (%d)", ErrUserLimit, max)
	}
	if n := d.revokeFirst(live, over, x.st.o.UserLimit); n > 0 {
		x.evicted = true
		return true, nil
	}
	return dropped > 0, nil
}

// liveMember is a member of a user's index that capIndex counts: its
// handle, when it joined, and when its session was last saved (its join
// time for a sign-in whose record is not written yet).
type liveMember struct {
	handle      string
	added, seen int64
	// pending: no record yet (a sign-in in flight, or one whose record
	// was lost right after it): ended first, since it holds nothing.
	pending bool
}

// settle reads the records of d's live members other than the session
// being saved, removes from d those whose record is gone past loginGrace,
// and returns the members that count (their record is there, or they are
// younger sign-ins), and how many it removed.
func (x *execution) settle(ctx context.Context, d *indexDoc) (live []liveMember, dropped int, err error) {
	st, user, self := x.st, x.plan.index.to, handleOf(x.snap.id)
	var others []indexMember
	for _, m := range d.members {
		if !m.revoked && !m.expiredAt(x.now) && m.handle != self {
			others = append(others, m)
		}
	}
	recs, err := st.readMembers(ctx, others, x.now)
	if err != nil {
		return nil, 0, err
	}
	var gone []string
	for i, r := range recs {
		m := &others[i]
		switch {
		case r != nil && userOf(r.values, st.o.UserKey) == user:
			live = append(live, liveMember{handle: m.handle, added: m.added, seen: max(r.m.Saved, m.added)})
		case x.now.UnixMilli()-m.added < loginGrace.Milliseconds():
			live = append(live, liveMember{handle: m.handle, added: m.added, seen: m.added, pending: true})
		default:
			gone = append(gone, m.handle)
		}
	}
	dropped = d.remove(func(m *indexMember) bool { return !m.revoked && slices.Contains(gone, m.handle) })
	return live, dropped, nil
}

// sourceLive checks, for step 1, that the session the save was loaded from
// was not revoked: errRevoked when d (its user's index) marks it revoked,
// or does not list it and its record is gone (a revoke finished). A session
// that d does not list but whose record is there was never indexed (saved
// before Options.UserKey was set, or before an upgrade that moved the
// index): a revoke cannot have ended it, and the save goes on.
func (x *execution) sourceLive(ctx context.Context, d *indexDoc) error {
	switch d.state(handleOf(x.snap.originalID)) {
	case memberLive:
		return nil
	case memberRevoked:
		return errRevoked
	}
	_, _, err := x.st.b.Get(ctx, x.st.b.Key(x.snap.originalID))
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorruptRecord) {
		return errRevoked
	}
	return err
}

// verifyIndexed is step 3: the written record must still be a live member
// of its user's index; if a revoke marked it meanwhile, the record is
// deleted and the save dropped (errRevoked).
func (x *execution) verifyIndexed(ctx context.Context) error {
	st, snap := x.st, &x.snap
	d, _, err := st.readIndex(ctx, x.plan.index.to)
	if err != nil {
		return fmt.Errorf("session: save %s: %w", logID(snap.id), err)
	}
	if d.live(handleOf(snap.id)) {
		return nil
	}
	if err := st.b.Delete(ctx, st.b.Key(snap.id), Version{}); err != nil {
		return fmt.Errorf("session: delete %s: %w", logID(snap.id), err)
	}
	x.a.wroteID, x.a.wrote = "", Version{}
	return errRevoked
}

// unindex is step 4: the deleted records, and the written one when it no
// longer names from, leave from's index. It is best effort: a member left
// behind names a record that is gone or is another user's, which is never
// listed and is pruned by the next change, so a failure is logged, not
// returned (the session was saved).
func (x *execution) unindex(ctx context.Context) {
	st, ix, snap := x.st, &x.plan.index, &x.snap
	gone := make([]string, 0, len(x.plan.deletes)+1)
	for _, id := range x.plan.deletes {
		gone = append(gone, handleOf(id))
	}
	if x.plan.write == writeRecord && ix.to != ix.from {
		gone = append(gone, handleOf(snap.id))
	}
	err := st.updateIndex(ctx, ix.from, func(d *indexDoc) (bool, error) {
		return d.remove(func(m *indexMember) bool { return slices.Contains(gone, m.handle) }) > 0, nil
	})
	if err != nil {
		st.o.Logger.WarnContext(ctx, "session: a user's index keeps members of deleted sessions; they are not listed and go with the next change",
			"error", err)
	}
}

// lifetimeEnd is when a session created at created ends by its lifetime,
// in Unix ms; 0 for never.
func lifetimeEnd(o *Options, created time.Time) int64 {
	if l := o.LifetimeLimit(); l > 0 {
		return timeMS(created.Add(l))
	}
	return 0
}

// maxIndexAttempts bounds the compare-and-set retries of one index change.
// Every conflict is another request's change landing, so many sign-ins of
// one account at once (a shared demo account, a load test) need as many
// attempts as there are of them; the request's context, which the session
// middleware bounds (StorageTimeout), bounds the time they take.
const maxIndexAttempts = 1024

// readIndex returns user's index document and its version (zero: none). A
// document that does not parse is logged and read without the lines that
// do not, to be overwritten at its version. Something under the index key
// that is no document at all (a Redis key of another type) is logged,
// deleted and read as no document, so that it cannot block the user's
// sign-ins and revokes for good.
func (st *backendStorage) readIndex(ctx context.Context, user string) (indexDoc, Version, error) {
	key := st.b.IndexKey(user)
	data, v, err := st.b.Get(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return indexDoc{}, Version{}, nil
	case errors.Is(err, ErrCorruptRecord):
		st.o.Logger.WarnContext(ctx, "session: a user's index key holds no index document; it is replaced", "error", err)
		if err := st.b.Delete(ctx, key, Version{}); err != nil {
			return indexDoc{}, Version{}, fmt.Errorf("replacing a user's corrupt index: %w", err)
		}
		return indexDoc{}, Version{}, nil
	case err != nil:
		return indexDoc{}, Version{}, fmt.Errorf("reading a user's index: %w", err)
	}
	d, err := parseIndexDoc(data)
	if err != nil {
		st.o.Logger.WarnContext(ctx, "session: a user's index does not parse; it is rewritten", "error", err)
	}
	return d, v, nil
}

// updateIndex changes user's index with change, by compare-and-set, reading
// it again on a conflict. change reports whether it changed the document;
// an error from it ends the update. Members past their lifetime are pruned
// with every write; an empty document is deleted.
func (st *backendStorage) updateIndex(ctx context.Context, user string, change func(*indexDoc) (bool, error)) error {
	for n := 1; ; n++ {
		d, v, err := st.readIndex(ctx, user)
		if err != nil {
			return err
		}
		changed, err := change(&d)
		if err != nil || !changed {
			return err
		}
		err = st.writeIndex(ctx, user, &d, v)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, ErrConflict):
			return fmt.Errorf("writing a user's index: %w", err)
		case n == maxIndexAttempts:
			return fmt.Errorf("writing a user's index: it changed under %d attempts in a row: %w", n, err)
		}
		if err := backoff(ctx, n); err != nil {
			return err
		}
	}
}

// writeIndex stores d as user's index over version v, pruned of members
// past their lifetime; an empty document is deleted. A document with an
// epoch is kept without a time to live: were it to expire, the epoch
// would go back to 0 and the cookie sessions it ended would live again.
func (st *backendStorage) writeIndex(ctx context.Context, user string, d *indexDoc, v Version) error {
	key := st.b.IndexKey(user)
	d.prune(st.o.Now())
	if len(d.members) == 0 && d.epoch == 0 {
		return st.b.Delete(ctx, key, v)
	}
	ttl := st.o.LifetimeLimit()
	if d.epoch > 0 {
		ttl = 0
	}
	_, err := st.b.Put(ctx, key, d.append(nil), ttl, v)
	return err
}

// readMembers reads the live records of members, in their order: nil for
// one that is gone, expired or corrupt. A MultiGetter reads them in one
// round trip; otherwise one Get each.
func (st *backendStorage) readMembers(ctx context.Context, members []indexMember, now time.Time) ([]*decodedRecord, error) {
	if mg, ok := st.b.(MultiGetter); ok {
		return st.readMembersMulti(ctx, mg, members, now)
	}
	recs := make([]*decodedRecord, len(members))
	for i, m := range members {
		r, _, err := st.readKey(ctx, m.key, now)
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorruptRecord):
		case err != nil:
			return nil, err
		default:
			recs[i] = &r
		}
	}
	return recs, nil
}

// readMembersMulti is readMembers in one round trip.
func (st *backendStorage) readMembersMulti(ctx context.Context, mg MultiGetter, members []indexMember, now time.Time) ([]*decodedRecord, error) {
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = m.key
	}
	data, err := mg.GetMulti(ctx, keys)
	if err != nil {
		return nil, err
	}
	recs := make([]*decodedRecord, len(members))
	for i, b := range data {
		if b == nil {
			continue
		}
		if r, err := decodeRecord(readOnlyString(b)); err == nil && !st.o.expired(r.m, now, st.t != nil) {
			recs[i] = &r
		}
	}
	return recs, nil
}

// indexedStorage is a backendStorage with a per-user index: it implements
// UserIndex.
type indexedStorage struct {
	*backendStorage
}

// Sessions implements UserIndex: the index, then each member's record.
func (st *indexedStorage) Sessions(ctx context.Context, user string) ([]SessionInfo, error) {
	if user == "" {
		return nil, nil
	}
	d, _, err := st.readIndex(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("session: listing a user's sessions: %w", err)
	}
	now := st.o.Now()
	members := slices.DeleteFunc(d.members, func(m indexMember) bool { return m.revoked || m.expiredAt(now) })
	recs, err := st.readMembers(ctx, members, now)
	if err != nil {
		return nil, fmt.Errorf("session: listing a user's sessions: %w", err)
	}
	list := make([]SessionInfo, 0, len(members))
	for i, m := range members {
		// A session that is gone, or now names another user, is not
		// listed.
		if r := recs[i]; r != nil && userOf(r.values, st.o.UserKey) == user {
			list = append(list, SessionInfo{Handle: m.handle, Created: msTime(r.m.Created), LastSeen: msTime(r.m.Saved),
				Device: r.m.Device, Network: r.m.Network})
		}
	}
	slices.SortFunc(list, func(a, b SessionInfo) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.Handle, b.Handle)
	})
	return list, nil
}

// Revoke implements UserIndex.
func (st *indexedStorage) Revoke(ctx context.Context, user, handle string) error {
	if user == "" || handle == "" {
		return nil
	}
	if _, err := st.revoke(ctx, user, &revocation{cause: CauseRevoke, pick: func(h string) bool { return h == handle }}); err != nil {
		st.revokeFailed(ctx, user, err)
		return fmt.Errorf("session: revoking a session: %w", err)
	}
	return nil
}

// RevokeAll implements UserIndex.
func (st *indexedStorage) RevokeAll(ctx context.Context, user string, except ...string) (int, error) {
	if user == "" {
		return 0, nil
	}
	n, err := st.revoke(ctx, user, &revocation{cause: CauseRevokeAll, pick: func(h string) bool { return !slices.Contains(except, h) }, cut: true})
	if err != nil {
		st.revokeFailed(ctx, user, err)
		return n, fmt.Errorf("session: revoking a user's sessions: %w", err)
	}
	return n, nil
}

// revokeFailed reports a revoke's storage error.
func (st *indexedStorage) revokeFailed(ctx context.Context, user string, err error) {
	if st.ev.on() {
		st.ev.emit(ctx, Event{Kind: EventStorageError, User: user, Cause: CauseRevoke, Err: err})
	}
}

// revocation is what a revoke does (revoke): mark the members pick
// chooses, reported with cause; with bump, also raise the user's epoch
// (Epochs) and store the new one in epoch; with cut, end the grace windows
// of the ids rotated before now (grace.go), since the sessions it keeps
// changed privilege.
type revocation struct {
	cause     string
	pick      func(handle string) bool
	bump, cut bool
	epoch     int64
}

// revoke carries out r on user's index in one compare-and-set, then ends
// the members it marked (endRevoked, reporting r.cause).
func (st *backendStorage) revoke(ctx context.Context, user string, r *revocation) (int, error) {
	marked := false // the document holds revoked members, new or left by a failed revoke
	err := st.updateIndex(ctx, user, func(d *indexDoc) (bool, error) {
		changed := r.bump || r.cut
		marked = false
		if r.bump {
			d.epoch++
			r.epoch = d.epoch
		}
		if r.cut {
			d.cut = timeMS(st.o.Now())
		}
		for i := range d.members {
			m := &d.members[i]
			if !m.revoked && r.pick(m.handle) {
				m.revoked, changed = true, true
			}
			marked = marked || m.revoked
		}
		return changed, nil
	})
	if err != nil || !marked {
		return 0, err
	}
	return st.endRevoked(ctx, user, r.cause)
}

// endRevoked deletes the records of the revoked members of user's index
// (those that still name the user), then removes the members. It returns
// how many live sessions it ended, each reported as EventRevoked with
// cause. A failure leaves the members marked, for the next revoke to
// finish.
func (st *backendStorage) endRevoked(ctx context.Context, user, cause string) (int, error) {
	d, _, err := st.readIndex(ctx, user)
	if err != nil {
		return 0, err
	}
	revoked := slices.DeleteFunc(d.members, func(m indexMember) bool { return !m.revoked })
	n, ended, err := st.deleteRevoked(ctx, user, cause, revoked)
	if err != nil || len(ended) == 0 {
		return n, err
	}
	err = st.updateIndex(ctx, user, func(d *indexDoc) (bool, error) {
		return d.remove(func(m *indexMember) bool { return m.revoked && slices.Contains(ended, m.handle) }) > 0, nil
	})
	if err != nil {
		// The sessions are ended; their members are pruned by the next
		// change of the index.
		st.o.Logger.WarnContext(ctx, "session: revoked sessions stay in a user's index until its next change", "error", err)
	}
	return n, nil
}

// deleteRevoked deletes the records of user's revoked members, and returns
// how many it deleted and the handles of the members it is done with. A
// record that is gone, or names another user now, is not this user's
// session any more: only its member goes.
func (st *backendStorage) deleteRevoked(ctx context.Context, user, cause string, revoked []indexMember) (int, []string, error) {
	recs, err := st.readMembers(ctx, revoked, st.o.Now())
	if err != nil {
		return 0, nil, err
	}
	n := 0
	ended := make([]string, 0, len(revoked))
	for i, m := range revoked {
		if r := recs[i]; r != nil && userOf(r.values, st.o.UserKey) == user {
			if err := st.b.Delete(ctx, m.key, Version{}); err != nil {
				return n, ended, fmt.Errorf("deleting a revoked session: %w", err)
			}
			n++
			if st.ev.on() {
				st.ev.emit(ctx, Event{Kind: EventRevoked, Handle: m.handle, User: user, Cause: cause})
			}
		}
		ended = append(ended, m.handle)
	}
	return n, ended, nil
}
