package remixshared

import "syscall"

// sysProcAttr makes the kernel kill the Node app when the process that
// started it dies, so an interrupted test or demo leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
