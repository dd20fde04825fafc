package testserver

import "syscall"

// sysProcAttr makes the kernel kill the server when the process that started
// it dies, so an interrupted test run leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
