//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package filestorage

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// Issue 8.11: a FIFO where a record belongs is a corrupt record (logged, a
// fresh session), never opened for a blocking read: reading it would block
// the request forever. Put and Delete of the zero Version replace or remove
// it; a versioned write is a conflict.
func TestFileStorageFIFOIsCorrupt(t *testing.T) {
	logs := sessiontest.NewLogs()
	o := session.Options{Logger: logs.Logger()}
	b, err := newFileBackend(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	p := b.path("fifo")
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	st := mustStorage(t, b, o)
	s, err := st.Read(ctx, "fifo")
	if err != nil || s.ID() == "fifo" {
		t.Fatalf("Read = (%v, %v), want a fresh session", s, err)
	}
	if logs.Warnings() != 1 || !logs.Contains(logID("fifo")) {
		t.Errorf("want one warning naming %s:\n%s", logID("fifo"), logs)
	}

	key := b.Key("fifo")
	if _, _, err := b.Get(ctx, key); !errors.Is(err, session.ErrCorruptRecord) {
		t.Errorf("Get: %v, want ErrCorruptRecord", err)
	}
	if err := b.Touch(ctx, key, 0); !errors.Is(err, session.ErrCorruptRecord) {
		t.Errorf("Touch: %v, want ErrCorruptRecord", err)
	}
	if _, err := b.Put(ctx, key, []byte("x"), 0, session.Version{N: 1, Tag: "x"}); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put over a version: %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, key, session.Version{N: 1, Tag: "x"}); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Delete of a version: %v, want ErrConflict", err)
	}
	if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO changed: %v, %v", fi, err)
	}
	if err := b.Delete(ctx, key, session.Version{}); err != nil {
		t.Errorf("Delete of the zero Version: %v", err)
	}
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Delete of the zero Version left the FIFO: %v", err)
	}
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := b.Put(ctx, key, []byte(`[{},{}]`), 0, session.Version{})
	if err != nil {
		t.Fatalf("Put of the zero Version over a FIFO: %v", err)
	}
	if data, got, err := b.Get(ctx, key); err != nil || got != v || string(data) != `[{},{}]` {
		t.Errorf("Get after the Put = %s, %v, %v", data, got, err)
	}
}
