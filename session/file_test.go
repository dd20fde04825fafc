package session_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

func fileConfig() sessiontest.Config {
	return sessiontest.Config{
		Backend: func(t *testing.T, o session.Options) session.Backend {
			b, err := session.NewFileBackendForTest(filepath.Join(t.TempDir(), "sessions"), o)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		ClockControlsExpiry: true,
		UserIndex:           true,
	}
}

func writeRecordFile(t *testing.T, p string, rec []byte, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// recordFiles lists the record files under root (not temporary files).
func recordFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestFileStorageConformance(t *testing.T) { sessiontest.Run(t, fileConfig()) }

// The exported constructor itself; the hooks read and write record files
// where Remix would (dir/<sha256[0:2]>/<sha256[2:]>), so that every scenario
// runs.
func TestNewFileStorageConformance(t *testing.T) {
	var mu sync.Mutex
	dirs := map[session.Storage]string{}
	path := func(st session.Storage, id string) string {
		mu.Lock()
		defer mu.Unlock()
		sum := sha256.Sum256([]byte(id))
		h := hex.EncodeToString(sum[:])
		return filepath.Join(dirs[st], h[:2], h[2:])
	}
	sessiontest.Run(t, sessiontest.Config{
		New: func(t *testing.T, o session.Options) session.Storage {
			dir := t.TempDir()
			st, err := session.NewFileStorage(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			dirs[st] = dir
			mu.Unlock()
			return st
		},
		ServerSide:          true,
		ClockControlsExpiry: true,
		UserIndex:           true,
		Count: func(t *testing.T, st session.Storage) int {
			mu.Lock()
			defer mu.Unlock()
			return len(recordFiles(t, dirs[st]))
		},
		Put: func(t *testing.T, st session.Storage, id string, rec []byte) {
			writeRecordFile(t, path(st, id), rec, time.Now())
		},
		Get: func(t *testing.T, st session.Storage, id string) ([]byte, bool) {
			rec, err := os.ReadFile(path(st, id))
			return rec, err == nil
		},
	})
}

// The Remix layout: dir/<sha256hex[:2]>/<sha256hex[2:]>.
func TestFileStorageLayout(t *testing.T) {
	dir := t.TempDir()
	clock := sessiontest.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	o := session.Options{Now: clock.Now, UseUnknownIDs: true}
	b, err := session.NewFileBackendForTest(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "2c", "f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
	if got := session.FilePath(b, "hello"); got != want {
		t.Fatalf("path(hello) = %s, want %s", got, want)
	}
	st := session.NewBackendStorage(b, o)
	sessiontest.Request(t, st, "hello", func(s *session.Session) { s.Set("count", 1) })
	data, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	ms := clock.Now().UnixMilli()
	if w := fmt.Sprintf(`[{"count":1},{},{"c":%d,"s":%d}]`, ms, ms); string(data) != w {
		t.Errorf("file content %s, want %s", data, w)
	}
	fi, _ := os.Stat(want)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	if !fi.ModTime().Equal(clock.Now()) {
		t.Errorf("mtime %v, want the save time %v", fi.ModTime(), clock.Now())
	}
	di, _ := os.Stat(filepath.Dir(want))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("shard dir mode %v, want 0700", di.Mode().Perm())
	}
	// No temporary files left behind: the record and the shard's lock file.
	entries, _ := os.ReadDir(filepath.Dir(want))
	if len(entries) != 2 || entries[0].Name() != ".lock" {
		t.Errorf("shard dir holds %v, want .lock and the record", entries)
	}
}

func TestFileStorageDirectory(t *testing.T) {
	t.Run("missing nested dir is created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b", "c")
		if _, err := session.NewFileStorage(dir, session.Options{}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("stat: %v, %v", fi, err)
		}
	})
	t.Run("a file is an error (T-FS2)", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "file")
		os.WriteFile(p, []byte("x"), 0o600)
		_, err := session.NewFileStorage(p, session.Options{})
		if err == nil || !strings.Contains(err.Error(), "is not a directory") || !strings.Contains(err.Error(), p) {
			t.Errorf("err = %v, want 'Path %q is not a directory'", err, p)
		}
	})
	t.Run("empty path", func(t *testing.T) {
		if _, err := session.NewFileStorage("", session.Options{}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("negative durations", func(t *testing.T) {
		if _, err := session.NewFileStorage(t.TempDir(), session.Options{IdleTimeout: -1}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("read-only dir", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions")
		}
		dir := t.TempDir()
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
		if _, err := session.NewFileStorage(dir, session.Options{}); err == nil {
			t.Error("a read-only directory was accepted")
		}
	})
	t.Run("no probe files left", func(t *testing.T) {
		dir := t.TempDir()
		session.NewFileStorage(dir, session.Options{})
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("dir holds %v", entries)
		}
	})
}

// T-FS1: hostile ids never resolve outside the directory, at the backend
// (hashed) nor through the storage (refused before the backend).
func TestFileStorageTraversal(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "store")
	b, err := session.NewFileBackendForTest(root, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := append([]string{"../../etc/x", `..\..\x`, "/abs", "a/b/c", `a\b`, "%2e%2e%2f", "..", ".", "a\x00b"}, sessiontest.MalformedCookieValues...)
	for _, id := range ids {
		p := session.FilePath(b, id)
		rel, err := filepath.Rel(root, p)
		if err != nil || strings.HasPrefix(rel, "..") || strings.Count(rel, string(filepath.Separator)) != 1 || len(rel) != 65 {
			t.Errorf("path(%.20q) = %s (rel %s)", id, p, rel)
		}
		if err := b.Set(ctx, id, []byte(`[{},{}]`), 0); err != nil {
			t.Errorf("Set(%.20q): %v", id, err)
		}
	}
	st := session.NewBackendStorage(b, session.Options{UseUnknownIDs: true})
	for _, id := range ids {
		sessiontest.Request(t, st, id, func(s *session.Session) { s.Set("x", 1) })
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 || entries[0].Name() != "store" {
		t.Errorf("files outside the store: %v", entries)
	}
	for _, f := range recordFiles(t, root) {
		rel, _ := filepath.Rel(root, f)
		if len(rel) != 65 {
			t.Errorf("unexpected file %s", rel)
		}
	}
}

// T-FS5: a symlink or a directory where a record belongs is never followed:
// it is a corrupt record (issue 8.11), logged without the id and read as a
// fresh session, not an error on every request of that user; the sweep
// leaves symlinks and their targets alone.
func TestFileStorageSymlinkAndDirectory(t *testing.T) {
	parent := t.TempDir()
	secret := filepath.Join(parent, "secret")
	os.WriteFile(secret, []byte(`[{"admin":true},{}]`), 0o600)
	clock := sessiontest.NewFakeClock(time.Time{})
	logs := sessiontest.NewLogs()
	o := session.Options{Now: clock.Now, IdleTimeout: time.Minute, Logger: logs.Logger()}
	b, err := session.NewFileBackendForTest(filepath.Join(parent, "store"), o)
	if err != nil {
		t.Fatal(err)
	}
	st := session.NewBackendStorage(b, o)
	link := session.FilePath(b, "linked")
	os.MkdirAll(filepath.Dir(link), 0o700)
	if err := os.Symlink(secret, link); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	dirRec := session.FilePath(b, "isdir")
	os.MkdirAll(dirRec, 0o700)
	for _, id := range []string{"linked", "isdir"} {
		s, err := st.Read(ctx, id)
		if err != nil || s.ID() == id || s.Has("admin") {
			t.Errorf("Read of %s = (%v, %v), want a fresh session", id, s, err)
		}
		if !logs.Contains(session.LogID(id)) || logs.Contains(id) {
			t.Errorf("%s: want a warning naming %s and not the id:\n%s", id, session.LogID(id), logs)
		}
	}
	if n := logs.Warnings(); n != 2 {
		t.Errorf("%d warnings, want 2:\n%s", n, logs)
	}
	old := clock.Now().Add(-24 * time.Hour)
	os.Chtimes(secret, old, old)
	clock.Advance(time.Hour)
	if _, err := session.FileSweep(b, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("the sweep removed the symlink: %v", err)
	}
	if _, err := os.Stat(secret); err != nil {
		t.Errorf("the sweep reached the symlink's target: %v", err)
	}
}

// T-FS3: concurrent writes and reads of one record never show a torn file.
func TestFileStorageNoTornReads(t *testing.T) {
	b, err := session.NewFileBackendForTest(t.TempDir(), session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([][]byte, 4)
	for i := range recs {
		recs[i] = []byte(fmt.Sprintf(`[{"v":%q},{}]`, strings.Repeat(string(rune('a'+i)), 64<<10)))
	}
	b.Set(ctx, "id", recs[0], 0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := b.Set(ctx, "id", recs[(i+w)%len(recs)], 0); err != nil {
					t.Errorf("Set: %v", err)
					return
				}
			}
		}()
	}
	for i := 0; i < 300; i++ {
		got, err := b.Get(ctx, "id")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		ok := false
		for _, r := range recs {
			ok = ok || bytes.Equal(got, r)
		}
		if !ok {
			t.Fatalf("torn read: %d bytes", len(got))
		}
	}
	close(stop)
	wg.Wait()
}

// T-FS4: the sweep removes records past the idle timeout (else the
// lifetime) and stale temporary files, and nothing else.
func TestFileStorageSweep(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    session.Options
	}{
		{"idle", session.Options{IdleTimeout: 10 * time.Minute, Lifetime: 24 * time.Hour}},
		{"lifetime", session.Options{Lifetime: 10 * time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := sessiontest.NewFakeClock(time.Time{})
			tc.o.Now = clock.Now
			b, err := session.NewFileBackendForTest(t.TempDir(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			root := session.FileRoot(b)
			b.Set(ctx, "old", []byte(`[{},{}]`), 0)
			clock.Advance(5 * time.Minute)
			b.Set(ctx, "touched", []byte(`[{},{}]`), 0)
			b.Set(ctx, "fresh", []byte(`[{},{}]`), 0)
			clock.Advance(4 * time.Minute)
			b.Touch(ctx, "touched", 0)
			staleTmp := filepath.Join(filepath.Dir(session.FilePath(b, "old")), ".tmp-stale")
			freshTmp := filepath.Join(filepath.Dir(session.FilePath(b, "fresh")), ".tmp-fresh")
			writeRecordFile(t, staleTmp, []byte("x"), clock.Now().Add(-2*time.Hour))
			writeRecordFile(t, freshTmp, []byte("x"), clock.Now())
			other := filepath.Join(root, "README")
			writeRecordFile(t, other, []byte("not ours"), clock.Now().Add(-48*time.Hour))
			clock.Advance(2 * time.Minute) // old: 11 min; fresh: 6; touched: 2
			if _, err := b.Get(ctx, "old"); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("a file past its max age: Get = %v, want ErrNotFound", err)
			}
			n, err := session.FileSweep(b, clock.Now())
			if err != nil || n != 2 {
				t.Errorf("sweep removed %d (err %v), want 2 (old and the stale temp file)", n, err)
			}
			for p, want := range map[string]bool{
				session.FilePath(b, "old"): false, staleTmp: false,
				session.FilePath(b, "fresh"): true, session.FilePath(b, "touched"): true, freshTmp: true, other: true,
			} {
				if _, err := os.Stat(p); (err == nil) != want {
					t.Errorf("%s: exists %v, want %v", p, err == nil, want)
				}
			}
			clock.Advance(5 * time.Minute)
			if _, err := b.Get(ctx, "fresh"); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("fresh after 11 min: %v", err)
			}
			if tc.o.IdleTimeout > 0 {
				if _, err := b.Get(ctx, "touched"); err != nil {
					t.Errorf("touched 7 min ago: %v", err)
				}
			}
		})
	}
}

// Issue 9.5: writes sweep in bounded steps, one shard each, with no
// goroutine: after a pass's worth of writes spread over the sweep interval,
// every expired file is gone, and no single write swept more than one shard.
func TestFileStorageSweepsInSteps(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	o := session.Options{Now: clock.Now, IdleTimeout: 10 * time.Minute}
	b, err := session.NewFileBackendForTest(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	const old = 600 // in most of the 256 shards
	alive := map[string]bool{}
	for i := range old {
		id := fmt.Sprint("old", i)
		b.Set(ctx, id, []byte(`[{},{}]`), 0)
		alive[id] = true
	}
	clock.Advance(11 * time.Minute) // the old records are dead
	step := 5 * time.Minute / 256   // a pass takes IdleTimeout/2
	for i := range 256 {
		b.Set(ctx, fmt.Sprint("new", i), []byte(`[{},{}]`), 0)
		shards := map[string]bool{}
		for id := range alive {
			if _, err := os.Lstat(session.FilePath(b, id)); err != nil {
				delete(alive, id)
				shards[filepath.Base(filepath.Dir(session.FilePath(b, id)))] = true
			}
		}
		if len(shards) > 1 {
			t.Fatalf("one write swept %d shards, want at most 1", len(shards))
		}
		clock.Advance(step + time.Millisecond)
	}
	if len(alive) > 0 {
		t.Errorf("%d of %d dead records survived a whole sweep pass", len(alive), old)
	}
	if n := len(recordFiles(t, session.FileRoot(b))); n != 256 {
		t.Errorf("%d record files after the pass, want the 256 live ones", n)
	}
}

// A touch moves the mtime to the (fake) clock, which restarts the idle timeout.
func TestFileStorageTouchSetsMtime(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	o := session.Options{Now: clock.Now, IdleTimeout: 10 * time.Minute}
	b, err := session.NewFileBackendForTest(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	st := session.NewBackendStorage(b, o)
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	clock.Advance(3 * time.Minute)
	sessiontest.Request(t, st, id, nil)
	fi, _ := os.Stat(session.FilePath(b, id))
	if !fi.ModTime().Equal(clock.Now()) {
		t.Errorf("mtime %v after a refresh, want %v", fi.ModTime(), clock.Now())
	}
	if err := b.Touch(ctx, "missing", 0); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch of a missing record: %v", err)
	}
	if err := b.Delete(ctx, "missing"); err != nil {
		t.Errorf("Delete of a missing record: %v", err)
	}
}

// A corrupt file is logged (without the id) and treated as absent (T-FAIL4).
func TestFileStorageCorruptFile(t *testing.T) {
	logs := sessiontest.NewLogs()
	o := session.Options{Logger: logs.Logger()}
	b, _ := session.NewFileBackendForTest(t.TempDir(), o)
	st := session.NewBackendStorage(b, o)
	writeRecordFile(t, session.FilePath(b, "truncated"), []byte(`[{"a":1},{"b"`), time.Now())
	s, err := st.Read(ctx, "truncated")
	if err != nil || s.ID() == "truncated" || s.Len() != 0 {
		t.Fatalf("Read = (%v, %v)", s, err)
	}
	if logs.Warnings() != 1 || logs.Contains("truncated") || !logs.Contains(session.LogID("truncated")) {
		t.Errorf("logs: %s", logs)
	}
}
