//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package session

import "os"

// openRecord opens the record file p for reading, refusing anything but a
// regular file (errNotRegular) before it opens it, so that a symlink is not
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
