package porttest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/ports"
)

// RateLimiter runs the ports.RateLimiter contract (spec §1.7). newLimiter
// may return a shared limiter: every subtest uses fresh keys. Windows must
// run on the wall clock: one subtest waits for a 1 s window to end.
func RateLimiter(t *testing.T, newLimiter func(t *testing.T) ports.RateLimiter) {
	t.Run("CountsDown", func(t *testing.T) { rateCountsDown(t, newLimiter(t)) })
	t.Run("KeysAndBucketsIndependent", func(t *testing.T) { rateIndependent(t, newLimiter(t)) })
	t.Run("WindowEnds", func(t *testing.T) { rateWindowEnds(t, newLimiter(t)) })
	t.Run("Concurrent", func(t *testing.T) { rateConcurrent(t, newLimiter(t)) })
}

// rateKey returns a key no other subtest or run uses.
func rateKey(name string) string { return name + "-" + newID().Hex() }

// rateSeries makes n hits on bucket/key. ok is false when they did not all
// land in one window: each hit's window end (the time after the call plus
// Reset) moved by more than half a window.
func rateSeries(t *testing.T, r ports.RateLimiter, bucket, key string, limit int, window time.Duration, n int) (res []ports.RateResult, ok bool) {
	t.Helper()
	var first time.Time
	for i := range n {
		got, err := r.Hit(t.Context(), bucket, key, limit, window)
		must(t, err, "Hit")
		end := time.Now().Add(got.Reset)
		if i == 0 {
			first = end
		} else if d := end.Sub(first); d > window/2 || d < -window/2 {
			return res, false
		}
		res = append(res, got)
	}
	return res, true
}

// rateHits makes n hits in one window on a fresh key, starting again on
// another key when the window turns over midway.
func rateHits(t *testing.T, r ports.RateLimiter, bucket string, limit int, window time.Duration, n int) []ports.RateResult {
	t.Helper()
	for range 5 {
		if res, ok := rateSeries(t, r, bucket, rateKey("series"), limit, window, n); ok {
			return res
		}
	}
	t.Fatalf("window of %v turned over during each of 5 attempts", window)
	return nil
}

func rateCountsDown(t *testing.T, r ports.RateLimiter) {
	const limit = 3
	res := rateHits(t, r, "test", limit, time.Hour, 5)
	wantAllowed := []bool{true, true, true, false, false}
	wantRemaining := []int{2, 1, 0, 0, 0}
	for i, got := range res {
		what := fmt.Sprintf("hit %d of limit %d", i+1, limit)
		if got.Allowed != wantAllowed[i] {
			t.Errorf("%s: got Allowed %v, want %v", what, got.Allowed, wantAllowed[i])
		}
		if got.Remaining != wantRemaining[i] {
			t.Errorf("%s: got Remaining %d, want %d", what, got.Remaining, wantRemaining[i])
		}
		if got.Limit != limit {
			t.Errorf("%s: got Limit %d, want %d", what, got.Limit, limit)
		}
		if got.Reset <= 0 || got.Reset > time.Hour {
			t.Errorf("%s: got Reset %v, want within (0, 1h]", what, got.Reset)
		}
		if i > 0 && got.Reset > res[i-1].Reset {
			t.Errorf("%s: got Reset %v, want at most the previous hit's %v", what, got.Reset, res[i-1].Reset)
		}
	}
}

func rateIndependent(t *testing.T, r ports.RateLimiter) {
	key := rateKey("shared")
	hit := func(bucket, key string, limit int) ports.RateResult {
		t.Helper()
		got, err := r.Hit(t.Context(), bucket, key, limit, time.Hour)
		must(t, err, "Hit")
		return got
	}
	if got := hit("login", key, 1); !got.Allowed {
		t.Fatalf("first login hit: got %+v, want allowed", got)
	}
	// Another bucket with the same key, and another key in the same
	// bucket, count from zero.
	if got := hit("signup", key, 1); !got.Allowed || got.Remaining != 0 {
		t.Errorf("first signup hit with the login key: got %+v, want allowed, 0 remaining", got)
	}
	other := rateKey("other")
	if got := hit("login", other, 1); !got.Allowed || got.Remaining != 0 {
		t.Errorf("first login hit with another key: got %+v, want allowed, 0 remaining", got)
	}
	// The first key's login count was not reset by the others.
	if got := hit("login", key, 1); got.Allowed {
		t.Errorf("second login hit with the first key: got %+v, want denied", got)
	}
}

func rateWindowEnds(t *testing.T, r ports.RateLimiter) {
	const window = time.Second
	for range 5 {
		key := rateKey("ends")
		res, ok := rateSeries(t, r, "test", key, 1, window, 2)
		if !ok {
			continue
		}
		if !res[0].Allowed || res[1].Allowed {
			t.Fatalf("two hits with limit 1: got allowed %v then %v, want true then false", res[0].Allowed, res[1].Allowed)
		}
		time.Sleep(res[1].Reset + 50*time.Millisecond)
		got, err := r.Hit(t.Context(), "test", key, 1, window)
		must(t, err, "Hit")
		if !got.Allowed || got.Remaining != 0 || got.Limit != 1 {
			t.Errorf("first hit after the window ended: got %+v, want allowed, 0 remaining, limit 1", got)
		}
		return
	}
	t.Fatalf("window of %v turned over during each of 5 attempts", window)
}

func rateConcurrent(t *testing.T, r ports.RateLimiter) {
	const n, limit = 24, 10
	for range 3 {
		key := rateKey("concurrent")
		res := make([]ports.RateResult, n)
		ends := make([]time.Time, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				res[i], errs[i] = r.Hit(t.Context(), "test", key, limit, time.Hour)
				ends[i] = time.Now().Add(res[i].Reset)
			})
		}
		wg.Wait()
		allowed, rolled := 0, false
		for i := range n {
			must(t, errs[i], "concurrent Hit")
			if d := ends[i].Sub(ends[0]); d > 30*time.Minute || d < -30*time.Minute {
				rolled = true
			}
			if res[i].Allowed {
				allowed++
			}
		}
		if rolled {
			continue
		}
		if allowed != limit {
			t.Errorf("%d concurrent hits with limit %d: got %d allowed, want %d", n, limit, allowed, limit)
		}
		return
	}
	t.Fatal("window turned over during each of 3 attempts")
}
