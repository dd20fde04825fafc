package main

import "syscall"

// procAttr puts the Node process in a process group of its own, so that a
// Ctrl-C in the terminal reaches this program only, which then stops it by
// PID, and makes the kernel kill it if this program dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
