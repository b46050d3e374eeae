package main

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Num is a figure of the report. NaN (not measured, or a failed
// measurement) and ±Inf are written as JSON null; other values with at
// most 4 decimals.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, math.Round(f*1e4)/1e4, 'f', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler (null is NaN).
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*n = Num(f)
	return err
}

// F returns n as a float64.
func (n Num) F() float64 { return float64(n) }

// Stats summarises one side (server or baseline) of a measured item.
// Latencies are in milliseconds; Rate is operations per second where the
// item measures throughput.
type Stats struct {
	N      int `json:"n"`
	Errors int `json:"errors,omitempty"`
	P50    Num `json:"p50_ms"`
	P90    Num `json:"p90_ms"`
	P99    Num `json:"p99_ms"`
	Mean   Num `json:"mean_ms"`
	Min    Num `json:"min_ms"`
	Max    Num `json:"max_ms"`
	Rate   Num `json:"rate_per_s,omitempty"`
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value such that at least p% of the
// values are ≤ it. It returns NaN for an empty slice.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if p <= 0 {
		return sorted[0]
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return sorted[rank-1]
}

// Summarize computes the percentiles, mean and extremes of samples.
func Summarize(samples []time.Duration) Stats {
	ms := make([]float64, len(samples))
	for i, d := range samples {
		ms[i] = float64(d) / float64(time.Millisecond)
	}
	return SummarizeMS(ms)
}

// SummarizeMS is Summarize for samples already in milliseconds.
func SummarizeMS(ms []float64) Stats {
	s := Stats{N: len(ms)}
	if len(ms) == 0 {
		nan := Num(math.NaN())
		s.P50, s.P90, s.P99, s.Mean, s.Min, s.Max = nan, nan, nan, nan, nan, nan
		return s
	}
	sorted := slices.Clone(ms)
	slices.Sort(sorted)
	sum := 0.0
	for _, v := range sorted {
		sum += v
	}
	s.P50 = Num(Percentile(sorted, 50))
	s.P90 = Num(Percentile(sorted, 90))
	s.P99 = Num(Percentile(sorted, 99))
	s.Mean = Num(sum / float64(len(sorted)))
	s.Min = Num(sorted[0])
	s.Max = Num(sorted[len(sorted)-1])
	return s
}

// Ratio is server/baseline; NaN when either is missing or the baseline is
// zero, so a broken measurement can never look like a met target.
func Ratio(server, baseline Num) Num {
	s, b := float64(server), float64(baseline)
	if math.IsNaN(s) || math.IsNaN(b) || b == 0 {
		return Num(math.NaN())
	}
	return Num(s / b)
}

// Ratios holds server/baseline for each figure of a pair of Stats.
type Ratios struct {
	P50  Num `json:"p50"`
	P90  Num `json:"p90"`
	P99  Num `json:"p99"`
	Rate Num `json:"rate,omitempty"`
}

// RatiosOf divides each figure of server by the baseline's.
func RatiosOf(server, baseline Stats) Ratios {
	r := Ratios{
		P50: Ratio(server.P50, baseline.P50),
		P90: Ratio(server.P90, baseline.P90),
		P99: Ratio(server.P99, baseline.P99),
	}
	if server.Rate != 0 || baseline.Rate != 0 {
		r.Rate = Ratio(server.Rate, baseline.Rate)
	}
	return r
}

// Target is a bound the project holds itself to (issue 6).
type Target struct {
	// Metric names the figure compared: "ratio_p50" (server p50 /
	// baseline p50), "ratio_rate" (server rate / baseline rate) or
	// "value" (the item's single Value).
	Metric string `json:"metric"`
	// Op is "<=" or ">=".
	Op    string  `json:"op"`
	Bound float64 `json:"bound"`
}

// Met reports whether v satisfies the target; NaN never does.
func (t Target) Met(n Num) bool {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	switch t.Op {
	case "<=":
		return v <= t.Bound
	case ">=":
		return v >= t.Bound
	}
	return false
}
