//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package filestorage

import (
	"errors"
	"os"
	"syscall"
)

// openRecord opens the file p for reading without following a symlink
// (ELOOP, reported as errNotRegular) and without blocking on a FIFO; the
// caller checks with Stat that what it opened is a regular file. One open
// instead of an Lstat and an open: a system call fewer per read.
func openRecord(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errNotRegular
	}
	return f, err
}

// openLockFile opens the lock file p for flock, creating it (mode 0600) when
// create is set, without following a symlink (errNotRegular) or blocking
// on a FIFO.
func openLockFile(p string, create bool) (*os.File, error) {
	flag := os.O_RDWR | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
	if create {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(p, flag, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errNotRegular
	}
	return f, err
}
