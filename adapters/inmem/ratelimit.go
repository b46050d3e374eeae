package inmem

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/runnable/runnable/ports"
)

var _ ports.RateLimiter = (*RateLimiter)(nil)

// RateLimiter is an in-memory ports.RateLimiter with fixed windows aligned
// on the Unix epoch, as the Redis adapter's are, timed by its clock.
type RateLimiter struct {
	mu     sync.Mutex
	clock  ports.Clock
	counts map[rateKey]int
	faults faults
}

type rateKey struct {
	bucket, key string
	start       int64 // window start, unix ms
	window      time.Duration
}

// NewRateLimiter returns a rate limiter with no hits that reads time from
// clock.
func NewRateLimiter(clock ports.Clock) *RateLimiter {
	return &RateLimiter{clock: clock, counts: map[rateKey]int{}}
}

// FailNext makes the next call of method ("Hit") return err.
func (r *RateLimiter) FailNext(method string, err error) { r.faults.add(method, err) }

// Hit counts one hit for key in bucket's current window. window must be at
// least one second, as for the Redis adapter.
func (r *RateLimiter) Hit(_ context.Context, bucket, key string, limit int, window time.Duration) (ports.RateResult, error) {
	if err := r.faults.take("Hit"); err != nil {
		return ports.RateResult{}, err
	}
	if window < time.Second {
		return ports.RateResult{}, fmt.Errorf("inmem: rate window %v is shorter than a second", window)
	}
	now := r.clock.Now()
	w := window.Milliseconds()
	start := now.UnixMilli() - now.UnixMilli()%w
	r.mu.Lock()
	defer r.mu.Unlock()
	// Forget windows that have ended, as Redis expires their keys.
	for k := range r.counts {
		if k.start+k.window.Milliseconds() <= now.UnixMilli() {
			delete(r.counts, k)
		}
	}
	k := rateKey{bucket: bucket, key: key, start: start, window: window}
	r.counts[k]++
	n := r.counts[k]
	return ports.RateResult{
		Allowed:   n <= limit,
		Limit:     limit,
		Remaining: max(limit-n, 0),
		Reset:     time.UnixMilli(start + w).Sub(now),
	}, nil
}
