package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzFileUserIndex: whatever an index file holds, reading it gives only
// well-formed members and never panics, and writing them back keeps exactly
// the members whose records are live.
func FuzzFileUserIndex(f *testing.F) {
	live := recordName("live-id")
	f.Add([]byte("h1 " + live + "\n"))
	f.Add([]byte("h1 " + live + "\nh2 " + recordName("gone") + "\n"))
	f.Add([]byte("garbage\n\n x \nh " + strings.Repeat("g", 64) + "\n"))
	f.Add([]byte("h1 " + live))
	f.Add([]byte{0, 0xff, ' ', '\n'})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		b, err := newFileBackend(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.write("live-id", []byte("[{},{}]"), false); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "index")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		list, err := readIndex(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			if m.handle == "" || len(m.name) != 64 || strings.ContainsAny(m.handle, " \n") {
				t.Fatalf("malformed member %q", m)
			}
		}
		if err := b.writeIndexLocked(p, list, time.Now()); err != nil {
			t.Fatal(err)
		}
		again, err := readIndex(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range again {
			if m.name != live {
				t.Fatalf("a member without a live record was kept: %q", m)
			}
		}
	})
}
