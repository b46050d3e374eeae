package mongostore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/adapters/redisstore"
	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// pubCatalogue is the number of images the publishing benchmarks list.
const pubCatalogue = 10000

// BenchmarkPublishing measures the publishing reads over a catalogue of
// pubCatalogue images (a third of them published, in 20 channels, with
// votes and comments) on the in-memory fakes, on the embedded store
// (FerretDB over SQLite, with the embedded Redis for the feed cache) and,
// when MONGO_URL is set, on that MongoDB:
//
// The use cases run in-process (package app) over each backend; the HTTP
// layer adds a few hundred microseconds of encoding on top.
//
//	go test -run '^$' -bench BenchmarkPublishing -benchtime 5x -timeout 30m ./adapters/mongostore/
func BenchmarkPublishing(b *testing.B) {
	backends := []struct{ name, url string }{{"inmem", "-"}, {"embedded", ""}}
	if u := os.Getenv("MONGO_URL"); u != "" {
		backends = append(backends, struct{ name, url string }{"mongo", u})
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			e := newBenchEnv(b, be.url)
			page := ports.Page{Limit: 25}
			ctx := b.Context()
			cases := []struct {
				name string
				run  func() error
			}{
				{"ListImages/newest", func() error {
					_, _, err := e.app.ListImages(ctx, e.user, app.ImageListInput{Page: page})
					return err
				}},
				{"ListImages/published-in-channel", func() error {
					t := true
					_, _, err := e.app.ListImages(ctx, e.user, app.ImageListInput{Published: &t, Channels: []string{"c3"}, Page: page})
					return err
				}},
				{"ListImages/votes", func() error {
					_, _, err := e.app.ListImages(ctx, e.user, app.ImageListInput{Sort: "votes", Page: page})
					return err
				}},
				{"ListImages/trending", func() error {
					_, _, err := e.app.ListImages(ctx, e.user, app.ImageListInput{Sort: "trending", Page: page})
					return err
				}},
				{"Feed/global-uncached", func() error {
					e.app.FeedCache = nil
					_, _, err := e.app.Feed(ctx, e.user, nil, page)
					e.app.FeedCache = e.cache
					return err
				}},
				{"Feed/global-cached", func() error {
					_, _, err := e.app.Feed(ctx, e.user, nil, page)
					return err
				}},
				{"Feed/two-channels-cached", func() error {
					_, _, err := e.app.Feed(ctx, e.user, []string{"c1", "c2"}, page)
					return err
				}},
				{"ListChannels/name", func() error {
					_, _, err := e.app.ListChannels(ctx, app.ChannelListInput{Page: page})
					return err
				}},
				{"ListChannels/-count", func() error {
					_, _, err := e.app.ListChannels(ctx, app.ChannelListInput{Sort: "-count", Page: page})
					return err
				}},
				{"ListChannels/related", func() error {
					c := "c5"
					_, _, err := e.app.ListChannels(ctx, app.ChannelListInput{Channel: &c, Page: page})
					return err
				}},
				{"CountVotes", func() error {
					_, err := e.app.CountVotes(ctx, e.user, e.hot.Short())
					return err
				}},
				{"ListComments", func() error {
					_, _, err := e.app.ListComments(ctx, e.user, e.hot.Short(), page)
					return err
				}},
				{"ImagePage/owner-counts-only", func() error {
					_, _, err := e.app.Images.CountByOwner(ctx, e.owner)
					return err
				}},
				{"ImagePage", func() error {
					_, err := e.app.GetImagePage(ctx, e.user, e.hot.Short())
					return err
				}},
				{"ImageTags/add+remove", func() error {
					// A tag on a new channel, added to and removed from
					// images spread over the catalogue.
					e.next++
					id := e.images[(e.next*7919)%len(e.images)]
					tag := domain.Tag{ID: system.NewIDs().NewID(), Channel: system.NewIDs().NewID(), Name: "bench"}
					if err := e.app.ImageTags.AddTag(ctx, id, tag, 100); err != nil {
						return err
					}
					return e.app.ImageTags.RemoveTag(ctx, id, tag.ID)
				}},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					if err := c.run(); err != nil { // warm the cache and the connection
						b.Fatal(err)
					}
					b.ResetTimer()
					for b.Loop() {
						if err := c.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

type benchEnv struct {
	app   *app.App
	user  *domain.User
	hot   domain.ID // an image with votes and comments
	owner domain.ID // hot's owner
	cache ports.FeedCache

	images []domain.ID // every image, in creation order
	next   int         // the tag benchmark's position in images
}

// newBenchEnv opens the backend (url "-": in-memory fakes; "": embedded
// store) and fills it.
func newBenchEnv(b *testing.B, url string) *benchEnv {
	b.Helper()
	ctx := context.Background()
	clock := system.Clock{}
	deps := app.Deps{Clock: clock, IDs: system.NewIDs(), Locks: inmem.NewLocks(clock), Tokens: inmem.NewTokens(clock),
		Limiter: inmem.NewRateLimiter(clock), Containers: inmem.NewContainers(), Files: inmem.NewFiles()}
	if url == "-" {
		images, drafts := inmem.NewImages(), inmem.NewDrafts()
		deps.Users, deps.Images, deps.Drafts, deps.ImageTags, deps.DraftTags = inmem.NewUsers(), images, drafts, images, drafts
		deps.Channels, deps.Categories, deps.Votes, deps.Comments = inmem.NewChannels(), inmem.NewCategories(), inmem.NewVotes(), inmem.NewComments()
		deps.FeedCache = inmem.NewFeedCache(clock)
	} else {
		s, err := mongostore.Open(ctx, mongostore.Config{URL: url, DB: "pubbench_" + system.NewIDs().NewID().Hex()[16:], DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if url != "" {
				_ = s.DB().Drop(context.Background())
			}
			_ = s.Close(context.Background())
		})
		if err := mongostore.Migrate(ctx, s.DB()); err != nil {
			b.Fatal(err)
		}
		r, err := redisstore.Open(ctx, redisstore.Config{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = r.Close() })
		deps.Users, deps.Images, deps.Drafts, deps.ImageTags, deps.DraftTags = s.Users(), s.Images(), s.Drafts(), s.Images(), s.Drafts()
		deps.Channels, deps.Categories, deps.Votes, deps.Comments = s.Channels(), s.Categories(), s.Votes(), s.Comments()
		deps.FeedCache, deps.Locks = r.FeedCache(), r.Locks()
	}
	cfg := app.DefaultConfig()
	cfg.FeedCacheTTL = time.Hour // the cached cases read a warm cache
	a := app.New(deps, cfg)
	b.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	e := &benchEnv{app: a, cache: deps.FeedCache}
	start := time.Now()
	e.fill(b)
	b.Logf("filled %d images in %v", pubCatalogue, time.Since(start).Round(time.Millisecond))
	return e
}

func (e *benchEnv) fill(b *testing.B) {
	ctx := context.Background()
	ids := system.NewIDs()
	now := time.Now().UTC()
	rng := rand.New(rand.NewPCG(1, 2))
	users := make([]*domain.User, 50)
	for i := range users {
		users[i] = &domain.User{ID: ids.NewID(), Username: fmt.Sprintf("bench%d", i), Email: fmt.Sprintf("bench%d@example.com", i),
			Level: domain.LevelRegistered, Created: now}
		if err := e.app.Users.Create(ctx, users[i]); err != nil {
			b.Fatal(err)
		}
	}
	e.user = users[0]
	chans := make([]*domain.Channel, 20)
	for i := range chans {
		chans[i] = domain.NewChannel(ids.NewID(), fmt.Sprintf("c%d", i), "", now)
		if err := e.app.Channels.Create(ctx, chans[i]); err != nil {
			b.Fatal(err)
		}
	}
	imgs := make([]*domain.Image, pubCatalogue)
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
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(imgs); i += 4 {
				if err := e.app.Images.Create(ctx, imgs[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	e.hot, e.owner = imgs[0].ID, imgs[0].Owner
	for _, img := range imgs {
		e.images = append(e.images, img.ID)
	}
	for i, u := range users[2:] {
		if err := e.app.Votes.Create(ctx, &domain.Vote{ID: ids.NewID(), User: u.ID, Image: e.hot, Created: now}); err != nil {
			b.Fatal(err)
		}
		c := &domain.Comment{ID: ids.NewID(), Image: e.hot, Author: u.ID, Text: fmt.Sprintf("comment %d", i), Created: now.Add(time.Duration(i) * time.Second)}
		if err := e.app.Comments.Create(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	// Votes and comments elsewhere, so that per-image queries have company.
	for i := range 2000 {
		u, img := users[rng.IntN(len(users))], imgs[1+rng.IntN(len(imgs)-1)]
		_ = e.app.Votes.Create(ctx, &domain.Vote{ID: ids.NewID(), User: u.ID, Image: img.ID, Created: now})
		if i%2 == 0 {
			if err := e.app.Comments.Create(ctx, &domain.Comment{ID: ids.NewID(), Image: img.ID, Author: u.ID, Text: "x", Created: now}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
