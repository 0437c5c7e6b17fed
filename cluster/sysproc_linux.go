package cluster

import "syscall"

// sysProcAttr puts a part in its own process group, so Ctrl-C at the
// terminal reaches the cluster, which stops the parts in order; and has
// the kernel kill it if the cluster itself dies, so no part outlives it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
