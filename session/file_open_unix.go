//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package session

import (
	"errors"
	"os"
	"syscall"
)

// openRecord opens the record file p for reading without following a
// symlink (ELOOP, reported as errNotRegular) and without blocking on a FIFO;
// the caller checks with Stat that what it opened is a regular file. One
// open instead of an Lstat and an open: a system call fewer per read.
func openRecord(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errNotRegular
	}
	return f, err
}
