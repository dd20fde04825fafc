package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Per-user epochs: sign out everywhere, cookie storage included. Every user
// has an epoch, a counter that starts at 0 and that Bump raises. A
// server-side storage with Options.UserKey keeps it in the user's index
// document, and its Bump also revokes the user's sessions there, at once.
// A session held in a cookie cannot be deleted, so cookie storage
// (ClientOptions.Epochs, naming a server-side storage that keeps the
// epochs) stamps the epoch into the session's metadata ("e") at sign-in,
// and on load ends a session whose stamp is below its user's epoch. It
// caches each user's epoch for ClientOptions.EpochCacheTTL, so a Bump ends
// the cookie sessions that other processes load within that time; a
// sign-in reads the epoch afresh, so it is never stamped below it.

// Epochs keeps the per-user epochs. The Storage of NewBackendStorage (every
// server-side storage) implements it when Options.UserKey is set, and so
// does the Storage of NewClientStorage (cookie storage) when
// ClientOptions.Epochs is set; find it with a type assertion:
//
//	ep, ok := st.(session.Epochs)
type Epochs interface {
	// Epoch returns user's epoch: 0 until the first Bump.
	Epoch(ctx context.Context, user string) (int64, error)
	// Bump raises user's epoch and ends every session of the user signed
	// in under an earlier one, except keep (nil: none), which a storage
	// keeps by stamping it with the new epoch (it is saved with the
	// request, its id unchanged); an id keep is given later in the
	// request (RegenerateID) gets no grace window (RegenerateGrace). Call it when the password changes, or
	// for "sign out everywhere". It returns the new epoch. Server-side
	// sessions end at once (their records are deleted); cookie sessions
	// when a process next loads them, within ClientOptions.EpochCacheTTL.
	Bump(ctx context.Context, user string, keep *Session) (int64, error)
}

// DefaultEpochCacheTTL is how long cookie storage trusts a user's epoch it
// read when ClientOptions.EpochCacheTTL is 0.
const DefaultEpochCacheTTL = 5 * time.Second

// CauseEpoch is the cause of the EventRevoked of a session that ended
// because its user's epoch was bumped past its stamp.
const CauseEpoch = "epoch"

// errNoUser is Bump's error for the user "".
var errNoUser = errors.New("session: Bump: no user")

// Epoch implements Epochs: the epoch in user's index document.
func (st *indexedStorage) Epoch(ctx context.Context, user string) (int64, error) {
	if user == "" {
		return 0, nil
	}
	d, _, err := st.readIndex(ctx, user)
	if err != nil {
		return 0, fmt.Errorf("session: reading a user's epoch: %w", err)
	}
	return d.epoch, nil
}

// Bump implements Epochs: one compare-and-set of user's index raises the
// epoch and marks every member but keep revoked; their records are then
// deleted (endRevoked).
func (st *indexedStorage) Bump(ctx context.Context, user string, keep *Session) (int64, error) {
	if user == "" {
		return 0, errNoUser
	}
	except := ""
	if keep != nil {
		except = keep.Handle()
	}
	if keep != nil {
		keep.endGrace()
	}
	r := revocation{cause: CauseEpoch, pick: func(h string) bool { return h != except }, bump: true, cut: true}
	if _, err := st.revoke(ctx, user, &r); err != nil {
		st.revokeFailed(ctx, user, err)
		return r.epoch, fmt.Errorf("session: bumping a user's epoch: %w", err)
	}
	return r.epoch, nil
}

// endGrace keeps the ids that s replaces from a grace window
// (Options.RegenerateGrace): a Bump kept s, so whoever holds its current
// id must not follow it to its next.
func (s *Session) endGrace() {
	s.lock()
	defer s.mu.Unlock()
	s.rec.noGrace = true
}

// restamp stamps s with user's new epoch, if s is signed in as user under
// userKey, so that a Bump keeps it: a change, saved with the request.
func (s *Session) restamp(userKey, user string, epoch int64) {
	s.lock()
	defer s.mu.Unlock()
	if s.destroyed || userOf(s.values, userKey) != user || s.rec.epoch == epoch {
		return
	}
	s.rec.epoch = epoch
	s.changedLocked("")
}

// epochCache is cookie storage's cache of users' epochs.
type epochCache struct {
	mu sync.Mutex
	m  map[string]cachedEpoch
}

type cachedEpoch struct {
	n  int64
	at time.Time
}

// maxEpochCache bounds the cache; when it is full it starts over.
const maxEpochCache = 1 << 14

func (c *epochCache) get(user string, now time.Time, ttl time.Duration) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[user]
	return e.n, ok && now.Sub(e.at) < ttl && !now.Before(e.at)
}

func (c *epochCache) put(user string, n int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxEpochCache {
		c.m = make(map[string]cachedEpoch)
	}
	if e, ok := c.m[user]; ok && e.n > n {
		n = e.n // an epoch never goes back
	}
	c.m[user] = cachedEpoch{n: n, at: now}
}

// epochOf returns user's epoch, from the cache unless fresh.
func (st *clientStorage) epochOf(ctx context.Context, user string, fresh bool) (int64, error) {
	now := st.o.Now()
	if !fresh && st.epochTTL > 0 {
		if n, ok := st.epochs.get(user, now, st.epochTTL); ok {
			return n, nil
		}
	}
	n, err := st.epochStore.Epoch(ctx, user)
	if err != nil {
		return 0, fmt.Errorf("session: reading the epoch of a session's user: %w", err)
	}
	st.epochs.put(user, n, now)
	return n, nil
}

// epochEnded reports whether a session loaded from a cookie, signed in as
// user under the epoch stamp, was ended by a Bump; an error when the epoch
// cannot be read (never a new session, which would sign the user out).
func (st *clientStorage) epochEnded(ctx context.Context, user string, stamp int64) (bool, error) {
	if st.epochStore == nil || user == "" {
		return false, nil
	}
	n, err := st.epochOf(ctx, user, false)
	return stamp < n, err
}

// stampLocked stamps s, about to be written, with its user's epoch when its
// user changed since it was loaded (a sign-in, a switch, a sign-out: 0).
// s.mu must be held.
func (st *clientStorage) stampLocked(ctx context.Context, s *Session) error {
	if st.epochStore == nil || s.destroyed {
		return nil
	}
	user := userOf(s.values, st.o.UserKey)
	if user == s.rec.indexed {
		return nil
	}
	var n int64
	if user != "" {
		var err error
		if n, err = st.epochOf(ctx, user, true); err != nil {
			return err
		}
	}
	s.rec.epoch = n
	return nil
}

// clientEpochs is a clientStorage with ClientOptions.Epochs: it implements
// Epochs through it.
type clientEpochs struct {
	*clientStorage
}

// Epoch implements Epochs.
func (st clientEpochs) Epoch(ctx context.Context, user string) (int64, error) {
	return st.epochStore.Epoch(ctx, user)
}

// Bump implements Epochs: it bumps the epoch in ClientOptions.Epochs, and
// stamps keep with it.
func (st clientEpochs) Bump(ctx context.Context, user string, keep *Session) (int64, error) {
	if user == "" {
		return 0, errNoUser
	}
	n, err := st.epochStore.Bump(ctx, user, nil)
	if err != nil {
		return n, err
	}
	st.epochs.put(user, n, st.o.Now())
	if keep != nil {
		keep.endGrace()
		keep.restamp(st.o.UserKey, user, n)
	}
	return n, nil
}

// bindingClientEpochs is a clientEpochs whose codec is a CookieBinder.
type bindingClientEpochs struct {
	clientEpochs
	b CookieBinder
}

// BindCookie implements CookieBinder.
func (st bindingClientEpochs) BindCookie(c CookieInfo) error { return st.b.BindCookie(c) }
