package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var (
	_ ports.ImageTags = (*Images)(nil)
	_ ports.DraftTags = (*Drafts)(nil)
)

// A tag change reads the document by _id, computes the new array in Go
// (the same rules everywhere: max tags, one tag per channel, tag not found)
// and writes it back, holding the document's in-process lock throughout.
// How the write is guarded depends on who else may write the document:
//
//   - Shared server (MONGO_URL, possibly several replicas): a
//     compare-and-swap. The update's filter is {_id, tags: <array read>}, so
//     it applies only while the stored array is still the one read, else the
//     change reads again. MongoDB finds the document through the _id index
//     and compares the array on that one document, so the CAS costs no more
//     than an _id update, and it is atomic across replicas. (FerretDB v1
//     answers array filters on embedded documents unreliably: $ne, $pull
//     with a condition, the positional $; but it compares whole arrays
//     exactly, so the CAS is also correct on an external FerretDB.)
//   - Embedded store (exclusive, set by Open): the filter is {_id} alone.
//     FerretDB v1 pushes only a filter that is exactly {_id: x} down to
//     SQLite; any other filter, {_id, tags} or an {_id, rev} version check
//     alike, decodes and scans the whole collection (measured over 10,000
//     documents: 0.6 ms for {_id}, 135 ms for {_id, rev}, 141 ms for
//     {_id, tags}; ADR 0006, Update). Dropping the CAS is safe there because
//     every writer of the document is in this process and holds its lock
//     from its read to its write: Open holds an exclusive flock on the data
//     directory (ADR 0002), the store has one Images and one Drafts value,
//     and each of their single-document writes (Create, Update, Delete,
//     AddStat, the tag changes; FerretDB rewrites the whole document for
//     any of them) takes the document's lock, while the multi-document
//     ones (Transfer, ClearTarget) take the collection's, which excludes
//     every document lock. Nothing can change the array between the read
//     and the write, which is what the CAS would check.
//
// A per-document version counter would not serve both: FerretDB still
// scans for {_id, rev}, and the whole-document Update would have to carry
// it too. The CAS on the array needs no extra field.

// casAttempts bounds the retries of one tag change under contention.
const casAttempts = 50

// tagsOnly is the part of an image or draft document a tag change reads.
type tagsOnly struct {
	Tags bson.RawValue `bson:"tags"`
}

func (t tagsOnly) decode() ([]tagDoc, error) {
	var out []tagDoc
	if t.Tags.Type == bson.TypeArray {
		if err := t.Tags.Unmarshal(&out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// filter matches the document only while its tags are still t's.
func (t tagsOnly) filter(id bson.ObjectID) bson.D {
	if t.Tags.Type == 0 {
		return bson.D{{Key: "_id", Value: id}, {Key: "tags", Value: bson.D{{Key: "$exists", Value: false}}}}
	}
	return bson.D{{Key: "_id", Value: id}, {Key: "tags", Value: t.Tags}}
}

// tagged is a collection whose documents carry tags: images or drafts.
type tagged struct {
	c *mongo.Collection
	g *guard
	// published keeps the images' published flag in step with the tags.
	published bool
	// exclusive is true when this process is the only writer of c (the
	// embedded store): writes then filter on _id alone (see above).
	exclusive bool
}

// changeTags applies change to the tags of document id. notFound is
// returned when the document does not exist; change's own errors are
// returned as they are. Nothing is written when change leaves the tags
// alone (ok false).
func (t tagged) changeTags(ctx context.Context, id bson.ObjectID, notFound error,
	change func([]tagDoc) (out []tagDoc, ok bool, err error)) error {
	c, published := t.c, t.published
	defer t.g.one(id.Hex())()
	for attempt := 0; attempt < casAttempts; attempt++ {
		var cur tagsOnly
		err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
			options.FindOne().SetProjection(bson.D{{Key: "tags", Value: 1}})).Decode(&cur)
		if err != nil {
			return translate(err, "read tags", notFound, nil)
		}
		tags, err := cur.decode()
		if err != nil {
			return fmt.Errorf("mongostore: decode tags of %s: %w", id.Hex(), err)
		}
		out, ok, err := change(tags)
		if err != nil || !ok {
			return err
		}
		if out == nil {
			out = []tagDoc{}
		}
		set := bson.D{{Key: "tags", Value: out}}
		if published {
			set = append(set, bson.E{Key: "published", Value: len(out) > 0})
		}
		filter := cur.filter(id)
		if t.exclusive {
			filter = bson.D{{Key: "_id", Value: id}}
		}
		res, err := c.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: set}})
		if err != nil {
			return translate(err, "write tags", nil, nil)
		}
		if res.MatchedCount == 1 {
			return nil
		}
		if t.exclusive {
			return notFound // deleted behind the store's back
		}
		// Changed (or deleted) meanwhile: read again.
	}
	return fmt.Errorf("mongostore: tags of %s: too much contention", id.Hex())
}

func addTagChange(tag domain.Tag, max int) func([]tagDoc) ([]tagDoc, bool, error) {
	return func(tags []tagDoc) ([]tagDoc, bool, error) {
		if len(tags) >= max {
			return nil, false, domain.ErrTooManyTags
		}
		for _, t := range tags {
			if t.Channel == oid(tag.Channel) {
				return nil, false, domain.AlreadyTagged(tag.Name)
			}
		}
		return append(tags, tagDoc{ID: oid(tag.ID), Channel: oid(tag.Channel), Name: tag.Name}), true, nil
	}
}

func removeTagChange(tag domain.ID) func([]tagDoc) ([]tagDoc, bool, error) {
	return func(tags []tagDoc) ([]tagDoc, bool, error) {
		for i, t := range tags {
			if t.ID == oid(tag) {
				return append(tags[:i:i], tags[i+1:]...), true, nil
			}
		}
		return nil, false, domain.ErrTagNotFound
	}
}

func dropChannelChange(channel domain.ID) func([]tagDoc) ([]tagDoc, bool, error) {
	return func(tags []tagDoc) ([]tagDoc, bool, error) {
		out := tags[:0:0]
		for _, t := range tags {
			if t.Channel != oid(channel) {
				out = append(out, t)
			}
		}
		return out, len(out) != len(tags), nil
	}
}

func renameChannelChange(channel domain.ID, name string) func([]tagDoc) ([]tagDoc, bool, error) {
	return func(tags []tagDoc) ([]tagDoc, bool, error) {
		changed := false
		for i := range tags {
			if tags[i].Channel == oid(channel) && tags[i].Name != name {
				tags[i].Name = name
				changed = true
			}
		}
		return tags, changed, nil
	}
}

// withChannel lists the ids of the documents of c tagged with channel.
func withChannel(ctx context.Context, c *mongo.Collection, channel domain.ID) ([]bson.ObjectID, error) {
	docs, err := findAll[struct {
		ID bson.ObjectID `bson:"_id"`
	}](ctx, c, bson.D{{Key: "tags.channel", Value: oid(channel)}}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	ids := make([]bson.ObjectID, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}

// eachWithChannel applies change to every document of c tagged with
// channel and returns how many changed. A document deleted meanwhile is
// skipped.
func (t tagged) eachWithChannel(ctx context.Context, channel domain.ID,
	change func([]tagDoc) ([]tagDoc, bool, error)) (int, error) {
	ids, err := withChannel(ctx, t.c, channel)
	if err != nil {
		return 0, translate(err, "find tagged", nil, nil)
	}
	n := 0
	for _, id := range ids {
		changed := false
		err := t.changeTags(ctx, id, errGone, func(tags []tagDoc) ([]tagDoc, bool, error) {
			out, ok, err := change(tags)
			changed = ok
			return out, ok, err
		})
		switch {
		case errors.Is(err, errGone):
		case err != nil:
			return n, err
		case changed:
			n++
		}
	}
	return n, nil
}

var errGone = errors.New("document gone")

func (s *Images) tagged() tagged {
	return tagged{c: s.c, g: &s.g, published: true, exclusive: s.exclusive}
}

// AddTag appends tag to the image unless it has a tag on the channel
// (ErrConflict) or max tags (ErrInvalid "too many tags"). ErrNotFound.
func (s *Images) AddTag(ctx context.Context, image domain.ID, tag domain.Tag, max int) error {
	return s.tagged().changeTags(ctx, oid(image), domain.ErrRunnableNotFound, addTagChange(tag, max))
}

// RemoveTag removes one tag of the image. ErrNotFound "runnable not found"
// or "tag not found".
func (s *Images) RemoveTag(ctx context.Context, image, tag domain.ID) error {
	return s.tagged().changeTags(ctx, oid(image), domain.ErrRunnableNotFound, removeTagChange(tag))
}

// RemoveTagsOfChannel removes the channel's tags from every image; images
// left without tags are unpublished.
func (s *Images) RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error) {
	return s.tagged().eachWithChannel(ctx, channel, dropChannelChange(channel))
}

// RenameTagsOfChannel renames the channel's tags on every image.
func (s *Images) RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error {
	_, err := s.tagged().eachWithChannel(ctx, channel, renameChannelChange(channel, name))
	return err
}

// ChannelCounts counts listed images per channel of their tags, in one
// aggregation (see ports.ImageTags).
func (s *Images) ChannelCounts(ctx context.Context, with domain.ID, channels []domain.ID) (map[domain.ID]int, error) {
	out := map[domain.ID]int{}
	if channels != nil && len(channels) == 0 {
		return out, nil
	}
	match := bson.D{{Key: "version", Value: bson.D{{Key: "$gte", Value: 1}}}}
	if !with.IsZero() {
		match = append(match, bson.E{Key: "tags.channel", Value: oid(with)})
	} else if channels != nil {
		match = append(match, bson.E{Key: "tags.channel", Value: bson.D{{Key: "$in", Value: oids(channels)}}})
	}
	pipeline := mongo.Pipeline{
		{{Key: "$match", Value: match}},
		{{Key: "$project", Value: bson.D{{Key: "tags.channel", Value: 1}}}},
		{{Key: "$unwind", Value: "$tags"}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$tags.channel"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	}
	cur, err := s.c.Aggregate(ctx, pipeline)
	if err != nil {
		return nil, translate(err, "count channels", nil, nil)
	}
	var rows []struct {
		ID bson.ObjectID `bson:"_id"`
		N  int           `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, translate(err, "count channels", nil, nil)
	}
	var want map[domain.ID]bool
	if channels != nil {
		want = make(map[domain.ID]bool, len(channels))
		for _, id := range channels {
			want[id] = true
		}
	}
	for _, r := range rows {
		id := did(r.ID)
		if id == with || (want != nil && !want[id]) {
			continue
		}
		out[id] = r.N
	}
	return out, nil
}

func (s *Drafts) tagged() tagged {
	return tagged{c: s.c, g: &s.g, exclusive: s.exclusive}
}

// AddTag appends tag to the draft unless it has a tag on the channel
// (ErrConflict) or max tags (ErrInvalid "too many tags"). ErrNotFound.
func (s *Drafts) AddTag(ctx context.Context, draft domain.ID, tag domain.Tag, max int) error {
	return s.tagged().changeTags(ctx, oid(draft), domain.ErrRunnableNotFound, addTagChange(tag, max))
}

// RemoveTag removes one tag of the draft. ErrNotFound "runnable not found"
// or "tag not found".
func (s *Drafts) RemoveTag(ctx context.Context, draft, tag domain.ID) error {
	return s.tagged().changeTags(ctx, oid(draft), domain.ErrRunnableNotFound, removeTagChange(tag))
}

// RemoveTagsOfChannel removes the channel's tags from every draft.
func (s *Drafts) RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error) {
	return s.tagged().eachWithChannel(ctx, channel, dropChannelChange(channel))
}

// RenameTagsOfChannel renames the channel's tags on every draft.
func (s *Drafts) RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error {
	_, err := s.tagged().eachWithChannel(ctx, channel, renameChannelChange(channel, name))
	return err
}
