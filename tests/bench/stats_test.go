package main

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{"one value", []float64{7}, 99, 7},
		{"median of ten is the 5th", ten, 50, 5},
		{"p90 of ten is the 9th", ten, 90, 9},
		{"p99 of ten is the largest", ten, 99, 10},
		{"p100 is the largest", ten, 100, 10},
		{"p0 is the smallest", ten, 0, 1},
		{"p1 of ten is the smallest", ten, 1, 1},
		{"p99 of 100 is the 99th", hundred, 99, 99},
		{"p50 of 100 is the 50th", hundred, 50, 50},
		{"median of two is the lower", []float64{1, 3}, 50, 1},
		{"p51 of two is the upper", []float64{1, 3}, 51, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("Percentile(nil) = %v, want NaN", got)
	}
}

func TestSummarize(t *testing.T) {
	// Unsorted input in durations; the figures come out in milliseconds.
	var ds []time.Duration
	for _, ms := range []int{9, 1, 5, 3, 7, 2, 10, 4, 8, 6} {
		ds = append(ds, time.Duration(ms)*time.Millisecond)
	}
	s := Summarize(ds)
	want := Stats{N: 10, P50: 5, P90: 9, P99: 10, Mean: 5.5, Min: 1, Max: 10}
	if s != want {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
	if len(ds) != 10 || ds[0] != 9*time.Millisecond {
		t.Errorf("Summarize reordered its input: %v", ds)
	}
	empty := Summarize(nil)
	if empty.N != 0 || !math.IsNaN(float64(empty.P50)) || !math.IsNaN(float64(empty.P99)) {
		t.Errorf("Summarize(nil) = %+v, want N 0 and NaN figures", empty)
	}
}

func TestRatio(t *testing.T) {
	nan := Num(math.NaN())
	tests := []struct {
		name             string
		server, baseline Num
		want             Num
	}{
		{"slower server", 110, 100, 1.1},
		{"faster server", 5, 50, 0.1},
		{"equal", 3, 3, 1},
		{"zero baseline", 3, 0, nan},
		{"missing server", nan, 3, nan},
		{"missing baseline", 3, nan, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Ratio(tt.server, tt.baseline)
			if math.IsNaN(float64(tt.want)) {
				if !math.IsNaN(float64(got)) {
					t.Errorf("Ratio(%v, %v) = %v, want NaN", tt.server, tt.baseline, got)
				}
				return
			}
			if math.Abs(float64(got-tt.want)) > 1e-12 {
				t.Errorf("Ratio(%v, %v) = %v, want %v", tt.server, tt.baseline, got, tt.want)
			}
		})
	}
}

func TestRatiosOf(t *testing.T) {
	server := Stats{P50: 20, P90: 30, P99: 60, Rate: 600}
	base := Stats{P50: 10, P90: 20, P99: 30, Rate: 1000}
	got := RatiosOf(server, base)
	want := Ratios{P50: 2, P90: 1.5, P99: 2, Rate: 0.6}
	if got != want {
		t.Errorf("RatiosOf = %+v, want %+v", got, want)
	}
	if r := RatiosOf(Stats{P50: 1}, Stats{P50: 2}); r.Rate != 0 {
		t.Errorf("RatiosOf without rates: Rate = %v, want 0 (omitted)", r.Rate)
	}
}

func TestTargetMet(t *testing.T) {
	le := Target{Metric: "ratio_p50", Op: "<=", Bound: 1.10}
	ge := Target{Metric: "ratio_rate", Op: ">=", Bound: 0.6}
	tests := []struct {
		name   string
		target Target
		v      Num
		want   bool
	}{
		{"under a ceiling", le, 1.05, true},
		{"at a ceiling", le, 1.10, true},
		{"over a ceiling", le, 1.11, false},
		{"over a floor", ge, 0.7, true},
		{"at a floor", ge, 0.6, true},
		{"under a floor", ge, 0.59, false},
		{"NaN never meets", le, Num(math.NaN()), false},
		{"Inf never meets", ge, Num(math.Inf(1)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.target.Met(tt.v); got != tt.want {
				t.Errorf("%s %v: Met(%v) = %v, want %v", tt.target.Op, tt.target.Bound, tt.v, got, tt.want)
			}
		})
	}
}

func TestItemFinish(t *testing.T) {
	it := &Item{Kind: "throughput", Server: &Stats{Rate: 500, P50: 2, P90: 3, P99: 4}, Baseline: &Stats{Rate: 1000, P50: 1, P90: 1, P99: 2},
		Target: &Target{Metric: "ratio_rate", Op: ">=", Bound: 0.6}}
	it.finish()
	if it.headline() != 0.5 || it.Met == nil || *it.Met {
		t.Errorf("throughput at half the baseline: headline %v met %v, want 0.5 and false", it.headline(), it.Met)
	}
	it = &Item{Kind: "latency", Server: &Stats{P50: 1, P90: 2, P99: 3}, Baseline: &Stats{P50: 20, P90: 20, P99: 20},
		Target: &Target{Metric: "ratio_p50", Op: "<=", Bound: 0.10}, Error: "stale read"}
	it.finish()
	if it.headline() != 0.05 || it.Met == nil || *it.Met {
		t.Errorf("an item with an error must not meet its target: headline %v met %v", it.headline(), it.Met)
	}
}

func TestNumJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		A, B, C Num
	}{1.234567, Num(math.NaN()), Num(math.Inf(-1))})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"A":1.2346,"B":null,"C":null}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var back struct{ A, B Num }
	if err := json.Unmarshal([]byte(`{"A":2.5,"B":null}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.A != 2.5 || !math.IsNaN(float64(back.B)) {
		t.Errorf("unmarshal: got %+v, want A 2.5 and B NaN", back)
	}
}
