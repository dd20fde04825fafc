//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package filestorage

import (
	"errors"
	"io/fs"
	"os"
)

// openRecord opens the file p for reading, refusing anything but a regular
// file (errNotRegular) before it opens it, so that a symlink is not
// followed; the caller checks with Stat what it opened.
func openRecord(p string) (*os.File, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return os.Open(p)
}

// openLockFile opens the lock file p, creating it (mode 0600) when create is
// set, refusing anything but a regular file (errNotRegular).
func openLockFile(p string, create bool) (*os.File, error) {
	fi, err := os.Lstat(p)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return nil, errNotRegular
	case err != nil && !(create && errors.Is(err, fs.ErrNotExist)):
		return nil, err
	}
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	return os.OpenFile(p, flag, 0o600)
}
