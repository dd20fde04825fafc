package session

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// Merged saves. Every save writes over the version of the record that the
// request read; when another request saved the session in between, the
// write fails with ErrConflict, and the save reads the record again and
// re-applies this request's own changes to it (rebase), key by key, then
// writes again (Save's loop). The rules, as the session README states them:
//
//   - Different keys set by concurrent requests all survive.
//   - The same key: the later save wins.
//   - Flash set by either request survives; flash this request read is
//     consumed.
//   - Destroy and revoke win over any update: a save that finds its record
//     deleted drops its changes (logged) and sends no cookie.
//   - A session another request regenerated away (RegenerateID(true)) is
//     gone under this request's id: as for a destroy, this request's
//     changes are dropped, and the browser keeps the other request's cookie.
//   - RegenerateID(true) deletes the old record only at the version it
//     merged, so a change saved to it meanwhile is merged into the new
//     record first.
//   - Persist and the time of the last authentication (MarkAuthenticated):
//     this request's when it set one, else the stored one.

// rebase reads the session's record again after a conflict and re-applies
// this request's changes to it; the save then tries again (errMerged). A
// record that is gone ends the save (dropped).
func (x *execution) rebase(ctx context.Context) (string, bool, error) {
	st, s, snap := x.st, x.s, &x.snap
	r, v, err := st.read(ctx, snap.originalID, st.o.Now())
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorruptRecord):
		return x.dropped(ctx)
	case err != nil:
		return "", false, fmt.Errorf("session: save %s: reading it again after a conflict: %w", logID(snap.originalID), err)
	}
	s.mu.Lock()
	if s.rec.originalID == snap.originalID {
		s.mergeLocked(r, v, st.o.UserKey, st.caps.index)
	}
	s.mu.Unlock()
	return "", false, errMerged
}

// mergeLocked makes r, the record stored at version v, the session's base,
// with this request's changes applied on top. s.mu must be held.
func (s *Session) mergeLocked(r decodedRecord, v Version, userKey string, indexed bool) {
	s.rec.version = v
	s.dirty = true
	if s.destroyed {
		return // a destroy wins: nothing of r is kept
	}
	values := r.values.Clone()
	for _, k := range s.rec.touched {
		if val, ok := s.values.Get(k); ok {
			values.Set(k, val)
		} else {
			values.Delete(k)
		}
	}
	// Flash stored by the other request is for the next request: kept,
	// unless it is what this request read (and so consumed) or this
	// request flashed the same key (the later save wins).
	for _, kv := range r.flash {
		if s.next.Has(kv.Key) || s.consumedLocked(kv.Key, kv.Val()) {
			continue
		}
		s.next.Set(kv.Key, kv.Val())
	}
	s.values = values
	if !s.persistTouched {
		s.persist = r.m.Persist
	}
	if !s.authTouched {
		s.rec.authAt = msTime(r.m.Auth)
	}
	s.rec.epoch = r.m.Epoch
	s.rec.device, s.rec.network = r.m.Device, r.m.Network
	if c := msTime(r.m.Created); !c.IsZero() {
		s.rec.created = c
	}
	if indexed {
		s.rec.indexed = userOf(values, userKey)
	}
}

// consumedLocked reports whether the flash value v under key is one this
// request read (or unset), so that saving consumes it.
func (s *Session) consumedLocked(key string, v any) bool {
	if lv, ok := s.flash.Get(key); ok {
		return reflect.DeepEqual(lv, v)
	}
	return false
}
