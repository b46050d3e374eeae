package main

// The report: one Item per measured figure, printed as a table and
// written as bench.json; the last line summarises the ratios.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
)

// Item is one figure of the report.
type Item struct {
	// Key is stable across runs, for comparing bench.json files.
	Key   string `json:"key"`
	Title string `json:"title"`
	// Kind is "latency" (Server and Baseline are latency samples; the
	// ratio is of medians), "throughput" (Rate per side; the ratio is of
	// rates) or "value" (a single figure in Value, in Unit).
	Kind         string  `json:"kind"`
	Unit         string  `json:"unit,omitempty"`
	Server       *Stats  `json:"server,omitempty"`
	Baseline     *Stats  `json:"baseline,omitempty"`
	BaselineName string  `json:"baseline_name,omitempty"`
	Ratio        *Ratios `json:"ratio,omitempty"`
	Value        *Num    `json:"value,omitempty"`
	Target       *Target `json:"target,omitempty"`
	Met          *bool   `json:"met,omitempty"`
	// Short is the item's name in the summary line.
	Short string `json:"-"`
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// headline is the figure the target is about: the p50 ratio, the rate
// ratio, or the value.
func (it *Item) headline() Num {
	metric := "ratio_p50"
	switch it.Kind {
	case "throughput":
		metric = "ratio_rate"
	case "value":
		metric = "value"
	}
	if it.Target != nil {
		metric = it.Target.Metric
	}
	switch metric {
	case "ratio_rate":
		if it.Ratio != nil {
			return it.Ratio.Rate
		}
	case "ratio_p50":
		if it.Ratio != nil {
			return it.Ratio.P50
		}
	case "value":
		if it.Value != nil {
			return *it.Value
		}
	}
	return Num(math.NaN())
}

// finish computes the ratios and whether the target is met.
func (it *Item) finish() {
	if it.Server != nil && it.Baseline != nil {
		r := RatiosOf(*it.Server, *it.Baseline)
		it.Ratio = &r
	}
	if it.Target != nil {
		met := it.Error == "" && it.Target.Met(it.headline())
		it.Met = &met
	}
}

// Report is bench.json.
type Report struct {
	Started  string         `json:"started"`
	Seconds  Num            `json:"seconds"`
	Quick    bool           `json:"quick"`
	Machine  Machine        `json:"machine"`
	Settings map[string]any `json:"settings"`
	Items    []*Item        `json:"items"`
	Summary  string         `json:"summary"`
}

// Machine describes where the figures come from.
type Machine struct {
	CPUs    int    `json:"cpus"`
	CPU     string `json:"cpu,omitempty"`
	MemMiB  int64  `json:"mem_mib,omitempty"`
	Kernel  string `json:"kernel,omitempty"`
	Go      string `json:"go"`
	Docker  string `json:"docker,omitempty"`
	Storage string `json:"docker_storage,omitempty"`
}

func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// fmtNum prints a figure with three significant digits or so.
func fmtNum(n Num) string {
	f := float64(n)
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "—"
	case math.Abs(f) >= 100:
		return fmt.Sprintf("%.0f", f)
	case math.Abs(f) >= 10:
		return fmt.Sprintf("%.1f", f)
	case math.Abs(f) >= 1:
		return fmt.Sprintf("%.2f", f)
	default:
		return fmt.Sprintf("%.3f", f)
	}
}

func fmtSide(it *Item, s *Stats) string {
	if s == nil {
		return "—"
	}
	lat := fmt.Sprintf("%s / %s / %s", fmtNum(s.P50), fmtNum(s.P90), fmtNum(s.P99))
	out := lat
	if it.Kind == "throughput" {
		out = fmt.Sprintf("%s/s  (%s)", fmtNum(s.Rate), lat)
	}
	if s.Errors > 0 {
		out += fmt.Sprintf(" [%d err]", s.Errors)
	}
	return out
}

func fmtTarget(t *Target, unit string) string {
	if t == nil {
		return ""
	}
	op := map[string]string{"<=": "≤", ">=": "≥"}[t.Op]
	if t.Metric == "value" {
		return fmt.Sprintf("%s %s %s", op, fmtNum(Num(t.Bound)), unit)
	}
	return fmt.Sprintf("%s %s×", op, fmtNum(Num(t.Bound)))
}

func fmtResult(it *Item) string {
	switch {
	case it.Error != "":
		return "ERROR"
	case it.Met == nil:
		return ""
	case *it.Met:
		return "met"
	default:
		return "MISSED"
	}
}

// printTable writes the human table.
func (r *Report) printTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "item\tserver p50 / p90 / p99 ms\tbaseline p50 / p90 / p99 ms\tserver/baseline\ttarget\t")
	for _, it := range r.Items {
		var server, base, ratio string
		switch {
		case it.Kind == "value" && it.Server == nil:
			server = fmtNum(it.headline()) + " " + it.Unit
			base, ratio = "—", "—"
		case it.Kind == "value":
			server = fmtNum(it.headline()) + " " + it.Unit + fmt.Sprintf("  (%s / %s / %s)", fmtNum(it.Server.P50), fmtNum(it.Server.P90), fmtNum(it.Server.P99))
			base = "—"
			if it.Baseline != nil {
				base = fmt.Sprintf("%s: %s %s  (%s / %s / %s)", it.BaselineName, fmtNum(it.Baseline.Rate), it.Unit, fmtNum(it.Baseline.P50), fmtNum(it.Baseline.P90), fmtNum(it.Baseline.P99))
			}
			ratio = "—"
			if it.Ratio != nil {
				ratio = fmtNum(it.Ratio.Rate) + "× rate"
			}
		default:
			server, base = fmtSide(it, it.Server), fmtSide(it, it.Baseline)
			ratio = fmtNum(it.headline()) + "×"
			if it.Kind == "throughput" {
				ratio += " rate"
			} else {
				ratio += " p50"
			}
			if it.BaselineName != "" {
				base = it.BaselineName + ": " + base
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\t\n", it.Title, server, base, ratio, fmtTarget(it.Target, it.Unit), fmtResult(it))
	}
	tw.Flush()
	for _, it := range r.Items {
		if it.Error != "" {
			fmt.Fprintf(w, "error in %s: %s\n", it.Title, it.Error)
		}
	}
}

// summary is the closing line: every item with a target, its headline
// figure, the bound and whether it is met.
func summary(items []*Item) string {
	var parts []string
	met, total := 0, 0
	for _, it := range items {
		if it.Target == nil {
			continue
		}
		total++
		mark := "MISSED"
		if it.Met != nil && *it.Met {
			met++
			mark = "ok"
		}
		if it.Error != "" {
			mark = "ERROR"
		}
		fig := fmtNum(it.headline()) + "×"
		if it.Target.Metric == "value" {
			fig = fmtNum(it.headline()) + " " + it.Unit
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s %s)", it.Short, fig, fmtTarget(it.Target, it.Unit), mark))
	}
	return fmt.Sprintf("bench: %d/%d targets met: %s", met, total, strings.Join(parts, ", "))
}
