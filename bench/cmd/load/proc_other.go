//go:build !linux

package main

import (
	"os"
	"os/signal"
	"syscall"
)

func procAttr() *syscall.SysProcAttr { return nil }

func notify(c chan os.Signal) { signal.Notify(c, syscall.SIGTERM, os.Interrupt) }
