//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package session_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// Issue 8.11: a FIFO where a record belongs is a corrupt record (logged, a
// fresh session), never opened: reading it would block the request forever.
func TestFileStorageFIFOIsCorrupt(t *testing.T) {
	logs := sessiontest.NewLogs()
	o := session.Options{Logger: logs.Logger()}
	b, err := session.NewFileBackendForTest(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	p := session.FilePath(b, "fifo")
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	st := session.NewBackendStorage(b, o)
	s, err := st.Read(ctx, "fifo")
	if err != nil || s.ID() == "fifo" {
		t.Fatalf("Read = (%v, %v), want a fresh session", s, err)
	}
	if logs.Warnings() != 1 || !logs.Contains(session.LogID("fifo")) {
		t.Errorf("want one warning naming %s:\n%s", session.LogID("fifo"), logs)
	}
}
