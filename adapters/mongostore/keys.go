package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Kinds of unique keys (the prefix of a unique_keys _id).
const (
	keyEmail     = "user.email"
	keyUsername  = "user.username"
	keyImageName = "image.name"
)

// staleAfter is how old a claim must be before another record may take it
// over when its holder does not carry the value (a crash between claiming
// and writing the record, or between writing and releasing).
const staleAfter = time.Minute

// keyDoc reserves one unique lower-cased value for the record Ref.
type keyDoc struct {
	ID  string        `bson:"_id"`
	Ref bson.ObjectID `bson:"ref"`
	At  bson.DateTime `bson:"at"`
}

// uniqueKeys claims, resolves and releases unique values. A value belongs
// to the record whose id is in its document; the record itself stores the
// value too, and a claim is honoured only when both agree.
type uniqueKeys struct {
	c *mongo.Collection
	// holds reports whether record ref currently carries the value of key
	// (false when the record is gone).
	holds func(ctx context.Context, kind string, ref bson.ObjectID, value string) (bool, error)
	now   func() time.Time
	// g serialises the takeover of a stale claim with its release in
	// this process, so that neither deletes a claim the other just made.
	g guard
}

func keyID(kind, value string) string { return kind + ":" + value }

// claim reserves value for ref. It reports false when another record holds
// it. A claim already held by ref is kept.
func (k *uniqueKeys) claim(ctx context.Context, kind, value string, ref bson.ObjectID) (bool, error) {
	id := keyID(kind, value)
	for attempt := 0; attempt < 2; attempt++ {
		_, err := k.c.InsertOne(ctx, keyDoc{ID: id, Ref: ref, At: dt(k.now())})
		if err == nil {
			return true, nil
		}
		if !isDuplicate(err) {
			return false, err
		}
		var cur keyDoc
		err = k.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return false, err
		}
		if cur.Ref == ref {
			return true, nil
		}
		if k.now().Sub(tm(cur.At)) < staleAfter {
			return false, nil
		}
		held, err := k.holds(ctx, kind, cur.Ref, value)
		if err != nil || held {
			return false, err
		}
		// A stale claim: take it over, unless someone else just did.
		if err := k.deleteIf(ctx, id, cur.Ref); err != nil {
			return false, err
		}
	}
	return false, nil
}

// deleteIf deletes the claim id if ref still holds it. Filtering on _id
// alone keeps it an index lookup on FerretDB; the lock makes the read and
// the delete one step in this process.
func (k *uniqueKeys) deleteIf(ctx context.Context, id string, ref bson.ObjectID) error {
	defer k.g.one(id)()
	var cur keyDoc
	err := k.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil || cur.Ref != ref {
		return err
	}
	_, err = k.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// release frees value if ref holds it.
func (k *uniqueKeys) release(ctx context.Context, kind, value string, ref bson.ObjectID) error {
	return k.deleteIf(ctx, keyID(kind, value), ref)
}

// owner returns the record holding value, or false.
func (k *uniqueKeys) owner(ctx context.Context, kind, value string) (bson.ObjectID, bool, error) {
	var cur keyDoc
	err := k.c.FindOne(ctx, bson.D{{Key: "_id", Value: keyID(kind, value)}}).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return bson.ObjectID{}, false, nil
	}
	if err != nil {
		return bson.ObjectID{}, false, err
	}
	return cur.Ref, true, nil
}
