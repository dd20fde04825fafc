package session

import (
	"slices"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session/internal/wire"
)

// Session is one user's session for one request: values that persist until
// changed, flash values that live for exactly one more request, and the id
// that a Storage files them under. Read it from the request context with
// FromContext. All methods are safe for concurrent use.
//
// Changes are collected in memory and written by Storage.Save, normally
// called by the session middleware just before the response headers go out.
type Session struct {
	mu sync.Mutex

	id     string
	values fields
	flash  fields // loaded from storage: readable in this request
	next   fields // flashed in this request: persisted for the next

	// Persistence ("remember me", persist.go). persist is the choice made
	// with Persist, kept in the record's metadata: wire.PersistOn,
	// wire.PersistOff, or 0 for none, when persistDefault applies.
	persist        int8
	persistDefault bool

	dirty     bool // changes to save (State)
	destroyed bool
	accessed  bool // the content was read (Get, Has, Len, Data)
	// Two flags of the save state (see rec), kept here so that all the
	// flags share one word and a Session fits a smaller allocation.
	// stored: the session was loaded from a record, so a sliding refresh
	// (touch) makes sense. persistTouched: Persist changed the choice
	// since the last save, so a merge keeps this request's choice.
	stored         bool
	persistTouched bool
	// authTouched: MarkAuthenticated was called since the last save, so a
	// merge keeps this request's time.
	authTouched bool

	// client is this request's client (SetClient; client.go).
	client Client
	// now is the clock of the storage that read the session (its
	// Options.Now), for AuthenticatedWithin; nil: time.Now.
	now func() time.Time

	// rec is what the storage keeps of the session's record: its load and
	// save state, which only the storage code (save.go, backend_storage.go,
	// merge.go, userindex.go, client_storage.go) reads and changes.
	rec recordState

	// ctx is the context NewContext returns for the session's request,
	// allocated with the session (context.go).
	ctx sessionContext
}

// recordState is a session's load and save state (Session.rec).
type recordState struct {
	originalID string   // the id it was loaded or created with
	deleteID   string   // originalID once RegenerateID(true) was called
	discarded  []string // ids of destroyed sessions that Set or Flash replaced

	// Expiry metadata (see record.go). created survives regeneration; a
	// Session started after Destroy gets a fresh one.
	created time.Time
	saved   time.Time
	// expiresAt is when the server expires the session, as of its last load
	// or save (zero: no limit, or not saved yet); expiresIn is how long
	// that was from then, by the storage's clock.
	expiresAt time.Time
	expiresIn time.Duration

	// authAt is when the user last authenticated (auth.go); epoch is the
	// user's epoch the session was signed in under (epoch.go); device and
	// network are the client facts of the record's last write (client.go).
	// All four ride in the record's metadata.
	authAt          time.Time
	epoch           int64
	device, network string
	// forwarded: the session was loaded through the record of an id it
	// replaced, within Options.RegenerateGrace (grace.go); its save sends
	// the cookie of its own id. noGrace: a Bump kept the session, so the
	// ids it replaces get no grace window (grace.go).
	forwarded, noGrace bool

	// indexed is the user whose index (Options.UserKey) lists the stored
	// records of this session (originalID, discarded): set when it is
	// loaded and by each indexed save.
	indexed string

	// version is the stored version of originalID's record, as loaded or
	// last saved; zero when the session was not read from a backend (new,
	// Restore). A save writes only over this version, and on a conflict
	// merges (rebase in merge.go).
	version Version
	// changes counts the changes made (Set, Unset, Flash, RegenerateID,
	// Destroy, Persist): a save leaves the session dirty when changes were
	// made while it ran.
	changes uint64
	// touched lists the keys that Set and Unset changed since the last
	// save: what a merge re-applies on a record another request changed.
	// It starts in touchedBuf, so a request that changes one key (most
	// writes) allocates nothing for it.
	touched    []string
	touchedBuf [1]string
}

// New returns an empty session with a fresh id: 256 bits from crypto/rand,
// encoded as 43 characters of unpadded base64url.
func New() *Session {
	id := newID()
	return &Session{id: id, rec: recordState{originalID: id}}
}

// Restore returns the session id with the data d, as if a storage had loaded
// it: for tests of handlers and for tools. The maps in d are copied. A
// session restored with flash values is dirty from the start, so that saving
// it clears the flash: flash lives for one request whether or not it is read.
//
// An id that is not ValidID is replaced by a fresh one (and the session
// counts as never stored), so no Backend, path or cookie payload ever sees a
// hostile id through Restore.
func Restore(id string, d Data) *Session {
	values, flash := wire.FieldsOf(d.Values), wire.FieldsOf(d.Flash)
	if !ValidID(id) {
		s := loaded(newID(), values, flash, meta{}, time.Time{})
		s.stored = false
		return s
	}
	return loaded(id, values, flash, meta{}, time.Time{})
}

// loaded returns a session a storage read from a record: decoded values and
// flash (not copied: the decoder made them), and the record's metadata. A
// record without metadata (Remix wrote it) starts its lifetime now. Loaded
// flash makes the session dirty, so that saving clears it.
func loaded(id string, values, flash fields, m meta, now time.Time) *Session {
	s := &Session{id: id, values: values, stored: true, rec: recordState{originalID: id}}
	if len(flash) > 0 {
		s.flash = flash
		s.dirty = true
	}
	s.rec.created = msTime(m.Created)
	if s.rec.created.IsZero() {
		s.rec.created = now
	}
	s.rec.saved = msTime(m.Saved)
	s.persist = m.Persist
	s.rec.authAt = msTime(m.Auth)
	s.rec.epoch = m.Epoch
	s.rec.device, s.rec.network = m.Device, m.Network
	return s
}

// metaLocked returns the metadata a save writes with the session's data,
// for a session created at created and saved at now, and makes the client
// facts it writes the record's (client.go). s.mu must be held.
func (s *Session) metaLocked(created, now time.Time) meta {
	s.rec.device, s.rec.network = s.factsLocked()
	return meta{Created: timeMS(created), Saved: timeMS(now), Persist: s.persist,
		Auth: timeMS(s.rec.authAt), Epoch: s.rec.epoch, Device: s.rec.device, Network: s.rec.network}
}

// noSession is the panic of every method called on a nil *Session, which is
// what FromContext returns for a request the session middleware did not see.
const noSession = "session: no session in the request context: FromContext returned nil; install the session middleware (sessionmiddleware.New) in front of this handler"

// lock locks s, panicking with noSession when s is nil.
func (s *Session) lock() {
	if s == nil {
		panic(noSession)
	}
	s.mu.Lock()
}

// ID returns the session's current id.
func (s *Session) ID() string {
	s.lock()
	defer s.mu.Unlock()
	return s.id
}

// Get returns the value stored under key or, when there is none, the flash
// value set under key by the previous request; nil when neither exists or
// the session is destroyed. Values loaded from a storage have their JSON
// types (float64, string, bool, []any, map[string]any), except that a whole
// number beyond ±2^53, which a float64 cannot hold exactly, is an int64 (a
// uint64 above math.MaxInt64) with its exact value; use Value for a typed
// read.
func (s *Session) Get(key string) any {
	s.lock()
	defer s.mu.Unlock()
	s.accessed = true
	if s.destroyed {
		return nil
	}
	if v, ok := s.values.Get(key); ok {
		return v
	}
	v, _ := s.flash.Get(key)
	return v
}

// field is what Get finds under key, unboxed (see Value), and whether
// there is something.
func (s *Session) field(key string) (wire.Field, bool) {
	s.lock()
	defer s.mu.Unlock()
	s.accessed = true
	if s.destroyed {
		return wire.Field{}, false
	}
	if f, ok := s.values.Lookup(key); ok {
		return f, true
	}
	return s.flash.Lookup(key)
}

// Has reports whether Get would find key (a value or a flash value from the
// previous request).
func (s *Session) Has(key string) bool {
	s.lock()
	defer s.mu.Unlock()
	s.accessed = true
	if s.destroyed {
		return false
	}
	return s.values.Has(key) || s.flash.Has(key)
}

// Set stores v under key; a nil v removes the key. Set on a destroyed session
// starts a new, empty session with a new id (the destroyed one is still
// deleted on save), so a "signed out" page can keep data.
func (s *Session) Set(key string, v any) {
	s.lock()
	defer s.mu.Unlock()
	if v == nil {
		if !s.destroyed {
			s.values.Delete(key)
			s.changedLocked(key)
		}
		return
	}
	s.reviveLocked()
	s.values.Set(key, v)
	s.changedLocked(key)
}

// changedLocked records a change: the session is dirty, and key (if not
// "") is one a merge re-applies.
func (s *Session) changedLocked(key string) {
	s.dirty = true
	s.rec.changes++
	if key == "" || slices.Contains(s.rec.touched, key) {
		return
	}
	if s.rec.touched == nil {
		s.rec.touched = s.rec.touchedBuf[:0]
	}
	s.rec.touched = append(s.rec.touched, key)
}

// Unset removes key, both as a value and as a flash value readable in this
// request.
func (s *Session) Unset(key string) {
	s.lock()
	defer s.mu.Unlock()
	if s.destroyed {
		return
	}
	s.values.Delete(key)
	s.flash.Delete(key)
	s.changedLocked(key)
}

// Flash stores v under key for the next request only: Get does not see it in
// this request, sees it in the next one, and it is gone after that. Flash on
// a destroyed session starts a new session, as Set does, so that "you have
// been signed out" can be shown after a logout.
func (s *Session) Flash(key string, v any) {
	s.lock()
	defer s.mu.Unlock()
	s.reviveLocked()
	s.next.Set(key, v)
	s.changedLocked("")
}

// RegenerateID gives the session a new id, keeping its data; call it on every
// privilege change, such as a login, to defeat session fixation. With
// deleteOld, the record under the session's original id is deleted on save,
// however many times the id was regenerated. RegenerateID on a destroyed
// session does nothing: it gets a new id anyway.
func (s *Session) RegenerateID(deleteOld bool) {
	s.lock()
	defer s.mu.Unlock()
	if s.destroyed {
		return
	}
	if deleteOld {
		s.rec.deleteID = s.rec.originalID
	}
	s.id = newID()
	s.changedLocked("")
}

// Destroy ends the session: its data is gone now, and on save its record is
// deleted (also the original id's record when the id was regenerated) and the
// cookie is expired. A later Set or Flash starts a new session.
func (s *Session) Destroy() {
	s.lock()
	defer s.mu.Unlock()
	s.destroyed = true
	s.values, s.flash, s.next = nil, nil, nil
	s.rec.changes++
}

// reviveLocked turns a destroyed session into a fresh one with a new id,
// remembering the ids whose records the save must delete.
func (s *Session) reviveLocked() {
	if !s.destroyed {
		return
	}
	if s.stored {
		s.rec.discarded = appendUnique(s.rec.discarded, s.rec.originalID)
	}
	s.id = newID()
	s.rec.originalID = s.id
	s.rec.deleteID = ""
	s.destroyed = false
	s.stored = false
	s.rec.version = Version{}
	s.rec.created, s.rec.saved = time.Time{}, time.Time{}
	s.persist, s.rec.expiresAt, s.rec.expiresIn = 0, time.Time{}, 0
	s.rec.authAt, s.rec.epoch, s.rec.forwarded, s.rec.noGrace = time.Time{}, 0, false, false
}

func appendUnique(list []string, id string) []string {
	if slices.Contains(list, id) {
		return list
	}
	return append(list, id)
}

// State is what a session's middleware needs to know about it besides its
// content: what Session.State reports.
type State struct {
	// Dirty: the session has changes to save (a Set, Unset, Flash,
	// RegenerateID, Destroy or Persist, or flash values loaded from the
	// storage, which the save clears). A clean session is not written and
	// gets no Set-Cookie.
	Dirty bool
	// Destroyed: Destroy was called, and no Set or Flash has started a new
	// session since.
	Destroyed bool
	// Accessed: the content was read, with Get, Has, Value, Len or Data,
	// since the session was made. A response may then depend on the
	// session even when the request carried no session cookie, so the
	// session middleware adds "Vary: Cookie" to it (Flask's rule). State,
	// ID and the storage's own reads do not count.
	Accessed bool
	// ReplacedID is the id the session was loaded with, whose record the
	// save deletes, after RegenerateID(true); "" otherwise.
	ReplacedID string
}

// State reports the session's save state (see State).
func (s *Session) State() State {
	s.lock()
	defer s.mu.Unlock()
	return State{Dirty: s.dirty, Destroyed: s.destroyed, Accessed: s.accessed, ReplacedID: s.rec.deleteID}
}

// Len returns the number of keys Get can see: values plus the flash values
// loaded from the previous request.
func (s *Session) Len() int {
	s.lock()
	defer s.mu.Unlock()
	s.accessed = true
	if s.destroyed {
		return 0
	}
	n := len(s.values)
	for _, kv := range s.flash {
		if !s.values.Has(kv.Key) {
			n++
		}
	}
	return n
}

// Data returns a copy of what a save persists: the values, and the flash
// values set in this request (those loaded from the previous request are
// consumed). A destroyed session has no data.
func (s *Session) Data() Data {
	s.lock()
	defer s.mu.Unlock()
	s.accessed = true
	if s.destroyed {
		return Data{Values: map[string]any{}, Flash: map[string]any{}}
	}
	return Data{Values: s.values.Map(), Flash: s.next.Map()}
}

// idsToDeleteLocked returns the records a save removes: the original id after
// RegenerateID(true) or Destroy, and the id of a destroyed session that Set
// or Flash replaced. Only the original id can have a record: regenerated ids
// are never stored before the save.
func (s *Session) idsToDeleteLocked() []string {
	ids := slices.Clip(s.rec.discarded) // appending must not write into s.rec.discarded
	if s.stored && (s.rec.deleteID != "" || s.destroyed) {
		ids = appendUnique(ids, s.rec.originalID)
	}
	return ids
}

// savedLocked records a successful save, so that Dirty reports only changes
// made after it (the middleware reports those as lost) and a second save
// deletes nothing twice.
func (s *Session) savedLocked(created, now time.Time) {
	s.dirty = false
	s.rec.deleteID = ""
	s.rec.discarded = nil
	s.rec.touched = s.rec.touched[:0]
	s.persistTouched = false
	s.authTouched = false
	if s.destroyed {
		s.stored = false
	} else {
		s.rec.originalID = s.id
		s.stored = true
		s.rec.created, s.rec.saved = created, now
	}
}
