package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnable/runnable/ports"
)

// RateLimiter counts hits in fixed windows aligned on the Unix epoch, in
// keys rl:<bucket>:<key>:<window start unix seconds> that expire with their
// window. Replicas sharing a Redis share the counts.
type RateLimiter struct {
	rdb   *redis.Client
	clock ports.Clock
}

var _ ports.RateLimiter = (*RateLimiter)(nil)

// Hit counts one hit for key in bucket's current window and reports
// whether it is within limit. window must be at least one second (keys name
// windows by their start second). ErrUnavailable when Redis cannot be
// reached.
func (r *RateLimiter) Hit(ctx context.Context, bucket, key string, limit int, window time.Duration) (ports.RateResult, error) {
	if window < time.Second {
		return ports.RateResult{}, fmt.Errorf("redisstore: rate window %v is shorter than a second", window)
	}
	now := r.clock.Now()
	w := window.Milliseconds()
	start := now.UnixMilli() - now.UnixMilli()%w
	reset := time.UnixMilli(start + w).Sub(now)
	k := "rl:" + bucket + ":" + key + ":" + strconv.FormatInt(start/1000, 10)
	var incr *redis.IntCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, k)
		p.PExpire(ctx, k, reset)
		return nil
	})
	if err != nil {
		return ports.RateResult{}, fmt.Errorf("rate limit: %w", translate(ctx, err))
	}
	return rateResult(int(incr.Val()), limit, reset), nil
}

func rateResult(count, limit int, reset time.Duration) ports.RateResult {
	return ports.RateResult{
		Allowed:   count <= limit,
		Limit:     limit,
		Remaining: max(limit-count, 0),
		Reset:     reset,
	}
}
