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

// Sessions per user (Options.UserKey): NewBackendStorage over a Backend that
// is a UserIndexBackend keeps, for every user, the handles of that user's
// sessions, and its Storage implements UserIndex. The index follows the
// UserKey value in the same backend call as the save that changes it
// (decideSave's index case, executeIndexed), so a save that does not change
// the user or the id does no index work.

// UserIndex lists and ends the sessions of one user. The Storage that
// NewMemoryStorage, NewFileStorage and NewBackendStorage return implements it
// when Options.UserKey is set (and, for NewBackendStorage, the Backend is a
// UserIndexBackend); find it with a type assertion:
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
	// LastSeen is when the session was last saved or refreshed (sliding
	// expiry).
	LastSeen time.Time
}

// UserIndexBackend is a Backend that can keep an index of sessions per user,
// for Options.UserKey; NewBackendStorage finds it with a type assertion. The
// session package derives the handles, reads the user from the session and
// decides when the index changes; the backend stores, per user, which records
// have which handle, and makes each call below one step with respect to the
// others (a lock, a transaction, a compare-and-swap), so that a save racing
// with a revoke cannot bring a revoked session back.
//
// The memory and file storages implement it; see sessiontest for the
// conformance scenarios ("per user: ...") that a Backend implementing it must
// pass.
type UserIndexBackend interface {
	Backend
	// SaveIndexed carries out a save that changes a session's user or id,
	// or deletes it, together with its index entries; see IndexedSave.
	SaveIndexed(ctx context.Context, c *IndexedSave) error
	// UserRecords returns the records in user's index that are live in the
	// backend (any order). A member whose record is gone is left out (and
	// may be dropped from the index).
	UserRecords(ctx context.Context, user string) ([]UserRecord, error)
	// DeleteUserRecords deletes the records in user's index whose handles
	// revoke accepts, removes them from the index, and returns how many
	// live records it deleted. It is one step with respect to SaveIndexed
	// of that user: a save that moved a member to a new id before it is
	// seen under the new handle, and one after it finds its required
	// record gone.
	DeleteUserRecords(ctx context.Context, user string, revoke func(handle string) bool) (int, error)
}

// IndexedSave is one save for UserIndexBackend.SaveIndexed, done in this
// order as a single step:
//
//  1. With Require set, the record under Require must be live; otherwise
//     SaveIndexed returns ErrNotFound (or an error wrapping it) and changes
//     nothing. Require is the id the session was loaded from: the save's
//     own ID for a rewrite in place, or a member of Delete after
//     RegenerateID(true). A revoke that deleted it wins.
//  2. With ID set, Record is stored under ID with TTL (0: no expiry), as
//     Backend.Set does.
//  3. The records in Delete are deleted and removed from From's index.
//  4. When From and To differ, ID (by Handle) leaves From's index; with To
//     set, it joins To's index (if not there already). A Redis or Memcache
//     index should live at least as long as its longest member, TTL.
type IndexedSave struct {
	ID      string        // the record to write; "" for none (Destroy, expiry)
	Handle  string        // ID's handle
	Record  []byte        // the record to write under ID
	TTL     time.Duration // ID's time to live; 0: no expiry
	Require string        // the record that must still be live; "" for none
	Delete  []IndexedID   // records to delete, with their handles
	From    string        // the user whose index listed the session before; "" for none
	To      string        // the user whose index lists ID after; "" for none
}

// IndexedID is a record id with its handle.
type IndexedID struct {
	ID     string
	Handle string
}

// UserRecord is one member of a user's index, as UserRecords returns it.
type UserRecord struct {
	Handle string
	Record []byte
	// Seen is when the backend last wrote or touched the record (zero if it
	// does not know); LastSeen is the later of it and the record's save
	// time.
	Seen time.Time
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
	return handleOf(s.originalID)
}

// userOf returns the user that values name under key: the string stored
// there, or "" (none, or not a string).
func userOf(values fields, key string) string {
	v, _ := values.Get(key)
	u, _ := v.(string)
	return u
}

// indexPlan is the index work of a save (savePlan.index).
type indexPlan struct {
	needed  bool
	from    string // the user whose index lists the session's stored records
	to      string // the user whose index lists the session after the save
	require string // the record that must still be live (the loaded one)
}

// decideIndex is decideSave's index case: it reads the snapshot and the plan
// decided so far. Only saves that write the session's data (not a sliding
// refresh) or delete records can change the index, and of those only the
// ones that change the user or the id, or delete an indexed record.
func decideIndex(s saveSnapshot, p *savePlan) indexPlan {
	writes := (p.write == writeSet || p.write == writeUpdate) && !p.refresh
	ix := indexPlan{from: s.indexed, to: s.indexed}
	switch {
	case writes:
		ix.to = s.user
		ix.needed = ix.to != ix.from || ix.to != "" && s.id != s.originalID || ix.from != "" && len(p.deletes) > 0
		if s.stored {
			ix.require = s.originalID
		}
	case len(p.deletes) > 0:
		ix.to = ""
		ix.needed = ix.from != ""
	}
	return ix
}

// indexedStorage is a backendStorage with a per-user index: it implements
// UserIndex.
type indexedStorage struct {
	*backendStorage
}

// executeIndexed carries out a plan with index work: one SaveIndexed call.
func (st *backendStorage) executeIndexed(ctx context.Context, s *Session, id string, plan *savePlan, rec []byte, now time.Time) (string, bool, error) {
	c := IndexedSave{Require: plan.index.require, From: plan.index.from, To: plan.index.to}
	if plan.encodes() {
		c.ID, c.Handle, c.Record, c.TTL = id, handleOf(id), rec, plan.ttl
	}
	for _, d := range plan.deletes {
		c.Delete = append(c.Delete, IndexedID{ID: d, Handle: handleOf(d)})
	}
	err := st.ix.SaveIndexed(ctx, &c)
	if errors.Is(err, ErrNotFound) {
		return st.dropped(ctx, s, id, plan, now)
	}
	if err != nil {
		return "", false, fmt.Errorf("session: save %s: %w", logID(id), err)
	}
	st.markSaved(s, id, plan.created, now)
	s.mu.Lock()
	if s.id == id { // else regenerated again during the save: left dirty
		s.indexed = plan.index.to
	}
	s.mu.Unlock()
	value, set := plan.cookie.result(id)
	return value, set, nil
}

// Sessions implements UserIndex.
func (st *indexedStorage) Sessions(ctx context.Context, user string) ([]SessionInfo, error) {
	if user == "" {
		return nil, nil
	}
	recs, err := st.ix.UserRecords(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("session: listing a user's sessions: %w", err)
	}
	now := st.o.now()
	list := make([]SessionInfo, 0, len(recs))
	for _, r := range recs {
		values, _, m, err := parseRecord(r.Record)
		// A session that would not load, or that now names another user,
		// is not listed.
		if err != nil || st.o.expired(m, now, st.t == nil) || userOf(values, st.o.UserKey) != user {
			continue
		}
		info := SessionInfo{Handle: r.Handle, Created: msTime(m.Created), LastSeen: msTime(m.Saved)}
		if r.Seen.After(info.LastSeen) {
			info.LastSeen = r.Seen
		}
		list = append(list, info)
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
	if _, err := st.ix.DeleteUserRecords(ctx, user, func(h string) bool { return h == handle }); err != nil {
		return fmt.Errorf("session: revoking a session: %w", err)
	}
	return nil
}

// RevokeAll implements UserIndex.
func (st *indexedStorage) RevokeAll(ctx context.Context, user string, except ...string) (int, error) {
	if user == "" {
		return 0, nil
	}
	n, err := st.ix.DeleteUserRecords(ctx, user, func(h string) bool { return !slices.Contains(except, h) })
	if err != nil {
		return n, fmt.Errorf("session: revoking a user's sessions: %w", err)
	}
	return n, nil
}
