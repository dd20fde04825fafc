package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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
// with an IdleTimeout or Lifetime, files past it are ignored and swept in the
// background from time to time. A missing dir is created; a dir that is a
// file or cannot be written is an error.
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

	sweepMu   sync.Mutex
	lastSweep time.Time
	sweeping  atomic.Bool
}

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
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(b.root, h[:2], h[2:])
}

func (b *fileBackend) dead(fi fs.FileInfo, now time.Time) bool {
	return b.maxAge > 0 && !now.Before(fi.ModTime().Add(b.maxAge))
}

func (b *fileBackend) Get(_ context.Context, id string) ([]byte, error) {
	p := b.path(id)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		// A directory or symlink where a record belongs is not ours to follow.
		return nil, fmt.Errorf("session file %s is not a regular file", b.rel(p))
	}
	if b.dead(fi, b.o.now()) {
		return nil, ErrNotFound
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return data, err
}

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
// record a concurrent request deleted. (A delete between its check and its
// rename can still lose to it: the window is one rename long.)
func (b *fileBackend) Update(_ context.Context, id string, record []byte, _ time.Duration) error {
	return b.write(id, record, true)
}

// write stores record atomically: a temporary file renamed over the record.
// With mustExist, a missing or expired record is ErrNotFound.
func (b *fileBackend) write(id string, record []byte, mustExist bool) error {
	now := b.o.now()
	p := b.path(id)
	if mustExist {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || err == nil && b.dead(fi, now) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(record)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(tmp, now, now)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	b.maybeSweep(now)
	return nil
}

func (b *fileBackend) Delete(_ context.Context, id string) error {
	err := os.Remove(b.path(id))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Touch sets the file's mtime to now, which restarts its idle timeout.
func (b *fileBackend) Touch(_ context.Context, id string, _ time.Duration) error {
	now := b.o.now()
	err := os.Chtimes(b.path(id), now, now)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}

// sweepInterval is how often a write starts a background sweep.
func (b *fileBackend) sweepInterval() time.Duration {
	return min(max(b.maxAge/2, time.Minute), time.Hour)
}

func (b *fileBackend) maybeSweep(now time.Time) {
	if b.maxAge == 0 {
		return
	}
	b.sweepMu.Lock()
	due := now.Sub(b.lastSweep) >= b.sweepInterval()
	if due {
		b.lastSweep = now
	}
	b.sweepMu.Unlock()
	if due && b.sweeping.CompareAndSwap(false, true) {
		go func() {
			defer b.sweeping.Store(false)
			if _, err := b.sweep(now); err != nil {
				b.o.logger().Warn("session: file storage sweep", "error", err)
			}
		}()
	}
}

// staleTemp is the age past which a leftover temporary file (from a crash
// between write and rename) is removed.
const staleTemp = time.Hour

// sweep removes the records that are past their idle timeout or lifetime and
// temporary files left by crashes; it returns how many files it removed.
// Only regular files in the shard directories are considered; symlinks are
// never followed.
func (b *fileBackend) sweep(now time.Time) (int, error) {
	shards, err := os.ReadDir(b.root)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		dir := filepath.Join(b.root, sh.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, f := range files {
			if !f.Type().IsRegular() {
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
	}
	return removed, nil
}
