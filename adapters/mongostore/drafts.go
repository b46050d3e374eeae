package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Drafts = (*Drafts)(nil)

var errDraftExists = domain.E(domain.ErrConflict, "runnable already exists")

// saveDoc is a draft's save state.
type saveDoc struct {
	Status     string         `bson:"status"`
	Mode       string         `bson:"mode,omitempty"`
	Image      *bson.ObjectID `bson:"image,omitempty"`
	StartedAt  *bson.DateTime `bson:"started_at,omitempty"`
	FinishedAt *bson.DateTime `bson:"finished_at,omitempty"`
	Error      string         `bson:"error,omitempty"`
}

// draftDoc is a draft in the drafts collection. A draft without a target
// has no target field (Expired and ClearTarget rely on it).
type draftDoc struct {
	ID            bson.ObjectID     `bson:"_id"`
	Name          string            `bson:"name"`
	Description   string            `bson:"description"`
	Owner         bson.ObjectID     `bson:"owner"`
	Parent        *bson.ObjectID    `bson:"parent,omitempty"`
	ParentVersion int               `bson:"parent_version"`
	Root          *bson.ObjectID    `bson:"root,omitempty"`
	Target        *bson.ObjectID    `bson:"target,omitempty"`
	Tags          []tagDoc          `bson:"tags"`
	StartCmd      string            `bson:"start_cmd"`
	Env           map[string]string `bson:"env,omitempty"`
	FileRoot      string            `bson:"file_root"`
	BaseRef       string            `bson:"base_ref"`
	ContainerID   string            `bson:"container_id"`
	Status        string            `bson:"status"`
	StartedAt     *bson.DateTime    `bson:"started_at,omitempty"`
	StoppedAt     *bson.DateTime    `bson:"stopped_at,omitempty"`
	ExitCode      *int              `bson:"exit_code,omitempty"`
	LastAccess    bson.DateTime     `bson:"last_access"`
	Save          saveDoc           `bson:"save"`
	Created       bson.DateTime     `bson:"created"`
}

func toDraftDoc(d *domain.Draft) draftDoc {
	var exit *int
	if d.ExitCode != nil {
		v := *d.ExitCode
		exit = &v
	}
	return draftDoc{
		ID:            oid(d.ID),
		Name:          d.Name,
		Description:   d.Description,
		Owner:         oid(d.Owner),
		Parent:        optOID(d.Parent),
		ParentVersion: d.ParentVersion,
		Root:          optOID(d.Root),
		Target:        optOID(d.Target),
		Tags:          toTagDocs(d.Tags),
		StartCmd:      d.StartCmd,
		Env:           copyEnv(d.Env),
		FileRoot:      d.FileRoot,
		BaseRef:       d.BaseRef,
		ContainerID:   d.ContainerID,
		Status:        string(d.Status),
		StartedAt:     optDT(d.StartedAt),
		StoppedAt:     optDT(d.StoppedAt),
		ExitCode:      exit,
		LastAccess:    dt(d.LastAccess),
		Save: saveDoc{
			Status:     string(d.Save.Status),
			Mode:       string(d.Save.Mode),
			Image:      optOID(d.Save.Image),
			StartedAt:  optDT(d.Save.StartedAt),
			FinishedAt: optDT(d.Save.FinishedAt),
			Error:      d.Save.Error,
		},
		Created: dt(d.Created),
	}
}

func (d *draftDoc) draft() *domain.Draft {
	return &domain.Draft{
		ID:            did(d.ID),
		Name:          d.Name,
		Description:   d.Description,
		Owner:         did(d.Owner),
		Parent:        optDID(d.Parent),
		ParentVersion: d.ParentVersion,
		Root:          optDID(d.Root),
		Target:        optDID(d.Target),
		Tags:          fromTagDocs(d.Tags),
		StartCmd:      d.StartCmd,
		Env:           copyEnv(d.Env),
		FileRoot:      d.FileRoot,
		BaseRef:       d.BaseRef,
		ContainerID:   d.ContainerID,
		Status:        domain.DraftStatus(d.Status),
		StartedAt:     optTM(d.StartedAt),
		StoppedAt:     optTM(d.StoppedAt),
		ExitCode:      d.ExitCode,
		LastAccess:    tm(d.LastAccess),
		Save: domain.SaveState{
			Status:     domain.SaveStatus(d.Save.Status),
			Mode:       domain.SaveMode(d.Save.Mode),
			Image:      optDID(d.Save.Image),
			StartedAt:  optTM(d.Save.StartedAt),
			FinishedAt: optTM(d.Save.FinishedAt),
			Error:      d.Save.Error,
		},
		Created: tm(d.Created),
	}
}

func draftsOf(docs []draftDoc) []*domain.Draft { return mapDocs(docs, (*draftDoc).draft) }

// newestFirst is the order of draft listings.
var newestFirst = bson.D{{Key: "created", Value: -1}, {Key: "_id", Value: -1}}

// Drafts is the MongoDB ports.Drafts. Use one value per database in a
// process.
type Drafts struct {
	c   *mongo.Collection
	srv *server
	g   guard
	// exclusive: this process is the only writer (the embedded store, set
	// by Open); tag changes then write by _id alone (tags.go).
	exclusive bool
}

// NewDrafts returns the draft store of db.
func NewDrafts(db *mongo.Database) *Drafts {
	return &Drafts{c: db.Collection(colDrafts), srv: &server{db: db}}
}

// Create inserts d. ErrConflict when the id exists.
func (s *Drafts) Create(ctx context.Context, d *domain.Draft) error {
	doc := toDraftDoc(d)
	defer s.g.one(doc.ID.Hex())()
	_, err := s.c.InsertOne(ctx, doc)
	return translate(err, "create draft", nil, errDraftExists)
}

// Get returns the draft. ErrNotFound.
func (s *Drafts) Get(ctx context.Context, id domain.ID) (*domain.Draft, error) {
	var d draftDoc
	if err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: oid(id)}}).Decode(&d); err != nil {
		return nil, translate(err, "get draft", domain.ErrRunnableNotFound, nil)
	}
	return d.draft(), nil
}

// Update replaces d. ErrNotFound.
func (s *Drafts) Update(ctx context.Context, d *domain.Draft) error {
	doc := toDraftDoc(d)
	defer s.g.one(doc.ID.Hex())()
	res, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}, doc)
	if err == nil && res.MatchedCount == 0 {
		err = mongo.ErrNoDocuments
	}
	return translate(err, "update draft", domain.ErrRunnableNotFound, nil)
}

// Delete removes d. ErrNotFound.
func (s *Drafts) Delete(ctx context.Context, id domain.ID) error {
	defer s.g.one(id.Hex())()
	res, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid(id)}})
	if err == nil && res.DeletedCount == 0 {
		err = mongo.ErrNoDocuments
	}
	return translate(err, "delete draft", domain.ErrRunnableNotFound, nil)
}

func (s *Drafts) find(ctx context.Context, op string, filter bson.D, opts *options.FindOptionsBuilder) ([]*domain.Draft, error) {
	docs, err := findAll[draftDoc](ctx, s.c, filter, opts)
	if err != nil {
		return nil, translate(err, op, nil, nil)
	}
	return draftsOf(docs), nil
}

// List returns one page, newest first, and the total.
func (s *Drafts) List(ctx context.Context, q ports.DraftQuery) ([]*domain.Draft, int, error) {
	filter := bson.D{}
	if !q.Owner.IsZero() {
		filter = append(filter, bson.E{Key: "owner", Value: oid(q.Owner)})
	}
	if !q.Parent.IsZero() {
		filter = append(filter, bson.E{Key: "parent", Value: oid(q.Parent)})
	}
	if q.Saved != nil {
		filter = append(filter, bson.E{Key: "target", Value: bson.D{{Key: "$exists", Value: *q.Saved}}})
	}
	skip, limit := pageOf(q.Page.Page, q.Limit)
	docs, total, err := findPage[draftDoc](ctx, s.srv, s.c, filter, newestFirst, skip, limit)
	if err != nil {
		return nil, 0, translate(err, "list drafts", nil, nil)
	}
	return draftsOf(docs), total, nil
}

// All returns every draft in no particular order: one scan of the
// collection. It is not part of ports.Drafts; the in-memory mirror of the
// embedded store (adapters/mirror) loads with it.
func (s *Drafts) All(ctx context.Context) ([]*domain.Draft, error) {
	return s.find(ctx, "all drafts", bson.D{}, options.Find())
}

// CountByOwner counts the owner's drafts.
func (s *Drafts) CountByOwner(ctx context.Context, owner domain.ID) (int, error) {
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "owner", Value: oid(owner)}})
	if err != nil {
		return 0, translate(err, "count drafts", nil, nil)
	}
	return int(n), nil
}

// Transfer moves every draft of from to to and returns how many.
func (s *Drafts) Transfer(ctx context.Context, from, to domain.ID) (int, error) {
	defer s.g.many()()
	res, err := s.c.UpdateMany(ctx, bson.D{{Key: "owner", Value: oid(from)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: oid(to)}}}})
	if err != nil {
		return 0, translate(err, "transfer drafts", nil, nil)
	}
	return int(res.MatchedCount), nil
}

// Expired lists at most limit (all when limit <= 0) unsaved drafts with no
// save running whose last access is before before, oldest first.
func (s *Drafts) Expired(ctx context.Context, before time.Time, limit int) ([]*domain.Draft, error) {
	filter := bson.D{
		{Key: "target", Value: bson.D{{Key: "$exists", Value: false}}},
		{Key: "save.status", Value: bson.D{{Key: "$ne", Value: string(domain.SaveSaving)}}},
		{Key: "last_access", Value: bson.D{{Key: "$lt", Value: dt(before)}}},
	}
	opts := options.Find().SetSort(bson.D{{Key: "last_access", Value: 1}, {Key: "_id", Value: 1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	return s.find(ctx, "expired drafts", filter, opts)
}

// ByOwners lists drafts owned by any of owners, newest first.
func (s *Drafts) ByOwners(ctx context.Context, owners []domain.ID) ([]*domain.Draft, error) {
	if len(owners) == 0 {
		return []*domain.Draft{}, nil
	}
	return s.find(ctx, "drafts by owners",
		bson.D{{Key: "owner", Value: bson.D{{Key: "$in", Value: oids(owners)}}}},
		options.Find().SetSort(newestFirst))
}

// WithContainer lists drafts that have a container, newest first.
func (s *Drafts) WithContainer(ctx context.Context) ([]*domain.Draft, error) {
	return s.find(ctx, "drafts with container",
		bson.D{{Key: "container_id", Value: bson.D{{Key: "$nin", Value: bson.A{"", nil}}}}},
		options.Find().SetSort(newestFirst))
}

// Saving lists drafts whose save status is "saving".
func (s *Drafts) Saving(ctx context.Context) ([]*domain.Draft, error) {
	return s.find(ctx, "saving drafts",
		bson.D{{Key: "save.status", Value: string(domain.SaveSaving)}},
		options.Find().SetSort(newestFirst))
}

// ClearTarget sets target to none on drafts targeting image.
func (s *Drafts) ClearTarget(ctx context.Context, image domain.ID) error {
	defer s.g.many()()
	_, err := s.c.UpdateMany(ctx, bson.D{{Key: "target", Value: oid(image)}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "target", Value: ""}}}})
	return translate(err, "clear draft target", nil, nil)
}

// BaseRefs lists the distinct BaseRef of drafts that have no container.
func (s *Drafts) BaseRefs(ctx context.Context) ([]string, error) {
	var refs []string
	err := s.c.Distinct(ctx, "base_ref",
		bson.D{{Key: "container_id", Value: bson.D{{Key: "$in", Value: bson.A{"", nil}}}}}).Decode(&refs)
	if err != nil {
		return nil, translate(err, "draft base refs", nil, nil)
	}
	return nonEmptySorted(refs), nil
}
