package filestorage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// File storage's index files name neither the user nor any id, and go when
// the user has no session left.
func TestFileUserIndexFiles(t *testing.T) {
	dir := t.TempDir()
	clock := sessiontest.NewFakeClock(time.Time{})
	o := session.Options{UserKey: "user", Now: clock.Now, Lifetime: time.Hour}
	fb, err := newFileBackend(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	st := mustStorage(t, fb, o)
	ix := st.(session.UserIndex)
	a, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice@example.com") })
	b, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice@example.com") })
	indexes := func() []string {
		t.Helper()
		var found []string
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), "u-") {
				found = append(found, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	files := indexes()
	if len(files) != 1 {
		t.Fatalf("%d index files, want 1", len(files))
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{a, b, "alice"} {
		if strings.Contains(string(data), secret) || strings.Contains(files[0], secret) {
			t.Errorf("the index file reveals %q", secret)
		}
	}
	if n := strings.Count(string(data), "\n"); n != 3 {
		t.Errorf("index has %d lines, want a header and 2 members:\n%s", n, data)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("index file mode %v", fi.Mode().Perm())
	}
	// Damaged lines in the index file are skipped, not an error.
	if err := os.WriteFile(files[0], append(data, "garbage\nx y\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if list, err := ix.Sessions(context.Background(), "alice@example.com"); err != nil || len(list) != 2 {
		t.Fatalf("Sessions with garbage lines = %d, %v", len(list), err)
	}
	sessiontest.Request(t, st, a, func(s *session.Session) { s.Destroy() })
	sessiontest.Request(t, st, b, func(s *session.Session) { s.Unset("user") })
	if files := indexes(); len(files) != 0 {
		t.Errorf("index files left after the last logout: %v", files)
	}
	// An index whose sessions all expired is removed by the sweep.
	sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "bob") })
	files = indexes()
	if len(files) != 1 {
		t.Fatalf("%d index files, want 1", len(files))
	}
	clock.Advance(2 * time.Hour)
	if _, err := fileSweep(fb, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if files := indexes(); len(files) != 0 {
		t.Errorf("the sweep left an index of dead sessions: %v", files)
	}
}
