//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package session

import "os"

// lockFile does nothing on this system: writes of one record are exclusive
// only within the process (fileBackend's shard mutexes). Processes sharing
// a file storage directory need a system with flock (Linux, the BSDs, macOS)
// for a save racing a logout in another process not to bring it back.
func lockFile(*os.File) error { return nil }

// crossProcessLocking reports whether lockFile locks across processes.
const crossProcessLocking = false
