package session

import "time"

// Every storage saves in three steps: take a saveSnapshot of the session
// under its lock, decide what to do with decideSave (a pure function, covered
// case by case by a table test), then carry out the savePlan. Server-side
// storages (backend_storage.go) and cookie storage (cookie_storage.go) share
// the decision; only the execution differs. A new rule (a per-user index, a
// "persistent" flag) is a new snapshot field, a new plan field, and a case
// here.

// saveSnapshot is what a save needs to know about a session, copied under its
// lock by snapshotLocked.
type saveSnapshot struct {
	id         string   // the id to write under
	originalID string   // the id the session was loaded or created with
	deleteID   string   // originalID after RegenerateID(true)
	deletes    []string // records a save removes (idsToDeleteLocked)
	destroyed  bool
	dirty      bool
	stored     bool      // loaded from, or saved to, a record
	created    time.Time // zero: never saved
	saved      time.Time // last save or refresh; zero: never
	// persistent: the cookie carries a Max-Age (Persistent), so a sliding
	// refresh must send it again with the new time left.
	persistent bool

	// The per-user index (Options.UserKey; set by a storage that keeps one).
	user    string // the user the session names now
	indexed string // the user whose index lists its stored records
}

// snapshotLocked copies the save state of s. s.mu must be held.
func (s *Session) snapshotLocked() saveSnapshot {
	return saveSnapshot{
		id:         s.id,
		originalID: s.originalID,
		deleteID:   s.deleteID,
		deletes:    s.idsToDeleteLocked(),
		destroyed:  s.destroyed,
		dirty:      s.dirty,
		stored:     s.stored,
		created:    s.created,
		saved:      s.saved,
		persistent: s.persistentLocked(),
	}
}

// storeCaps is what a store can do besides Get, Set and Delete.
type storeCaps struct {
	clientSide bool // the session lives in the cookie (cookie storage): nothing to delete
	touch      bool // Toucher: extend a TTL without rewriting
	update     bool // Updater: rewrite only while the record exists
	replace    bool // Replacer: delete old records and write in one call
	index      bool // UserIndexBackend with Options.UserKey: a per-user index
}

// writeOp is how the plan writes the session's record.
type writeOp uint8

const (
	writeNone   writeOp = iota
	writeSet            // store the record (a new or regenerated session, or no Updater)
	writeUpdate         // store it only while the loaded record still exists (Updater)
	writeTouch          // extend the record's TTL without rewriting it (Toucher)
)

// cookieOp is what the response does with the session cookie.
type cookieOp uint8

const (
	cookieKeep   cookieOp = iota // no Set-Cookie
	cookieSet                    // set the cookie to the id (or the payload)
	cookieExpire                 // expire the cookie
)

// result is what a server-side storage's Save returns for op: the id as the
// cookie value, an expiring cookie, or no cookie.
func (op cookieOp) result(id string) (value string, set bool) {
	switch op {
	case cookieSet:
		return id, true
	case cookieExpire:
		return "", true
	}
	return "", false
}

// markOp is how a successful save updates the session.
type markOp uint8

const (
	markNone    markOp = iota
	markSaved          // clean, stored under id (savedLocked)
	markRefresh        // only the refresh time moves (sliding expiry)
)

// savePlan is what decideSave chose.
type savePlan struct {
	write writeOp
	// replace: write and deletes go in one Replacer call.
	replace bool
	// refresh: the write is a sliding refresh of an unchanged session. A
	// record deleted meanwhile (a logout elsewhere) is left deleted and is
	// not an error; a throttled touch may be skipped.
	refresh bool
	// deletes are removed after the write (so that a failure in between
	// leaves the user signed in, never signed out), or alone.
	deletes []string
	ttl     time.Duration
	cookie  cookieOp
	mark    markOp
	// created is the session's creation time, to write in the record's
	// metadata and keep in the session: now for a session never saved.
	created time.Time
	// warnUndeletable: RegenerateID(true) asked to delete the old session,
	// which a client-side store cannot do; the storage logs it.
	warnUndeletable bool

	// index is the per-user index work (decideIndex), done with the write
	// and the deletes in one backend call when needed.
	index indexPlan
}

// encodes reports whether the plan writes the session's data, so that the
// record must be encoded (under the session's lock).
func (p *savePlan) encodes() bool { return p.write == writeSet || p.write == writeUpdate }

// decideSave is the save rule that every storage shares. It reads nothing but
// its arguments.
func decideSave(s saveSnapshot, now time.Time, o *Options, c storeCaps) savePlan {
	p := savePlan{created: s.created}
	if p.created.IsZero() {
		p.created = now
	}
	p.warnUndeletable = c.clientSide && s.deleteID != ""
	ttl, alive := o.ttl(p.created, now)
	p.ttl = ttl
	refreshDue := !s.dirty && s.stored && o.refreshDue(s.saved, now)

	switch {
	case s.destroyed || !alive:
		// Destroyed, or past its lifetime: its records go, the cookie
		// expires.
		p.cookie, p.mark = cookieExpire, markSaved
		if c.clientSide {
			return p
		}
		p.deletes = s.deletes
		if !alive && s.stored {
			// The record is under the original id; a regenerated id was
			// never stored.
			p.deletes = appendUnique(p.deletes, s.originalID)
		}
	case c.clientSide:
		// The cookie is the record: every change and every refresh rewrites it.
		if s.dirty || refreshDue {
			p.write, p.cookie, p.mark = writeSet, cookieSet, markSaved
		}
	case s.dirty:
		p.cookie, p.mark = cookieSet, markSaved
		switch {
		case s.stored && s.id == s.originalID && len(s.deletes) == 0 && c.update:
			// A session this request loaded: rewrite it only if no
			// concurrent request deleted it meanwhile (logout, login
			// elsewhere).
			p.write = writeUpdate
		default:
			p.write, p.deletes = writeSet, s.deletes
			p.replace = len(s.deletes) > 0 && c.replace
		}
	case refreshDue:
		// Sliding expiry: extend the record's life, without a Set-Cookie
		// (the cookie holds only the id), unless the session is
		// persistent: its cookie's Max-Age must follow the record's TTL.
		p.refresh, p.mark = true, markRefresh
		if s.persistent {
			p.cookie = cookieSet
		}
		switch {
		case c.touch:
			p.write = writeTouch
		case c.update:
			p.write = writeUpdate
		default:
			p.write = writeSet
		}
	}
	if c.index {
		// The per-user index: see decideIndex (userindex.go).
		p.index = decideIndex(s, &p)
	}
	return p
}
