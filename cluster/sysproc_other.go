//go:build !linux

package cluster

import "syscall"

// sysProcAttr puts a part in its own process group, so Ctrl-C at the
// terminal reaches the cluster, which stops the parts in order.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
