// Package freeport finds free ports on loopback for aimsg's tools and
// tests (the cluster, the benchmark, test servers): one picker for all.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Find finds a port p such that p+offset is free on loopback for
// every offset (Find(0) is one free port; Find(0, 1000) a dev
// server's port and its Web UI's). It is the one port picker of aimsg's
// tools and tests. Ports are taken below Linux's ephemeral range
// (32768-60999), where no outgoing connection takes one while a process
// is down and started again on it.
func Find(offsets ...int) (int, error) {
	top := 0
	for _, o := range offsets {
		top = max(top, o)
	}
	// From a random start, so that processes picking at once (test
	// packages run side by side) seldom try the same ports.
	const low, high, step = 17000, 32768, 16
	slots := (high - top - low) / step
	start := rand.IntN(slots)
	for i := range slots {
		first := low + ((start+i)%slots)*step
		if free(first, offsets) {
			return first, nil
		}
	}
	return 0, fmt.Errorf("no free ports at offsets %v", offsets)
}

func free(first int, offsets []int) bool {
	for _, o := range offsets {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(first+o)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}
