// Package filestorage keeps sessions in files, one per session, in the
// directory layout of @remix-run/session's fs storage, so that a Remix
// application and a Go service can share the directory.
package filestorage

import (
	"encoding/hex"
	"github.com/sessionkit/sessionkit/session"

	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Options configure New.
type Options struct {
	// Session configures expiry, unknown ids, the record size limit,
	// logging and the per-user index, as for every server-side storage.
	// IdleTimeout (else Lifetime) is also how long after its last write a
	// file is swept.
	Session session.Options
}

// New returns a session.Storage that keeps one file per session under dir,
// in the layout of @remix-run/session's fs storage:
// dir/<sha256(id)[0:2]>/<sha256(id)[2:]>, holding the JSON record, so a Remix
// application and a Go service can share the directory. Ids never appear in
// paths, only their hashes, so no id can reach outside dir.
//
// Files are written atomically (a temporary file renamed into place), so a
// reader never sees half a record, with mode 0600 in directories of mode
// 0700. A file's modification time is when it was last saved or refreshed;
// files past the IdleTimeout (else the Lifetime) are ignored, and swept by
// the writes themselves: one shard directory (of 256) at a time, so that a
// whole pass takes half the max age (between a minute and an hour; an hour
// when sessions never expire). Nothing needs closing. A missing dir is
// created; a dir that is a file or cannot be written is an error.
//
// Every write of a file (save, delete, refresh, sweep) holds its shard's
// lock: a mutex within the process and, on systems with flock (Linux, macOS,
// the BSDs), an advisory lock on the shard's ".lock" file for every process
// sharing dir. Under it, a save or a delete is a compare-and-set: it lands
// only when the file still holds what the request read, and otherwise
// writes nothing and reports the conflict, which session.NewBackendStorage
// answers
// by reading the record again (see Save). So a save cannot bring back a
// record that a concurrent logout, revoke or RegenerateID(true) deleted, and
// concurrent saves of one session do not silently overwrite each other. The
// check compares contents, not modification times, so a file that another
// program rewrote in place (as Remix does) counts as changed, unless it
// wrote the same bytes. On systems without flock only the in-process
// exclusion holds: processes sharing dir there can overwrite each other's
// changes.
//
// With Options.Session.UserKey, each user's index (see session.UserIndex)
// is one more file,
// dir/<shard>/u-<hash>, named from a hash of the user name (never the name
// itself). It expires
// Options.Session.LifetimeLimit after it was last written (by
// then none of its sessions can be alive), not by the idle timeout.
//
// The Storage is a session.Locking (exclusive sessions). A session's lock is held
// with flock on a file dir/<shard>/.l-<hash>, so that it excludes the
// requests of every process sharing dir; a process that exits releases its
// locks at once, and a lock held past its time to live is released by a
// timer of the holding process. Lock files that nobody holds are removed by
// the sweep. On systems without flock, locks hold within the process only.
func New(dir string, o Options) (session.Storage, error) {
	b, err := newFileBackend(dir, o.Session)
	if err != nil {
		return nil, err
	}
	return session.NewBackendStorage(b, o.Session)
}

// fileBackend is the session.Backend (and session.Toucher, and
// session.Locker) of New.
//
// Keys are paths relative to root, with "/" as the separator:
// "<2 hex>/<62 hex>" for a record (the Remix layout, from SHA-256 of the
// id) and "<2 hex>/u-<62 hex>" for a user's index (from a domain-separated
// SHA-256 of the user name). Every method parses its key (parseKey) and
// refuses any other shape, so no key can name a path outside root.
//
// A file's session.Version is its content (Tag), with N = 1 so that an empty file
// is not the zero session.Version. Neither its mtime nor its inode could do: two
// rewrites within the filesystem's timestamp granularity have the same
// mtime (and Touch changes the mtime without changing the record), and an
// inode freed by a rename is reused by the next file created. The cost is
// one read of the file, under the shard lock, per Put or Delete over a
// version (the zero session.Version needs only a stat).
type fileBackend struct {
	// customClock: Options.Now is set (a test's clock), so a write sets
	// the file's mtime from it.
	customClock bool
	root        string
	// prefix is root with a trailing separator: the path of key is prefix
	// plus the key with its "/" converted.
	prefix string
	o      session.Options
	// maxAge is how long after its mtime a record file is dead: the idle
	// timeout, else the lifetime, else 0 (never).
	maxAge time.Duration
	// indexMaxAge is how long after its mtime (its last write) a user's
	// index file is dead: session.Options.LifetimeLimit, 0 (never) when sessions
	// have no lifetime. Every member of an index was created before the
	// index was last written, so none outlives it. Members refresh their
	// own records only, so the idle timeout does not apply.
	indexMaxAge time.Duration

	// shards serialise the writes (Put, Delete, Touch, sweep) of the files
	// in one shard directory within this process; lockShard adds an flock
	// on the shard's lock file for other processes.
	shards [256]sync.Mutex

	// The session locks (session.Locker) this process holds, by session id.
	locksMu sync.Mutex
	locks   map[string]*fileSessionLock

	// The sweep: each Put past sweepInterval/256 after the last step
	// sweeps the next shard, so a whole pass takes sweepInterval and no write ever
	// scans more than one shard. No goroutine.
	sweepMu   sync.Mutex
	lastSweep time.Time
	nextShard int
}

// File names in a shard directory. Records are 62 hex digits; the others
// start with a prefix no record name has.
const (
	// lockName is the shard's lock file (lockShard).
	lockName = ".lock"
	// fileTempPrefix starts temporary files, renamed into place when
	// written.
	fileTempPrefix = ".tmp-"
	// fileSessionLockPrefix starts session lock files (TryLock), followed
	// by 62 hex digits.
	fileSessionLockPrefix = ".l-"
	// userIndexPrefix starts users' index files, followed by 62 hex
	// digits.
	userIndexPrefix = "u-"
)

func newFileBackend(dir string, o session.Options) (*fileBackend, error) {
	if dir == "" {
		return nil, errors.New("session: file storage: empty directory path")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("session: file storage: %w", err)
	}
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(root, 0o700); err != nil {
			return nil, fmt.Errorf("session: file storage: creating %q: %w", root, err)
		}
	case err != nil:
		return nil, fmt.Errorf("session: file storage: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("session: file storage: path %q is not a directory", root)
	}
	// Fail now, not on the first login, when the directory is read-only.
	probe, err := os.CreateTemp(root, ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("session: file storage: directory %q is not writable: %w", root, err)
	}
	probe.Close()
	os.Remove(probe.Name())

	customClock := o.Now != nil
	o = o.WithDefaults()
	b := &fileBackend{
		customClock: customClock,
		root:        root,
		prefix:      root,
		o:           o,
		maxAge:      o.IdleTimeout,
		indexMaxAge: o.LifetimeLimit(),
		locks:       map[string]*fileSessionLock{},
	}
	if !strings.HasSuffix(b.prefix, string(filepath.Separator)) {
		b.prefix += string(filepath.Separator)
	}
	if b.maxAge == 0 {
		b.maxAge = max(o.Lifetime, 0)
	}
	b.lastSweep = o.Now()
	return b, nil
}

// fileHashKey returns "<2 hex>/<prefix><62 hex>" of SHA-256(s).
func fileHashKey(s, prefix string) string {
	h := session.HashID(s)
	return h[:2] + "/" + prefix + h[2:]
}

// Key returns the key of id's record: its path below the directory, "/"
// separated, "<sha256(id)[0:2]>/<sha256(id)[2:]>" in hex (the Remix layout).
func (b *fileBackend) Key(id string) string { return fileHashKey(id, "") }

// IndexKey returns the key of user's index file: "<2 hex>/u-<62 hex>" of a
// SHA-256 of the user name that no id hashes to (a domain-separation
// prefix), so the name never appears in a path.
func (b *fileBackend) IndexKey(user string) string {
	return fileHashKey("sessionkit user index\x00"+user, userIndexPrefix)
}

// Kind names the storage in session events (session.Event.Storage).
func (b *fileBackend) Kind() string { return "file" }

// path returns the file of id's record.
func (b *fileBackend) path(id string) string {
	p, _, _, _ := b.parseKey(b.Key(id))
	return p
}

// errFileKey is the error for a key that is not one Key or IndexKey made. It
// does not quote the key, which might be a session id passed by mistake.
func errFileKey(key string) error {
	return fmt.Errorf("session: file storage: malformed key (%d bytes): not a record or index key of this storage", len(key))
}

// parseKey returns the file that key names, its shard, and whether it is a
// user's index; an error for anything but "<2 hex>/<62 hex>" and
// "<2 hex>/u-<62 hex>" (lowercase hex digits only, so no key can name a
// path outside root).
func (b *fileBackend) parseKey(key string) (p string, shard int, index bool, err error) {
	var name string
	switch {
	case len(key) == 65 && key[2] == '/':
		name = key[3:]
	case len(key) == 67 && key[2:5] == "/"+userIndexPrefix:
		name, index = key[5:], true
	default:
		return "", 0, false, errFileKey(key)
	}
	if !fileIsHex(key[:2]) || !fileIsHex(name) {
		return "", 0, false, errFileKey(key)
	}
	shard = fileHexDigit(key[0])<<4 | fileHexDigit(key[1])
	return b.prefix + key[:2] + string(filepath.Separator) + key[3:], shard, index, nil
}

// fileIsHex reports whether s is lowercase hex digits only.
func fileIsHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func fileHexDigit(c byte) int {
	if c <= '9' {
		return int(c - '0')
	}
	return int(c-'a') + 10
}

func (b *fileBackend) shardDir(shard int) string {
	return filepath.Join(b.root, hex.EncodeToString([]byte{byte(shard)}))
}

// lockShard makes this caller the only writer of the shard's files, in this
// process (a mutex) and in every process sharing the directory (flock on
// the shard's lock file, see lockFile). With create, a missing shard
// directory is created; without, it gives fs.ErrNotExist (so there is
// nothing to delete or touch). The caller must call the returned unlock.
func (b *fileBackend) lockShard(shard int, create bool) (unlock func(), err error) {
	dir := b.shardDir(shard)
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	mu := &b.shards[shard]
	mu.Lock()
	f, err := openLockFile(filepath.Join(dir, lockName), true)
	if err == nil {
		if err = lockFile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		mu.Unlock()
		return nil, err
	}
	return func() {
		f.Close() // releases the flock
		mu.Unlock()
	}, nil
}

// dead reports whether a file last written (or touched) at fi's mtime is
// past its max age: maxAge for a record, indexMaxAge for a user's index.
func (b *fileBackend) dead(fi fs.FileInfo, index bool, now time.Time) bool {
	age := b.maxAge
	if index {
		age = b.indexMaxAge
	}
	return age > 0 && !now.Before(fi.ModTime().Add(age))
}

// fileVersion is the session.Version of a file holding data (see fileBackend).
func fileVersion(data []byte) session.Version {
	return session.Version{N: 1, Tag: fileString(data)}
}

// fileString returns data as a string that shares its memory: the session.Backend
// contract lets a backend keep what Put stores and lets it hand out what
// Get returns (neither caller writes the slice afterwards), so a session.Version
// costs no copy of the record.
func fileString(data []byte) string {
	return unsafe.String(unsafe.SliceData(data), len(data))
}

// Get returns the file's content and version. A file past its max age is
// session.ErrNotFound (the sweep removes it later); a directory, symlink or FIFO
// where the file belongs is an error wrapping session.ErrCorruptRecord.
func (b *fileBackend) Get(_ context.Context, key string) ([]byte, session.Version, error) {
	p, _, index, err := b.parseKey(key)
	if err != nil {
		return nil, session.Version{}, err
	}
	f, err := openRecord(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, session.Version{}, session.ErrNotFound
	case errors.Is(err, errNotRegular):
		return nil, session.Version{}, b.notRegular(p)
	case err != nil:
		return nil, session.Version{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, session.Version{}, err
	case !fi.Mode().IsRegular():
		return nil, session.Version{}, b.notRegular(p)
	case b.dead(fi, index, b.o.Now()):
		return nil, session.Version{}, session.ErrNotFound
	}
	data, err := readRecord(f, fi.Size())
	if err != nil {
		return nil, session.Version{}, err
	}
	return data, fileVersion(data), nil
}

// notRegular is the error for a directory, symlink or FIFO where the file p
// belongs: not ours to follow (nor to block on), so the record reads as
// corrupt.
func (b *fileBackend) notRegular(p string) error {
	return fmt.Errorf("%w: session file %s is not a regular file", session.ErrCorruptRecord, b.rel(p))
}

// errNotRegular is openRecord's refusal of a path that is not a regular
// file.
var errNotRegular = errors.New("not a regular file")

// readRecord reads f, whose size was size when it was opened: in one read
// system call when it still is (os.ReadFile makes two, the second to see
// the end). This storage replaces files by a rename, never writes them in
// place, so an open file does not change; a file that does (another program
// writing in place) is read to its end.
func readRecord(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || size > maxFileRecord {
		return io.ReadAll(f)
	}
	buf := make([]byte, size+1) // one byte more: a full buffer means it grew
	n, err := io.ReadAtLeast(f, buf, int(size))
	switch {
	case err != nil && err != io.EOF && err != io.ErrUnexpectedEOF:
		return nil, err
	case n == len(buf):
		rest, err := io.ReadAll(f)
		return append(buf, rest...), err
	}
	return buf[:n], nil
}

// maxFileRecord is the largest record size readRecord trusts for its one
// allocation; a larger file is read as it comes.
const maxFileRecord = 64 << 20

func (b *fileBackend) rel(p string) string {
	r, err := filepath.Rel(b.root, p)
	if err != nil {
		return p
	}
	return r
}

// Put writes data to the file of key if it is still at version v (see
// fileBackend): under the shard lock, it reads what is there, and writes
// (a temporary file renamed into place) only when that matches. ttl is not
// stored: a file expires its max age after its mtime (the ttl
// NewBackendStorage passes for a record is never longer than that).
func (b *fileBackend) Put(_ context.Context, key string, data []byte, _ time.Duration, v session.Version) (session.Version, error) {
	p, shard, index, err := b.parseKey(key)
	if err != nil {
		return session.Version{}, err
	}
	now := b.o.Now()
	unlock, err := b.lockShard(shard, true)
	if err != nil {
		return session.Version{}, err
	}
	err = b.matchLocked(p, index, v, now)
	if err == nil {
		err = b.writeLocked(p, data, now)
	}
	unlock()
	if err != nil {
		return session.Version{}, err
	}
	b.maybeSweep(now)
	return fileVersion(data), nil
}

// matchLocked returns nil when what is stored at p is at version v, and
// session.ErrConflict when it is not. The zero v matches nothing stored: no file, a
// file past its max age, or a symlink or FIFO (which Get reports corrupt,
// and a write replaces without following). Any other v matches a live file
// with exactly that content. For the zero v, a directory is an error
// wrapping session.ErrCorruptRecord (nothing can be written there). The caller
// holds p's shard lock.
func (b *fileBackend) matchLocked(p string, index bool, v session.Version, now time.Time) error {
	f, err := openRecord(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return conflictUnlessZero(v)
	case errors.Is(err, errNotRegular):
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() && v.IsZero() {
			return b.notRegular(p)
		}
		return conflictUnlessZero(v)
	case err != nil:
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return err
	case fi.IsDir() && v.IsZero():
		return b.notRegular(p)
	case !fi.Mode().IsRegular() || b.dead(fi, index, now):
		return conflictUnlessZero(v)
	}
	return matchContent(f, fi.Size(), v)
}

// conflictUnlessZero is the answer to a write over v where no live record
// is: fine for the zero Version (write whatever is there), a conflict for
// any other.
func conflictUnlessZero(v session.Version) error {
	if v.IsZero() {
		return nil
	}
	return session.ErrConflict
}

// matchContent reports ErrConflict unless the live record f, of size bytes,
// holds what v names (a file's Version is its content).
func matchContent(f *os.File, size int64, v session.Version) error {
	if v.IsZero() || v.N != 1 || size != int64(len(v.Tag)) {
		return session.ErrConflict
	}
	data, err := readRecord(f, size)
	if err != nil {
		return err
	}
	if string(data) != v.Tag {
		return session.ErrConflict
	}
	return nil
}

// writeLocked stores data in p atomically: a temporary file renamed over p.
// The caller holds p's shard lock.
func (b *fileBackend) writeLocked(p string, data []byte, now time.Time) error {
	f, err := os.CreateTemp(filepath.Dir(p), fileTempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && b.customClock {
		// The file's mtime is when the record was saved (expiry reads
		// it). The system clock set it already; a clock of the caller's
		// own (session.Options.Now, in tests) must set it: a system call that
		// only then is worth its cost.
		err = os.Chtimes(tmp, now, now)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Delete removes the file of key if it is still at version v (see
// matchLocked), or whatever is there (a file, a symlink, a FIFO, an empty
// directory) when v is zero. Nothing there is not an error for the zero v,
// and session.ErrConflict for any other.
func (b *fileBackend) Delete(_ context.Context, key string, v session.Version) error {
	p, shard, index, err := b.parseKey(key)
	if err != nil {
		return err
	}
	unlock, err := b.lockShard(shard, false)
	if errors.Is(err, fs.ErrNotExist) { // no shard directory: no file
		if v.IsZero() {
			return nil
		}
		return session.ErrConflict
	}
	if err != nil {
		return err
	}
	defer unlock()
	if !v.IsZero() {
		if err := b.matchLocked(p, index, v, b.o.Now()); err != nil {
			return err
		}
	}
	err = os.Remove(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Touch sets the file's mtime to now, which restarts its idle timeout; its
// content, and so its session.Version, stays. A missing file, or one past its max
// age, is ErrNotFound: touching it would bring it back.
func (b *fileBackend) Touch(_ context.Context, key string, _ time.Duration) error {
	p, shard, index, err := b.parseKey(key)
	if err != nil {
		return err
	}
	now := b.o.Now()
	unlock, err := b.lockShard(shard, false)
	if errors.Is(err, fs.ErrNotExist) {
		return session.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer unlock()
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return session.ErrNotFound
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return b.notRegular(p) // Chtimes would follow a symlink
	case b.dead(fi, index, now):
		return session.ErrNotFound
	}
	return os.Chtimes(p, now, now)
}

// fileSessionLock is a session lock (TryLock) this process holds.
type fileSessionLock struct {
	token string
	// expires is when the lock is free again for this process's callers,
	// by session.Options.Now; zero: it has no ttl.
	expires time.Time
	// f holds the flock of the lock file, for other processes; nil on
	// systems without flock.
	f *os.File
	// timer closes f (and drops the lock) when the ttl ran out by the
	// real clock, so that other processes, which cannot see expires, can
	// take the lock then.
	timer *time.Timer
}

// sessionLockPath returns the lock file of session id,
// <shard>/.l-<62 hex> of a domain-separated SHA-256 of the id, and its
// shard.
func (b *fileBackend) sessionLockPath(id string) (string, int) {
	key := fileHashKey("sessionkit session lock\x00"+id, fileSessionLockPrefix)
	return b.prefix + key[:2] + string(filepath.Separator) + key[3:], fileHexDigit(key[0])<<4 | fileHexDigit(key[1])
}

// TryLock takes session id's lock for token when nobody holds it: no caller
// in this process (the locks map, checked first: flock locks belong to an
// open file, and this process's callers share its files) and no other
// process (flock, LOCK_NB, on the session's lock file, kept open until
// Unlock). A lock that this process holds past its ttl by session.Options.Now is
// taken over (its file closed). Other processes see a lock as held until
// its holder unlocks it, exits (the system releases its flocks), or its
// timer fires: after ttl by the real clock, the timer closes the file and
// frees the lock in the holding process too. ttl <= 0: no expiry.
//
// The sweep removes a lock file that it can flock. A TryLock that opened the
// file before that and locks it after holds a file that is no longer the
// lock (another TryLock creates a new one): TryLock compares the file it
// locked with the one at the path, and reports the lock not taken when they
// differ (the caller tries again).
func (b *fileBackend) TryLock(_ context.Context, id, token string, ttl time.Duration) (bool, error) {
	now := b.o.Now()
	b.locksMu.Lock()
	defer b.locksMu.Unlock()
	if l, ok := b.locks[id]; ok {
		if l.expires.IsZero() || now.Before(l.expires) {
			return false, nil
		}
		b.releaseLocked(id, l)
	}
	l := &fileSessionLock{token: token}
	if crossProcessLocking {
		f, ok, err := b.flockSession(id)
		if !ok || err != nil {
			return false, err
		}
		l.f = f
	}
	if ttl > 0 {
		l.expires = now.Add(ttl)
		if l.f != nil {
			l.timer = time.AfterFunc(ttl, func() {
				b.locksMu.Lock()
				if b.locks[id] == l {
					b.releaseLocked(id, l)
				}
				b.locksMu.Unlock()
			})
		}
	}
	b.locks[id] = l
	return true, nil
}

// flockSession opens and flocks session id's lock file without waiting;
// ok is false when another process holds it, or the file was replaced
// before it was locked.
func (b *fileBackend) flockSession(id string) (f *os.File, ok bool, err error) {
	p, shard := b.sessionLockPath(id)
	if err := os.MkdirAll(b.shardDir(shard), 0o700); err != nil {
		return nil, false, err
	}
	f, err = openLockFile(p, true)
	if err != nil {
		return nil, false, err
	}
	if ok, err = tryLockFile(f); !ok || err != nil {
		f.Close()
		return nil, false, err
	}
	if ok, err = fileStillAt(f, p); !ok || err != nil {
		f.Close()
		return nil, false, err
	}
	return f, true, nil
}

// fileStillAt reports whether f is the file at path p (not one that was
// removed or replaced since f was opened).
func fileStillAt(f *os.File, p string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

// Unlock frees session id's lock if token holds it, and does nothing
// otherwise. The lock file stays (for the sweep): removing it here would
// race with another process's TryLock of it.
func (b *fileBackend) Unlock(_ context.Context, id, token string) error {
	b.locksMu.Lock()
	defer b.locksMu.Unlock()
	if l, ok := b.locks[id]; ok && l.token == token {
		b.releaseLocked(id, l)
	}
	return nil
}

// releaseLocked drops lock l of session id; the caller holds locksMu.
func (b *fileBackend) releaseLocked(id string, l *fileSessionLock) {
	delete(b.locks, id)
	if l.timer != nil {
		l.timer.Stop()
	}
	if l.f != nil {
		l.f.Close() // releases the flock
	}
}

// sweepInterval is how long a whole sweep pass (every shard) takes: half the
// max age, between a minute and an hour; an hour when records never expire
// (the sweep still removes leftover temporary files and free lock files).
func (b *fileBackend) sweepInterval() time.Duration {
	if b.maxAge == 0 {
		return time.Hour
	}
	return min(max(b.maxAge/2, time.Minute), time.Hour)
}

// maybeSweep sweeps the next shard when a step is due: one shard every
// sweepInterval/256, run by the write that finds it due, after that write
// released its own shard (a writer never holds two shard locks).
func (b *fileBackend) maybeSweep(now time.Time) {
	b.sweepMu.Lock()
	due := now.Sub(b.lastSweep) >= b.sweepInterval()/256
	shard := b.nextShard
	if due {
		b.lastSweep = now
		b.nextShard = (shard + 1) % 256
	}
	b.sweepMu.Unlock()
	if !due {
		return
	}
	if _, err := b.sweepShard(shard, now); err != nil {
		b.o.Logger.Warn("session: file storage sweep", "shard", filepath.Base(b.shardDir(shard)), "error", err)
	}
}

// staleTemp is the age past which a leftover temporary file (from a crash
// between write and rename) is removed.
const staleTemp = time.Hour

// sweepShard removes from one shard the files that are dead: records past
// their idle timeout or lifetime, users' indexes past the longest lifetime
// (see indexMaxAge), temporary files left by crashes, and session lock files
// that nobody holds. It returns how many it removed. It holds the shard lock,
// so no write of that shard can land between its check and its remove. Only
// regular files with the names this storage gives are considered; symlinks
// are never followed, other names are left alone.
func (b *fileBackend) sweepShard(shard int, now time.Time) (int, error) {
	unlock, err := b.lockShard(shard, false)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer unlock()
	dir := b.shardDir(shard)
	files, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, f := range files {
		if f.Type().IsRegular() && b.sweepFile(filepath.Join(dir, f.Name()), f, now) {
			removed++
		}
	}
	return removed, nil
}

// sweepFile removes the file p of a shard that the sweep finds, if it is
// dead: a record or index past its age, a temporary file left behind, or a
// session lock nobody holds. It leaves alone the shard's lock file and any
// name this storage does not give.
func (b *fileBackend) sweepFile(p string, f fs.DirEntry, now time.Time) bool {
	name := f.Name()
	if strings.HasPrefix(name, fileSessionLockPrefix) {
		return b.removeFreeSessionLock(p)
	}
	temp := strings.HasPrefix(name, fileTempPrefix)
	index := strings.HasPrefix(name, userIndexPrefix) && len(name) == 64 && fileIsHex(name[2:])
	record := len(name) == 62 && fileIsHex(name)
	if !temp && !index && !record {
		return false // the lock file, or not a name this storage gives
	}
	fi, err := f.Info()
	if err != nil {
		return false
	}
	dead := b.dead(fi, index, now)
	if temp {
		dead = now.Sub(fi.ModTime()) >= staleTemp
	}
	return dead && os.Remove(p) == nil
}

// removeFreeSessionLock removes the session lock file p if nobody holds it:
// it takes the file's flock without waiting, and unlinks it while holding
// it, so a TryLock that locks the file afterwards sees it was removed (see
// TryLock). A lock held in this process is refused too (flock locks of two
// opens of one file exclude each other). Without flock nothing is removed:
// whether a lock is held cannot be told (and no lock files are made).
func (b *fileBackend) removeFreeSessionLock(p string) bool {
	if !crossProcessLocking {
		return false
	}
	f, err := openLockFile(p, false)
	if err != nil {
		return false
	}
	defer f.Close()
	if ok, err := tryLockFile(f); !ok || err != nil {
		return false
	}
	if ok, err := fileStillAt(f, p); !ok || err != nil {
		return false
	}
	return os.Remove(p) == nil
}
