//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package filestorage

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock (flock) on f, waiting for it.
// Every process sharing the directory takes it on a shard's lock file around
// its writes of the files in that shard, so that a write in one process
// cannot land between another's compare and its write.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// tryLockFile takes an exclusive advisory lock (flock) on f if nobody holds
// it, without waiting, and reports whether it did. flock locks belong to
// the open file: a second open of the file, even in this process, does not
// get it while the first holds it.
func tryLockFile(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case !errors.Is(err, syscall.EINTR):
			return false, err
		}
	}
}

// crossProcessLocking reports whether lockFile and tryLockFile lock across
// processes.
const crossProcessLocking = true
