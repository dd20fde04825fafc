package main

import (
	"os"
	"os/signal"
	"syscall"
)

// procAttr makes the kernel stop a server when this program dies.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

func notify(c chan os.Signal) { signal.Notify(c, syscall.SIGTERM, os.Interrupt) }
