//go:build !linux

package testserver

import "syscall"

// sysProcAttr: outside Linux the server is stopped by Stop or by the test's
// cleanup only.
func sysProcAttr() *syscall.SysProcAttr { return nil }
