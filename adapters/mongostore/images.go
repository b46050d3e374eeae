package mongostore

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Images = (*Images)(nil)

var errImageExists = domain.E(domain.ErrConflict, "runnable already exists")

// imageDoc is an image (a saved runnable) in the images collection.
type imageDoc struct {
	ID          bson.ObjectID     `bson:"_id"`
	Name        string            `bson:"name"`
	NameLC      string            `bson:"name_lc"`
	Description string            `bson:"description"`
	Owner       bson.ObjectID     `bson:"owner"`
	Parent      *bson.ObjectID    `bson:"parent,omitempty"`
	Root        *bson.ObjectID    `bson:"root,omitempty"`
	Version     int               `bson:"version"`
	Status      string            `bson:"status"`
	Tags        []tagDoc          `bson:"tags"`
	Published   bool              `bson:"published"`
	StartCmd    string            `bson:"start_cmd"`
	Env         map[string]string `bson:"env,omitempty"`
	FileRoot    string            `bson:"file_root"`
	Votes       int               `bson:"votes"`
	Runs        int               `bson:"runs"`
	Views       int               `bson:"views"`
	Copies      int               `bson:"copies"`
	Cuts        int               `bson:"cuts"`
	Pastes      int               `bson:"pastes"`
	Created     bson.DateTime     `bson:"created"`
	Updated     bson.DateTime     `bson:"updated"`
	Ref         string            `bson:"ref"`
	Template    bool              `bson:"template"`
}

func toImageDoc(img *domain.Image) imageDoc {
	return imageDoc{
		ID:          oid(img.ID),
		Name:        img.Name,
		NameLC:      strings.ToLower(img.Name),
		Description: img.Description,
		Owner:       oid(img.Owner),
		Parent:      optOID(img.Parent),
		Root:        optOID(img.Root),
		Version:     img.Version,
		Status:      string(img.Status),
		Tags:        toTagDocs(img.Tags),
		Published:   img.Published(),
		StartCmd:    img.StartCmd,
		Env:         copyEnv(img.Env),
		FileRoot:    img.FileRoot,
		Votes:       img.Votes,
		Runs:        img.Stats.Runs,
		Views:       img.Stats.Views,
		Copies:      img.Stats.Copies,
		Cuts:        img.Stats.Cuts,
		Pastes:      img.Stats.Pastes,
		Created:     dt(img.Created),
		Updated:     dt(img.Updated),
		Ref:         img.Ref,
		Template:    img.Template,
	}
}

func (d *imageDoc) image() *domain.Image {
	return &domain.Image{
		ID:          did(d.ID),
		Name:        d.Name,
		Description: d.Description,
		Owner:       did(d.Owner),
		Parent:      optDID(d.Parent),
		Root:        optDID(d.Root),
		Version:     d.Version,
		Status:      domain.ImageStatus(d.Status),
		Tags:        fromTagDocs(d.Tags),
		StartCmd:    d.StartCmd,
		Env:         copyEnv(d.Env),
		FileRoot:    d.FileRoot,
		Votes:       d.Votes,
		Stats:       d.stats(),
		Created:     tm(d.Created),
		Updated:     tm(d.Updated),
		Ref:         d.Ref,
		Template:    d.Template,
	}
}

func (d *imageDoc) stats() domain.Stats {
	return domain.Stats{Runs: d.Runs, Views: d.Views, Copies: d.Copies, Cuts: d.Cuts, Pastes: d.Pastes}
}

// Images is the MongoDB ports.Images. Names are unique case-insensitively
// through unique_keys (see doc.go). Use one value per database in a
// process.
type Images struct {
	c    *mongo.Collection
	srv  *server
	keys *uniqueKeys
	g    guard
	// exclusive: this process is the only writer (the embedded store, set
	// by Open); tag changes then write by _id alone (tags.go).
	exclusive bool
}

// NewImages returns the image store of db.
func NewImages(db *mongo.Database) *Images {
	s := &Images{c: db.Collection(colImages), srv: &server{db: db}}
	s.keys = &uniqueKeys{c: db.Collection(colUniqueKeys), holds: s.holds, now: time.Now}
	return s
}

func (s *Images) holds(ctx context.Context, _ string, ref bson.ObjectID, value string) (bool, error) {
	d, err := s.get(ctx, ref)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return d.NameLC == value, nil
}

func (s *Images) get(ctx context.Context, id bson.ObjectID) (*imageDoc, error) {
	var d imageDoc
	if err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, err
	}
	return &d, nil
}

func (s *Images) claimName(ctx context.Context, d *imageDoc) error {
	ok, err := s.keys.claim(ctx, keyImageName, d.NameLC, d.ID)
	if err == nil && !ok {
		err = domain.ErrNameTaken
	}
	return err
}

// Create inserts img. ErrConflict (domain.ErrNameTaken) when another image
// has the name, case-insensitively.
func (s *Images) Create(ctx context.Context, img *domain.Image) error {
	d := toImageDoc(img)
	defer s.g.one(d.ID.Hex())()
	if err := s.claimName(ctx, &d); err != nil {
		return translate(err, "create image", nil, nil)
	}
	_, err := s.c.InsertOne(ctx, d)
	if err == nil {
		return nil
	}
	conflict := domain.ErrNameTaken
	if ex, gerr := s.get(ctx, d.ID); gerr == nil {
		conflict = errImageExists
		if ex.NameLC == d.NameLC {
			return conflict // the claim is the existing image's
		}
	}
	_ = s.keys.release(context.WithoutCancel(ctx), keyImageName, d.NameLC, d.ID)
	return translate(err, "create image", nil, conflict)
}

// Get returns the image. ErrNotFound.
func (s *Images) Get(ctx context.Context, id domain.ID) (*domain.Image, error) {
	d, err := s.get(ctx, oid(id))
	if err != nil {
		return nil, translate(err, "get image", domain.ErrRunnableNotFound, nil)
	}
	return d.image(), nil
}

// Update replaces img, counters included. ErrNotFound; ErrConflict on a
// taken name.
func (s *Images) Update(ctx context.Context, img *domain.Image) error {
	d := toImageDoc(img)
	defer s.g.one(d.ID.Hex())()
	old, err := s.get(ctx, d.ID)
	if err != nil {
		return translate(err, "update image", domain.ErrRunnableNotFound, nil)
	}
	renamed := old.NameLC != d.NameLC
	if renamed {
		if err := s.claimName(ctx, &d); err != nil {
			return translate(err, "update image", nil, nil)
		}
	}
	res, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d)
	if err == nil && res.MatchedCount == 0 {
		err = mongo.ErrNoDocuments
	}
	ctx2 := context.WithoutCancel(ctx)
	if err != nil {
		if renamed {
			_ = s.keys.release(ctx2, keyImageName, d.NameLC, d.ID)
		}
		return translate(err, "update image", domain.ErrRunnableNotFound, domain.ErrNameTaken)
	}
	if renamed {
		_ = s.keys.release(ctx2, keyImageName, old.NameLC, d.ID)
	}
	return nil
}

// Delete removes the image document and frees its name. ErrNotFound.
func (s *Images) Delete(ctx context.Context, id domain.ID) error {
	defer s.g.one(id.Hex())()
	var d imageDoc
	err := s.c.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: oid(id)}}).Decode(&d)
	if err != nil {
		return translate(err, "delete image", domain.ErrRunnableNotFound, nil)
	}
	_ = s.keys.release(context.WithoutCancel(ctx), keyImageName, d.NameLC, d.ID)
	return nil
}

// FindByName matches case-insensitively. ErrNotFound.
func (s *Images) FindByName(ctx context.Context, name string) (*domain.Image, error) {
	lc := strings.ToLower(name)
	ref, ok, err := s.keys.owner(ctx, keyImageName, lc)
	if err != nil {
		return nil, translate(err, "find image", nil, nil)
	}
	if !ok {
		return nil, domain.ErrRunnableNotFound
	}
	d, err := s.get(ctx, ref)
	if err != nil {
		return nil, translate(err, "find image", domain.ErrRunnableNotFound, nil)
	}
	if d.NameLC != lc {
		return nil, domain.ErrRunnableNotFound // a stale claim
	}
	return d.image(), nil
}

// imageFilter is the query of q; ok is false when nothing can match.
func imageFilter(q ports.ImageQuery) (filter bson.D, ok bool) {
	filter = bson.D{{Key: "version", Value: bson.D{{Key: "$gte", Value: 1}}}}
	if q.Published != nil {
		filter = append(filter, bson.E{Key: "published", Value: *q.Published})
	}
	if q.Channels != nil {
		if len(q.Channels) == 0 {
			return nil, false
		}
		filter = append(filter, bson.E{Key: "tags.channel", Value: bson.D{{Key: "$in", Value: oids(q.Channels)}}})
	}
	if !q.Owner.IsZero() {
		filter = append(filter, bson.E{Key: "owner", Value: oid(q.Owner)})
	}
	if !q.Parent.IsZero() {
		filter = append(filter, bson.E{Key: "parent", Value: oid(q.Parent)})
	}
	var terms bson.A
	for _, term := range q.Search {
		if term == "" {
			continue
		}
		re := bson.D{{Key: "$regex", Value: regexp.QuoteMeta(term)}, {Key: "$options", Value: "i"}}
		terms = append(terms, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "name", Value: re}},
			bson.D{{Key: "description", Value: re}},
			bson.D{{Key: "tags.name", Value: re}},
		}}})
	}
	if len(terms) > 0 {
		filter = append(filter, bson.E{Key: "$and", Value: terms})
	}
	return filter, true
}

// imageSort is the order of a sort name: counters descending, ties to newer
// created then higher id.
func imageSort(name string) bson.D {
	newer := bson.D{{Key: "created", Value: -1}, {Key: "_id", Value: -1}}
	switch strings.TrimPrefix(name, "-") {
	case "votes", "runs", "views":
		return append(bson.D{{Key: strings.TrimPrefix(name, "-"), Value: -1}}, newer...)
	}
	if name == "created" {
		return bson.D{{Key: "created", Value: 1}, {Key: "_id", Value: 1}}
	}
	return newer
}

// List returns one page and the total matching.
func (s *Images) List(ctx context.Context, q ports.ImageQuery) ([]*domain.Image, int, error) {
	filter, ok := imageFilter(q)
	if !ok {
		return []*domain.Image{}, 0, nil
	}
	skip, limit := pageOf(q.Page.Page, q.Limit)
	docs, total, err := findPage[imageDoc](ctx, s.srv, s.c, filter, imageSort(q.Sort), skip, limit)
	if err != nil {
		return nil, 0, translate(err, "list images", nil, nil)
	}
	return mapDocs(docs, (*imageDoc).image), total, nil
}

// All returns every image, version-0 ones included, in no particular
// order: one scan of the collection. It is not part of ports.Images; the
// in-memory mirror of the embedded store (adapters/mirror) loads with it.
func (s *Images) All(ctx context.Context) ([]*domain.Image, error) {
	docs, err := findAll[imageDoc](ctx, s.c, bson.D{}, options.Find())
	if err != nil {
		return nil, translate(err, "all images", nil, nil)
	}
	return mapDocs(docs, (*imageDoc).image), nil
}

// CountByOwner counts the owner's images with version >= 1, and those of
// them with tags, in one query.
func (s *Images) CountByOwner(ctx context.Context, owner domain.ID) (images, published int, err error) {
	cur, err := s.c.Find(ctx,
		bson.D{{Key: "owner", Value: oid(owner)}, {Key: "version", Value: bson.D{{Key: "$gte", Value: 1}}}},
		options.Find().SetProjection(bson.D{{Key: "published", Value: 1}}))
	if err != nil {
		return 0, 0, translate(err, "count images", nil, nil)
	}
	var docs []struct {
		Published bool `bson:"published"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return 0, 0, translate(err, "count images", nil, nil)
	}
	for _, d := range docs {
		images++
		if d.Published {
			published++
		}
	}
	return images, published, nil
}

// Transfer moves every image of from to to and returns how many.
func (s *Images) Transfer(ctx context.Context, from, to domain.ID) (int, error) {
	defer s.g.many()()
	res, err := s.c.UpdateMany(ctx, bson.D{{Key: "owner", Value: oid(from)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: oid(to)}}}})
	if err != nil {
		return 0, translate(err, "transfer images", nil, nil)
	}
	return int(res.MatchedCount), nil
}

// AddStat atomically adds n to a counter ("votes" included) and returns
// the image's new counters and votes. ErrNotFound.
func (s *Images) AddStat(ctx context.Context, id domain.ID, stat string, n int) (domain.Stats, int, error) {
	if stat != "votes" && !domain.ValidStat(stat) {
		return domain.Stats{}, 0, domain.Ef(domain.ErrInvalid, "unknown stat %q", stat)
	}
	defer s.g.one(id.Hex())()
	var d imageDoc
	err := s.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: oid(id)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: stat, Value: n}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return domain.Stats{}, 0, translate(err, "add image stat", domain.ErrRunnableNotFound, nil)
	}
	return d.stats(), d.Votes, nil
}

// Refs lists every distinct container image reference images point at.
func (s *Images) Refs(ctx context.Context) ([]string, error) {
	var refs []string
	if err := s.c.Distinct(ctx, "ref", bson.D{}).Decode(&refs); err != nil {
		return nil, translate(err, "image refs", nil, nil)
	}
	return nonEmptySorted(refs), nil
}

func nonEmptySorted(in []string) []string {
	out := make([]string, 0, len(in))
	for _, r := range in {
		if r != "" {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}
