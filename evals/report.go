package evals

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// CaseResult is how one case went.
type CaseResult struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Failures say why it failed: an expectation not met, or what kept
	// the case from running (no reply in time, an API error).
	Failures []string `json:"failures,omitempty"`
	// LatencyMS and Tokens are the last turn's (the one Expect judges).
	LatencyMS int64 `json:"latency_ms"`
	Tokens    int64 `json:"tokens"`
	// HandedOff is whether the conversation went to a person, when the
	// case asked.
	HandedOff *bool `json:"handed_off,omitempty"`
	// User is the case's throwaway user (kept with --keep-users).
	User  string `json:"user,omitempty"`
	Turns []Turn `json:"turns,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	Suite      string    `json:"suite,omitempty"`
	API        string    `json:"api"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
	Total      int       `json:"total"`
	Passed     int       `json:"passed"`
	// PassRate is Passed over Total, from 0 to 1.
	PassRate float64 `json:"pass_rate"`
	// Latency is over the cases that got their last reply.
	Latency Latency `json:"latency_ms"`
	// Tokens are every turn's, of every case.
	Tokens int64        `json:"tokens"`
	Cases  []CaseResult `json:"cases"`
}

// Latency sums up the cases' latencies, in milliseconds.
type Latency struct {
	P50 int64 `json:"p50"`
	P95 int64 `json:"p95"`
	Max int64 `json:"max"`
}

func newReport(api string, started time.Time, took time.Duration, cases []CaseResult) *Report {
	r := &Report{API: api, StartedAt: started.UTC(), DurationMS: took.Milliseconds(), Total: len(cases), Cases: cases}
	var latencies []int64
	for _, c := range cases {
		if c.Passed {
			r.Passed++
		}
		for _, t := range c.Turns {
			r.Tokens += t.Tokens
		}
		if len(c.Turns) > 0 && c.LatencyMS > 0 {
			latencies = append(latencies, c.LatencyMS)
		}
	}
	if r.Total > 0 {
		r.PassRate = float64(r.Passed) / float64(r.Total)
	}
	if len(latencies) > 0 {
		slices.Sort(latencies)
		at := func(q float64) int64 { return latencies[int(q*float64(len(latencies)-1)+0.5)] }
		r.Latency = Latency{P50: at(0.5), P95: at(0.95), Max: latencies[len(latencies)-1]}
	}
	return r
}

// WriteTable writes one line per case, then the totals.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tRESULT\tLATENCY MS\tTOKENS\tWHY")
	for _, c := range r.Cases {
		result := "pass"
		if !c.Passed {
			result = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", c.Name, result, c.LatencyMS, c.Tokens, strings.Join(c.Failures, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d/%d passed (%.0f%%); latency p50 %d ms, p95 %d ms, max %d ms; %d tokens\n",
		r.Passed, r.Total, 100*r.PassRate, r.Latency.P50, r.Latency.P95, r.Latency.Max, r.Tokens)
	return err
}

// WriteJSON writes the report as indented JSON to a file.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
