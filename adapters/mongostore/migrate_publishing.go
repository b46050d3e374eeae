package mongostore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// publishingSchema lists the collections and indexes of the publishing
// stores (categories, votes, comments) and the channel index they query.
var publishingSchema = []struct {
	name    string
	indexes []indexSpec
}{
	{colChannels, []indexSpec{idx(false, "tags.category")}},
	{colCategories, []indexSpec{idx(true, "aliases")}},
	{colVotes, []indexSpec{idx(true, "user", "image"), idx(false, "image"), idx(false, "user", "-created", "-_id")}},
	{colComments, []indexSpec{idx(false, "image", "created", "_id"), idx(false, "author")}},
}

// createPublishing is migration 4: the publishing collections and their
// indexes. It creates only the indexes that are missing, one at a time:
// FerretDB v1 drops the connection when createIndexes names several
// indexes of which some exist. So it may run again.
func createPublishing(ctx context.Context, db *mongo.Database, _ time.Time) error {
	for _, col := range publishingSchema {
		if err := db.CreateCollection(ctx, col.name); err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("create %s: %w", col.name, err)
		}
		have, err := indexKeys(ctx, db.Collection(col.name))
		if err != nil {
			return fmt.Errorf("list indexes of %s: %w", col.name, err)
		}
		for _, ix := range col.indexes {
			if have[keySpec(ix.keys)] {
				continue
			}
			o := options.Index()
			if ix.unique {
				o.SetUnique(true)
			}
			if _, err := db.Collection(col.name).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: o}); err != nil {
				return fmt.Errorf("index %s %s: %w", col.name, keySpec(ix.keys), err)
			}
		}
	}
	return nil
}

// indexKeys returns the key specs of a collection's indexes.
func indexKeys(ctx context.Context, c *mongo.Collection) (map[string]bool, error) {
	cur, err := c.Indexes().List(ctx)
	if err != nil {
		return nil, err
	}
	var specs []struct {
		Key bson.D `bson:"key"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(specs))
	for _, s := range specs {
		out[keySpec(s.Key)] = true
	}
	return out, nil
}

// keySpec renders index keys as "a:1,b:-1".
func keySpec(keys bson.D) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		dir := 1
		switch v := k.Value.(type) {
		case int32:
			dir = int(v)
		case int64:
			dir = int(v)
		case float64:
			dir = int(v)
		case int:
			dir = v
		}
		parts[i] = fmt.Sprintf("%s:%d", k.Key, dir)
	}
	return strings.Join(parts, ",")
}
