package app

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// FeedItem is an image of the feed with its score.
type FeedItem struct {
	*domain.Image
	Score float64
}

// feedLockTTL bounds one rebuild of the cached feeds.
const feedLockTTL = 30 * time.Second

// Feed returns one page of published images (version >= 1) by feed score
// (spec §7.4), optionally only those tagged with any of channels (names
// matched through aliases; nil means every channel). With a FeedCache the
// ranking comes from the cache, rebuilt by one replica at a time; the
// others, and every replica without a cache, rank at request time.
func (a *App) Feed(ctx context.Context, caller *domain.User, channels []string, p ports.Page) ([]FeedItem, int, error) {
	var ids []domain.ID
	if channels != nil {
		var err error
		if ids, err = a.channelIDs(ctx, channels); err != nil {
			return nil, 0, err
		}
		if len(ids) == 0 {
			return []FeedItem{}, 0, nil
		}
	}
	if a.FeedCache != nil {
		items, total, ok, err := a.cachedFeed(ctx, ids, p)
		if err != nil {
			a.Logger.Warn("feed cache", "err", err)
		} else if ok {
			return items, total, nil
		}
	}
	entries, imgs, err := a.rankFeed(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	page := pageOf(entries, p)
	out := make([]FeedItem, len(page))
	for i, e := range page {
		out[i] = FeedItem{Image: imgs[e.Image], Score: e.Score}
	}
	return out, len(entries), nil
}

// rankFeed lists the published images of channels (all when nil) and ranks
// them now.
func (a *App) rankFeed(ctx context.Context, channels []domain.ID) ([]ports.FeedEntry, map[domain.ID]*domain.Image, error) {
	published := true
	all, _, err := a.Images.List(ctx, ports.ImageQuery{Published: &published, Channels: channels, Page: ports.Page{Limit: 0}})
	if err != nil {
		return nil, nil, err
	}
	now := a.now()
	entries := make([]ports.FeedEntry, len(all))
	imgs := make(map[domain.ID]*domain.Image, len(all))
	for i, img := range all {
		entries[i] = ports.FeedEntry{Image: img.ID, Created: img.Created, Score: domain.Score(img.Stats.Runs, img.Created, now)}
		imgs[img.ID] = img
	}
	sortFeed(entries)
	return entries, imgs, nil
}

// sortFeed orders entries by score descending, then newer created, then
// higher id.
func sortFeed(entries []ports.FeedEntry) {
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return bytes.Compare(a.Image[:], b.Image[:]) > 0
	})
}

func feedKey(channel domain.ID) string {
	if channel.IsZero() {
		return "global"
	}
	return "channel:" + channel.Hex()
}

// cachedFeed serves a page from the cache. ok is false when a feed it
// needs is missing and this replica could not rebuild it now.
func (a *App) cachedFeed(ctx context.Context, channels []domain.ID, p ports.Page) ([]FeedItem, int, bool, error) {
	var entries []ports.FeedEntry
	var total int
	if len(channels) <= 1 {
		// One sorted set: read only the page.
		var ch domain.ID
		if len(channels) == 1 {
			ch = channels[0]
		}
		start, stop := 0, -1
		if p.Limit > 0 {
			start, stop = p.Page*p.Limit, (p.Page+1)*p.Limit
		}
		e, n, ok, err := a.feedRange(ctx, ch, start, stop)
		if err != nil || !ok {
			return nil, 0, false, err
		}
		entries, total = e, n
	} else {
		// Several channels: merge their sets, an image once.
		seen := map[domain.ID]int{}
		for _, ch := range channels {
			e, _, ok, err := a.feedRange(ctx, ch, 0, -1)
			if err != nil || !ok {
				return nil, 0, false, err
			}
			for _, x := range e {
				if i, dup := seen[x.Image]; dup {
					entries[i].Score = max(entries[i].Score, x.Score)
					continue
				}
				seen[x.Image] = len(entries)
				entries = append(entries, x)
			}
		}
		sortFeed(entries)
		total = len(entries)
		entries = pageOf(entries, p)
	}
	out := make([]FeedItem, 0, len(entries))
	for _, e := range entries {
		img, err := a.Images.Get(ctx, e.Image)
		if errors.Is(err, domain.ErrNotFound) {
			continue // deleted since the feed was ranked
		}
		if err != nil {
			return nil, 0, false, err
		}
		out = append(out, FeedItem{Image: img, Score: e.Score})
	}
	return out, total, true, nil
}

// feedRange reads a cached feed, rebuilding it first when it is missing
// and this replica takes the rebuild lock; ok is false when another
// replica holds the lock.
func (a *App) feedRange(ctx context.Context, channel domain.ID, start, stop int) ([]ports.FeedEntry, int, bool, error) {
	key := feedKey(channel)
	e, n, ok, err := a.FeedCache.Range(ctx, key, start, stop)
	if err != nil || ok {
		return e, n, ok, err
	}
	lock, held, err := a.Locks.Acquire(ctx, "lock:feed", feedLockTTL)
	if err != nil || !held {
		return nil, 0, false, err
	}
	defer func() { _ = lock.Release(context.WithoutCancel(ctx)) }()
	// Another replica may have rebuilt it while we waited for the lock.
	if e, n, ok, err = a.FeedCache.Range(ctx, key, start, stop); err != nil || ok {
		return e, n, ok, err
	}
	if err := a.rebuildFeeds(ctx, channel); err != nil {
		return nil, 0, false, err
	}
	return a.FeedCache.Range(ctx, key, start, stop)
}

// rebuildFeeds ranks the images of channel (every published image when
// zero) and stores the feed. Rebuilding the global feed also stores every
// channel's feed, from the same listing.
func (a *App) rebuildFeeds(ctx context.Context, channel domain.ID) error {
	var chans []domain.ID
	if !channel.IsZero() {
		chans = []domain.ID{channel}
	}
	entries, imgs, err := a.rankFeed(ctx, chans)
	if err != nil {
		return err
	}
	ttl := a.cfg.FeedCacheTTL
	if err := a.FeedCache.Store(ctx, feedKey(channel), entries, ttl); err != nil {
		return err
	}
	if !channel.IsZero() {
		return nil
	}
	byChannel := map[domain.ID][]ports.FeedEntry{}
	for _, e := range entries { // already ranked: each channel's order follows
		for _, t := range imgs[e.Image].Tags {
			byChannel[t.Channel] = append(byChannel[t.Channel], e)
		}
	}
	for ch, es := range byChannel {
		if err := a.FeedCache.Store(ctx, feedKey(ch), es, ttl); err != nil {
			return err
		}
	}
	return nil
}
