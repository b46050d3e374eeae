package mongostore

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Channels = (*Channels)(nil)

// aliased is the alias bookkeeping shared by channels and categories:
// every alias of a record is claimed in unique_keys ("<kind>:<alias>")
// before the record carries it and released after it no longer does, so
// that an alias belongs to one record on every server, and a lookup by
// alias is two _id reads.
type aliased struct {
	c    *mongo.Collection
	keys *uniqueKeys
	kind string
	g    guard
}

func newAliased(db *mongo.Database, col, kind string) *aliased {
	a := &aliased{c: db.Collection(col), kind: kind}
	a.keys = &uniqueKeys{c: db.Collection(colUniqueKeys), holds: a.holds, now: time.Now}
	return a
}

// holds reports whether record ref still carries alias value.
func (a *aliased) holds(ctx context.Context, _ string, ref bson.ObjectID, value string) (bool, error) {
	var d struct {
		Aliases []string `bson:"aliases"`
	}
	err := a.c.FindOne(ctx, bson.D{{Key: "_id", Value: ref}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return slices.Contains(d.Aliases, value), err
}

// claimAll claims aliases for ref; on a taken one it releases what it
// claimed here and reports false.
func (a *aliased) claimAll(ctx context.Context, ref bson.ObjectID, aliases, already []string) (bool, error) {
	var claimed []string
	for _, al := range aliases {
		if slices.Contains(already, al) {
			continue
		}
		ok, err := a.keys.claim(ctx, a.kind, al, ref)
		if err != nil || !ok {
			a.releaseAll(context.WithoutCancel(ctx), ref, claimed)
			return false, err
		}
		claimed = append(claimed, al)
	}
	return true, nil
}

func (a *aliased) releaseAll(ctx context.Context, ref bson.ObjectID, aliases []string) {
	for _, al := range aliases {
		_ = a.keys.release(ctx, a.kind, al, ref)
	}
}

// findByAlias decodes the record holding alias into dst.
func (a *aliased) findByAlias(ctx context.Context, alias string, dst any) error {
	alias = strings.ToLower(alias)
	ref, ok, err := a.keys.owner(ctx, a.kind, alias)
	if err != nil {
		return err
	}
	if !ok {
		return mongo.ErrNoDocuments
	}
	var raw bson.Raw
	if err := a.c.FindOne(ctx, bson.D{{Key: "_id", Value: ref}}).Decode(&raw); err != nil {
		return err
	}
	var probe struct {
		Aliases []string `bson:"aliases"`
	}
	if err := bson.Unmarshal(raw, &probe); err != nil {
		return err
	}
	if !slices.Contains(probe.Aliases, alias) {
		return mongo.ErrNoDocuments // a stale claim
	}
	return bson.Unmarshal(raw, dst)
}

// create claims the aliases and inserts doc.
func (a *aliased) create(ctx context.Context, id bson.ObjectID, aliases []string, doc any, taken error) error {
	defer a.g.one(id.Hex())()
	ok, err := a.claimAll(ctx, id, aliases, nil)
	if err != nil {
		return err
	}
	if !ok {
		return taken
	}
	if _, err := a.c.InsertOne(ctx, doc); err != nil {
		a.releaseAll(context.WithoutCancel(ctx), id, aliases)
		if isDuplicate(err) {
			return taken
		}
		return err
	}
	return nil
}

// replace claims the new aliases, replaces the document and releases the
// aliases it dropped.
func (a *aliased) replace(ctx context.Context, id bson.ObjectID, aliases []string, doc any, taken, notFound error) error {
	defer a.g.one(id.Hex())()
	var old struct {
		Aliases []string `bson:"aliases"`
	}
	if err := a.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&old); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return notFound
		}
		return err
	}
	ok, err := a.claimAll(ctx, id, aliases, old.Aliases)
	if err != nil {
		return err
	}
	if !ok {
		return taken
	}
	var added []string
	for _, al := range aliases {
		if !slices.Contains(old.Aliases, al) {
			added = append(added, al)
		}
	}
	res, err := a.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc)
	if err == nil && res.MatchedCount == 0 {
		err = notFound
	}
	bg := context.WithoutCancel(ctx)
	if err != nil {
		a.releaseAll(bg, id, added)
		if isDuplicate(err) {
			return taken
		}
		return err
	}
	var dropped []string
	for _, al := range old.Aliases {
		if !slices.Contains(aliases, al) {
			dropped = append(dropped, al)
		}
	}
	a.releaseAll(bg, id, dropped)
	return nil
}

// remove deletes the record and releases its aliases.
func (a *aliased) remove(ctx context.Context, id bson.ObjectID) error {
	defer a.g.one(id.Hex())()
	var old struct {
		Aliases []string `bson:"aliases"`
	}
	if err := a.c.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&old); err != nil {
		return err
	}
	a.releaseAll(context.WithoutCancel(ctx), id, old.Aliases)
	return nil
}

// lowerAliases lower-cases and de-duplicates aliases, keeping their order.
func lowerAliases(in []string) []string {
	out := make([]string, 0, len(in))
	for _, a := range in {
		if a = strings.ToLower(a); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// Channels is the MongoDB ports.Channels over the channels collection (see
// channelDoc). Use one value per database in a process.
type Channels struct {
	*aliased
}

// NewChannels returns the channel store of db.
func NewChannels(db *mongo.Database) *Channels {
	return &Channels{aliased: newAliased(db, colChannels, keyChannelAlias)}
}

func toChannelDoc(c *domain.Channel) channelDoc {
	tags := make([]categoryTagDoc, len(c.Tags))
	for i, t := range c.Tags {
		tags[i] = categoryTagDoc{ID: oid(t.ID), Category: oid(t.Category), Name: t.Name}
	}
	return channelDoc{ID: oid(c.ID), Name: c.Name, Description: c.Description, Aliases: lowerAliases(c.Aliases),
		Tags: tags, Created: dt(c.Created)}
}

func (d *channelDoc) channel() *domain.Channel {
	c := &domain.Channel{ID: did(d.ID), Name: d.Name, Description: d.Description,
		Aliases: append([]string(nil), d.Aliases...), Created: tm(d.Created)}
	for _, t := range d.Tags {
		c.Tags = append(c.Tags, domain.CategoryTag{ID: did(t.ID), Category: did(t.Category), Name: t.Name})
	}
	return c
}

// Create inserts c. ErrConflict "channel with name already exists" when one
// of its aliases belongs to another channel.
func (s *Channels) Create(ctx context.Context, c *domain.Channel) error {
	d := toChannelDoc(c)
	return translate(s.create(ctx, d.ID, d.Aliases, d, domain.ErrChannelNameTaken), "create channel", nil, domain.ErrChannelNameTaken)
}

// Get returns a channel. ErrNotFound.
func (s *Channels) Get(ctx context.Context, id domain.ID) (*domain.Channel, error) {
	var d channelDoc
	if err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: oid(id)}}).Decode(&d); err != nil {
		return nil, translate(err, "get channel", domain.ErrChannelNotFound, nil)
	}
	return d.channel(), nil
}

// FindByAlias matches a lower-cased alias. ErrNotFound.
func (s *Channels) FindByAlias(ctx context.Context, alias string) (*domain.Channel, error) {
	var d channelDoc
	if err := s.findByAlias(ctx, alias, &d); err != nil {
		return nil, translate(err, "find channel", domain.ErrChannelNotFound, nil)
	}
	return d.channel(), nil
}

// Update replaces c. ErrNotFound; ErrConflict "channel with alias already
// exists".
func (s *Channels) Update(ctx context.Context, c *domain.Channel) error {
	d := toChannelDoc(c)
	err := s.replace(ctx, d.ID, d.Aliases, d, domain.ErrChannelAlias, domain.ErrChannelNotFound)
	return translate(err, "update channel", domain.ErrChannelNotFound, domain.ErrChannelAlias)
}

// Delete removes a channel and frees its aliases. ErrNotFound.
func (s *Channels) Delete(ctx context.Context, id domain.ID) error {
	return translate(s.remove(ctx, oid(id)), "delete channel", domain.ErrChannelNotFound, nil)
}

// List returns one page of the matching channels by lower-cased name, then
// id. Channels are few: the page is cut here.
func (s *Channels) List(ctx context.Context, q ports.ChannelQuery) ([]*domain.Channel, int, error) {
	filter := bson.D{}
	if q.IDs != nil {
		if len(q.IDs) == 0 {
			return []*domain.Channel{}, 0, nil
		}
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: oids(q.IDs)}}})
	}
	if !q.Category.IsZero() {
		filter = append(filter, bson.E{Key: "tags.category", Value: oid(q.Category)})
	}
	docs, err := findAll[channelDoc](ctx, s.c, filter, options.Find())
	if err != nil {
		return nil, 0, translate(err, "list channels", nil, nil)
	}
	all := make([]*domain.Channel, len(docs))
	for i := range docs {
		all[i] = docs[i].channel()
	}
	sortNamed(all, func(c *domain.Channel) (string, domain.ID) { return c.Name, c.ID })
	skip, limit := pageOf(q.Page.Page, q.Limit)
	return cut(all, skip, limit), len(all), nil
}

// sortNamed orders by lower-cased name, then id.
func sortNamed[T any](items []T, key func(T) (string, domain.ID)) {
	sort.Slice(items, func(i, j int) bool {
		ni, ii := key(items[i])
		nj, ij := key(items[j])
		if a, b := strings.ToLower(ni), strings.ToLower(nj); a != b {
			return a < b
		}
		return string(ii[:]) < string(ij[:])
	})
}

// cut returns items[skip:skip+limit] within bounds; limit 0 means all.
func cut[T any](items []T, skip, limit int64) []T {
	n := int64(len(items))
	start, end := min(skip, n), n
	if limit > 0 {
		end = min(start+limit, n)
	}
	return items[start:end]
}

// CountByCategory counts channels per category tag.
func (s *Channels) CountByCategory(ctx context.Context, categories []domain.ID) (map[domain.ID]int, error) {
	out := map[domain.ID]int{}
	if len(categories) == 0 {
		return out, nil
	}
	docs, err := findAll[channelDoc](ctx, s.c,
		bson.D{{Key: "tags.category", Value: bson.D{{Key: "$in", Value: oids(categories)}}}},
		options.Find().SetProjection(bson.D{{Key: "tags", Value: 1}}))
	if err != nil {
		return nil, translate(err, "count channels", nil, nil)
	}
	want := map[domain.ID]bool{}
	for _, id := range categories {
		want[id] = true
	}
	for _, d := range docs {
		seen := map[bson.ObjectID]bool{}
		for _, t := range d.Tags {
			if want[did(t.Category)] && !seen[t.Category] {
				seen[t.Category] = true
				out[did(t.Category)]++
			}
		}
	}
	return out, nil
}

// RemoveCategoryTags removes the category's tags from every channel.
func (s *Channels) RemoveCategoryTags(ctx context.Context, category domain.ID) error {
	return s.eachWithCategory(ctx, category, func(tags []categoryTagDoc) []categoryTagDoc {
		out := tags[:0:0]
		for _, t := range tags {
			if t.Category != oid(category) {
				out = append(out, t)
			}
		}
		return out
	})
}

// RenameCategoryTags renames the category's tags on every channel.
func (s *Channels) RenameCategoryTags(ctx context.Context, category domain.ID, name string) error {
	return s.eachWithCategory(ctx, category, func(tags []categoryTagDoc) []categoryTagDoc {
		for i := range tags {
			if tags[i].Category == oid(category) {
				tags[i].Name = name
			}
		}
		return tags
	})
}

// eachWithCategory rewrites the category tags of the channels tagged with
// category, each as a compare-and-swap of its tags (see tags.go).
func (s *Channels) eachWithCategory(ctx context.Context, category domain.ID, change func([]categoryTagDoc) []categoryTagDoc) error {
	docs, err := findAll[struct {
		ID bson.ObjectID `bson:"_id"`
	}](ctx, s.c, bson.D{{Key: "tags.category", Value: oid(category)}}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return translate(err, "find channels", nil, nil)
	}
	for _, d := range docs {
		if err := s.changeCategoryTags(ctx, d.ID, change); err != nil {
			return err
		}
	}
	return nil
}

func (s *Channels) changeCategoryTags(ctx context.Context, id bson.ObjectID, change func([]categoryTagDoc) []categoryTagDoc) error {
	defer s.g.one(id.Hex())()
	for attempt := 0; attempt < casAttempts; attempt++ {
		var cur tagsOnly
		err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
			options.FindOne().SetProjection(bson.D{{Key: "tags", Value: 1}})).Decode(&cur)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return translate(err, "read channel tags", nil, nil)
		}
		var tags []categoryTagDoc
		if cur.Tags.Type == bson.TypeArray {
			if err := cur.Tags.Unmarshal(&tags); err != nil {
				return err
			}
		}
		out := change(tags)
		if out == nil {
			out = []categoryTagDoc{}
		}
		res, err := s.c.UpdateOne(ctx, cur.filter(id), bson.D{{Key: "$set", Value: bson.D{{Key: "tags", Value: out}}}})
		if err != nil {
			return translate(err, "write channel tags", nil, nil)
		}
		if res.MatchedCount == 1 {
			return nil
		}
	}
	return errors.New("mongostore: channel tags: too much contention")
}
