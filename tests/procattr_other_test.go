//go:build !linux

package tests

import "syscall"

func serverSysProcAttr() *syscall.SysProcAttr { return nil }
