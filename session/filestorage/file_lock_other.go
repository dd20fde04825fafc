//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package filestorage

import "os"

// lockFile does nothing on this system: writes of one shard are exclusive
// only within the process (fileBackend's shard mutexes). Processes sharing
// a file storage directory need a system with flock (Linux, the BSDs, macOS)
// for their compare-and-set writes to exclude each other (without it, one
// can overwrite a change another made in between, or bring back a record
// another deleted).
func lockFile(*os.File) error { return nil }

// tryLockFile does nothing on this system and reports the lock taken. The
// file storage's session locks (TryLock) then hold within the process only,
// and no lock files are made.
func tryLockFile(*os.File) (bool, error) { return true, nil }

// crossProcessLocking reports whether lockFile and tryLockFile lock across
// processes.
const crossProcessLocking = false
