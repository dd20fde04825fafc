//go:build !linux

package remixshared

import "syscall"

// sysProcAttr: outside Linux the Node app is stopped by Stop only.
func sysProcAttr() *syscall.SysProcAttr { return nil }
