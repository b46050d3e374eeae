package mongostore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

func TestChannelsContract(t *testing.T) {
	porttest.Channels(t, func(t *testing.T) ports.Channels { return mongostore.NewChannels(migrated(t)) })
}

func TestCategoriesContract(t *testing.T) {
	porttest.Categories(t, func(t *testing.T) ports.Categories { return mongostore.NewCategories(migrated(t)) })
}

func TestVotesContract(t *testing.T) {
	porttest.Votes(t, func(t *testing.T) ports.Votes { return mongostore.NewVotes(migrated(t)) })
}

func TestCommentsContract(t *testing.T) {
	porttest.Comments(t, func(t *testing.T) ports.Comments { return mongostore.NewComments(migrated(t)) })
}

func TestImageTagsContract(t *testing.T) {
	porttest.ImageTags(t, func(t *testing.T) porttest.ImageTagStore { return mongostore.NewImages(migrated(t)) })
}

func TestDraftTagsContract(t *testing.T) {
	porttest.DraftTags(t, func(t *testing.T) porttest.DraftTagStore { return mongostore.NewDrafts(migrated(t)) })
}

// The embedded store's tag changes write by _id alone under the document
// lock (tags.go). Each test's database has no other writer, so the same
// suites, concurrent tagging included, hold for them on any server.

func TestImageTagsContractExclusive(t *testing.T) {
	porttest.ImageTags(t, func(t *testing.T) porttest.ImageTagStore { return mongostore.ExclusiveImages(migrated(t)) })
}

func TestDraftTagsContractExclusive(t *testing.T) {
	porttest.DraftTags(t, func(t *testing.T) porttest.DraftTagStore { return mongostore.ExclusiveDrafts(migrated(t)) })
}

// TestPublishingIndexes checks that migration 4 leaves the indexes the
// publishing queries need and, on MongoDB (MONGO_URL), that each listed
// query's winning plan uses one. FerretDB v1 plans every filter but a bare
// _id as a scan, so there only the indexes' presence is checked.
func TestPublishingIndexes(t *testing.T) {
	ctx := t.Context()
	db := migrated(t)
	want := map[string][]string{
		"channels":   {"aliases_1", "tags.category_1"},
		"categories": {"aliases_1"},
		"votes":      {"user_1_image_1", "image_1", "user_1_created_-1__id_-1"},
		"comments":   {"image_1_created_1__id_1", "author_1"},
		"images":     {"tags.channel_1"},
	}
	for col, names := range want {
		cur, err := db.Collection(col).Indexes().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var specs []struct {
			Name   string `bson:"name"`
			Unique bool   `bson:"unique"`
		}
		if err := cur.All(ctx, &specs); err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, s := range specs {
			have[s.Name] = true
			if s.Name == "user_1_image_1" && !s.Unique {
				t.Errorf("votes (user, image) index is not unique")
			}
		}
		for _, n := range names {
			if !have[n] {
				t.Errorf("%s: got indexes %v, want %s", col, specs, n)
			}
		}
	}

	var info bson.M
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if _, ferret := info["ferretdbVersion"]; ferret {
		t.Log("FerretDB answers filters other than _id by scanning; query plans are checked on MongoDB (MONGO_URL) only")
		return
	}
	oidv := bson.NewObjectID()
	queries := []struct {
		col  string
		find bson.D
	}{
		{"votes", bson.D{{Key: "filter", Value: bson.D{{Key: "image", Value: oidv}}}}},
		{"votes", bson.D{{Key: "filter", Value: bson.D{{Key: "user", Value: oidv}}}, {Key: "sort", Value: bson.D{{Key: "created", Value: -1}, {Key: "_id", Value: -1}}}}},
		{"comments", bson.D{{Key: "filter", Value: bson.D{{Key: "image", Value: oidv}}}, {Key: "sort", Value: bson.D{{Key: "created", Value: 1}, {Key: "_id", Value: 1}}}}},
		{"channels", bson.D{{Key: "filter", Value: bson.D{{Key: "tags.category", Value: oidv}}}}},
		{"images", bson.D{{Key: "filter", Value: bson.D{{Key: "tags.channel", Value: oidv}, {Key: "version", Value: bson.D{{Key: "$gte", Value: 1}}}}}}},
	}
	for _, q := range queries {
		cmd := append(bson.D{{Key: "find", Value: q.col}}, q.find...)
		var plan bson.Raw
		if err := db.RunCommand(ctx, bson.D{{Key: "explain", Value: cmd}, {Key: "verbosity", Value: "queryPlanner"}}).Decode(&plan); err != nil {
			t.Fatal(err)
		}
		winning, err := plan.LookupErr("queryPlanner", "winningPlan")
		if err != nil {
			t.Fatalf("explain %s %v: no winning plan in %s", q.col, q.find, plan)
		}
		if s := winning.String(); !strings.Contains(s, "IXSCAN") {
			t.Errorf("explain %s %v: got plan %s, want an index scan", q.col, q.find, s)
		}
	}
}

// TestConcurrentTaggingOneChannel tags many images at once with one new
// channel name, in several spellings, through the use case over this
// store: exactly one channel is created, every tag lands on it, and its
// count is exact.
func TestConcurrentTaggingOneChannel(t *testing.T) {
	ctx := t.Context()
	db := migrated(t)
	images := mongostore.NewImages(db)
	clock := system.Clock{}
	a := app.New(app.Deps{
		Users: mongostore.NewUsers(db), Images: images, Drafts: mongostore.NewDrafts(db), Files: inmem.NewFiles(),
		Channels: mongostore.NewChannels(db), ImageTags: images, Clock: clock, IDs: system.NewIDs(),
		Locks: inmem.NewLocks(clock),
	}, app.DefaultConfig())
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	owner := &domain.User{ID: system.NewIDs().NewID(), Username: "owner", Email: "o@example.com", Level: domain.LevelRegistered}
	if err := a.Users.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	const n = 10
	ids := make([]domain.ID, n)
	for i := range ids {
		ids[i] = system.NewIDs().NewID()
		img := &domain.Image{ID: ids[i], Name: fmt.Sprint("img", i), Owner: owner.ID, Version: 1, Status: domain.ImageReady}
		if err := images.Create(ctx, img); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	tags := make([]domain.Tag, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			name := []string{"Rust", "rust", "RUST"}[i%3]
			tags[i], errs[i] = a.TagImage(ctx, owner, ids[i].Short(), &name)
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("tagging %d: %v", i, errs[i])
		}
		if tags[i].Channel != tags[0].Channel {
			t.Fatalf("tag %d on channel %s, want %s: more than one channel was created", i, tags[i].Channel.Hex(), tags[0].Channel.Hex())
		}
	}
	chans, total, err := a.Channels.List(ctx, ports.ChannelQuery{})
	if err != nil || total != 1 {
		t.Fatalf("channels: got %d (%v), want 1", total, err)
	}
	info, err := a.GetChannel(ctx, chans[0].ID.Hex())
	if err != nil || info.Count != n {
		t.Fatalf("count: got %+v, %v, want %d", info, err, n)
	}
}
