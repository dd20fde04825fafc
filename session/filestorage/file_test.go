package filestorage

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
			b, err := newFileBackend(filepath.Join(t.TempDir(), "sessions"), o)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		ClockControlsExpiry: true,
		UserIndex:           true,
		Locks:               true,
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
		h := session.HashID(id)
		return filepath.Join(dirs[st], h[:2], h[2:])
	}
	sessiontest.Run(t, sessiontest.Config{
		New: func(t *testing.T, o session.Options) (session.Storage, error) {
			dir := t.TempDir()
			st, err := New(dir, Options{Session: o})
			if err == nil {
				mu.Lock()
				dirs[st] = dir
				mu.Unlock()
			}
			return st, err
		},
		ServerSide:          true,
		ClockControlsExpiry: true,
		UserIndex:           true,
		Locks:               true,
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
	b, err := newFileBackend(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "2c", "f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
	if got := b.path("hello"); got != want {
		t.Fatalf("path(hello) = %s, want %s", got, want)
	}
	st := mustStorage(t, b, o)
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
		if _, err := New(dir, Options{Session: session.Options{}}); err != nil {
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
		_, err := New(p, Options{Session: session.Options{}})
		if err == nil || !strings.Contains(err.Error(), "is not a directory") || !strings.Contains(err.Error(), p) {
			t.Errorf("err = %v, want 'Path %q is not a directory'", err, p)
		}
	})
	t.Run("empty path", func(t *testing.T) {
		if _, err := New("", Options{Session: session.Options{}}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("negative durations", func(t *testing.T) {
		if _, err := New(t.TempDir(), Options{Session: session.Options{IdleTimeout: -1}}); err == nil {
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
		if _, err := New(dir, Options{Session: session.Options{}}); err == nil {
			t.Error("a read-only directory was accepted")
		}
	})
	t.Run("no probe files left", func(t *testing.T) {
		dir := t.TempDir()
		New(dir, Options{Session: session.Options{}})
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("dir holds %v", entries)
		}
	})
}

// fileKeyOf is the key the file backend gives id's record, computed here
// from the layout: "<sha256hex[:2]>/<sha256hex[2:]>".
func fileKeyOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:])
	return h[:2] + "/" + h[2:]
}

// Keys are the record's path below the directory ("/"-separated), and
// "<shard>/u-<62 hex>" for a user's index, which names neither the user
// nor any id and is never a record's key.
func TestFileBackendKeys(t *testing.T) {
	b, err := newFileBackend(t.TempDir(), session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Key("hello"), "2c/f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"; got != want {
		t.Errorf("Key(hello) = %s, want %s", got, want)
	}
	for _, id := range []string{"hello", "a", "", "../x"} {
		if got := filepath.Join(b.root, filepath.FromSlash(b.Key(id))); got != b.path(id) {
			t.Errorf("Key(%q) = %s, not the record's path %s", id, b.Key(id), b.path(id))
		}
	}
	sum := sha256.Sum256([]byte("sessionkit user index\x00alice@example.com"))
	h := hex.EncodeToString(sum[:])
	if got, want := b.IndexKey("alice@example.com"), h[:2]+"/u-"+h[2:]; got != want {
		t.Errorf("IndexKey = %s, want %s", got, want)
	}
	for _, user := range []string{"", "alice", "hello"} {
		k := b.IndexKey(user)
		if k == b.Key(user) || strings.Contains(k, user) && user != "" || len(k) != 67 {
			t.Errorf("IndexKey(%q) = %s", user, k)
		}
	}
	if b.IndexKey("a") == b.IndexKey("b") {
		t.Error("two users share an index key")
	}
}

// Compare-and-set: a Put or Delete lands only over the version it names
// (the zero Version: nothing there); otherwise ErrConflict and nothing is
// written. The version is the content, so a rewrite by another program (in
// place, as Remix does) is a change too.
func TestFileBackendCompareAndSet(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	b, err := newFileBackend(t.TempDir(), session.Options{Now: clock.Now, IdleTimeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	key := b.Key("cas")
	p := b.path("cas")
	content := func() string {
		t.Helper()
		data, err := os.ReadFile(p)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(data)
	}
	put := func(data string, v session.Version) (session.Version, error) {
		return b.Put(ctx, key, []byte(data), time.Minute, v)
	}

	if _, _, err := b.Get(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get of nothing: %v", err)
	}
	if _, err := put("one", session.Version{N: 1, Tag: "zero"}); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put over a version, with nothing there: %v, want ErrConflict", err)
	}
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused Put wrote the file: %v", err)
	}
	v1, err := put("one", session.Version{})
	if err != nil || v1.IsZero() {
		t.Fatalf("Put over nothing: %v, %v", v1, err)
	}
	data, v, err := b.Get(ctx, key)
	if err != nil || string(data) != "one" || v != v1 {
		t.Fatalf("Get = %q, %v, %v; want one, %v", data, v, err, v1)
	}
	if _, err := put("two", session.Version{}); !errors.Is(err, session.ErrConflict) || content() != "one" {
		t.Errorf("Put of the zero Version over a record: %v (file %s), want ErrConflict and no write", err, content())
	}
	v2, err := put("two", v1)
	if err != nil || v2 == v1 || content() != "two" {
		t.Fatalf("Put over the current version: %v, %v (file %s)", v2, err, content())
	}
	if _, err := put("three", v1); !errors.Is(err, session.ErrConflict) || content() != "two" {
		t.Errorf("Put over a stale version: %v (file %s), want ErrConflict and no write", err, content())
	}
	if err := b.Delete(ctx, key, v1); !errors.Is(err, session.ErrConflict) || content() != "two" {
		t.Errorf("Delete of a stale version: %v (file %s), want ErrConflict and no delete", err, content())
	}

	// Another program rewrites the file in place: same size, then another
	// size. Either way the version read before is stale.
	for _, other := range []string{"owt", "rewritten by remix"} {
		_, before, err := b.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(other), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := put("mine", before); !errors.Is(err, session.ErrConflict) || content() != other {
			t.Errorf("Put after an in-place rewrite to %q: %v (file %s), want ErrConflict", other, err, content())
		}
		if err := b.Delete(ctx, key, before); !errors.Is(err, session.ErrConflict) || content() != other {
			t.Errorf("Delete after an in-place rewrite: %v (file %s), want ErrConflict", err, content())
		}
	}

	// A touch moves the mtime, not the version.
	_, v, _ = b.Get(ctx, key)
	clock.Advance(time.Minute)
	if err := b.Touch(ctx, key, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, after, _ := b.Get(ctx, key); after != v {
		t.Errorf("Touch changed the version from %v to %v", v, after)
	}
	if err := b.Delete(ctx, key, v); err != nil {
		t.Fatalf("Delete of the current version: %v", err)
	}
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Delete left the file: %v", err)
	}
	if err := b.Delete(ctx, key, v); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Delete of a version, with nothing there: %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, key, session.Version{}); err != nil {
		t.Errorf("Delete of the zero Version, with nothing there: %v", err)
	}
	if err := b.Delete(ctx, b.Key("no shard dir either?"), session.Version{}); err != nil {
		t.Errorf("Delete of nothing: %v", err)
	}

	// Delete of the zero Version removes whatever is there.
	put("again", session.Version{})
	if err := b.Delete(ctx, key, session.Version{}); err != nil || content() == "again" {
		t.Errorf("Delete of the zero Version over a record: %v (file %s)", err, content())
	}

	// An empty file is stored: its version is not the zero Version.
	ve, err := put("", session.Version{})
	if err != nil || ve.IsZero() {
		t.Fatalf("Put of an empty record: %v, %v", ve, err)
	}
	if data, v, err := b.Get(ctx, key); err != nil || len(data) != 0 || v != ve {
		t.Errorf("Get of an empty file = %q, %v, %v", data, v, err)
	}
	if _, err := put("x", session.Version{}); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put of the zero Version over an empty file: %v, want ErrConflict", err)
	}

	// A dead file (past the idle timeout) counts as nothing.
	v, err = put("old", ve)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)
	if _, _, err := b.Get(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get of a dead file: %v", err)
	}
	if err := b.Touch(ctx, key, time.Minute); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch of a dead file: %v, want ErrNotFound", err)
	}
	if _, _, err := b.Get(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("a Touch brought a dead file back: %v", err)
	}
	if _, err := put("new", v); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put over the version of a dead file: %v, want ErrConflict", err)
	}
	if _, err := put("new", session.Version{}); err != nil || content() != "new" {
		t.Errorf("Put of the zero Version over a dead file: %v (file %s)", err, content())
	}
}

// Keys come from Key and IndexKey; any other string is refused by every
// method, with an error, and names no file.
func TestFileBackendBadKeys(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "store")
	b, err := newFileBackend(root, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := b.Key("x")
	if _, err := b.Put(ctx, good, []byte("x"), 0, session.Version{}); err != nil {
		t.Fatal(err)
	}
	before := treeOf(t, parent)
	bad := []string{
		"", "../x", "ab/../../x", "/etc/passwd", parent + "/store/" + good, "x",
		"2c", "2c/", good + "0", good[:64], strings.ToUpper(good), "2C" + good[2:],
		good[:2] + "\\" + good[3:], good[:3] + "../" + good[6:], "../" + good[3:],
		"..\\" + good[3:], good[:2] + "/u-" + good[5:] + "/x", good[:2] + "/x-" + good[5:],
		good[:2] + "/.l-" + good[6:], good[:2] + "/.lock", good[:2] + "/.tmp-" + good[8:],
		good[:2] + "/" + good[3:63] + "\x00", strings.Repeat("../", 22)[:65], "ab/" + strings.Repeat(".", 62),
	}
	for _, key := range bad {
		if _, _, err := b.Get(ctx, key); err == nil || errors.Is(err, session.ErrNotFound) {
			t.Errorf("Get(%q): %v, want an error", key, err)
		}
		if _, err := b.Put(ctx, key, []byte("pwned"), 0, session.Version{}); err == nil {
			t.Errorf("Put(%q): no error", key)
		}
		if _, err := b.Put(ctx, key, []byte("pwned"), 0, session.Version{N: 1, Tag: "x"}); err == nil {
			t.Errorf("Put(%q) over a version: no error", key)
		}
		if err := b.Delete(ctx, key, session.Version{}); err == nil {
			t.Errorf("Delete(%q): no error", key)
		}
		if err := b.Touch(ctx, key, time.Minute); err == nil || errors.Is(err, session.ErrNotFound) {
			t.Errorf("Touch(%q): %v, want an error", key, err)
		}
		if len(key) > 8 && strings.Contains(fmt.Sprint(b.Delete(ctx, key, session.Version{})), key) {
			t.Errorf("the error for %q quotes the key (it might be a session id)", key)
		}
	}
	if after := treeOf(t, parent); after != before {
		t.Errorf("bad keys changed the files:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// treeOf lists every file under dir with its content, for comparisons.
func treeOf(t *testing.T, dir string) string {
	t.Helper()
	var sb strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fmt.Fprintf(&sb, "%s %v", p, d.Type())
		if d.Type().IsRegular() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&sb, " %q", data)
		}
		sb.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// T-FS1: hostile ids never resolve outside the directory, at the backend
// (hashed) nor through the storage (refused before the backend).
func TestFileStorageTraversal(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "store")
	b, err := newFileBackend(root, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := append([]string{"../../etc/x", `..\..\x`, "/abs", "a/b/c", `a\b`, "%2e%2e%2f", "..", ".", "a\x00b"}, sessiontest.MalformedCookieValues...)
	for _, id := range ids {
		p := b.path(id)
		rel, err := filepath.Rel(root, p)
		if err != nil || strings.HasPrefix(rel, "..") || strings.Count(rel, string(filepath.Separator)) != 1 || len(rel) != 65 {
			t.Errorf("path(%.20q) = %s (rel %s)", id, p, rel)
		}
		if b.Key(id) != fileKeyOf(id) {
			t.Errorf("Key(%.20q) = %s", id, b.Key(id))
		}
		_, v, _ := b.Get(ctx, b.Key(id)) // ids may repeat
		if _, err := b.Put(ctx, b.Key(id), []byte(`[{},{}]`), 0, v); err != nil {
			t.Errorf("Put(Key(%.20q)): %v", id, err)
		}
	}
	st := mustStorage(t, b, session.Options{UseUnknownIDs: true})
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
	b, err := newFileBackend(filepath.Join(parent, "store"), o)
	if err != nil {
		t.Fatal(err)
	}
	st := mustStorage(t, b, o)
	link := b.path("linked")
	os.MkdirAll(filepath.Dir(link), 0o700)
	if err := os.Symlink(secret, link); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	dirRec := b.path("isdir")
	os.MkdirAll(dirRec, 0o700)
	for _, id := range []string{"linked", "isdir"} {
		s, err := st.Read(ctx, id)
		if err != nil || s.ID() == id || s.Has("admin") {
			t.Errorf("Read of %s = (%v, %v), want a fresh session", id, s, err)
		}
		if !logs.Contains(logID(id)) || logs.Contains(id) {
			t.Errorf("%s: want a warning naming %s and not the id:\n%s", id, logID(id), logs)
		}
	}
	if n := logs.Warnings(); n != 2 {
		t.Errorf("%d warnings, want 2:\n%s", n, logs)
	}
	old := clock.Now().Add(-24 * time.Hour)
	os.Chtimes(secret, old, old)
	clock.Advance(time.Hour)
	if _, err := fileSweep(b, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("the sweep removed the symlink: %v", err)
	}
	if _, err := os.Stat(secret); err != nil {
		t.Errorf("the sweep reached the symlink's target: %v", err)
	}
	// At the backend: corrupt for Get and Touch (whose Chtimes would
	// follow the link), a conflict for a versioned write; the zero Version
	// replaces the link itself, never its target.
	target, _ := os.Stat(secret)
	for _, id := range []string{"linked", "isdir"} {
		if _, _, err := b.Get(ctx, b.Key(id)); !errors.Is(err, session.ErrCorruptRecord) {
			t.Errorf("Get of %s: %v, want ErrCorruptRecord", id, err)
		}
		if err := b.Touch(ctx, b.Key(id), 0); !errors.Is(err, session.ErrCorruptRecord) {
			t.Errorf("Touch of %s: %v, want ErrCorruptRecord", id, err)
		}
		if _, err := b.Put(ctx, b.Key(id), []byte("x"), 0, session.Version{N: 1, Tag: "x"}); !errors.Is(err, session.ErrConflict) {
			t.Errorf("Put of a version over %s: %v, want ErrConflict", id, err)
		}
	}
	if fi, _ := os.Stat(secret); !fi.ModTime().Equal(target.ModTime()) {
		t.Errorf("a Touch reached the symlink's target")
	}
	if _, err := b.Put(ctx, b.Key("isdir"), []byte("x"), 0, session.Version{}); !errors.Is(err, session.ErrCorruptRecord) {
		t.Errorf("Put over a directory: %v, want ErrCorruptRecord", err)
	}
	if _, err := b.Put(ctx, b.Key("linked"), []byte(`[{},{}]`), 0, session.Version{}); err != nil {
		t.Errorf("Put of the zero Version over a symlink: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("after a Put, the record is %v, %v; want a regular file", fi, err)
	}
	if data, _ := os.ReadFile(secret); string(data) != `[{"admin":true},{}]` {
		t.Errorf("a Put wrote through the symlink: the target holds %s", data)
	}
}

// T-FS3: concurrent writes and reads of one record never show a torn file;
// the compare-and-set writes of four writers each land whole or not at all.
func TestFileStorageNoTornReads(t *testing.T) {
	b, err := newFileBackend(t.TempDir(), session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := b.Key("id")
	recs := make([][]byte, 4)
	for i := range recs {
		recs[i] = []byte(fmt.Sprintf(`[{"v":%q},{}]`, strings.Repeat(string(rune('a'+i)), 64<<10)))
	}
	if _, err := b.Put(ctx, key, recs[0], 0, session.Version{}); err != nil {
		t.Fatal(err)
	}
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
				_, v, err := b.Get(ctx, key)
				if err == nil {
					_, err = b.Put(ctx, key, recs[(i+w)%len(recs)], 0, v)
				}
				if err != nil && !errors.Is(err, session.ErrConflict) {
					t.Errorf("Get and Put: %v", err)
					return
				}
			}
		}()
	}
	for i := 0; i < 300; i++ {
		got, v, err := b.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		ok := false
		for _, r := range recs {
			ok = ok || bytes.Equal(got, r)
		}
		if !ok || v.Tag != string(got) {
			t.Fatalf("torn read: %d bytes", len(got))
		}
	}
	close(stop)
	wg.Wait()
}

// Concurrent read-modify-write rounds by compare-and-set lose no update:
// every increment that a Put accepted is in the final count.
func TestFileBackendNoLostUpdates(t *testing.T) {
	b, err := newFileBackend(t.TempDir(), session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := b.Key("counter")
	if _, err := b.Put(ctx, key, []byte("0"), 0, session.Version{}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				data, v, err := b.Get(ctx, key)
				if err != nil {
					t.Error(err)
					return
				}
				var n int
				fmt.Sscan(string(data), &n)
				_, err = b.Put(ctx, key, []byte(fmt.Sprint(n+1)), 0, v)
				switch {
				case err == nil:
					done++
				case !errors.Is(err, session.ErrConflict):
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	data, _, err := b.Get(ctx, key)
	if err != nil || string(data) != fmt.Sprint(workers*each) {
		t.Errorf("counter = %s (%v), want %d", data, err, workers*each)
	}
}

// T-FS4: the sweep removes records past the idle timeout (else the
// lifetime), stale temporary files and free session lock files, and nothing
// else: not fresh files, not users' indexes younger than the lifetime, not
// lock files held, not files with names this storage does not give.
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
			b, err := newFileBackend(t.TempDir(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			root := b.root
			put := func(id string) {
				t.Helper()
				if _, err := b.Put(ctx, b.Key(id), []byte(`[{},{}]`), 0, session.Version{}); err != nil {
					t.Fatal(err)
				}
			}
			put("old")
			if _, err := b.Put(ctx, b.IndexKey("ada"), []byte("index"), 0, session.Version{}); err != nil {
				t.Fatal(err)
			}
			index := filepath.Join(root, filepath.FromSlash(b.IndexKey("ada")))
			clock.Advance(5 * time.Minute)
			put("touched")
			put("fresh")
			clock.Advance(4 * time.Minute)
			if err := b.Touch(ctx, b.Key("touched"), 0); err != nil {
				t.Fatal(err)
			}
			shard := filepath.Dir(b.path("old"))
			staleTmp := filepath.Join(shard, ".tmp-stale")
			freshTmp := filepath.Join(filepath.Dir(b.path("fresh")), ".tmp-fresh")
			writeRecordFile(t, staleTmp, []byte("x"), clock.Now().Add(-2*time.Hour))
			writeRecordFile(t, freshTmp, []byte("x"), clock.Now())
			other := filepath.Join(root, "README")
			writeRecordFile(t, other, []byte("not ours"), clock.Now().Add(-48*time.Hour))
			foreign := filepath.Join(shard, "notes.txt")
			writeRecordFile(t, foreign, []byte("not ours"), clock.Now().Add(-48*time.Hour))
			if ok, err := b.TryLock(ctx, "held", "t1", time.Hour); !ok || err != nil {
				t.Fatal(ok, err)
			}
			if ok, err := b.TryLock(ctx, "free", "t2", time.Hour); !ok || err != nil {
				t.Fatal(ok, err)
			}
			b.Unlock(ctx, "free", "t2")
			held, free := fileSessionLockPath(root, "held"), fileSessionLockPath(root, "free")
			wantLocks := 0
			if crossProcessLocking {
				wantLocks = 1
				for _, p := range []string{held, free} {
					if _, err := os.Stat(p); err != nil {
						t.Fatalf("lock file: %v", err)
					}
				}
			}
			clock.Advance(2 * time.Minute) // old: 11 min; fresh: 6; touched: 2
			if _, _, err := b.Get(ctx, b.Key("old")); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("a file past its max age: Get = %v, want ErrNotFound", err)
			}
			// The index is 11 minutes old: alive within a lifetime of 24
			// hours, however short the idle timeout; dead past a lifetime
			// of 10 minutes.
			indexAlive := tc.o.Lifetime > 11*time.Minute
			if _, _, err := b.Get(ctx, b.IndexKey("ada")); indexAlive && err != nil || !indexAlive && !errors.Is(err, session.ErrNotFound) {
				t.Errorf("an index 11 minutes old, lifetime %v: Get = %v", tc.o.Lifetime, err)
			}
			want := 2 + wantLocks
			if !indexAlive {
				want++
			}
			n, err := fileSweep(b, clock.Now())
			if err != nil || n != want {
				t.Errorf("sweep removed %d (err %v), want %d (old, the stale temp file, the free lock file, a dead index)", n, err, want)
			}
			for p, want := range map[string]bool{
				b.path("old"): false, staleTmp: false,
				b.path("fresh"): true, b.path("touched"): true, freshTmp: true, other: true,
				foreign: true, index: indexAlive,
				held: crossProcessLocking, free: false,
			} {
				if _, err := os.Lstat(p); (err == nil) != want {
					t.Errorf("%s: exists %v, want %v", p, err == nil, want)
				}
			}
			// The lock survived the sweep, and the free one is taken anew.
			if ok, _ := b.TryLock(ctx, "held", "t3", time.Hour); ok {
				t.Error("the sweep freed a held lock")
			}
			if ok, err := b.TryLock(ctx, "free", "t4", time.Hour); !ok || err != nil {
				t.Errorf("TryLock after the sweep removed the lock file: %v, %v", ok, err)
			}
			clock.Advance(5 * time.Minute)
			if _, _, err := b.Get(ctx, b.Key("fresh")); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("fresh after 11 min: %v", err)
			}
			if tc.o.IdleTimeout > 0 {
				if _, _, err := b.Get(ctx, b.Key("touched")); err != nil {
					t.Errorf("touched 7 min ago: %v", err)
				}
			}
		})
	}
}

// A user's index expires the longest lifetime after its last write
// (Options.LifetimeLimit), never by the idle timeout; with no lifetime, never.
func TestFileStorageIndexExpiry(t *testing.T) {
	for _, tc := range []struct {
		name     string
		o        session.Options
		lifetime time.Duration // 0: never
	}{
		{"lifetime", session.Options{IdleTimeout: time.Minute, Lifetime: time.Hour}, time.Hour},
		{"default lifetime", session.Options{IdleTimeout: time.Minute}, session.DefaultLifetime},
		{"no lifetime", session.Options{IdleTimeout: time.Minute, Lifetime: -1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := sessiontest.NewFakeClock(time.Time{})
			tc.o.Now = clock.Now
			b, err := newFileBackend(t.TempDir(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			key := b.IndexKey("ada")
			p := filepath.Join(b.root, filepath.FromSlash(key))
			v, err := b.Put(ctx, key, []byte("members"), tc.o.LifetimeLimit(), session.Version{})
			if err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Hour - time.Second)
			if tc.lifetime > time.Hour {
				clock.Advance(tc.lifetime - time.Hour)
			}
			fileSweep(b, clock.Now())
			if _, got, err := b.Get(ctx, key); err != nil || got != v {
				t.Fatalf("index just within the lifetime: %v, %v", got, err)
			}
			clock.Advance(time.Second)
			_, _, err = b.Get(ctx, key)
			n, serr := fileSweep(b, clock.Now())
			_, statErr := os.Lstat(p)
			if tc.lifetime == 0 {
				if err != nil || n != 0 || serr != nil || statErr != nil {
					t.Errorf("an index with no lifetime: Get %v, sweep %d %v, stat %v; want it kept", err, n, serr, statErr)
				}
				return
			}
			if !errors.Is(err, session.ErrNotFound) || n != 1 || serr != nil || !errors.Is(statErr, fs.ErrNotExist) {
				t.Errorf("an index past the lifetime: Get %v, sweep %d %v, stat %v; want it gone", err, n, serr, statErr)
			}
			if _, err := b.Put(ctx, key, []byte("again"), 0, v); !errors.Is(err, session.ErrConflict) {
				t.Errorf("Put over the version of an expired index: %v", err)
			}
		})
	}
}

// fileSessionLockPath is where the file backend keeps session id's lock:
// <shard>/.l-<62 hex> of a domain-separated SHA-256.
func fileSessionLockPath(root, id string) string {
	sum := sha256.Sum256([]byte("sessionkit session lock\x00" + id))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(root, h[:2], ".l-"+h[2:])
}

// Issue 9.5: writes sweep in bounded steps, one shard each, with no
// goroutine: after a pass's worth of writes spread over the sweep interval,
// every expired file is gone, and no single write swept more than one shard.
func TestFileStorageSweepsInSteps(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	o := session.Options{Now: clock.Now, IdleTimeout: 10 * time.Minute}
	b, err := newFileBackend(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	put := func(id string) {
		t.Helper()
		if _, err := b.Put(ctx, b.Key(id), []byte(`[{},{}]`), 0, session.Version{}); err != nil {
			t.Fatal(err)
		}
	}
	const old = 600 // in most of the 256 shards
	alive := map[string]bool{}
	for i := range old {
		id := fmt.Sprint("old", i)
		put(id)
		alive[id] = true
	}
	clock.Advance(11 * time.Minute) // the old records are dead
	step := 5 * time.Minute / 256   // a pass takes IdleTimeout/2
	for i := range 256 {
		put(fmt.Sprint("new", i))
		shards := map[string]bool{}
		for id := range alive {
			if _, err := os.Lstat(b.path(id)); err != nil {
				delete(alive, id)
				shards[filepath.Base(filepath.Dir(b.path(id)))] = true
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
	if n := len(recordFiles(t, b.root)); n != 256 {
		t.Errorf("%d record files after the pass, want the 256 live ones", n)
	}
}

// A touch moves the mtime to the (fake) clock, which restarts the idle timeout.
func TestFileStorageTouchSetsMtime(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	o := session.Options{Now: clock.Now, IdleTimeout: 10 * time.Minute}
	b, err := newFileBackend(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	st := mustStorage(t, b, o)
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	clock.Advance(3 * time.Minute)
	sessiontest.Request(t, st, id, nil)
	fi, _ := os.Stat(b.path(id))
	if !fi.ModTime().Equal(clock.Now()) {
		t.Errorf("mtime %v after a refresh, want %v", fi.ModTime(), clock.Now())
	}
	if err := b.Touch(ctx, b.Key("missing"), 0); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch of a missing record: %v", err)
	}
	if err := b.Delete(ctx, b.Key("missing"), session.Version{}); err != nil {
		t.Errorf("Delete of a missing record: %v", err)
	}
}

// A corrupt file is logged (without the id) and treated as absent (T-FAIL4).
func TestFileStorageCorruptFile(t *testing.T) {
	logs := sessiontest.NewLogs()
	o := session.Options{Logger: logs.Logger()}
	b, _ := newFileBackend(t.TempDir(), o)
	st := mustStorage(t, b, o)
	writeRecordFile(t, b.path("truncated"), []byte(`[{"a":1},{"b"`), time.Now())
	s, err := st.Read(ctx, "truncated")
	if err != nil || s.ID() == "truncated" || s.Len() != 0 {
		t.Fatalf("Read = (%v, %v)", s, err)
	}
	if logs.Warnings() != 1 || logs.Contains("truncated") || !logs.Contains(logID("truncated")) {
		t.Errorf("logs: %s", logs)
	}
}
