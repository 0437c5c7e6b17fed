package auth

import "golang.org/x/sys/unix"

// lowerThreadPriority makes the calling OS thread nicer to the others (on
// Linux a thread id names one thread of the process). A failure leaves it
// at the normal priority, which is only slower for everyone else.
func lowerThreadPriority() {
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), hashNice)
}
