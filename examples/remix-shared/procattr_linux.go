package remixshared

import "syscall"

// sysProcAttr makes the kernel kill the Node app when the process that
// started it dies, so an interrupted test or demo leaves no server behind,
// and puts it in a process group of its own, so that Ctrl-C in a terminal
// reaches only the demo, which then stops it by PID.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
