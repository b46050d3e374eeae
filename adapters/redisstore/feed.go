package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.FeedCache = (*FeedCache)(nil)

// FeedCache keeps ranked feeds in sorted sets feed:<key> (spec §9.4:
// feed:global, feed:channel:<channelId>) that expire after their TTL.
//
// A member is the image's creation time (16 hex digits, order-preserving)
// followed by its hex id, so that Redis, which orders equal scores by
// member, ranks ties newer first, then higher id, as the feed does. Every
// stored set also holds the member "~" with score -1, below any feed score,
// so that an empty feed is still a present key.
type FeedCache struct {
	rdb *redis.Client
}

// FeedCache returns the feed cache.
func (s *Store) FeedCache() *FeedCache { return &FeedCache{rdb: s.rdb} }

const feedSentinel = "~"

func feedKey(key string) string { return "feed:" + key }

func feedMember(e ports.FeedEntry) string {
	ms := uint64(e.Created.UnixMilli()) ^ 1<<63 // flip the sign: unsigned order = time order
	return fmt.Sprintf("%016x%s", ms, e.Image.Hex())
}

func parseFeedMember(m string, score float64) (ports.FeedEntry, error) {
	if len(m) != 40 {
		return ports.FeedEntry{}, fmt.Errorf("redisstore: feed member %q", m)
	}
	ms, err := strconv.ParseUint(m[:16], 16, 64)
	if err != nil {
		return ports.FeedEntry{}, fmt.Errorf("redisstore: feed member %q: %w", m, err)
	}
	id, ok := domain.ParseHex(m[16:])
	if !ok {
		return ports.FeedEntry{}, fmt.Errorf("redisstore: feed member %q", m)
	}
	return ports.FeedEntry{Image: id, Created: time.UnixMilli(int64(ms ^ 1<<63)).UTC(), Score: score}, nil
}

// Range returns entries [start, stop) of key's feed (stop < 0: to the end)
// and its size; ok is false when the feed is not cached. ErrUnavailable
// when Redis cannot be reached.
func (f *FeedCache) Range(ctx context.Context, key string, start, stop int) ([]ports.FeedEntry, int, bool, error) {
	k := feedKey(key)
	last := int64(-1)
	if stop >= 0 {
		if stop <= start {
			stop = start // an empty range still reports the size
		}
		last = int64(stop) - 1
	}
	pipe := f.rdb.Pipeline()
	card := pipe.ZCard(ctx, k)
	var rng *redis.ZSliceCmd
	if last < 0 || last >= int64(start) {
		rng = pipe.ZRevRangeWithScores(ctx, k, int64(start), last)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, 0, false, translate(ctx, err)
	}
	n := int(card.Val())
	if n == 0 {
		return nil, 0, false, nil
	}
	var out []ports.FeedEntry
	if rng != nil {
		for _, z := range rng.Val() {
			m, _ := z.Member.(string)
			if m == feedSentinel {
				continue
			}
			e, err := parseFeedMember(m, z.Score)
			if err != nil {
				return nil, 0, false, err
			}
			out = append(out, e)
		}
	}
	return out, n - 1, true, nil
}

// Store replaces key's feed with entries for ttl, atomically: readers see
// the old feed or the new one. ErrUnavailable when Redis cannot be
// reached.
func (f *FeedCache) Store(ctx context.Context, key string, entries []ports.FeedEntry, ttl time.Duration) error {
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return fmt.Errorf("redisstore: feed: %w", err)
	}
	k := feedKey(key)
	tmp := k + ":build:" + hex.EncodeToString(r[:])
	members := make([]redis.Z, 0, len(entries)+1)
	members = append(members, redis.Z{Score: -1, Member: feedSentinel})
	for _, e := range entries {
		members = append(members, redis.Z{Score: e.Score, Member: feedMember(e)})
	}
	// Build the new set aside (in chunks, for big feeds), then swap it in.
	const chunk = 1000
	for i := 0; i < len(members); i += chunk {
		pipe := f.rdb.Pipeline()
		pipe.ZAdd(ctx, tmp, members[i:min(i+chunk, len(members))]...)
		pipe.PExpire(ctx, tmp, ttl+time.Minute) // a crash leaves no garbage
		if _, err := pipe.Exec(ctx); err != nil {
			_ = f.rdb.Del(context.WithoutCancel(ctx), tmp).Err()
			return translate(ctx, err)
		}
	}
	tx := f.rdb.TxPipeline()
	tx.PExpire(ctx, tmp, ttl)
	tx.Rename(ctx, tmp, k)
	if _, err := tx.Exec(ctx); err != nil {
		_ = f.rdb.Del(context.WithoutCancel(ctx), tmp).Err()
		return translate(ctx, err)
	}
	return nil
}
