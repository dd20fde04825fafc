package filestorage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// mustStorage is session.NewBackendStorage(b, o), failing t on an error.
func mustStorage(t testing.TB, b session.Backend, o session.Options) session.Storage {
	t.Helper()
	st, err := session.NewBackendStorage(b, o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// logID is how package session names a session in logs and errors.
func logID(id string) string { return "id-sha256:" + session.HashID(id)[:12] }

// fileSweep sweeps every shard as of now and returns how many files it
// removed.
func fileSweep(b *fileBackend, now time.Time) (int, error) {
	removed := 0
	for shard := range 256 {
		n, err := b.sweepShard(shard, now)
		if err != nil {
			return removed, err
		}
		removed += n
	}
	return removed, nil
}

// Len counts the record files, not temporary ones nor users' indexes
// (sessiontest.Config.Count).
func (b *fileBackend) Len() int {
	n := 0
	shards, _ := os.ReadDir(b.root)
	for _, sh := range shards {
		files, _ := os.ReadDir(filepath.Join(b.root, sh.Name()))
		for _, f := range files {
			if f.Type().IsRegular() && !strings.HasPrefix(f.Name(), ".") && !strings.HasPrefix(f.Name(), userIndexPrefix) {
				n++
			}
		}
	}
	return n
}

var ctx = context.Background()
