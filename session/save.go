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
	written    time.Time // last save: the record's metadata (a touch refreshes, but does not write)
	// persistent: the cookie carries a Max-Age (Persistent), so a sliding
	// refresh must send it again with the new time left.
	persistent bool

	// version is the stored version of originalID's record (zero: not
	// read from the backend); changes is Session.changes, to tell a save
	// whether the session changed while it ran.
	version Version
	changes uint64

	// The client of the request (SetClient) and the facts the record holds,
	// for a sliding refresh to tell whether they changed (client.go).
	client          Client
	device, network string
	// forwarded: loaded through a replaced id's record (grace.go): the
	// cookie must name the session's own id. authTouched and noGrace
	// decide whether a replaced id gets a grace window (grace.go).
	forwarded, authTouched, noGrace bool

	// The per-user index (Options.UserKey; set by a storage that keeps one).
	user    string // the user the session names now
	indexed string // the user whose index lists its stored records
}

// snapshotLocked copies the save state of s. s.mu must be held.
func (s *Session) snapshotLocked() saveSnapshot {
	return saveSnapshot{
		id:          s.id,
		originalID:  s.rec.originalID,
		deleteID:    s.rec.deleteID,
		deletes:     s.idsToDeleteLocked(),
		destroyed:   s.destroyed,
		dirty:       s.dirty,
		stored:      s.stored,
		created:     s.rec.created,
		saved:       s.rec.saved,
		written:     s.rec.saved,
		persistent:  s.persistentLocked(),
		version:     s.rec.version,
		changes:     s.rec.changes,
		client:      s.client,
		device:      s.rec.device,
		network:     s.rec.network,
		forwarded:   s.rec.forwarded,
		authTouched: s.authTouched,
		noGrace:     s.rec.noGrace,
	}
}

// storeCaps is what a store can do besides the Backend's versioned Get, Put
// and Delete.
type storeCaps struct {
	clientSide bool // the session lives in the cookie (cookie storage): nothing to delete
	touch      bool // Toucher: extend a TTL without rewriting
	index      bool // Options.UserKey is set: a per-user index
}

// writeOp is how the plan writes the session's record.
type writeOp uint8

const (
	writeNone   writeOp = iota
	writeRecord         // store the record: over the version loaded, or where none is
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

	// index is the per-user index work (decideIndex), done around the
	// write and the deletes (execution.indexed in userindex.go).
	index indexPlan
}

// idle reports whether the plan writes and deletes nothing: an unchanged
// session (most requests), or a destroyed one that was never stored.
func (p *savePlan) idle() bool {
	return p.write == writeNone && len(p.deletes) == 0 && !p.index.needed
}

// encodes reports whether the plan writes the session's data, so that the
// record must be encoded (under the session's lock).
func (p *savePlan) encodes() bool { return p.write == writeRecord }

// decideSave is the save rule that every storage shares. It reads nothing but
// its arguments.
func decideSave(snap *saveSnapshot, now time.Time, o *Options, c storeCaps) savePlan {
	p := savePlan{created: snap.created}
	if p.created.IsZero() {
		p.created = now
	}
	p.warnUndeletable = c.clientSide && snap.deleteID != ""
	ttl, alive := o.ttl(p.created, now)
	p.ttl = ttl
	refreshDue := !snap.dirty && snap.stored && o.refreshDue(snap.saved, now)

	switch {
	case snap.destroyed || !alive:
		p.end(snap, alive, c)
	case c.clientSide:
		// The cookie is the record: every change and every refresh rewrites it.
		if snap.dirty || refreshDue {
			p.write, p.cookie, p.mark = writeRecord, cookieSet, markSaved
		}
	case snap.dirty:
		// Written over the version loaded (a conflict merges), or where
		// nothing is (a new or regenerated id); the records to delete go
		// after the write.
		p.write, p.deletes, p.cookie, p.mark = writeRecord, snap.deletes, cookieSet, markSaved
	case refreshDue:
		// A changed client (client.go) rewrites the record, so that the
		// user's list of sessions shows where it was last used.
		p.slide(snap, c.touch && !o.rewriteDue(snap.written, now) && !snap.factsChanged())
	}
	p.forwarded(snap)
	if c.index {
		// The per-user index: see decideIndex (userindex.go).
		p.index = decideIndex(snap, &p)
	}
	return p
}

// forwarded sends the cookie of a session loaded through the id it
// replaced (grace.go): the browser still holds that id, and gets this one.
func (p *savePlan) forwarded(snap *saveSnapshot) {
	if snap.forwarded && p.cookie == cookieKeep && !snap.destroyed {
		p.cookie = cookieSet
	}
}

// end plans the end of a session destroyed, or past its lifetime (alive is
// false): its records go, the cookie expires.
func (p *savePlan) end(snap *saveSnapshot, alive bool, c storeCaps) {
	p.cookie, p.mark = cookieExpire, markSaved
	if c.clientSide {
		return
	}
	p.deletes = snap.deletes
	if !alive && snap.stored {
		// The record is under the original id; a regenerated id was
		// never stored.
		p.deletes = appendUnique(p.deletes, snap.originalID)
	}
}

// slide plans a sliding refresh: extend the record's life, by a touch when
// touch is true, else by a rewrite, without a Set-Cookie (the cookie holds
// only the id), unless the session is persistent: its cookie's Max-Age must
// follow the record's TTL.
func (p *savePlan) slide(snap *saveSnapshot, touch bool) {
	p.refresh, p.mark = true, markRefresh
	if snap.persistent {
		p.cookie = cookieSet
	}
	p.write = writeRecord
	if touch {
		p.write = writeTouch
	}
}
