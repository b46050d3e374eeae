package mongostore_test

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/runnable/runnable/adapters/mongostore"
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
