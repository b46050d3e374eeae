package mongostore_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/adapters/mongostore/mongotest"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := t.Context()
	db := mongotest.DB(t)
	st, err := mongostore.MigrationStatus(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) == 0 {
		t.Fatal("MigrationStatus of an empty database: got no migrations")
	}
	for _, m := range st {
		if m.Applied {
			t.Errorf("migration %d on an empty database: got applied, want pending", m.Version)
		}
	}
	for i := 0; i < 2; i++ {
		if err := mongostore.Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate run %d: %v", i+1, err)
		}
	}
	st, err = mongostore.MigrationStatus(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range st {
		if !m.Applied || m.AppliedAt.IsZero() || m.Name == "" || m.Version != i+1 {
			t.Errorf("status %d: got %+v, want version %d applied with a name and a time", i, m, i+1)
		}
	}
	n, err := db.Collection("migrations").CountDocuments(ctx, bson.D{})
	if err != nil || int(n) != len(st) {
		t.Errorf("migrations records: got %d (%v), want %d (no lock left, no duplicates)", n, err, len(st))
	}
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"users", "images", "drafts", "files", "file_contents", "unique_keys", "channels", "migrations"} {
		if !slices.Contains(names, want) {
			t.Errorf("collections: got %q, want %q among them", names, want)
		}
	}
	wantIndex := map[string][]string{
		"users":    {"email_lc_1", "username_lc_1"},
		"images":   {"name_lc_1", "owner_1", "tags.channel_1"},
		"drafts":   {"owner_1_created_-1", "last_access_1"},
		"channels": {"aliases_1"},
	}
	for col, want := range wantIndex {
		specs, err := db.Collection(col).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		unique := map[string]bool{}
		for _, s := range specs {
			unique[s.Name] = s.Unique != nil && *s.Unique
		}
		for _, name := range want {
			u, ok := unique[name]
			if !ok {
				t.Errorf("%s indexes: missing %s", col, name)
			}
			if wantUnique := strings.HasSuffix(name, "_lc_1") || name == "aliases_1"; u != wantUnique {
				t.Errorf("%s index %s: unique %v, want %v", col, name, u, wantUnique)
			}
		}
	}
}

func TestMigrateWaitsForAnotherMigrator(t *testing.T) {
	ctx := t.Context()
	db := mongotest.DB(t)
	locks := db.Collection("migrations")
	if _, err := locks.InsertOne(ctx, bson.D{{Key: "_id", Value: "lock"}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Now())}}); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: "lock"}})
	}()
	start := time.Now()
	if err := mongostore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("Migrate with the lock held: returned after %v, want it to wait for the lock", took)
	}
	// A lock left by a crashed migrator is taken over once stale.
	if _, err := locks.InsertOne(ctx, bson.D{{Key: "_id", Value: "lock"}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Now().Add(-time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	if err := mongostore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate over a stale lock: %v", err)
	}
}

// legacyFixture writes documents in the original server's shape.
type legacyFixture struct {
	owner, imgID, draftID, knownChan, dupImg bson.ObjectID
}

func writeLegacy(t *testing.T, db *mongo.Database) legacyFixture {
	t.Helper()
	ctx := t.Context()
	f := legacyFixture{owner: bson.NewObjectID(), imgID: bson.NewObjectID(), draftID: bson.NewObjectID(), knownChan: bson.NewObjectID(), dupImg: bson.NewObjectID()}
	created := bson.NewDateTimeFromTime(time.Date(2013, 7, 1, 0, 0, 0, 0, time.UTC))
	insert := func(col string, docs ...any) {
		t.Helper()
		if _, err := db.Collection(col).InsertMany(ctx, docs); err != nil {
			t.Fatalf("insert %s: %v", col, err)
		}
	}
	// A channel that already exists, under another case and without aliases.
	insert("channels", bson.D{{Key: "_id", Value: f.knownChan}, {Key: "name", Value: "NodeJS"}, {Key: "created", Value: created}})
	insert("users",
		bson.D{{Key: "_id", Value: f.owner}, {Key: "email", Value: "Old@Example.com"}, {Key: "username", Value: "OldTimer"},
			{Key: "level", Value: 1}, {Key: "created", Value: created}, {Key: "deleted", Value: false}},
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "level", Value: 0}, {Key: "created", Value: created}, {Key: "deleted", Value: false}},
	)
	insert("images",
		bson.D{{Key: "_id", Value: f.imgID}, {Key: "name", Value: "Legacy Node"}, {Key: "owner", Value: f.owner},
			{Key: "version", Value: 1}, {Key: "status", Value: "ready"}, {Key: "created", Value: created}, {Key: "updated", Value: created},
			{Key: "tags", Value: bson.A{"nodejs", "Express", "express", " "}},
			{Key: "files", Value: bson.A{
				bson.D{{Key: "name", Value: "server.js"}, {Key: "path", Value: "/"}, {Key: "content", Value: "console.log(1)"}},
				bson.D{{Key: "name", Value: "lib"}, {Key: "path", Value: "/"}, {Key: "dir", Value: true}},
				bson.D{{Key: "name", Value: "index.html"}, {Key: "path", Value: "/lib"}, {Key: "content", Value: "<p>"}, {Key: "default", Value: true}},
			}}},
		bson.D{{Key: "_id", Value: f.dupImg}, {Key: "name", Value: "Untagged"}, {Key: "owner", Value: f.owner},
			{Key: "version", Value: 1}, {Key: "status", Value: "ready"}, {Key: "created", Value: created}, {Key: "updated", Value: created},
			{Key: "tags", Value: bson.A{}}},
	)
	insert("drafts", bson.D{{Key: "_id", Value: f.draftID}, {Key: "name", Value: "my copy"}, {Key: "owner", Value: f.owner},
		{Key: "status", Value: "not_created"}, {Key: "container_id", Value: ""}, {Key: "last_access", Value: created},
		{Key: "save", Value: bson.D{{Key: "status", Value: "none"}}}, {Key: "created", Value: created},
		{Key: "tags", Value: bson.A{"python"}}})
	// An index entry written before the default flag existed.
	entryID := bson.NewObjectID()
	insert("files", bson.D{{Key: "_id", Value: f.draftID}, {Key: "entries", Value: bson.D{
		{Key: "f" + entryID.Hex(), Value: bson.D{{Key: "_id", Value: entryID}, {Key: "name", Value: "main.py"}, {Key: "path", Value: "/"},
			{Key: "size", Value: 3}, {Key: "modified", Value: created}, {Key: "cached", Value: true}, {Key: "content", Value: []byte("p=1")}}},
	}}})
	return f
}

func TestMigrateConvertsLegacyShape(t *testing.T) {
	ctx := t.Context()
	db := mongotest.DB(t)
	f := writeLegacy(t, db)
	if err := mongostore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	check := func(run string) {
		t.Helper()
		images, drafts := mongostore.NewImages(db), mongostore.NewDrafts(db)
		files, users := mongostore.NewFiles(db), mongostore.NewUsers(db)

		img, err := images.Get(ctx, domain.ID(f.imgID))
		if err != nil {
			t.Fatalf("%s: Get legacy image: %v", run, err)
		}
		if len(img.Tags) != 2 {
			t.Fatalf("%s: legacy tags: got %+v, want 2 (nodejs, express; duplicates and blanks dropped)", run, img.Tags)
		}
		if img.Tags[0].Channel != domain.ID(f.knownChan) || img.Tags[0].Name != "NodeJS" || img.Tags[0].ID.IsZero() {
			t.Errorf("%s: tag on an existing channel: got %+v, want channel %s named NodeJS with an id", run, img.Tags[0], f.knownChan.Hex())
		}
		if img.Tags[1].Name != "Express" || img.Tags[1].Channel.IsZero() {
			t.Errorf("%s: tag on a new channel: got %+v, want Express", run, img.Tags[1])
		}
		published, _, err := images.List(ctx, ports.ImageQuery{Published: ptrTo(true), Page: ports.Page{Limit: 10}})
		if err != nil || len(published) != 1 || published[0].ID != img.ID {
			t.Errorf("%s: published images: got %d (%v), want the tagged legacy image", run, len(published), err)
		}
		unpublished, _, _ := images.List(ctx, ports.ImageQuery{Published: ptrTo(false), Page: ports.Page{Limit: 10}})
		if len(unpublished) != 1 || unpublished[0].ID != domain.ID(f.dupImg) {
			t.Errorf("%s: unpublished images: got %d, want the untagged one", run, len(unpublished))
		}
		byTag, _, _ := images.List(ctx, ports.ImageQuery{Channels: []domain.ID{img.Tags[1].Channel}, Page: ports.Page{Limit: 10}})
		if len(byTag) != 1 {
			t.Errorf("%s: images in the new channel: got %d, want 1", run, len(byTag))
		}
		if found, err := images.FindByName(ctx, "legacy NODE"); err != nil || found.ID != img.ID {
			t.Errorf("%s: FindByName of a legacy image: got %v, %v", run, found, err)
		}

		d, err := drafts.Get(ctx, domain.ID(f.draftID))
		if err != nil || len(d.Tags) != 1 || d.Tags[0].Name != "python" {
			t.Errorf("%s: legacy draft tags: got %+v (%v), want one python tag", run, d, err)
		}

		got, err := files.List(ctx, domain.ID(f.imgID))
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			full            string
			dir, def, cache bool
			content         string
		}{{"/lib", true, false, false, ""}, {"/server.js", false, false, true, "console.log(1)"}, {"/lib/index.html", false, true, true, "<p>"}}
		if len(got) != len(want) {
			t.Fatalf("%s: embedded files moved to the index: got %d entries, want %d", run, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.FullPath() != w.full || g.Dir != w.dir || g.Default != w.def || g.Cached != w.cache || string(g.Content) != w.content || g.ID.IsZero() {
				t.Errorf("%s: entry %d: got %+v, want %+v", run, i, g, w)
			}
		}
		df, err := files.List(ctx, domain.ID(f.draftID))
		if err != nil || len(df) != 1 || df[0].Default || string(df[0].Content) != "p=1" {
			t.Errorf("%s: entry without a default flag: got %+v (%v), want default false, content kept", run, df, err)
		}
		var raw bson.Raw
		if err := db.Collection("files").FindOne(ctx, bson.D{{Key: "_id", Value: f.draftID}}).Decode(&raw); err == nil {
			if !strings.Contains(raw.String(), `"default": false`) {
				t.Errorf("%s: stored entry: got %s, want an explicit default false", run, raw)
			}
		}
		if err := db.Collection("images").FindOne(ctx, bson.D{{Key: "_id", Value: f.imgID}}).Decode(&raw); err == nil {
			if _, err := raw.LookupErr("files"); err == nil {
				t.Errorf("%s: legacy image still embeds its file list", run)
			}
		}

		u, err := users.FindByEmail(ctx, "old@example.com")
		if err != nil || u.ID != domain.ID(f.owner) {
			t.Errorf("%s: FindByEmail of a legacy user: got %v, %v", run, u, err)
		}
		if _, err := users.FindByUsername(ctx, "oldtimer"); err != nil {
			t.Errorf("%s: FindByUsername of a legacy user: %v", run, err)
		}
		err = users.Create(ctx, &domain.User{ID: domain.ID{9}, Email: "OLD@example.com", Username: "new", Level: 1})
		if msg, _ := domain.PublicMessage(err); !errors.Is(err, domain.ErrConflict) || msg != "user with email already exists" {
			t.Errorf("%s: Create with a legacy user's email: got %v, want the email conflict", run, err)
		}
		n, _ := db.Collection("channels").CountDocuments(ctx, bson.D{})
		if n != 3 {
			t.Errorf("%s: channels: got %d, want 3 (NodeJS kept, Express and python created)", run, n)
		}
	}
	check("after Migrate")

	// Running the conversions again changes nothing: force them by
	// forgetting that they ran.
	if _, err := db.Collection("migrations").DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: 2}}}}); err != nil {
		t.Fatal(err)
	}
	if err := mongostore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	check("after a second run")
}

func TestMigrateReportsClashingLegacyValues(t *testing.T) {
	ctx := t.Context()
	db := mongotest.DB(t)
	a, b := bson.NewObjectID(), bson.NewObjectID()
	_, err := db.Collection("images").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: a}, {Key: "name", Value: "Same"}, {Key: "version", Value: 1}},
		bson.D{{Key: "_id", Value: b}, {Key: "name", Value: "SAME"}, {Key: "version", Value: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = mongostore.Migrate(ctx, db)
	if err == nil {
		t.Fatal("Migrate with two images named alike: got nil, want an error naming them")
	}
	if msg := err.Error(); !strings.Contains(msg, a.Hex()) && !strings.Contains(msg, b.Hex()) {
		t.Errorf("Migrate error: got %q, want the clashing ids", msg)
	}
	st, _ := mongostore.MigrationStatus(ctx, db)
	if len(st) < 3 || st[2].Applied {
		t.Errorf("status after the failure: got %+v, want the failed migration pending", st)
	}
}

func ptrTo[T any](v T) *T { return &v }
