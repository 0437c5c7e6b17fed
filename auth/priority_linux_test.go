package auth

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

// niceness of the calling thread (the raw syscall answers 20 - nice).
func niceness(t *testing.T) int {
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - p
}

func TestHashingRunsOnANicerThreadThatIsNotReused(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := niceness(t)
	inside := withHashSlot(func() int { return niceness(t) })
	assert.Equal(t, hashNice, inside, "bcrypt runs at a lower priority")
	assert.Equal(t, before, niceness(t), "the caller's thread keeps its priority")

	// Every other goroutine finds threads at the normal priority.
	for range 50 {
		done := make(chan int)
		go func() { done <- niceness(t) }()
		assert.Equal(t, before, <-done)
	}
}
