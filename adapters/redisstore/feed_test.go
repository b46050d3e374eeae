package redisstore_test

import (
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/redisstore"
	"github.com/runnable/runnable/adapters/redisstore/redistest"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

// TestFeedCacheContract runs the feed cache suite on the embedded
// miniredis and a real redis-server; both expire keys by the wall clock,
// so moving the clock is sleeping.
func TestFeedCacheContract(t *testing.T) {
	for name, newStore := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			porttest.FeedCache(t, func(t *testing.T) (ports.FeedCache, func(time.Duration)) {
				return newStore(t).FeedCache(), time.Sleep
			})
		})
	}
}

// TestFeedKeys checks the key layout of spec §9.4 on a real server.
func TestFeedKeys(t *testing.T) {
	url := redistest.URL(t)
	s := open(t, redisstore.Config{URL: url})
	raw := rawClient(t, url)
	ctx := t.Context()
	e := ports.FeedEntry{Image: [12]byte{1, 2, 3}, Created: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Score: 0.5}
	if err := s.FeedCache().Store(ctx, "channel:0102", []ports.FeedEntry{e}, time.Minute); err != nil {
		t.Fatal(err)
	}
	n, err := raw.ZCard(ctx, "feed:channel:0102").Result()
	if err != nil || n != 2 {
		t.Fatalf("feed:channel:0102: got %d members (%v), want the entry and the marker", n, err)
	}
	ttl, err := raw.PTTL(ctx, "feed:channel:0102").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL: got %v (%v), want at most a minute", ttl, err)
	}
	keys, _ := raw.Keys(ctx, "feed:channel:0102:*").Result()
	if len(keys) != 0 {
		t.Fatalf("build keys left behind: %v", keys)
	}
}
