package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// NewFileStorage returns a Storage that keeps one file per session under dir,
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
// whole pass takes half the max age (between a minute and an hour). No
// goroutine is started and nothing needs closing. A missing dir is created;
// a dir that is a file or cannot be written is an error.
//
// Writes of one record (save, delete, refresh, sweep) are mutually
// exclusive, within the process and, on systems with flock (Linux, macOS,
// the BSDs), across processes sharing dir: each takes an advisory lock on
// its shard's ".lock" file. So a save cannot bring back a record that a
// concurrent logout or RegenerateID(true) deleted. On other systems only the
// in-process exclusion holds.
func NewFileStorage(dir string, o Options) (Storage, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	b, err := newFileBackend(dir, o)
	if err != nil {
		return nil, err
	}
	return NewBackendStorage(b, o), nil
}

type fileBackend struct {
	root string
	o    Options
	// maxAge is how long after its mtime a file is dead: the idle timeout,
	// else the lifetime, else 0 (never).
	maxAge time.Duration

	// shards serialise the writes (Set, Update, Delete, Touch, sweep) of
	// the records in one shard directory within this process; lockShard
	// adds an flock on the shard's lock file for other processes.
	shards [256]sync.Mutex

	// The sweep: each write past sweepStep after the last step sweeps the
	// next shard, so a whole pass takes sweepInterval and no write ever
	// scans more than one shard. No goroutine.
	sweepMu   sync.Mutex
	lastSweep time.Time
	nextShard int
}

// lockName is the lock file in each shard directory. Like temporary files it
// starts with a dot, which no record name (hex digits) does.
const lockName = ".lock"

func newFileBackend(dir string, o Options) (*fileBackend, error) {
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

	o = o.withDefaults()
	b := &fileBackend{root: root, o: o, maxAge: o.IdleTimeout}
	if b.maxAge == 0 {
		b.maxAge = max(o.Lifetime, 0)
	}
	b.lastSweep = o.now()
	return b, nil
}

// path returns the file of id: the Remix layout, a 2-hex-digit shard then the
// other 62 hex digits of SHA-256(id).
func (b *fileBackend) path(id string) string {
	p, _ := b.locate(id)
	return p
}

// locate returns the file of id and the number of its shard.
func (b *fileBackend) locate(id string) (string, int) {
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(b.root, h[:2], h[2:]), int(sum[0])
}

func (b *fileBackend) shardDir(shard int) string {
	return filepath.Join(b.root, hex.EncodeToString([]byte{byte(shard)}))
}

// lockShard makes this caller the only writer of the shard's records, in
// this process (a mutex) and in every process sharing the directory (flock
// on the shard's lock file, see lockFile). With create, a missing shard
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
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
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

func (b *fileBackend) dead(fi fs.FileInfo, now time.Time) bool {
	return b.maxAge > 0 && !now.Before(fi.ModTime().Add(b.maxAge))
}

func (b *fileBackend) Get(_ context.Context, id string) ([]byte, error) {
	p := b.path(id)
	f, err := openRecord(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, ErrNotFound
	case errors.Is(err, errNotRegular):
		return nil, b.notRegular(p)
	case err != nil:
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, b.notRegular(p)
	case b.dead(fi, b.o.now()):
		return nil, ErrNotFound
	}
	return readRecord(f, fi.Size())
}

// notRegular is the error for a directory, symlink or FIFO where the record
// p belongs: not ours to follow (nor to block on), so the record reads as
// corrupt.
func (b *fileBackend) notRegular(p string) error {
	return fmt.Errorf("%w: session file %s is not a regular file", ErrCorruptRecord, b.rel(p))
}

// errNotRegular is openRecord's refusal of a path that is not a regular
// file.
var errNotRegular = errors.New("not a regular file")

// readRecord reads f, whose size was size when it was opened: in one read
// system call when it still is (os.ReadFile makes two, the second to see
// the end). Records are replaced by a rename, never written in place, so an
// open record does not change; a file that does is read to its end.
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

func (b *fileBackend) Set(_ context.Context, id string, record []byte, _ time.Duration) error {
	return b.write(id, record, false)
}

// Update rewrites a live record; it is how a save avoids bringing back a
// record a concurrent request deleted. The shard lock makes its check and
// its rename one step for every writer, in this process and in others.
func (b *fileBackend) Update(_ context.Context, id string, record []byte, _ time.Duration) error {
	return b.write(id, record, true)
}

// write stores record atomically: a temporary file renamed over the record,
// under the shard lock. With mustExist, a missing or expired record is
// ErrNotFound.
func (b *fileBackend) write(id string, record []byte, mustExist bool) error {
	now := b.o.now()
	p, shard := b.locate(id)
	unlock, err := b.lockShard(shard, true)
	if err != nil {
		return err
	}
	err = b.writeLocked(p, record, now, mustExist)
	unlock()
	if err == nil {
		b.maybeSweep(now)
	}
	return err
}

func (b *fileBackend) writeLocked(p string, record []byte, now time.Time, mustExist bool) error {
	if mustExist {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || err == nil && b.dead(fi, now) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(record)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && b.o.Now != nil {
		// The file's mtime is when the record was saved (expiry reads
		// it). The system clock set it already; a clock of the caller's
		// own (Options.Now, in tests) must set it: a system call that
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

func (b *fileBackend) Delete(_ context.Context, id string) error {
	p, shard := b.locate(id)
	unlock, err := b.lockShard(shard, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no shard directory: no record
	}
	if err != nil {
		return err
	}
	defer unlock()
	err = os.Remove(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Touch sets the file's mtime to now, which restarts its idle timeout.
func (b *fileBackend) Touch(_ context.Context, id string, _ time.Duration) error {
	now := b.o.now()
	p, shard := b.locate(id)
	unlock, err := b.lockShard(shard, false)
	if err == nil {
		defer unlock()
		err = os.Chtimes(p, now, now)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}

// sweepInterval is how long a whole sweep pass (every shard) takes: half the
// max age, between a minute and an hour.
func (b *fileBackend) sweepInterval() time.Duration {
	return min(max(b.maxAge/2, time.Minute), time.Hour)
}

// maybeSweep sweeps the next shard when a step is due: one shard every
// sweepInterval/256, run by the write that finds it due, after that write
// released its own shard (a writer never holds two shard locks).
func (b *fileBackend) maybeSweep(now time.Time) {
	if b.maxAge == 0 {
		return
	}
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
		b.o.logger().Warn("session: file storage sweep", "shard", filepath.Base(b.shardDir(shard)), "error", err)
	}
}

// staleTemp is the age past which a leftover temporary file (from a crash
// between write and rename) is removed.
const staleTemp = time.Hour

// sweepShard removes the records of one shard that are past their idle
// timeout or lifetime, and temporary files left by crashes; it returns how
// many files it removed. Users' index files (Options.UserKey) lose their
// dead members, and go when none is left. It holds the shard lock, so no write of that shard
// can land between its check and its remove. Only regular files are
// considered; symlinks are never followed.
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
		if !f.Type().IsRegular() || f.Name() == lockName {
			continue
		}
		if strings.HasPrefix(f.Name(), userIndexPrefix) {
			// A user's index: rewritten without the members whose records
			// are gone or dead, removed when none is left. (A record that
			// is gone or dead never comes back: only a save holding this
			// lock can add a member.)
			p := filepath.Join(dir, f.Name())
			if list, err := readIndex(p); err == nil {
				if err := b.writeIndexLocked(p, list, now); err == nil && len(list) > 0 {
					if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
						removed++
					}
				}
			}
			continue
		}
		fi, err := f.Info()
		if err != nil {
			continue
		}
		isTemp := strings.HasPrefix(f.Name(), ".tmp-")
		if isTemp && now.Sub(fi.ModTime()) >= staleTemp || !isTemp && b.dead(fi, now) {
			if os.Remove(filepath.Join(dir, f.Name())) == nil {
				removed++
			}
		}
	}
	return removed, nil
}
