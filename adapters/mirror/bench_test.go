package mirror_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/mirror"
	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/adapters/redisstore"
	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// The catalogue of BenchmarkPublishing (adapters/mongostore): 10,000
// images of 50 users, a third of them published in 20 channels, with votes
// and comments; plus drafts.
const (
	benchImages = 10000
	benchDrafts = 2000
)

// BenchmarkMirror measures the publishing reads of BenchmarkPublishing and
// the image and draft store operations on the embedded store (FerretDB over
// SQLite) directly ("embedded") and through the mirror ("mirror"), over the
// same data, and the mirror's load ("load": time and retained heap per
// record).
//
//	go test -run '^$' -bench BenchmarkMirror -benchtime 5x -timeout 60m ./adapters/mirror/
//	go test -run '^$' -bench 'BenchmarkMirror/(mirror|load)' -benchtime 20x -timeout 30m ./adapters/mirror/
func BenchmarkMirror(b *testing.B) {
	ctx := context.Background()
	s, err := mongostore.Open(ctx, mongostore.Config{DB: "mirrorbench", DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	if err := mongostore.Migrate(ctx, s.DB()); err != nil {
		b.Fatal(err)
	}
	r, err := redisstore.Open(ctx, redisstore.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	clock := system.Clock{}
	deps := app.Deps{Clock: clock, IDs: system.NewIDs(), Locks: r.Locks(), Tokens: inmem.NewTokens(clock),
		Limiter: inmem.NewRateLimiter(clock), Containers: inmem.NewContainers(), Files: inmem.NewFiles(),
		Users: s.Users(), Images: s.Images(), Drafts: s.Drafts(), ImageTags: s.Images(), DraftTags: s.Drafts(),
		Channels: s.Channels(), Categories: s.Categories(), Votes: s.Votes(), Comments: s.Comments(), FeedCache: r.FeedCache()}
	start := time.Now()
	f := fill(b, deps)
	b.Logf("filled %d images and %d drafts in %v", benchImages, benchDrafts, time.Since(start).Round(time.Millisecond))

	b.Run("load", func(b *testing.B) {
		b.Run("images", func(b *testing.B) {
			si := s.Images()
			benchLoad(b, si.All, func(load func(context.Context) ([]*domain.Image, error)) (any, error) {
				return mirror.NewImages(ctx, si, si, load, nil)
			})
		})
		b.Run("drafts", func(b *testing.B) {
			sd := s.Drafts()
			benchLoad(b, sd.All, func(load func(context.Context) ([]*domain.Draft, error)) (any, error) {
				return mirror.NewDrafts(ctx, sd, sd, load, nil)
			})
		})
	})
	b.Run("embedded", func(b *testing.B) { f.run(b, deps) })
	b.Run("mirror", func(b *testing.B) {
		// Loaded here, after whatever "embedded" wrote behind its back.
		images, err := mirror.NewImages(ctx, s.Images(), s.Images(), s.Images().All, nil)
		if err != nil {
			b.Fatal(err)
		}
		drafts, err := mirror.NewDrafts(ctx, s.Drafts(), s.Drafts(), s.Drafts().All, nil)
		if err != nil {
			b.Fatal(err)
		}
		d := deps
		d.Images, d.ImageTags, d.Drafts, d.DraftTags = images, images, drafts, drafts
		f.run(b, d)
	})
}

// benchLoad times building a mirror from the store, and reports the heap
// one more build retains per record (the store's own caches are warm by
// then, so the growth is the mirror's).
func benchLoad[T any](b *testing.B, all func(context.Context) ([]*T, error),
	build func(load func(context.Context) ([]*T, error)) (any, error)) {
	for b.Loop() {
		if _, err := build(all); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	b.StopTimer()
	n := 0
	count := func(ctx context.Context) ([]*T, error) {
		recs, err := all(ctx)
		n = len(recs)
		return recs, err
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept, err := build(count)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "B/record")
}

// fixture is what fill made.
type fixture struct {
	user      *domain.User
	owner     domain.ID // owner of hot
	hot       domain.ID // an image with votes and comments
	images    []domain.ID
	drafts    []*domain.Draft
	draftUser domain.ID
	channel   domain.ID
}

func fill(b *testing.B, deps app.Deps) *fixture {
	ctx := context.Background()
	ids := system.NewIDs()
	now := time.Now().UTC()
	rng := rand.New(rand.NewPCG(1, 2))
	users := make([]*domain.User, 50)
	for i := range users {
		users[i] = &domain.User{ID: ids.NewID(), Username: fmt.Sprintf("bench%d", i), Email: fmt.Sprintf("bench%d@example.com", i),
			Level: domain.LevelRegistered, Created: now}
		if err := deps.Users.Create(ctx, users[i]); err != nil {
			b.Fatal(err)
		}
	}
	chans := make([]*domain.Channel, 20)
	for i := range chans {
		chans[i] = domain.NewChannel(ids.NewID(), fmt.Sprintf("c%d", i), "", now)
		if err := deps.Channels.Create(ctx, chans[i]); err != nil {
			b.Fatal(err)
		}
	}
	imgs := make([]*domain.Image, benchImages)
	for i := range imgs {
		id := ids.NewID()
		img := &domain.Image{ID: id, Name: fmt.Sprintf("image %05d", i), Description: "a benchmark image with some words",
			Owner: users[1+i%49].ID, Version: 1, Status: domain.ImageReady, FileRoot: "/root", Ref: domain.ImageRef(id, 1),
			Created: now.Add(-time.Duration(rng.IntN(30*24)) * time.Hour), Stats: domain.Stats{Runs: rng.IntN(200), Views: rng.IntN(1000)},
			Votes: rng.IntN(20)}
		img.Updated = img.Created
		if i%3 == 0 {
			for _, c := range rng.Perm(len(chans))[:1+rng.IntN(3)] {
				img.Tags = append(img.Tags, domain.Tag{ID: ids.NewID(), Channel: chans[c].ID, Name: chans[c].Name})
			}
		}
		imgs[i] = img
	}
	drafts := make([]*domain.Draft, benchDrafts)
	for i := range drafts {
		parent := imgs[rng.IntN(len(imgs))]
		d := &domain.Draft{ID: ids.NewID(), Name: parent.Name, Owner: users[1+i%49].ID, Parent: parent.ID, ParentVersion: 1,
			Root: parent.ID, FileRoot: "/root", BaseRef: parent.Ref, Status: domain.StatusNotCreated,
			LastAccess: now.Add(-time.Duration(rng.IntN(14*24)) * time.Hour), Save: domain.SaveState{Status: domain.SaveNone}}
		d.Created = d.LastAccess
		switch i % 4 {
		case 1:
			d.Target = parent.ID
		case 2:
			d.ContainerID, d.Status = fmt.Sprintf("container%d", i), domain.StatusStopped
		}
		drafts[i] = d
	}
	parallel(b, len(imgs), func(i int) error { return deps.Images.Create(ctx, imgs[i]) })
	parallel(b, len(drafts), func(i int) error { return deps.Drafts.Create(ctx, drafts[i]) })
	f := &fixture{user: users[0], hot: imgs[0].ID, owner: imgs[0].Owner, drafts: drafts, draftUser: users[1].ID, channel: chans[0].ID}
	for _, img := range imgs {
		f.images = append(f.images, img.ID)
	}
	for i, u := range users[2:] {
		if err := deps.Votes.Create(ctx, &domain.Vote{ID: ids.NewID(), User: u.ID, Image: f.hot, Created: now}); err != nil {
			b.Fatal(err)
		}
		c := &domain.Comment{ID: ids.NewID(), Image: f.hot, Author: u.ID, Text: fmt.Sprintf("comment %d", i), Created: now.Add(time.Duration(i) * time.Second)}
		if err := deps.Comments.Create(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 2000 {
		u, img := users[rng.IntN(len(users))], imgs[1+rng.IntN(len(imgs)-1)]
		_ = deps.Votes.Create(ctx, &domain.Vote{ID: ids.NewID(), User: u.ID, Image: img.ID, Created: now})
		if i%2 == 0 {
			if err := deps.Comments.Create(ctx, &domain.Comment{ID: ids.NewID(), Image: img.ID, Author: u.ID, Text: "x", Created: now}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return f
}

// parallel runs fn for 0..n-1 on four workers.
func parallel(b *testing.B, n int, fn func(i int) error) {
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// run measures the publishing reads of BenchmarkPublishing over an app on
// deps, then the store operations.
func (f *fixture) run(b *testing.B, deps app.Deps) {
	ctx := context.Background()
	cfg := app.DefaultConfig()
	cfg.FeedCacheTTL = time.Hour // the cached cases read a warm cache
	a := app.New(deps, cfg)
	b.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	page := ports.Page{Limit: 25}
	spread := func(i int) domain.ID { return f.images[(i*7919)%len(f.images)] }
	c5 := "c5"
	published := true
	cases := []struct {
		name string
		run  func(i int) error
	}{
		{"ListImages/newest", func(int) error {
			_, _, err := a.ListImages(ctx, f.user, app.ImageListInput{Page: page})
			return err
		}},
		{"ListImages/published-in-channel", func(int) error {
			_, _, err := a.ListImages(ctx, f.user, app.ImageListInput{Published: &published, Channels: []string{"c3"}, Page: page})
			return err
		}},
		{"ListImages/votes", func(int) error {
			_, _, err := a.ListImages(ctx, f.user, app.ImageListInput{Sort: "votes", Page: page})
			return err
		}},
		{"ListImages/trending", func(int) error {
			_, _, err := a.ListImages(ctx, f.user, app.ImageListInput{Sort: "trending", Page: page})
			return err
		}},
		{"Feed/global-uncached", func(int) error {
			a.FeedCache = nil
			_, _, err := a.Feed(ctx, f.user, nil, page)
			a.FeedCache = deps.FeedCache
			return err
		}},
		{"Feed/global-cached", func(int) error { _, _, err := a.Feed(ctx, f.user, nil, page); return err }},
		{"Feed/two-channels-cached", func(int) error {
			_, _, err := a.Feed(ctx, f.user, []string{"c1", "c2"}, page)
			return err
		}},
		{"ListChannels/name", func(int) error { _, _, err := a.ListChannels(ctx, app.ChannelListInput{Page: page}); return err }},
		{"ListChannels/-count", func(int) error {
			_, _, err := a.ListChannels(ctx, app.ChannelListInput{Sort: "-count", Page: page})
			return err
		}},
		{"ListChannels/related", func(int) error {
			_, _, err := a.ListChannels(ctx, app.ChannelListInput{Channel: &c5, Page: page})
			return err
		}},
		{"CountVotes", func(int) error { _, err := a.CountVotes(ctx, f.user, f.hot.Short()); return err }},
		{"ListComments", func(int) error { _, _, err := a.ListComments(ctx, f.user, f.hot.Short(), page); return err }},
		{"ImagePage/owner-counts-only", func(int) error { _, _, err := a.Images.CountByOwner(ctx, f.owner); return err }},
		{"ImagePage", func(int) error { _, err := a.GetImagePage(ctx, f.user, f.hot.Short()); return err }},

		{"Images.Get", func(i int) error { _, err := deps.Images.Get(ctx, spread(i)); return err }},
		{"Images.FindByName", func(i int) error {
			_, err := deps.Images.FindByName(ctx, fmt.Sprintf("IMAGE %05d", (i*7919)%benchImages))
			return err
		}},
		{"ImageTags.ChannelCounts/all", func(int) error {
			_, err := deps.ImageTags.ChannelCounts(ctx, domain.NilID, nil)
			return err
		}},
		{"Drafts.Get", func(i int) error { _, err := deps.Drafts.Get(ctx, f.drafts[(i*7919)%len(f.drafts)].ID); return err }},
		{"Drafts.List/owner", func(int) error {
			_, _, err := deps.Drafts.List(ctx, ports.DraftQuery{Owner: f.draftUser, Page: page})
			return err
		}},
		{"Drafts.CountByOwner", func(int) error { _, err := deps.Drafts.CountByOwner(ctx, f.draftUser); return err }},
		{"Drafts.Expired", func(int) error {
			_, err := deps.Drafts.Expired(ctx, time.Now().Add(-7*24*time.Hour), 100)
			return err
		}},
		{"Drafts.WithContainer", func(int) error { _, err := deps.Drafts.WithContainer(ctx); return err }},

		{"Images.AddStat", func(i int) error { _, _, err := deps.Images.AddStat(ctx, spread(i), "views", 1); return err }},
		{"Images.Update", func(i int) error {
			img, err := deps.Images.Get(ctx, spread(i))
			if err != nil {
				return err
			}
			img.Description = fmt.Sprintf("updated %d", i)
			return deps.Images.Update(ctx, img)
		}},
		{"Images.Create", func(i int) error {
			now := time.Now()
			return deps.Images.Create(ctx, &domain.Image{ID: deps.IDs.NewID(), Name: "new " + deps.IDs.NewID().Hex(), Owner: f.owner,
				Version: 1, Status: domain.ImageReady, Created: now, Updated: now})
		}},
		{"ImageTags.AddTag+RemoveTag", func(i int) error {
			id, tag := spread(i), domain.Tag{ID: deps.IDs.NewID(), Channel: deps.IDs.NewID(), Name: "bench"}
			if err := deps.ImageTags.AddTag(ctx, id, tag, 100); err != nil {
				return err
			}
			return deps.ImageTags.RemoveTag(ctx, id, tag.ID)
		}},
		{"Drafts.Update", func(i int) error {
			d := *f.drafts[(i*7919)%len(f.drafts)]
			d.LastAccess = time.Now().UTC()
			return deps.Drafts.Update(ctx, &d)
		}},
	}
	// Eight writers at once on different images: the mirror lets one
	// write through at a time.
	cases = append(cases, struct {
		name string
		run  func(i int) error
	}{"Images.AddStat/8-writers", nil})
	for _, c := range cases {
		if c.run == nil {
			b.Run(c.name, func(b *testing.B) {
				var next atomic.Int64
				b.SetParallelism(4) // 4 × GOMAXPROCS (2 here)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, _, err := deps.Images.AddStat(ctx, spread(int(next.Add(1))), "views", 1); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			})
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			if err := c.run(0); err != nil { // warm the cache and the connection
				b.Fatal(err)
			}
			i := 1
			for b.Loop() {
				if err := c.run(i); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}
