package tests

import "syscall"

// serverSysProcAttr makes the kernel kill a server whose test binary died
// (a timeout panic, a crash), so no server outlives its test run.
func serverSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
