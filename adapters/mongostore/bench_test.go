package mongostore_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// benchImages is the catalogue size the listing benchmarks run over.
const benchImages = 1000

func randomID() domain.ID {
	var id domain.ID
	_, _ = rand.Read(id[:])
	return id
}

// BenchmarkStore measures store operations on the embedded default
// (FerretDB over SQLite in a temporary data directory) and, when MONGO_URL
// is set, on that server. Each backend holds benchImages images of 10
// owners, a user per owner, and a draft with a 50-entry file index.
//
//	go test -run '^$' -bench BenchmarkStore -benchtime 200x ./adapters/mongostore/
func BenchmarkStore(b *testing.B) {
	backends := []struct{ name, url string }{{"embedded", ""}}
	if u := os.Getenv("MONGO_URL"); u != "" {
		backends = append(backends, struct{ name, url string }{"mongo", u})
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s, err := mongostore.Open(b.Context(), mongostore.Config{URL: be.url, DB: "bench_" + randomID().Hex()[:8], DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				if be.url != "" {
					_ = s.DB().Drop(b.Context())
				}
				_ = s.Close(b.Context())
			})
			if err := mongostore.Migrate(b.Context(), s.DB()); err != nil {
				b.Fatal(err)
			}
			benchStore(b, s)
		})
	}
}

func benchStore(b *testing.B, s *mongostore.Store) {
	ctx := b.Context()
	now := time.Now().UTC()
	owners := make([]domain.ID, 10)
	for i := range owners {
		owners[i] = randomID()
		u := &domain.User{ID: owners[i], Username: fmt.Sprintf("user%d", i), Email: fmt.Sprintf("user%d@example.com", i), Level: 1, Created: now}
		if err := s.Users().Create(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	channel := randomID()
	var ids []domain.ID
	for i := 0; i < benchImages; i++ {
		img := &domain.Image{
			ID: randomID(), Name: fmt.Sprintf("Image %04d", i), Description: "a benchmark image with some words in it",
			Owner: owners[i%len(owners)], Version: 1, Status: domain.ImageReady, FileRoot: "/root",
			Created: now.Add(time.Duration(i) * time.Second), Updated: now, Ref: fmt.Sprintf("runnable/x:v%d", i),
			Stats: domain.Stats{Runs: i % 37, Views: i % 101}, Votes: i % 13,
		}
		if i%3 == 0 {
			img.Tags = []domain.Tag{{ID: randomID(), Channel: channel, Name: "bench"}}
		}
		if err := s.Images().Create(ctx, img); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, img.ID)
	}
	draft := &domain.Draft{ID: randomID(), Name: "d", Owner: owners[0], Status: domain.StatusNotCreated, LastAccess: now, Created: now, Save: domain.SaveState{Status: domain.SaveNone}}
	if err := s.Drafts().Create(ctx, draft); err != nil {
		b.Fatal(err)
	}
	var entries []domain.File
	for i := 0; i < 50; i++ {
		content := []byte(fmt.Sprintf("line %d\n", i))
		entries = append(entries, domain.File{ID: randomID(), Runnable: draft.ID, Name: fmt.Sprintf("f%02d.txt", i), Path: "/src", Size: int64(len(content)), Content: content, Cached: true, Modified: now})
	}
	if err := s.Files().Replace(ctx, draft.ID, entries); err != nil {
		b.Fatal(err)
	}

	run := func(name string, fn func(i int) error) {
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := fn(i); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
	// Spread over the catalogue: FerretDB's lookup cost depends on where
	// a document sits in its table unless _id is indexed.
	spread := func(i int) domain.ID { return ids[(i*7919)%len(ids)] }
	run("Images.Get", func(i int) error { _, err := s.Images().Get(ctx, spread(i)); return err })
	run("Users.Get", func(i int) error { _, err := s.Users().Get(ctx, owners[i%len(owners)]); return err })
	run("Users.List/10ids", func(i int) error { _, _, err := s.Users().List(ctx, owners, "", ports.Page{Limit: 25}); return err })
	run("Drafts.Get", func(i int) error { _, err := s.Drafts().Get(ctx, draft.ID); return err })
	run("Users.FindByEmail", func(i int) error { _, err := s.Users().FindByEmail(ctx, "user3@example.com"); return err })
	run("Images.FindByName", func(i int) error {
		_, err := s.Images().FindByName(ctx, fmt.Sprintf("image %04d", (i*7919)%benchImages))
		return err
	})
	run("Images.List/default", func(i int) error {
		_, _, err := s.Images().List(ctx, ports.ImageQuery{Page: ports.Page{Limit: 25}})
		return err
	})
	run("Images.List/filtered", func(i int) error {
		_, _, err := s.Images().List(ctx, ports.ImageQuery{
			Owner: owners[1], Published: ptrTo(true), Channels: []domain.ID{channel}, Search: []string{"words"},
			Sort: "runs", Page: ports.Page{Page: 1, Limit: 10},
		})
		return err
	})
	run("Images.CountByOwner", func(i int) error { _, _, err := s.Images().CountByOwner(ctx, owners[2]); return err })
	run("Images.AddStat", func(i int) error { _, _, err := s.Images().AddStat(ctx, spread(i), "views", 1); return err })
	run("Images.Create", func(i int) error {
		return s.Images().Create(ctx, &domain.Image{ID: randomID(), Name: "new " + randomID().Hex(), Owner: owners[0], Version: 1, Created: now, Updated: now})
	})
	run("Drafts.Update", func(i int) error {
		draft.LastAccess = now.Add(time.Duration(i) * time.Second)
		return s.Drafts().Update(ctx, draft)
	})
	run("Files.List/50", func(i int) error { _, err := s.Files().List(ctx, draft.ID); return err })
	run("Files.Put/1of50", func(i int) error {
		f := entries[i%len(entries)]
		f.Content = []byte(fmt.Sprintf("write %d\n", i))
		return s.Files().Put(ctx, f)
	})
}
