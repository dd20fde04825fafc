package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
	"unsafe"
)

// NewBackendStorage returns the Storage that every server-side store shares:
// the cookie holds only the session id, and b holds the records. It validates
// ids before b sees them, refuses unknown ids, enforces expiry, writes only
// changed sessions, deletes old records after RegenerateID(true) and Destroy,
// and treats corrupt records as absent (logged). Records are the Remix JSON
// [values, flash] with a third element of metadata that Remix ignores.
//
// Every write is a compare-and-set over the version the request read, so
// concurrent requests of one session never overwrite each other: a save
// that finds the record changed reads it again and re-applies its own
// changes (see Save). With Options.UserKey it keeps the per-user index
// (UserIndex); over a Backend that is a Locker it implements Locking.
//
// It returns an error for a nil Backend and for invalid options (a negative
// IdleTimeout).
func NewBackendStorage(b Backend, o Options) (Storage, error) {
	if b == nil {
		return nil, errors.New("session: NewBackendStorage with a nil Backend")
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.RegenerateGrace > 0 && o.UserKey == "" {
		return nil, errors.New("session: Options.RegenerateGrace needs Options.UserKey, to tell a sign-in (whose old id is never kept) from a rotation")
	}
	if o.Epochs != nil {
		return nil, errors.New("session: Options.Epochs is for cookie storage (Options.Client); a server-side storage keeps its users' epochs itself and implements session.Epochs when Options.UserKey is set")
	}
	st := &backendStorage{b: b, o: o.WithDefaults()}
	st.ev = observed{obs: st.o.Observer, kind: kindOf(b, "backend")}
	st.t, st.caps.touch = b.(Toucher)
	if st.t != nil {
		st.touches.m = make(map[string]time.Time)
	}
	st.caps.index = st.o.UserKey != ""
	lk, locks := b.(Locker)
	switch {
	case st.caps.index && locks:
		return &lockingIndexedStorage{indexedStorage{st}, lk}, nil
	case st.caps.index:
		return &indexedStorage{st}, nil
	case locks:
		return &lockingStorage{st, lk}, nil
	}
	return st, nil
}

type backendStorage struct {
	b Backend
	t Toucher
	o Options
	// caps is what b can do, for decideSave.
	caps storeCaps
	// ev reports events to Options.Observer.
	ev observed
	// touches remembers this process's recent touches. A touch extends the
	// backend's TTL but not the record's save time, so without it every
	// read-only request after IdleTimeout/10 would touch again.
	touches touchLog
}

// decodedRecord is a record's content.
type decodedRecord struct {
	values, flash fields
	m             meta
}

// readOnlyString returns b as a string that shares its memory: b is what a
// Backend's Get returned, which neither side modifies (see Backend), so the
// string stays as it is. It saves a copy of every record read.
func readOnlyString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// decodeRecord decodes a record; one that does not decode is an error
// wrapping ErrCorruptRecord, which Read treats as absent.
func decodeRecord(rec string) (decodedRecord, error) {
	var d decodedRecord
	var err error
	if d.values, d.flash, d.m, err = parseRecordString(rec); err != nil {
		return decodedRecord{}, fmt.Errorf("%w: %w", ErrCorruptRecord, err)
	}
	return d, nil
}

// maxTouchLog bounds the touch log; when it is full it starts over, which
// costs at most one extra touch per session.
const maxTouchLog = 1 << 14

type touchLog struct {
	mu sync.Mutex
	m  map[string]time.Time
}

// recent reports whether id was touched less than within ago.
func (l *touchLog) recent(id string, now time.Time, within time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.m[id]
	return ok && now.Sub(t) < within
}

// last returns when this process last touched id, if it remembers.
func (l *touchLog) last(id string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.m[id]
	return t, ok
}

func (l *touchLog) add(id string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) >= maxTouchLog {
		clear(l.m)
	}
	l.m[id] = now
}

// read returns the live record of id, decoded, and its version, at the
// time now: ErrNotFound when it is absent or expired, an error wrapping
// ErrCorruptRecord when it does not decode.
func (st *backendStorage) read(ctx context.Context, id string, now time.Time) (decodedRecord, Version, error) {
	return st.readKey(ctx, st.b.Key(id), now)
}

// readKey is read of the record under the backend's key.
func (st *backendStorage) readKey(ctx context.Context, key string, now time.Time) (decodedRecord, Version, error) {
	rec, v, err := st.b.Get(ctx, key)
	if err != nil {
		return decodedRecord{}, Version{}, err
	}
	r, err := decodeRecord(readOnlyString(rec))
	switch {
	case err != nil:
	case r.m.Forward != "":
		err = errForwarded
	default:
		err = st.o.expiredBy(r.m, now, st.t != nil)
	}
	return r, v, err
}

// Read implements Storage. The session it returns tells time by the
// storage's clock (Options.Now).
func (st *backendStorage) Read(ctx context.Context, cookieValue string) (*Session, error) {
	s, err := st.readSession(ctx, cookieValue)
	if s != nil {
		s.now = st.o.Now
	}
	return s, err
}

// readSession is Read.
func (st *backendStorage) readSession(ctx context.Context, cookieValue string) (*Session, error) {
	if cookieValue == "" || !ValidID(cookieValue) {
		return New(), nil
	}
	var start time.Time
	if st.ev.on() {
		start = time.Now()
	}
	now := st.o.Now()
	id := cookieValue
	r, v, err := st.read(ctx, id, now)
	if errors.Is(err, errForwarded) {
		// An id RegenerateID replaced: within Options.RegenerateGrace,
		// the session that replaced it (grace.go).
		id, r, v, err = st.follow(ctx, id, &r, now)
	}
	if st.ev.on() {
		st.readEvent(ctx, id, &r, err, time.Since(start))
	}
	if err != nil {
		return st.unread(ctx, id, err)
	}
	s := loaded(id, r.values, r.flash, r.m, now)
	s.rec.version = v
	s.rec.forwarded = id != cookieValue
	s.setExpiryLocked(&st.o, st.lastRefresh(id, s.rec.saved), now)
	if st.caps.index {
		s.rec.indexed = userOf(r.values, st.o.UserKey)
	}
	return s, nil
}

// unread is Read's answer when the record of id could not be read: a new
// session when it is absent, expired or corrupt (logged), or with
// Options.UseUnknownIDs a new session under id; an error, never a new
// session, when the backend could not be asked, which would sign the user
// out.
func (st *backendStorage) unread(ctx context.Context, id string, err error) (*Session, error) {
	switch {
	case errors.Is(err, errForwarded):
		// A replaced id is never adopted, even with UseUnknownIDs.
		return New(), nil
	case errors.Is(err, ErrNotFound) && st.o.UseUnknownIDs:
		return &Session{id: id, rec: recordState{originalID: id}}, nil
	case errors.Is(err, ErrNotFound):
		return New(), nil
	case errors.Is(err, ErrCorruptRecord):
		st.o.Logger.WarnContext(ctx, "session: corrupt record treated as absent", "session", logID(id), "error", err)
		return New(), nil
	}
	return nil, fmt.Errorf("session: read %s: %w", logID(id), err)
}

// lastRefresh is when the session id was last saved or refreshed: saved
// (from the record's metadata), or later when a touch by this process
// refreshed the record after its last write.
func (st *backendStorage) lastRefresh(id string, saved time.Time) time.Time {
	if st.t == nil {
		return saved
	}
	if t, ok := st.touches.last(id); ok && t.After(saved) {
		return t
	}
	return saved
}

// maxSaveAttempts bounds how often one Save reads a record again after a
// conflict. Each conflict means another save of the session succeeded, so
// n concurrent saves of one session need at most n attempts each: 64
// concurrent requests of one user never exhaust it.
const maxSaveAttempts = 128

// errMerged is what one attempt of a save returns when it found the record
// changed and merged this request's changes into the fresh one: the save
// tries again.
var errMerged = errors.New("session: merged; save again")

// errDropped is what a save attempt returns when it dropped the request's
// changes (dropped): Save returns no cookie and no error.
var errDropped = errors.New("session: dropped")

// Save implements Storage: snapshot, decide (decideSave), execute; and on a
// conflict (another request saved the session since this one read it),
// read the record again, re-apply this request's changes to it (rebase),
// and start over, until the context ends or maxSaveAttempts. A save that
// fails after it wrote a record under a new id deletes that record
// (discard).
func (st *backendStorage) Save(ctx context.Context, s *Session) (string, bool, error) {
	var a saveAttempt
	var start time.Time
	if st.ev.on() {
		start = time.Now()
	}
	value, set, err := st.save(ctx, s, &a)
	if err != nil && a.wroteID != "" {
		st.discard(ctx, a.wroteID)
	}
	if st.ev.on() {
		st.saveEvent(ctx, &a, err, time.Since(start))
	}
	return value, set, err
}

// save is Save's loop of attempts.
func (st *backendStorage) save(ctx context.Context, s *Session, a *saveAttempt) (string, bool, error) {
	for n := 1; ; n++ {
		value, set, err := st.saveOnce(ctx, s, a)
		if errors.Is(err, errDropped) {
			// Its end was reported where it happened.
			a.ev.Kind = 0
			return "", false, nil
		}
		if !errors.Is(err, errMerged) {
			return value, set, err
		}
		a.ev.Merged++
		if n == maxSaveAttempts {
			return "", false, fmt.Errorf("session: save %s: the session changed under %d attempts in a row: %w",
				logID(s.ID()), n, ErrConflict)
		}
		if err := backoff(ctx, n); err != nil {
			return "", false, fmt.Errorf("session: save %s: %w", logID(s.ID()), err)
		}
	}
}

// discardTimeout bounds the delete of a failed save's record (discard)
// when the request's context has already ended.
const discardTimeout = 2 * time.Second

// discard deletes the record that a failed save wrote under a new id (a
// login whose index check or old-record delete failed after the write, a
// save out of time). The failed response sends no cookie for it, so nobody
// can use it, but left alone it would be listed among its user's sessions
// and count toward Options.MaxUserSessions until it expired. The delete runs
// in the request when its context is live, and otherwise in the background
// for at most discardTimeout, so that a request out of time is not held
// longer. A failure is logged: the record then expires by its TTL.
func (st *backendStorage) discard(ctx context.Context, id string) {
	if ctx.Err() == nil {
		st.deleteDiscarded(ctx, id)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discardTimeout)
		defer cancel()
		st.deleteDiscarded(ctx, id)
	}()
}

// deleteDiscarded is discard's delete.
func (st *backendStorage) deleteDiscarded(ctx context.Context, id string) {
	if err := st.b.Delete(ctx, st.b.Key(id), Version{}); err != nil {
		st.o.Logger.WarnContext(ctx, "session: a failed save's new record could not be deleted; it is listed among its user's sessions until it expires",
			"session", logID(id), "error", err)
	}
}

// saveAttempt carries what one attempt of a save leaves to the next: the
// version of the record it wrote under a new id (RegenerateID, or a session
// started after Destroy), which the next attempt writes over.
type saveAttempt struct {
	wroteID string
	wrote   Version
	// ev is the save's event so far (with an Observer): the kind, cause,
	// session and user of the last attempt's plan, and the merges.
	ev   Event
	evID string
}

// saveOnce is one attempt of Save.
func (st *backendStorage) saveOnce(ctx context.Context, s *Session, a *saveAttempt) (string, bool, error) {
	now := st.o.Now()
	s.mu.Lock()
	snap := s.snapshotLocked()
	snap.saved = st.lastRefresh(snap.id, snap.saved)
	if st.caps.index {
		snap.user, snap.indexed = userOf(s.values, st.o.UserKey), s.rec.indexed
	}
	plan := decideSave(&snap, now, &st.o, st.caps)
	if plan.idle() {
		// Nothing to write or delete: an unchanged session (most
		// requests), or a destroyed one that was never stored; or,
		// after a merge, nothing left to write (an earlier attempt's
		// event is not this save's).
		a.ev.Kind = 0
		if plan.mark == markSaved {
			st.markSavedLocked(s, &snap, &plan, Version{}, now)
		}
		s.mu.Unlock()
		value, set := plan.cookie.result(snap.id)
		return value, set, nil
	}
	if st.ev.on() {
		st.planEvent(a, &snap, &plan)
	}
	rec, err := st.encodeLocked(s, &plan, now)
	s.mu.Unlock()
	if err != nil {
		return "", false, fmt.Errorf("session: save %s: %w", logID(snap.id), err)
	}
	// The execution holds its state by value, so that it stays on the
	// stack: a request pays no allocation for it.
	x := execution{st: st, s: s, snap: snap, plan: plan, rec: rec, now: now, a: *a}
	var value string
	var set bool
	if plan.index.needed {
		value, set, err = x.indexed(ctx)
	} else {
		value, set, err = x.run(ctx)
	}
	*a = x.a
	return value, set, err
}

// encodeLocked returns the record that the plan writes (nil for none), at
// most Options.MaxRecordSize bytes. s.mu must be held.
func (st *backendStorage) encodeLocked(s *Session, plan *savePlan, now time.Time) ([]byte, error) {
	if !plan.encodes() {
		return nil, nil
	}
	rec, err := appendRecord(make([]byte, 0, 128), s.values, s.next, s.metaLocked(plan.created, now))
	if limit := st.o.MaxRecordSize; err == nil && limit > 0 && len(rec) > limit {
		err = fmt.Errorf("a %d-byte record is over the %d-byte limit (Options.MaxRecordSize): %w", len(rec), limit, ErrTooLarge)
	}
	return rec, err
}

// execution carries out one save attempt's plan.
type execution struct {
	st   *backendStorage
	s    *Session
	snap saveSnapshot
	plan savePlan
	rec  []byte
	now  time.Time
	a    saveAttempt
	// version is what the write stored.
	version Version
	// evicted: adding the session to its user's index marked the oldest
	// ones revoked (Options.MaxUserSessions); the save ends them.
	evicted bool
}

// run executes the plan: the write, then the deletes, then the session is
// marked saved.
func (x *execution) run(ctx context.Context) (string, bool, error) {
	switch x.plan.write {
	case writeTouch:
		if done, err := x.touch(ctx); done || err != nil {
			return "", false, err
		}
	case writeRecord:
		if done, value, set, err := x.write(ctx); done {
			return value, set, err
		}
	}
	if x.plan.index.add {
		if err := x.verifyIndexed(ctx); errors.Is(err, errRevoked) {
			return x.dropped(ctx)
		} else if err != nil {
			return "", false, err
		}
	}
	if err := x.deleteOld(ctx); err != nil {
		return "", false, err
	}
	if x.plan.index.remove {
		x.unindex(ctx)
	}
	if x.evicted {
		x.endEvicted(ctx)
	}
	return x.finish()
}

// touch extends the record's TTL (a sliding refresh over a Toucher); done
// reports that the save ends here: a touch this process made recently
// stands, and a record deleted meanwhile (a logout elsewhere) stays deleted,
// without its persistent cookie sent again.
func (x *execution) touch(ctx context.Context) (done bool, err error) {
	st, id := x.st, x.snap.id
	if st.touches.recent(id, x.now, st.o.IdleTimeout/refreshFraction) {
		return true, nil
	}
	err = st.t.Touch(ctx, st.b.Key(id), x.plan.ttl)
	switch {
	case err == nil:
		st.touches.add(id, x.now)
		return false, nil
	case errors.Is(err, ErrNotFound):
		return true, nil
	}
	return true, fmt.Errorf("session: refresh %s: %w", logID(id), err)
}

// endEvicted ends the sessions that adding this one to its user's index
// marked revoked (Options.MaxUserSessions), logged when it ended a live one.
func (x *execution) endEvicted(ctx context.Context) {
	st := x.st
	n, err := st.endRevoked(ctx, x.plan.index.to, CauseCap)
	if n > 0 {
		st.o.Logger.WarnContext(ctx, "session: a sign-in took a user past Options.MaxUserSessions; sessions of theirs are ended",
			"max_user_sessions", st.o.maxUserSessions(), "ended", n)
	}
	if err != nil {
		st.o.Logger.WarnContext(ctx, "session: ending a user's sessions past Options.MaxUserSessions failed; the next revoke or sign-in ends them", "error", err)
	}
}

// write stores the record; done reports that the save ends here, with the
// results given.
func (x *execution) write(ctx context.Context) (done bool, value string, set bool, err error) {
	snap := &x.snap
	key := x.st.b.Key(snap.id)
	over, err := x.writeOver(ctx, key)
	if err != nil {
		return true, "", false, err
	}
	x.version, err = x.st.b.Put(ctx, key, x.rec, x.plan.ttl, over)
	switch {
	case err == nil:
		if x.newID() {
			x.a.wroteID, x.a.wrote = snap.id, x.version
		}
		return false, "", false, nil
	case errors.Is(err, ErrConflict):
		value, set, err := x.conflict(ctx, key)
		return true, value, set, err
	}
	verb := "save"
	if x.plan.refresh {
		verb = "refresh"
	}
	return true, "", false, fmt.Errorf("session: %s %s: %w", verb, logID(snap.id), err)
}

// newID reports whether the save writes under an id with no record of its
// own yet: a new session, or one whose id was regenerated.
func (x *execution) newID() bool { return x.snap.id != x.snap.originalID || !x.snap.stored }

// writeOver is the version the write must find under key: the record
// loaded (rewritten in place); for a new id nothing, or what an earlier
// attempt of this save wrote; for a session Restore'd and never read from
// the backend, whatever is there now.
func (x *execution) writeOver(ctx context.Context, key string) (Version, error) {
	switch {
	case x.newID() && x.a.wroteID == x.snap.id:
		return x.a.wrote, nil
	case x.newID():
		return Version{}, nil
	case x.snap.version.IsZero():
		return x.st.currentVersion(ctx, key)
	}
	return x.snap.version, nil
}

// conflict answers a write that found the record under key changed.
func (x *execution) conflict(ctx context.Context, key string) (string, bool, error) {
	switch {
	case x.plan.refresh:
		// Another request wrote it meanwhile, which refreshed it too.
		return "", false, nil
	case !x.newID():
		return x.rebase(ctx)
	}
	// The new id's record changed since this save wrote it (a replayed
	// write, or another program): read it and write again.
	v, err := x.st.currentVersion(ctx, key)
	if err != nil {
		return "", false, err
	}
	x.a.wroteID, x.a.wrote = x.snap.id, v
	return "", false, errMerged
}

// currentVersion is the version stored under key now (zero: none).
func (st *backendStorage) currentVersion(ctx context.Context, key string) (Version, error) {
	_, v, err := st.b.Get(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorruptRecord):
		return Version{}, nil
	case err != nil:
		return Version{}, fmt.Errorf("session: save: %w", err)
	}
	return v, nil
}

// deleteOld deletes the records the plan removes. The original record of a
// session whose data moved to a new id (RegenerateID(true)) is deleted only
// at the version this save merged: if another request saved it meanwhile,
// its changes are merged into the new record first (rebase), so none are
// lost. Every other delete (Destroy, a record past its lifetime, a session
// replaced after Destroy) goes whatever changed: a destroy wins.
func (x *execution) deleteOld(ctx context.Context) error {
	st, snap := x.st, &x.snap
	for _, id := range x.plan.deletes {
		v := Version{}
		moved := id == snap.originalID && x.plan.write == writeRecord && snap.id != id
		if moved {
			v = snap.version
		}
		var err error
		if moved && !v.IsZero() && x.graced() {
			err = x.forward(ctx, id, v) // grace.go
		} else {
			err = st.b.Delete(ctx, st.b.Key(id), v)
		}
		if errors.Is(err, ErrConflict) {
			_, _, err = x.rebase(ctx)
			return err // errMerged or errDropped: Save goes on
		}
		if err != nil {
			return fmt.Errorf("session: delete %s: %w", logID(id), err)
		}
	}
	return nil
}

// finish marks the session saved and returns the cookie.
func (x *execution) finish() (string, bool, error) {
	switch x.plan.mark {
	case markSaved:
		x.st.markSaved(x.s, &x.snap, &x.plan, x.version, x.now)
	case markRefresh:
		s := x.s
		s.mu.Lock()
		if x.plan.write == writeRecord {
			s.rec.saved = x.now // a touch leaves the record's save time (see lastRefresh)
		}
		s.setExpiryLocked(&x.st.o, x.now, x.now)
		s.mu.Unlock()
	}
	value, set := x.plan.cookie.result(x.snap.id)
	return value, set, nil
}

// dropped ends a save whose loaded record was deleted meanwhile (a logout, a
// login elsewhere, a revoke, expiry): the changes are dropped and logged, and
// no cookie is sent, so the next request with the old cookie is anonymous.
// A record this save already wrote under a new id is deleted: a destroy or
// revoke is never undone.
func (x *execution) dropped(ctx context.Context) (string, bool, error) {
	st, s, snap := x.st, x.s, &x.snap
	if x.a.wroteID != "" {
		if err := st.b.Delete(ctx, st.b.Key(x.a.wroteID), Version{}); err != nil {
			return "", false, fmt.Errorf("session: delete %s: %w", logID(x.a.wroteID), err)
		}
		x.a.wroteID, x.a.wrote = "", Version{}
	}
	st.o.Logger.WarnContext(ctx, "session: deleted (by a concurrent logout, login or revoke, or expired) before this request saved it; its changes are dropped",
		"session", logID(snap.originalID))
	s.mu.Lock()
	if s.rec.originalID == snap.originalID {
		s.savedLocked(x.plan.created, x.now)
		s.stored = false
		s.rec.indexed = ""
		s.rec.version = Version{}
	}
	s.mu.Unlock()
	return "", false, errDropped
}

// markSaved records a successful save of the session as snap was. Changes
// made while the save ran keep the session dirty (the middleware warns
// about them when the headers are already out), but what is now stored
// becomes the session's base.
func (st *backendStorage) markSaved(s *Session, snap *saveSnapshot, plan *savePlan, v Version, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.markSavedLocked(s, snap, plan, v, now)
}

// markSavedLocked is markSaved with s.mu held.
func (st *backendStorage) markSavedLocked(s *Session, snap *saveSnapshot, plan *savePlan, v Version, now time.Time) {
	if s.rec.changes == snap.changes {
		s.savedLocked(plan.created, now)
		s.rec.version = v
		s.rec.indexed = plan.index.to
		s.setExpiryLocked(&st.o, now, now)
		return
	}
	if snap.destroyed || plan.write != writeRecord {
		return
	}
	// Changed during the save: still dirty, now over the record written.
	if s.rec.deleteID != "" && s.id != snap.id {
		s.rec.deleteID = snap.id // a second RegenerateID(true) deletes what the first saved
	} else {
		s.rec.deleteID = ""
	}
	s.rec.originalID, s.stored, s.rec.version, s.rec.discarded = snap.id, true, v, nil
	s.rec.created, s.rec.saved = plan.created, now
	s.rec.indexed = plan.index.to
}

// backoff waits a little before the n-th attempt of a save after a
// conflict, more as conflicts repeat (up to about 2 ms), so that saves
// that collide spread out; it returns early with ctx's error.
func backoff(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n < 2 {
		return nil
	}
	d := time.Duration(rand.Int64N(int64(min(n, 20)) * int64(100*time.Microsecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// HashID returns the SHA-256 of id in lower-case hex: how a storage names a
// session's record where the id, a bearer credential, must not appear (file
// names, memcache keys, table rows, logs). Anyone who reads the name learns
// nothing that opens the session.
func HashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	return string(h[:])
}

// logID names a session in logs and errors without revealing its id, which
// is a bearer credential: the first 12 hex digits of its SHA-256.
func logID(id string) string { return "id-sha256:" + HashID(id)[:12] }

// readEvent reports the outcome of Read's read of id's record: loaded,
// missing, expired (and why), corrupt, or a storage error.
func (st *backendStorage) readEvent(ctx context.Context, id string, r *decodedRecord, err error, d time.Duration) {
	e := Event{Kind: EventLoaded, Handle: handleOf(id), Duration: d}
	switch {
	case err == nil:
	case errors.Is(err, errIdle), errors.Is(err, errLifetime):
		e.Kind, e.Cause = EventExpired, expiryCause(err)
	case errors.Is(err, ErrNotFound):
		e.Kind = EventMissing
	case errors.Is(err, ErrCorruptRecord):
		e.Kind, e.Err = EventCorrupt, err
	default:
		e.Kind, e.Cause, e.Err = EventStorageError, CauseRead, err
	}
	if st.caps.index && (e.Kind == EventLoaded || e.Kind == EventExpired) {
		e.User = userOf(r.values, st.o.UserKey)
	}
	st.ev.emit(ctx, e)
}

// planEvent records in a the event of the save attempt that snap and p
// describe.
func (st *backendStorage) planEvent(a *saveAttempt, snap *saveSnapshot, p *savePlan) {
	a.ev.Kind, a.ev.Cause = saveEventKind(snap, p)
	a.evID, a.ev.User = snap.id, snap.user
	if a.ev.Kind == EventDestroyed {
		a.evID, a.ev.User = snap.originalID, snap.indexed
	}
}

// saveEvent reports the outcome of a Save: its planned event, or the
// error. A save with nothing to do (most requests) reports nothing.
func (st *backendStorage) saveEvent(ctx context.Context, a *saveAttempt, err error, d time.Duration) {
	e := a.ev
	switch {
	case err != nil && errors.Is(err, ErrTooLarge):
		e.Kind, e.Cause, e.Err = EventTooLarge, "", err
	case err != nil && errors.Is(err, ErrUserLimit):
		e.Kind, e.Cause, e.Err = EventRefused, CauseCap, err
	case err != nil:
		e.Kind, e.Cause, e.Err = EventStorageError, CauseSave, err
	case e.Kind == 0:
		return
	}
	if a.evID != "" {
		e.Handle = handleOf(a.evID)
	}
	e.Duration = d
	st.ev.emit(ctx, e)
}
