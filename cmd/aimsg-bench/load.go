package main

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// latencies collects durations from many goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d)
	l.mu.Unlock()
}

// summary is the distribution of a run's latencies.
type summary struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func (l *latencies) summary() summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := append([]time.Duration(nil), l.all...)
	if len(s) == 0 {
		return summary{}
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) float64 { return ms(s[min(len(s)-1, int(q*float64(len(s))))]) }
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return summary{Count: len(s), Mean: ms(sum / time.Duration(len(s))), P50: at(0.50), P99: at(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loadResult is what a timed load did.
type loadResult struct {
	summary
	Errors  int64   `json:"errors"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"per_second"`
	// Steady is a closed loop's throughput by Little's law: connections
	// over the mean latency. Unlike Rate it does not count the wait for the
	// last answers after the load stops, which long latencies make large.
	Steady float64 `json:"steady_per_second,omitempty"`
}

// closedLoop keeps conns requests in flight for d: each worker sends its
// next request when the previous one is answered. It measures throughput.
func closedLoop(ctx context.Context, conns int, d time.Duration, do func(ctx context.Context, worker, i int) error) loadResult {
	var (
		lat          latencies
		errs         atomic.Int64
		wg           sync.WaitGroup
		seq          atomic.Int64
		cctx, cancel = context.WithTimeout(ctx, d)
	)
	defer cancel()
	start := time.Now()
	for w := range conns {
		wg.Go(func() {
			for cctx.Err() == nil {
				i := int(seq.Add(1))
				t := time.Now()
				if err := do(ctx, w, i); err != nil {
					errs.Add(1)
					continue
				}
				lat.add(time.Since(t))
			}
		})
	}
	wg.Wait()
	res := finish(&lat, errs.Load(), time.Since(start))
	if res.Mean > 0 {
		res.Steady = float64(conns) / (res.Mean / 1000)
	}
	return res
}

// openLoop starts rate requests a second for d, whether or not earlier ones
// were answered, and measures each from the moment it was due: a slow
// answer cannot hide the ones queued behind it.
func openLoop(ctx context.Context, rate int, d time.Duration, do func(ctx context.Context, i int) error) loadResult {
	var (
		lat  latencies
		errs atomic.Int64
		wg   sync.WaitGroup
	)
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				return finish(&lat, errs.Load(), time.Since(start))
			case <-time.After(wait):
			}
		}
		wg.Go(func() {
			if err := do(ctx, i); err != nil {
				errs.Add(1)
				return
			}
			lat.add(time.Since(due))
		})
	}
	wg.Wait()
	return finish(&lat, errs.Load(), time.Since(start))
}

func finish(lat *latencies, errs int64, took time.Duration) loadResult {
	s := lat.summary()
	return loadResult{summary: s, Errors: errs, Seconds: took.Seconds(), Rate: float64(s.Count) / took.Seconds()}
}
