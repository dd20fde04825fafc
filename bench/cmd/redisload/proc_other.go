//go:build !linux

package main

import "syscall"

// procAttr puts the Node process in a process group of its own, so that a
// Ctrl-C in the terminal reaches this program only, which then stops it by
// PID.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
