package session

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// A grace window after regeneration (Options.RegenerateGrace). A client on
// a flaky connection may send a request that rotates its session id
// (RegenerateID(true)), lose the response, and retry with the old cookie.
// With the window, the save does not delete the old id's record: it
// replaces it, at the version it merged, with a forwarding record
// [{},{},{"s":saved,"f":sealed}] that lives for the window. Reading the
// old id within the window loads the session under its new id, and the
// save sends the new id's cookie. The forwarding record holds no data, so
// it brings nothing back: once the new session is destroyed or revoked
// (its record deleted), or the window is over, the old id gives a new
// session, as it does without the window. Remix reads it as an empty
// session.
//
// Only a rotation gets the window, never a change of privilege: an id is
// forwarded only when the session names the same user (Options.UserKey)
// before and after, the user did not authenticate in the request
// (MarkAuthenticated), and no Bump kept the session. Otherwise whoever
// planted or stole the old id (session fixation) would follow the user
// into the signed-in session. A sign-in whose response was lost needs no
// window: its retry carries the credentials and signs in again. The same
// holds after the rotation: following the old id checks that the session
// has not changed privilege since (stillRotation), so that "sign out
// everywhere else" or a password change in a later request also ends the
// window.
//
// The new id in it is sealed with the old one: XORed with a SHA-256 of
// the old id, which the store never holds (its keys are the id only where
// Remix's are, and a hash elsewhere), so reading the store does not reveal
// a live id that its keys hide.

// errForwarded is what readKey returns for a forwarding record: absent to
// every reader but Read, which follows it within the window.
var errForwarded = fmt.Errorf("%w: replaced by RegenerateID", ErrNotFound)

// forwardPad is what seals the id that replaced oldID.
func forwardPad(oldID string) [sha256.Size]byte {
	return sha256.Sum256([]byte("sessionkit forward\x00" + oldID))
}

// sealForward returns newID sealed with oldID. Both are valid ids: 32
// bytes each.
func sealForward(oldID, newID string) string {
	var b [32]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(newID)); err != nil || n != len(b) {
		return ""
	}
	pad := forwardPad(oldID)
	for i := range b {
		b[i] ^= pad[i]
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// openForward returns the id that sealed names, sealed with oldID, and
// whether it is a valid id.
func openForward(oldID, sealed string) (string, bool) {
	var b [33]byte // one spare byte: a longer value does not fit 32
	n, err := base64.RawURLEncoding.Decode(b[:], []byte(sealed))
	if err != nil || n != 32 {
		return "", false
	}
	pad := forwardPad(oldID)
	for i := range pad {
		b[i] ^= pad[i]
	}
	id := base64.RawURLEncoding.EncodeToString(b[:32])
	return id, ValidID(id)
}

// forwardTarget returns the id that the forwarding record r of oldID names,
// when it is within the grace window at now.
func (st *backendStorage) forwardTarget(oldID string, r *decodedRecord, now time.Time) (string, bool) {
	grace := st.o.RegenerateGrace
	if grace <= 0 || r.m.Saved <= 0 || !now.Before(msTime(r.m.Saved).Add(grace)) {
		return "", false
	}
	return openForward(oldID, r.m.Forward)
}

// follow reads the session that the forwarding record r of oldID names.
// It reads one hop: a forwarding record found there is absent.
func (st *backendStorage) follow(ctx context.Context, oldID string, r *decodedRecord, now time.Time) (string, decodedRecord, Version, error) {
	id, ok := st.forwardTarget(oldID, r, now)
	if !ok {
		return oldID, decodedRecord{}, Version{}, errForwarded
	}
	next, v, err := st.read(ctx, id, now)
	if err == nil {
		err = st.stillRotation(ctx, id, &next, r.m.Saved)
	}
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorruptRecord):
		// The new session was destroyed, revoked or expired, or changed
		// privilege since: the window brings nothing back.
		return oldID, decodedRecord{}, Version{}, errForwarded
	case err != nil:
		return oldID, decodedRecord{}, Version{}, err
	}
	return id, next, v, nil
}

// errPrivilege is stillRotation's answer for a session whose privilege
// changed after the rotation: absent, as to the window.
var errPrivilege = fmt.Errorf("%w: its privilege changed after the rotation", ErrNotFound)

// stillRotation checks that the session id, whose record is r, is still
// what the rotation at the time rotated (Unix ms) made it: its user did
// not authenticate since, and its user's index (Options.UserKey) lists it
// as a member that joined by then, with no RevokeAll or Bump since (the
// index document's cut). A session that another sign-in, a switch of user,
// "sign out everywhere else" or a password change reached after the
// rotation must not be followed into by whoever holds the old id.
func (st *backendStorage) stillRotation(ctx context.Context, id string, r *decodedRecord, rotated int64) error {
	if r.m.Auth > rotated {
		return errPrivilege
	}
	user := userOf(r.values, st.o.UserKey)
	if !st.caps.index || user == "" {
		return nil
	}
	d, _, err := st.readIndex(ctx, user)
	if err != nil {
		return err
	}
	m, ok := d.member(handleOf(id))
	if !ok || m.revoked || m.added > rotated || d.cut >= rotated {
		return errPrivilege
	}
	return nil
}

// graced reports whether the save gives the id it replaces a grace
// window: a rotation, not a change of privilege (see above).
func (x *execution) graced() bool {
	snap := &x.snap
	return x.st.o.RegenerateGrace > 0 && x.st.caps.index && snap.user == snap.indexed &&
		!snap.authTouched && !snap.noGrace
}

// forward replaces the record of oldID, at version v, with the forwarding
// record to the session's new id, for the grace window (deleteOld).
func (x *execution) forward(ctx context.Context, oldID string, v Version) error {
	st := x.st
	sealed := sealForward(oldID, x.snap.id)
	rec, err := appendRecord(make([]byte, 0, 96), nil, nil, meta{Saved: timeMS(x.now), Forward: sealed})
	if err != nil {
		return err
	}
	_, err = st.b.Put(ctx, st.b.Key(oldID), rec, st.o.RegenerateGrace, v)
	return err
}
