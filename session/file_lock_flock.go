//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package session

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock (flock) on f, which every process
// sharing the directory takes around its writes of the records in f's shard,
// so that a delete in one process cannot land between another's "is the
// record still there" check and its rename.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// crossProcessLocking reports whether lockFile locks across processes.
const crossProcessLocking = true
