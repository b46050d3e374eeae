package inmem_test

import (
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

func TestRateLimiterContract(t *testing.T) {
	t.Parallel()
	porttest.RateLimiter(t, func(*testing.T) ports.RateLimiter { return inmem.NewRateLimiter(realNow{}) })
}

func TestRateLimiterWindowsOnClock(t *testing.T) {
	clock := &fakeNow{} // starts at 12:00:00, a window boundary
	r := inmem.NewRateLimiter(clock)
	hit := func() ports.RateResult {
		t.Helper()
		res, err := r.Hit(t.Context(), "login", "1.2.3.4", 2, time.Minute)
		if err != nil {
			t.Fatalf("Hit: got error %v, want nil", err)
		}
		return res
	}
	clock.Advance(20 * time.Second)
	tests := []struct {
		name string
		want ports.RateResult
	}{
		{"first", ports.RateResult{Allowed: true, Limit: 2, Remaining: 1, Reset: 40 * time.Second}},
		{"second", ports.RateResult{Allowed: true, Limit: 2, Remaining: 0, Reset: 40 * time.Second}},
		{"third", ports.RateResult{Allowed: false, Limit: 2, Remaining: 0, Reset: 40 * time.Second}},
	}
	for _, tt := range tests {
		if got := hit(); got != tt.want {
			t.Errorf("%s hit: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	clock.Advance(39*time.Second + 999*time.Millisecond)
	if got, want := hit(), (ports.RateResult{Allowed: false, Limit: 2, Remaining: 0, Reset: time.Millisecond}); got != want {
		t.Errorf("hit 1 ms before the window ends: got %+v, want %+v", got, want)
	}
	clock.Advance(time.Millisecond)
	if got, want := hit(), (ports.RateResult{Allowed: true, Limit: 2, Remaining: 1, Reset: time.Minute}); got != want {
		t.Errorf("hit as the next window starts: got %+v, want %+v", got, want)
	}
}
