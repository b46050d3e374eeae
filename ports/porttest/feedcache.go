package porttest

import (
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// FeedCache runs the ports.FeedCache contract. newCache must return an
// empty cache, not shared with other calls, and a function that moves the
// cache's clock forward (the adapter's expiry is what is under test).
func FeedCache(t *testing.T, newCache func(t *testing.T) (ports.FeedCache, func(time.Duration))) {
	t.Run("StoreRange", func(t *testing.T) { c, _ := newCache(t); feedCacheStoreRange(t, c) })
	t.Run("Ties", func(t *testing.T) { c, _ := newCache(t); feedCacheTies(t, c) })
	t.Run("EmptyAndMissing", func(t *testing.T) { c, _ := newCache(t); feedCacheEmpty(t, c) })
	t.Run("Expiry", func(t *testing.T) { c, advance := newCache(t); feedCacheExpiry(t, c, advance) })
}

func entryIDs(es []ports.FeedEntry) []domain.ID {
	return idsOf(es, func(e ports.FeedEntry) domain.ID { return e.Image })
}

func feedCacheStoreRange(t *testing.T, c ports.FeedCache) {
	ctx := t.Context()
	a := ports.FeedEntry{Image: newID(), Created: at(odd), Score: 0.25}
	b := ports.FeedEntry{Image: newID(), Created: at(time.Hour), Score: 1.0 / 3}
	d := ports.FeedEntry{Image: newID(), Created: at(0), Score: 2.5}
	must(t, c.Store(ctx, "global", []ports.FeedEntry{a, b, d}, time.Minute), "Store")
	tests := []struct {
		name        string
		start, stop int
		want        []domain.ID
	}{
		{"all", 0, -1, []domain.ID{d.Image, b.Image, a.Image}},
		{"first two", 0, 2, []domain.ID{d.Image, b.Image}},
		{"from the second", 1, -1, []domain.ID{b.Image, a.Image}},
		{"last", 2, 3, []domain.ID{a.Image}},
		{"past the end", 3, 6, nil},
		{"stop past the end", 1, 10, []domain.ID{b.Image, a.Image}},
	}
	for _, tt := range tests {
		got, total, ok, err := c.Range(ctx, "global", tt.start, tt.stop)
		must(t, err, "Range "+tt.name)
		if !ok || total != 3 {
			t.Errorf("Range %s: got ok %v total %d, want true 3", tt.name, ok, total)
		}
		sameIDs(t, entryIDs(got), tt.want, "Range "+tt.name)
	}
	got, _, _, _ := c.Range(ctx, "global", 0, 1)
	if len(got) == 1 && (got[0].Score != 2.5 || !got[0].Created.Equal(at(0))) {
		t.Errorf("Range entry: got %+v, want score 2.5 created %v", got[0], at(0))
	}
	got, _, _, _ = c.Range(ctx, "global", 1, 2)
	if len(got) == 1 && (got[0].Score != 1.0/3 || !got[0].Created.Equal(msTime(at(time.Hour)))) {
		t.Errorf("Range entry: got score %v, want the stored float %v exactly", got[0].Score, 1.0/3)
	}
	// Store replaces the whole feed; other keys are separate.
	must(t, c.Store(ctx, "global", []ports.FeedEntry{a}, time.Minute), "Store again")
	got, total, _, _ := c.Range(ctx, "global", 0, -1)
	if total != 1 {
		t.Errorf("Range after replacing: got total %d, want 1", total)
	}
	sameIDs(t, entryIDs(got), []domain.ID{a.Image}, "Range after replacing")
	_, _, ok, err := c.Range(ctx, "channel:"+newID().Hex(), 0, -1)
	must(t, err, "Range of another key")
	if ok {
		t.Errorf("Range of a key never stored: got ok, want missing")
	}
}

func feedCacheTies(t *testing.T, c ports.FeedCache) {
	ctx := t.Context()
	older := ports.FeedEntry{Image: newID(), Created: at(0), Score: 1}
	low := ports.FeedEntry{Image: newID(), Created: at(time.Hour), Score: 1}
	high := ports.FeedEntry{Image: newID(), Created: at(time.Hour), Score: 1} // higher id
	must(t, c.Store(ctx, "channel:x", []ports.FeedEntry{older, low, high}, time.Minute), "Store")
	got, _, _, err := c.Range(ctx, "channel:x", 0, -1)
	must(t, err, "Range")
	sameIDs(t, entryIDs(got), []domain.ID{high.Image, low.Image, older.Image}, "ties: newer created, then higher id")
}

func feedCacheEmpty(t *testing.T, c ports.FeedCache) {
	ctx := t.Context()
	_, _, ok, err := c.Range(ctx, "global", 0, -1)
	must(t, err, "Range before Store")
	if ok {
		t.Errorf("Range before Store: got ok, want missing")
	}
	must(t, c.Store(ctx, "global", nil, time.Minute), "Store empty")
	got, total, ok, err := c.Range(ctx, "global", 0, 10)
	must(t, err, "Range of an empty feed")
	if !ok || total != 0 || len(got) != 0 {
		t.Errorf("Range of an empty feed: got ok %v total %d %d entries, want cached, 0, none", ok, total, len(got))
	}
}

func feedCacheExpiry(t *testing.T, c ports.FeedCache, advance func(time.Duration)) {
	ctx := t.Context()
	e := ports.FeedEntry{Image: newID(), Created: at(0), Score: 1}
	must(t, c.Store(ctx, "global", []ports.FeedEntry{e}, 2*time.Second), "Store")
	advance(time.Second)
	if _, _, ok, _ := c.Range(ctx, "global", 0, -1); !ok {
		t.Errorf("Range before the ttl: got missing, want cached")
	}
	advance(1500 * time.Millisecond)
	if _, _, ok, _ := c.Range(ctx, "global", 0, -1); ok {
		t.Errorf("Range after the ttl: got cached, want missing")
	}
}
