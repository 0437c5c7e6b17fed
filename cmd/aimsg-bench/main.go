// Command aimsg-bench measures aimsg on this machine: it starts the real
// stack (the Temporal dev server, `aimsg serve` and `aimsg worker` as
// processes of their own, PostgreSQL or SQLite) with the fake LLM and the
// fake Twilio of the tests, runs each scenario, prints a table and writes
// the results as JSON.
//
//	go run ./cmd/aimsg-bench -database-url postgres://... -out bench.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "aimsg-bench:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	databaseURL string
	aimsgBin    string
	temporalBin string
	out         string
	duration    time.Duration
	only        string
	quick       bool
	cluster     bool
}

func run() error {
	var o options
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv("BENCH_DATABASE_URL"),
		"PostgreSQL URL to benchmark on (a scratch schema is made and dropped); empty: a SQLite file")
	flag.StringVar(&o.aimsgBin, "aimsg", "bin/aimsg", "the aimsg binary")
	flag.StringVar(&o.temporalBin, "temporal", "bin/temporal", "the Temporal CLI")
	flag.StringVar(&o.out, "out", "bench-results.json", "where the JSON results go")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each timed load")
	flag.StringVar(&o.only, "only", "", "comma-separated scenarios to run (default: all)")
	flag.BoolVar(&o.cluster, "cluster", false, "run on `make cluster`'s topology (Temporal on PostgreSQL, two APIs, two workers) instead of the dev server, one API, one worker")
	flag.BoolVar(&o.quick, "quick", false, "short loads and small scenarios (a smoke run, not a measurement)")
	flag.Parse()
	if o.quick {
		o.duration = 2 * time.Second
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	st, err := startStack(ctx, o, log)
	if err != nil {
		return err
	}
	defer st.close()

	report := &report{
		Started: time.Now().UTC(), Machine: machine(), Database: st.dialect, Duration: o.duration.String(),
		Quick: o.quick,
	}
	for _, sc := range scenarios {
		if o.only != "" && !strings.Contains(","+o.only+",", ","+sc.name+",") {
			continue
		}
		waited := settle(ctx, 2*time.Minute)
		log.Info("scenario", "name", sc.name, "waited_for_quiet", waited.Round(time.Second))
		start := time.Now()
		results, err := sc.run(ctx, st, o)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		for i := range results {
			results[i].Scenario = sc.name
		}
		report.Results = append(report.Results, results...)
		log.Info("scenario done", "name", sc.name, "took", time.Since(start).Round(time.Millisecond))
	}
	report.print(os.Stdout)
	raw, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(o.out, append(raw, '\n'), 0o644)
}

// machineInfo is where the numbers were taken.
type machineInfo struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	MemoryGB int    `json:"memory_gb"`
	Go       string `json:"go"`
	OS       string `json:"os"`
}

func machine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(raw), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryGB = (kb + 512*1024) / (1024 * 1024)
		}
	}
	return m
}
