package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"
)

// report is the whole run, as written to JSON.
type report struct {
	Started  time.Time   `json:"started"`
	Machine  machineInfo `json:"machine"`
	Database string      `json:"database"`
	Duration string      `json:"load_duration"`
	Quick    bool        `json:"quick"`
	Results  []result    `json:"results"`
}

// result is one measured figure, with its target where the project set one.
type result struct {
	Scenario string         `json:"scenario"`
	Name     string         `json:"name"`
	Load     *loadResult    `json:"load,omitempty"`
	Value    float64        `json:"value,omitempty"`
	Unit     string         `json:"unit,omitempty"`
	Target   string         `json:"target,omitempty"`
	Met      *bool          `json:"met,omitempty"`
	Notes    map[string]any `json:"notes,omitempty"`
	// CPU is the CPU time each part of the stack spent per unit of the
	// load (a request, a turn), in milliseconds.
	CPU map[string]float64 `json:"cpu_ms_per_unit,omitempty"`
}

func check(ok bool) *bool { return &ok }

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\naimsg-bench: %s, %d CPUs (%s), %s\n\n", r.Database, r.Machine.CPUs, r.Machine.CPUModel, r.Machine.Go)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmeasure\tcount\terrors\trate/s\tp50 ms\tp99 ms\tmax ms\tvalue\ttarget\tmet")
	for _, res := range r.Results {
		cells := []any{res.Scenario, res.Name, "", "", "", "", "", "", "", res.Target, ""}
		if l := res.Load; l != nil {
			cells[2], cells[3], cells[4] = l.Count, l.Errors, fmt.Sprintf("%.0f", l.Rate)
			cells[5], cells[6], cells[7] = fmt.Sprintf("%.1f", l.P50), fmt.Sprintf("%.1f", l.P99), fmt.Sprintf("%.1f", l.Max)
		}
		if l := res.Load; l != nil && l.Steady > 0 {
			cells[4] = fmt.Sprintf("%.0f (steady %.0f)", l.Rate, l.Steady)
		}
		if res.Unit != "" {
			cells[8] = fmt.Sprintf("%.4g %s", res.Value, res.Unit)
		}
		if res.Met != nil {
			cells[10] = map[bool]string{true: "yes", false: "NO"}[*res.Met]
		}
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, res := range r.Results {
		if len(res.CPU) == 0 {
			continue
		}
		parts := slices.Sorted(maps.Keys(res.CPU))
		fmt.Fprintf(w, "\nCPU ms per unit, %s:", res.Name)
		for _, p := range parts {
			fmt.Fprintf(w, " %s %.1f;", p, res.CPU[p])
		}
		fmt.Fprintln(w)
	}
}
