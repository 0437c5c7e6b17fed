package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSummaryPercentiles(t *testing.T) {
	var l latencies
	for i := 100; i >= 1; i-- {
		l.add(time.Duration(i) * time.Millisecond)
	}
	s := l.summary()
	assert.Equal(t, 100, s.Count)
	assert.Equal(t, 51.0, s.P50)
	assert.Equal(t, 100.0, s.P99)
	assert.Equal(t, 100.0, s.Max)
	assert.Equal(t, 50.5, s.Mean)
	assert.Equal(t, summary{}, (&latencies{}).summary())
}

// A server that answers one request at a time: the open loop must count
// the time each request waited behind the others, the closed loop not.
func TestOpenLoopCountsQueueingAndClosedLoopDoesNot(t *testing.T) {
	var mu sync.Mutex
	serial := func() {
		mu.Lock()
		time.Sleep(20 * time.Millisecond)
		mu.Unlock()
	}
	open := openLoop(context.Background(), 100, 200*time.Millisecond, func(context.Context, int) error { serial(); return nil })
	assert.Equal(t, 20, open.Count)
	assert.Greater(t, open.Max, 200.0, "the last request waited behind the others")

	closed := closedLoop(context.Background(), 4, 200*time.Millisecond, func(context.Context, int, int) error { serial(); return nil })
	assert.Less(t, closed.Rate, 60.0, "one at a time: about 50 a second")
	assert.Greater(t, closed.P50, 20.0)
	assert.InDelta(t, closed.Rate, closed.Steady, 15, "the steady rate of a queue is its service rate")
}

// Little's law: 8 connections each taking 40 ms are 200 a second.
func TestClosedLoopSteadyRate(t *testing.T) {
	closed := closedLoop(context.Background(), 8, 300*time.Millisecond, func(context.Context, int, int) error {
		time.Sleep(40 * time.Millisecond)
		return nil
	})
	assert.InDelta(t, 200, closed.Steady, 25)
}
