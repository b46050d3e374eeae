package inmem

import (
	"bytes"
	"context"
	"sort"
	"sync"
	"time"

	"github.com/runnable/runnable/ports"
)

var _ ports.FeedCache = (*FeedCache)(nil)

// FeedCache is an in-memory ports.FeedCache whose feeds expire by its
// clock.
type FeedCache struct {
	mu     sync.Mutex
	clock  ports.Clock
	feeds  map[string]cachedFeed
	faults faults
}

type cachedFeed struct {
	entries []ports.FeedEntry
	exp     time.Time
}

// NewFeedCache returns an empty cache that reads time from clock.
func NewFeedCache(clock ports.Clock) *FeedCache {
	return &FeedCache{clock: clock, feeds: map[string]cachedFeed{}}
}

// FailNext makes the next call of method return err.
func (s *FeedCache) FailNext(method string, err error) { s.faults.add(method, err) }

// Range returns a slice of key's ranked feed.
func (s *FeedCache) Range(ctx context.Context, key string, start, stop int) ([]ports.FeedEntry, int, bool, error) {
	if err := s.faults.take("Range"); err != nil {
		return nil, 0, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.feeds[key]
	if !ok || !s.clock.Now().Before(f.exp) {
		delete(s.feeds, key)
		return nil, 0, false, nil
	}
	n := len(f.entries)
	if stop < 0 || stop > n {
		stop = n
	}
	start = min(max(start, 0), n)
	stop = max(stop, start)
	return append([]ports.FeedEntry(nil), f.entries[start:stop]...), n, true, nil
}

// Store replaces key's feed, ranked as a sorted set would rank it.
func (s *FeedCache) Store(ctx context.Context, key string, entries []ports.FeedEntry, ttl time.Duration) error {
	if err := s.faults.take("Store"); err != nil {
		return err
	}
	es := make([]ports.FeedEntry, len(entries))
	for i, e := range entries {
		e.Created = ms(e.Created)
		es[i] = e
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return bytes.Compare(a.Image[:], b.Image[:]) > 0
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feeds[key] = cachedFeed{entries: es, exp: s.clock.Now().Add(ttl)}
	return nil
}
