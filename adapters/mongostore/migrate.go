package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/domain"
)

// MigrationState is one known schema migration and whether the database
// has it.
type MigrationState struct {
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	Applied   bool      `json:"applied"`
	AppliedAt time.Time `json:"applied_at,omitzero"` // zero when not applied
}

// migration is one versioned, idempotent change of the schema or data.
type migration struct {
	version int
	name    string
	up      func(ctx context.Context, db *mongo.Database, now time.Time) error
}

// migrations run in order; each is recorded in the migrations collection
// once done, and each may safely run again after a crash half-way.
var migrations = []migration{
	{1, "create collections and indexes", createSchema},
	{2, "convert legacy tags and file entries", convertLegacy},
	{3, "derive lower-cased keys and claim unique values", claimUniques},
	{4, "create publishing collections and indexes (categories, votes, comments)", createPublishing},
}

// migrationDoc records an applied migration; the lock document uses the
// string id "lock".
type migrationDoc struct {
	ID        int           `bson:"_id"`
	Name      string        `bson:"name"`
	AppliedAt bson.DateTime `bson:"applied_at"`
}

const (
	lockID        = "lock"
	lockStale     = 10 * time.Minute
	lockRetryWait = 200 * time.Millisecond
)

// Migrate applies the pending migrations in order. Replicas starting
// together take turns through a lock document; a lock older than ten
// minutes is taken over.
func Migrate(ctx context.Context, db *mongo.Database) error {
	c := db.Collection(colMigrations)
	release, err := lockMigrations(ctx, c)
	if err != nil {
		return translate(err, "migrate", nil, nil)
	}
	defer release()
	applied, err := appliedMigrations(ctx, c)
	if err != nil {
		return translate(err, "migrate", nil, nil)
	}
	for _, m := range migrations {
		if _, ok := applied[m.version]; ok {
			continue
		}
		now := time.Now().UTC()
		if err := m.up(ctx, db, now); err != nil {
			return translate(fmt.Errorf("migration %d (%s): %w", m.version, m.name, err), "migrate", nil, nil)
		}
		_, err := c.InsertOne(ctx, migrationDoc{ID: m.version, Name: m.name, AppliedAt: dt(now)})
		if err != nil && !isDuplicate(err) {
			return translate(fmt.Errorf("record migration %d: %w", m.version, err), "migrate", nil, nil)
		}
	}
	return nil
}

// MigrationStatus lists every known migration, and applied ones this
// binary does not know, by version.
func MigrationStatus(ctx context.Context, db *mongo.Database) ([]MigrationState, error) {
	applied, err := appliedMigrations(ctx, db.Collection(colMigrations))
	if err != nil {
		return nil, translate(err, "migration status", nil, nil)
	}
	var out []MigrationState
	for _, m := range migrations {
		st := MigrationState{Version: m.version, Name: m.name}
		if d, ok := applied[m.version]; ok {
			st.Applied, st.AppliedAt = true, tm(d.AppliedAt)
			delete(applied, m.version)
		}
		out = append(out, st)
	}
	for _, d := range applied {
		out = append(out, MigrationState{Version: d.ID, Name: d.Name, Applied: true, AppliedAt: tm(d.AppliedAt)})
	}
	slices.SortFunc(out, func(a, b MigrationState) int { return a.Version - b.Version })
	return out, nil
}

func appliedMigrations(ctx context.Context, c *mongo.Collection) (map[int]migrationDoc, error) {
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var raws []bson.Raw
	if err := cur.All(ctx, &raws); err != nil {
		return nil, err
	}
	out := map[int]migrationDoc{}
	for _, r := range raws {
		if _, ok := r.Lookup("_id").StringValueOK(); ok {
			continue // the lock
		}
		var d migrationDoc
		if err := bson.Unmarshal(r, &d); err != nil {
			return nil, err
		}
		out[d.ID] = d
	}
	return out, nil
}

// lockMigrations inserts the lock document, waiting while another
// migrator holds a fresh one.
func lockMigrations(ctx context.Context, c *mongo.Collection) (func(), error) {
	for {
		_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: lockID}, {Key: "at", Value: dt(time.Now())}})
		if err == nil {
			return func() {
				_, _ = c.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: lockID}})
			}, nil
		}
		if !isDuplicate(err) {
			return nil, err
		}
		var held struct {
			At bson.DateTime `bson:"at"`
		}
		err = c.FindOne(ctx, bson.D{{Key: "_id", Value: lockID}}).Decode(&held)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			continue
		case err != nil:
			return nil, err
		case time.Since(tm(held.At)) > lockStale:
			_, _ = c.DeleteOne(ctx, bson.D{{Key: "_id", Value: lockID}})
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the migration lock: %w", ctx.Err())
		case <-time.After(lockRetryWait):
		}
	}
}

// --- 1: collections and indexes ---

type indexSpec struct {
	keys   bson.D
	unique bool
}

func idx(unique bool, keys ...string) indexSpec {
	var d bson.D
	for _, k := range keys {
		dir := 1
		if strings.HasPrefix(k, "-") {
			k, dir = k[1:], -1
		}
		d = append(d, bson.E{Key: k, Value: dir})
	}
	return indexSpec{keys: d, unique: unique}
}

// schema lists the collections and their indexes. Unique email and
// username indexes are sparse: anonymous users have neither field.
var schema = []struct {
	name    string
	indexes []indexSpec
}{
	{colUsers, []indexSpec{idx(true, "email_lc"), idx(true, "username_lc"), idx(false, "created", "_id")}},
	{colImages, []indexSpec{
		idx(true, "name_lc"), idx(false, "owner"), idx(false, "parent"), idx(false, "tags.channel"),
		idx(false, "-created", "-_id"), idx(false, "-votes"), idx(false, "-runs"), idx(false, "-views"),
	}},
	{colDrafts, []indexSpec{
		idx(false, "owner", "-created"), idx(false, "last_access"), idx(false, "target"),
		idx(false, "parent"), idx(false, "container_id"),
	}},
	{colFiles, nil},
	{colFileContents, []indexSpec{idx(false, "runnable")}},
	{colUniqueKeys, []indexSpec{idx(false, "ref")}},
	{colChannels, []indexSpec{idx(true, "aliases")}},
	{colMigrations, nil},
}

// createCollections creates the collections that do not exist yet.
func createCollections(ctx context.Context, db *mongo.Database) error {
	for _, col := range schema {
		if err := db.CreateCollection(ctx, col.name); err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("create %s: %w", col.name, err)
		}
	}
	return nil
}

func createSchema(ctx context.Context, db *mongo.Database, _ time.Time) error {
	if err := createCollections(ctx, db); err != nil {
		return err
	}
	for _, col := range schema {
		if len(col.indexes) == 0 {
			continue
		}
		models := make([]mongo.IndexModel, len(col.indexes))
		for i, ix := range col.indexes {
			o := options.Index()
			if ix.unique {
				o.SetUnique(true).SetSparse(true)
			}
			models[i] = mongo.IndexModel{Keys: ix.keys, Options: o}
		}
		if _, err := db.Collection(col.name).Indexes().CreateMany(ctx, models); err != nil {
			return fmt.Errorf("index %s: %w", col.name, err)
		}
	}
	return nil
}

func isNamespaceExists(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(48)
}

// --- 2: legacy shape ---

// convertLegacy converts what the original server stored:
//   - tags on images and drafts given as bare name strings become tag
//     objects {_id, channel, name}; a channel is found by lower-cased name
//     or alias, or created, per distinct name; images get published again;
//   - file lists embedded in an image or a draft (a "files" array) move to
//     the runnable's file index, and the array is removed;
//   - file entries without a default flag get default false.
//
// Documents already in the current shape are left alone, so running it
// twice changes nothing.
func convertLegacy(ctx context.Context, db *mongo.Database, now time.Time) error {
	chans, err := loadChannels(ctx, db.Collection(colChannels), now)
	if err != nil {
		return err
	}
	for _, col := range []string{colImages, colDrafts} {
		if err := convertRunnables(ctx, db, col, chans); err != nil {
			return fmt.Errorf("%s: %w", col, err)
		}
	}
	return defaultFileFlags(ctx, db.Collection(colFiles))
}

// channelSet finds or creates channels by lower-cased name or alias.
type channelSet struct {
	c      *mongo.Collection
	now    time.Time
	byName map[string]channelDoc
}

func loadChannels(ctx context.Context, c *mongo.Collection, now time.Time) (*channelSet, error) {
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var docs []channelDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	s := &channelSet{c: c, now: now, byName: map[string]channelDoc{}}
	for _, d := range docs {
		s.byName[strings.ToLower(d.Name)] = d
		for _, a := range d.Aliases {
			s.byName[a] = d
		}
	}
	return s, nil
}

func (s *channelSet) ensure(ctx context.Context, name string) (channelDoc, error) {
	lc := strings.ToLower(name)
	if d, ok := s.byName[lc]; ok {
		return d, nil
	}
	d := channelDoc{ID: bson.NewObjectID(), Name: name, Aliases: []string{lc}, Tags: []categoryTagDoc{}, Created: dt(s.now)}
	if _, err := s.c.InsertOne(ctx, d); err != nil {
		return channelDoc{}, fmt.Errorf("create channel %q: %w", name, err)
	}
	s.byName[lc] = d
	return d, nil
}

func convertRunnables(ctx context.Context, db *mongo.Database, col string, chans *channelSet) error {
	c := db.Collection(col)
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		raw := cur.Current
		id, ok := raw.Lookup("_id").ObjectIDOK()
		if !ok {
			continue
		}
		set, unset := bson.D{}, bson.D{}
		tags, changed, err := legacyTags(ctx, raw, chans)
		if err != nil {
			return err
		}
		if changed {
			set = append(set, bson.E{Key: "tags", Value: tags})
		}
		if col == colImages {
			// published mirrors tags; legacy images lack the field.
			want := len(tags) > 0
			if got, ok := raw.Lookup("published").BooleanOK(); !ok || got != want {
				set = append(set, bson.E{Key: "published", Value: want})
			}
		}
		if files, ok := raw.Lookup("files").ArrayOK(); ok {
			if err := moveEmbeddedFiles(ctx, db.Collection(colFiles), id, files, raw); err != nil {
				return err
			}
			unset = append(unset, bson.E{Key: "files", Value: ""})
		}
		update := bson.D{}
		if len(set) > 0 {
			update = append(update, bson.E{Key: "$set", Value: set})
		}
		if len(unset) > 0 {
			update = append(update, bson.E{Key: "$unset", Value: unset})
		}
		if len(update) == 0 {
			continue
		}
		if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update); err != nil {
			return fmt.Errorf("update %s: %w", id.Hex(), err)
		}
	}
	return cur.Err()
}

// legacyTags returns the document's tags with bare names converted, and
// whether any was.
func legacyTags(ctx context.Context, raw bson.Raw, chans *channelSet) ([]tagDoc, bool, error) {
	arr, ok := raw.Lookup("tags").ArrayOK()
	if !ok {
		return nil, false, nil
	}
	vals, err := arr.Values()
	if err != nil {
		return nil, false, err
	}
	changed := false
	seen := map[bson.ObjectID]bool{}
	tags := []tagDoc{}
	for _, v := range vals {
		if name, ok := v.StringValueOK(); ok {
			changed = true
			n, err := domain.ValidateTagName(name)
			if err != nil {
				continue // an unusable legacy name is dropped
			}
			ch, err := chans.ensure(ctx, n)
			if err != nil {
				return nil, false, err
			}
			if !seen[ch.ID] {
				seen[ch.ID] = true
				tags = append(tags, tagDoc{ID: bson.NewObjectID(), Channel: ch.ID, Name: ch.Name})
			}
			continue
		}
		var t tagDoc
		if doc, ok := v.DocumentOK(); ok && bson.Unmarshal(doc, &t) == nil && !seen[t.Channel] {
			seen[t.Channel] = true
			tags = append(tags, t)
		}
	}
	return tags, changed, nil
}

// legacyFile is an entry of a file list embedded in a legacy runnable.
type legacyFile struct {
	ID       any    `bson:"_id"`
	Name     string `bson:"name"`
	Path     string `bson:"path"`
	Dir      bool   `bson:"dir"`
	Default  bool   `bson:"default"` // false when missing
	Ignore   bool   `bson:"ignore"`
	Link     string `bson:"link"`
	Content  any    `bson:"content"`
	Modified any    `bson:"modified"`
}

// moveEmbeddedFiles adds a legacy file list to the runnable's index; an
// entry whose full path the index already has is skipped.
func moveEmbeddedFiles(ctx context.Context, files *mongo.Collection, runnable bson.ObjectID, arr bson.RawArray, raw bson.Raw) error {
	vals, err := arr.Values()
	if err != nil {
		return err
	}
	var existing fileIndexDoc
	err = files.FindOne(ctx, bson.D{{Key: "_id", Value: runnable}}).Decode(&existing)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return err
	}
	byPath := map[string]bool{}
	for _, e := range existing.Entries {
		byPath[e.fullPath()] = true
	}
	created, _ := raw.Lookup("created").DateTimeOK()
	set := bson.D{}
	for _, v := range vals {
		doc, ok := v.DocumentOK()
		if !ok {
			continue
		}
		var lf legacyFile
		if err := bson.Unmarshal(doc, &lf); err != nil || domain.ValidateFileName(lf.Name) != nil {
			continue
		}
		dir, err := domain.NormalizePath(lf.Path)
		if err != nil {
			dir = "/"
		}
		e := fileEntry{Name: lf.Name, Path: dir, Dir: lf.Dir, Default: lf.Default && !lf.Dir, Ignore: lf.Ignore,
			Link: lf.Link, IsLink: lf.Link != "", Modified: bson.DateTime(created)}
		if byPath[e.fullPath()] {
			continue
		}
		byPath[e.fullPath()] = true
		e.ID = bson.NewObjectID()
		if o, ok := lf.ID.(bson.ObjectID); ok {
			e.ID = o
		}
		if m, ok := lf.Modified.(bson.DateTime); ok {
			e.Modified = m
		}
		switch c := lf.Content.(type) {
		case string:
			e.Content = []byte(c)
		case bson.Binary:
			e.Content = c.Data
		}
		if !e.Dir && lf.Content != nil {
			e.Cached, e.Size = true, int64(len(e.Content))
		}
		set = append(set, bson.E{Key: "entries." + entryKey(did(e.ID)), Value: e})
	}
	if len(set) == 0 {
		return nil
	}
	_, err = files.UpdateOne(ctx, bson.D{{Key: "_id", Value: runnable}}, bson.D{{Key: "$set", Value: set}}, options.UpdateOne().SetUpsert(true))
	return err
}

// defaultFileFlags sets default false on index entries that lack it.
func defaultFileFlags(ctx context.Context, c *mongo.Collection) error {
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		id, ok := cur.Current.Lookup("_id").ObjectIDOK()
		if !ok {
			continue
		}
		entries, ok := cur.Current.Lookup("entries").DocumentOK()
		if !ok {
			continue
		}
		elems, err := entries.Elements()
		if err != nil {
			return err
		}
		set := bson.D{}
		for _, el := range elems {
			e, ok := el.Value().DocumentOK()
			if !ok {
				continue
			}
			if _, err := e.LookupErr("default"); err != nil {
				set = append(set, bson.E{Key: "entries." + el.Key() + ".default", Value: false})
			}
		}
		if len(set) == 0 {
			continue
		}
		if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}}); err != nil {
			return fmt.Errorf("file index %s: %w", id.Hex(), err)
		}
	}
	return cur.Err()
}

// --- 3: lower-cased keys and unique claims ---

// claimUniques fills email_lc, username_lc and name_lc where a document
// lacks them and claims every unique value in unique_keys: user emails and
// usernames, image names, channel aliases. Two records sharing a value
// stop the migration with both named, for an operator to resolve.
func claimUniques(ctx context.Context, db *mongo.Database, now time.Time) error {
	users, images := NewUsers(db), NewImages(db)
	chans := db.Collection(colChannels)
	keys := &uniqueKeys{c: db.Collection(colUniqueKeys), now: func() time.Time { return now }}
	var clashes []string
	claim := func(kind, value string, ref bson.ObjectID, holds func(context.Context, string, bson.ObjectID, string) (bool, error)) error {
		if value == "" {
			return nil
		}
		keys.holds = holds
		ok, err := keys.claim(ctx, kind, value, ref)
		if err != nil {
			return err
		}
		if !ok {
			other, _, _ := keys.owner(ctx, kind, value)
			clashes = append(clashes, fmt.Sprintf("%s %q: %s and %s", kind, value, other.Hex(), ref.Hex()))
		}
		return nil
	}
	// users
	err := eachDoc(ctx, users.c, func(raw bson.Raw, id bson.ObjectID) error {
		email, _ := raw.Lookup("email").StringValueOK()
		username, _ := raw.Lookup("username").StringValueOK()
		if err := fixLower(ctx, users.c, raw, id, "email_lc", email, "username_lc", username); err != nil {
			return err
		}
		if err := claim(keyEmail, strings.ToLower(email), id, users.holds); err != nil {
			return err
		}
		return claim(keyUsername, strings.ToLower(username), id, users.holds)
	})
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	// images
	err = eachDoc(ctx, images.c, func(raw bson.Raw, id bson.ObjectID) error {
		name, _ := raw.Lookup("name").StringValueOK()
		if err := fixLower(ctx, images.c, raw, id, "name_lc", name); err != nil {
			return err
		}
		return claim(keyImageName, strings.ToLower(name), id, images.holds)
	})
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	// channels
	chanHolds := func(ctx context.Context, _ string, ref bson.ObjectID, value string) (bool, error) {
		var d channelDoc
		err := chans.FindOne(ctx, bson.D{{Key: "_id", Value: ref}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return false, nil
		}
		return slices.Contains(d.Aliases, value), err
	}
	err = eachDoc(ctx, chans, func(raw bson.Raw, id bson.ObjectID) error {
		var d channelDoc
		if err := bson.Unmarshal(raw, &d); err != nil {
			return err
		}
		aliases := []string{}
		for _, a := range append([]string{d.Name}, d.Aliases...) {
			if a = strings.ToLower(a); a != "" && !slices.Contains(aliases, a) {
				aliases = append(aliases, a)
			}
		}
		if !slices.Equal(aliases, d.Aliases) {
			if _, err := chans.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "aliases", Value: aliases}}}}); err != nil {
				return err
			}
		}
		for _, a := range aliases {
			if err := claim(keyChannelAlias, a, id, chanHolds); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("channels: %w", err)
	}
	if len(clashes) > 0 {
		return fmt.Errorf("values held by two records (rename one and run again): %s", strings.Join(clashes, "; "))
	}
	return nil
}

// eachDoc calls fn with every document of c that has an ObjectId.
func eachDoc(ctx context.Context, c *mongo.Collection, fn func(bson.Raw, bson.ObjectID) error) error {
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		if id, ok := cur.Current.Lookup("_id").ObjectIDOK(); ok {
			if err := fn(cur.Current, id); err != nil {
				return err
			}
		}
	}
	return cur.Err()
}

// fixLower sets each field (pairs of name, source value) to the lower-cased
// source when it differs; an empty source removes the field.
func fixLower(ctx context.Context, c *mongo.Collection, raw bson.Raw, id bson.ObjectID, pairs ...string) error {
	set, unset := bson.D{}, bson.D{}
	for i := 0; i+1 < len(pairs); i += 2 {
		field, want := pairs[i], strings.ToLower(pairs[i+1])
		got, has := raw.Lookup(field).StringValueOK()
		switch {
		case want == "" && raw.Lookup(field).Type != 0:
			unset = append(unset, bson.E{Key: field, Value: ""})
		case want != "" && (!has || got != want):
			set = append(set, bson.E{Key: field, Value: want})
		}
	}
	update := bson.D{}
	if len(set) > 0 {
		update = append(update, bson.E{Key: "$set", Value: set})
	}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	if len(update) == 0 {
		return nil
	}
	_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update)
	if isDuplicate(err) {
		return fmt.Errorf("%s %s: a lower-cased value is held by another record: %w", c.Name(), id.Hex(), err)
	}
	return err
}
