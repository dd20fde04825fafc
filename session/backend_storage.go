package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// NewBackendStorage returns the Storage that every server-side store shares:
// the cookie holds only the session id, and b holds the records. It validates
// ids before b sees them, refuses unknown ids, enforces expiry, writes only
// changed sessions, deletes old records after RegenerateID(true) and Destroy,
// and treats corrupt records as absent (logged). Records are the Remix JSON
// [values, flash] with a third element of metadata that Remix ignores.
//
// It panics on a negative IdleTimeout in o: that is a programming error.
func NewBackendStorage(b Backend, o Options) Storage {
	if b == nil {
		panic("session: NewBackendStorage with a nil Backend")
	}
	if err := o.validate(); err != nil {
		panic(err.Error())
	}
	st := &backendStorage{b: b, o: o.withDefaults()}
	st.t, st.caps.touch = b.(Toucher)
	if st.t != nil {
		st.touches.m = make(map[string]time.Time)
	}
	st.r, st.caps.replace = b.(Replacer)
	st.u, st.caps.update = b.(Updater)
	st.dec, _ = b.(decodingBackend)
	if st.o.UserKey != "" {
		if st.ix, st.caps.index = b.(UserIndexBackend); st.caps.index {
			return &indexedStorage{st}
		}
	}
	return st
}

type backendStorage struct {
	b Backend
	t Toucher
	r Replacer
	u Updater
	// dec is b when it decodes its own records (memory storage); nil
	// otherwise.
	dec decodingBackend
	// ix keeps the per-user index when Options.UserKey is set; nil
	// otherwise.
	ix UserIndexBackend
	o  Options
	// caps is what b can do, for decideSave.
	caps storeCaps
	// touches remembers this process's recent touches. A touch extends the
	// backend's TTL but not the record's save time, so without it every
	// read-only request after IdleTimeout/10 would touch again.
	touches touchLog
}

// decodingBackend is a Backend that decodes its records itself, at the
// time the storage read from the clock: memory storage, which keeps a
// record's decoding to share between the requests that read it
// (memoryBackend.readAt), and whose updates take the same clock reading.
type decodingBackend interface {
	// readAt returns the record under id decoded, ErrNotFound, or an
	// error wrapping ErrCorruptRecord for a record that does not decode.
	readAt(id string, now time.Time) (decodedRecord, error)
	updateAt(id string, record []byte, ttl time.Duration, now time.Time) error
}

// decodedRecord is a record's content. shared means that values and flash
// are also other sessions': the session copies them before it changes them
// (Session.ownLocked).
type decodedRecord struct {
	values, flash fields
	m             meta
	shared        bool
}

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

// Read implements Storage.
func (st *backendStorage) Read(ctx context.Context, cookieValue string) (*Session, error) {
	if cookieValue == "" || !ValidID(cookieValue) {
		return New(), nil
	}
	now := st.o.now()
	var r decodedRecord
	var err error
	if st.dec != nil {
		r, err = st.dec.readAt(cookieValue, now)
	} else if rec, gerr := st.b.Get(ctx, cookieValue); gerr != nil {
		err = gerr
	} else {
		r, err = decodeRecord(string(rec))
	}
	switch {
	case errors.Is(err, ErrNotFound):
		if st.o.UseUnknownIDs {
			return &Session{id: cookieValue, originalID: cookieValue}, nil
		}
		return New(), nil
	case errors.Is(err, ErrCorruptRecord):
		st.o.logger().WarnContext(ctx, "session: corrupt record treated as absent",
			"session", logID(cookieValue), "error", err)
		return New(), nil
	case err != nil:
		return nil, fmt.Errorf("session: read %s: %w", logID(cookieValue), err)
	}
	values, m := r.values, r.m
	// With a Toucher, a refresh extends the backend's TTL without rewriting
	// meta.Saved, so the backend's expiry is the idle check.
	if st.o.expired(m, now, st.t == nil) {
		return New(), nil
	}
	s := loaded(cookieValue, values, r.flash, m, now)
	s.shared = r.shared
	if st.t != nil {
		// A touch by this process refreshed the record after its last
		// write (meta.Saved): it is the session's last refresh.
		if t, ok := st.touches.last(cookieValue); ok && t.After(s.saved) {
			s.saved = t
		}
	}
	s.setExpiryLocked(&st.o, s.saved, now)
	if st.ix != nil {
		s.indexed = userOf(values, st.o.UserKey)
	}
	return s, nil
}

// Save implements Storage: snapshot, decide (decideSave), execute.
func (st *backendStorage) Save(ctx context.Context, s *Session) (string, bool, error) {
	now := st.o.now()
	s.mu.Lock()
	snap := s.snapshotLocked()
	if st.ix != nil {
		snap.user, snap.indexed = userOf(s.values, st.o.UserKey), s.indexed
	}
	plan := decideSave(snap, now, &st.o, st.caps)
	var rec []byte
	var err error
	if plan.encodes() {
		rec, err = appendRecord(make([]byte, 0, 128), s.values, s.next, meta{Created: timeMS(plan.created), Saved: timeMS(now),
			Persist: s.persist})
	}
	s.mu.Unlock()
	if err != nil {
		return "", false, err
	}
	if limit := st.o.MaxRecordSize; limit > 0 && len(rec) > limit {
		return "", false, fmt.Errorf("session: save %s: a %d-byte record is over the %d-byte limit (Options.MaxRecordSize): %w",
			logID(snap.id), len(rec), limit, ErrTooLarge)
	}
	if plan.index.needed {
		return st.executeIndexed(ctx, s, snap.id, &plan, rec, now)
	}
	return st.execute(ctx, s, snap.id, &plan, rec, now)
}

// execute carries out plan for the session s as it was under id.
func (st *backendStorage) execute(ctx context.Context, s *Session, id string, plan *savePlan, rec []byte, now time.Time) (string, bool, error) {
	var err error
	switch plan.write {
	case writeNone:
	case writeTouch:
		if st.touches.recent(id, now, st.o.IdleTimeout/refreshFraction) {
			return "", false, nil
		}
		if err = st.t.Touch(ctx, id, plan.ttl); err == nil {
			st.touches.add(id, now)
		}
	case writeUpdate:
		if st.dec != nil {
			err = st.dec.updateAt(id, rec, plan.ttl, now)
		} else {
			err = st.u.Update(ctx, id, rec, plan.ttl)
		}
		if errors.Is(err, ErrNotFound) && !plan.refresh {
			return st.dropped(ctx, s, id, plan, now)
		}
	case writeSet:
		if plan.replace {
			err = st.r.Replace(ctx, plan.deletes, id, rec, plan.ttl)
			plan.deletes = nil
		} else {
			err = st.b.Set(ctx, id, rec, plan.ttl)
		}
	}
	if plan.refresh && errors.Is(err, ErrNotFound) {
		// Deleted meanwhile (a logout elsewhere): do not resurrect it,
		// nor send a persistent session's cookie for it.
		err = nil
		plan.cookie = cookieKeep
	}
	if err != nil {
		verb := "save"
		if plan.refresh {
			verb = "refresh"
		}
		return "", false, fmt.Errorf("session: %s %s: %w", verb, logID(id), err)
	}
	if err := st.deleteAll(ctx, plan.deletes); err != nil {
		return "", false, err
	}
	switch plan.mark {
	case markSaved:
		st.markSaved(s, id, plan.created, now)
	case markRefresh:
		s.mu.Lock()
		s.saved = now
		s.setExpiryLocked(&st.o, now, now)
		s.mu.Unlock()
	}
	value, set := plan.cookie.result(id)
	return value, set, nil
}

// dropped ends a save whose loaded record was deleted meanwhile (a logout, a
// login elsewhere, a revoke, expiry): the changes are dropped and logged, and
// no cookie is sent, so the next request with the old cookie is anonymous.
func (st *backendStorage) dropped(ctx context.Context, s *Session, id string, plan *savePlan, now time.Time) (string, bool, error) {
	st.o.logger().WarnContext(ctx, "session: deleted (by a concurrent logout, login or revoke, or expired) before this request saved it; its changes are dropped",
		"session", logID(id))
	s.mu.Lock()
	if s.id == id {
		s.savedLocked(plan.created, now)
		s.stored = false
		s.indexed = ""
	}
	s.mu.Unlock()
	return "", false, nil
}

func (st *backendStorage) deleteAll(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if err := st.b.Delete(ctx, id); err != nil {
			return fmt.Errorf("session: delete %s: %w", logID(id), err)
		}
	}
	return nil
}

// markSaved records a successful save of the session as it was under id.
func (st *backendStorage) markSaved(s *Session, id string, created, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id != id {
		return // regenerated again during the save: leave it dirty
	}
	s.savedLocked(created, now)
	s.setExpiryLocked(&st.o, now, now)
}

// logID names a session in logs and errors without revealing its id, which
// is a bearer credential: the first 12 hex digits of its SHA-256.
func logID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "id-sha256:" + hex.EncodeToString(sum[:6])
}
