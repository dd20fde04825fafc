package session

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Hooks for the external tests (package session_test), which alone can
// import sessiontest: sessiontest imports session, so the internal tests
// cannot.

// MemoryBackendForTest is the memory storage's backend.
type MemoryBackendForTest = memoryBackend

// NewMemoryBackendForTest returns the backend NewMemoryStorage uses.
func NewMemoryBackendForTest(o Options) *MemoryBackendForTest {
	return newMemoryBackend(o)
}

// MemoryRecordCount returns how many records m holds, expired or not.
func MemoryRecordCount(m *MemoryBackendForTest) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.records)
}

// MemoryStorageLen counts the records of a storage NewMemoryStorage made.
func MemoryStorageLen(st Storage) int {
	return MemoryRecordCount(MemoryStorageBackend(st))
}

// MemoryStorageBackend is the backend of a storage NewMemoryStorage made.
func MemoryStorageBackend(st Storage) *MemoryBackendForTest {
	return backendOf(st).(*memoryBackend)
}

// FileStorageBackend is the backend of a storage NewFileStorage made.
func FileStorageBackend(st Storage) *FileBackendForTest {
	return backendOf(st).(*fileBackend)
}

// backendOf is the Backend of a storage NewBackendStorage made.
func backendOf(st Storage) Backend {
	switch st := st.(type) {
	case *indexedStorage:
		return st.b
	case *lockingStorage:
		return st.b
	case *lockingIndexedStorage:
		return st.b
	}
	return st.(*backendStorage).b
}

// Set stores data under key whatever is stored there: the tests' shortcut
// for a write outside a session.
func (m *memoryBackend) Set(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	_, v, _ := m.Get(ctx, key)
	_, err := m.Put(ctx, key, data, ttl, v)
	return err
}

// FileCrossProcessLocking reports whether file storage locks records across
// processes on this system (flock).
const FileCrossProcessLocking = crossProcessLocking

// FileBackendForTest is the file storage's backend.
type FileBackendForTest = fileBackend

// NewFileBackendForTest returns the backend NewFileStorage uses.
func NewFileBackendForTest(dir string, o Options) (*FileBackendForTest, error) {
	return newFileBackend(dir, o)
}

// FilePath returns the file that holds id's record.
func FilePath(b *FileBackendForTest, id string) string { return b.path(id) }

// FileRoot returns the absolute directory b stores in.
func FileRoot(b *FileBackendForTest) string { return b.root }

// FileSweep sweeps every shard as of now and returns how many files it
// removed.
func FileSweep(b *FileBackendForTest, now time.Time) (int, error) {
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

// LogID is how logs and errors name a session.
func LogID(id string) string { return logID(id) }

// Len counts the records, expired or not (sessiontest.Config.Count).
func (m *memoryBackend) Len() int { return MemoryRecordCount(m) }

// Len counts the record files, not temporary ones nor users' indexes (sessiontest.Config.Count).
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
