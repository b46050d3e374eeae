package domain_test

import (
	"math"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
)

func TestScore(t *testing.T) {
	created := now.Add(-5 * time.Hour)
	tests := []struct {
		name string
		runs int
		at   time.Time
		want float64
	}{
		{"spec example: 10 runs, 5 hours", 10, now, 0.7019},
		{"brand new, no runs", 0, created, 3 / (2 * 1.41421356)},
		{"clock skew counts as zero hours", 0, created.Add(-time.Hour), 3 / (2 * 1.41421356)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.Score(tt.runs, created, tt.at)
			if math.Abs(got-tt.want) > 0.0001 {
				t.Fatalf("got %.5f, want %.5f", got, tt.want)
			}
		})
	}
}

func TestSortByScore(t *testing.T) {
	at := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
	imgs := []*domain.Image{
		{ID: domain.ID{1}, Created: at(5), Stats: domain.Stats{Runs: 10}}, // 0.70
		{ID: domain.ID{2}, Created: at(0)},                                // 1.06
		{ID: domain.ID{3}, Created: at(48)},                               // low
		{ID: domain.ID{4}, Created: at(0)},                                // ties with 2: higher id first
		{ID: domain.ID{5}, Created: at(5), Stats: domain.Stats{Runs: 10}}, // ties with 1
	}
	domain.SortByScore(imgs, now)
	var got []byte
	for _, img := range imgs {
		got = append(got, img.ID[0])
	}
	want := []byte{4, 2, 5, 1, 3}
	if string(got) != string(want) {
		t.Fatalf("got order %v, want %v", got, want)
	}
}
