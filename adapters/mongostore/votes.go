package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Votes = (*Votes)(nil)

const (
	colVotes = "votes"
	keyVote  = "vote"
)

// voteDoc is a vote in the votes collection. The pair (user, image) is
// unique through unique_keys ("vote:<user hex>:<image hex>"), which also
// makes Find two _id reads; the unique index on (user, image) is the
// backstop on MongoDB.
type voteDoc struct {
	ID      bson.ObjectID `bson:"_id"`
	User    bson.ObjectID `bson:"user"`
	Image   bson.ObjectID `bson:"image"`
	Created bson.DateTime `bson:"created"`
}

func (d *voteDoc) vote() *domain.Vote {
	return &domain.Vote{ID: did(d.ID), User: did(d.User), Image: did(d.Image), Created: tm(d.Created)}
}

func votePair(user, image domain.ID) string { return user.Hex() + ":" + image.Hex() }

// Votes is the MongoDB ports.Votes. Use one value per database in a
// process.
type Votes struct {
	c    *mongo.Collection
	srv  *server
	keys *uniqueKeys
	g    guard
}

// NewVotes returns the vote store of db.
func NewVotes(db *mongo.Database) *Votes {
	s := &Votes{c: db.Collection(colVotes), srv: &server{db: db}}
	s.keys = &uniqueKeys{c: db.Collection(colUniqueKeys), holds: s.holds, now: time.Now}
	return s
}

func (s *Votes) holds(ctx context.Context, _ string, ref bson.ObjectID, value string) (bool, error) {
	var d voteDoc
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: ref}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return votePair(did(d.User), did(d.Image)) == value, nil
}

// Create inserts v. ErrConflict when the user already voted for the image.
func (s *Votes) Create(ctx context.Context, v *domain.Vote) error {
	d := voteDoc{ID: oid(v.ID), User: oid(v.User), Image: oid(v.Image), Created: dt(v.Created)}
	pair := votePair(v.User, v.Image)
	ok, err := s.keys.claim(ctx, keyVote, pair, d.ID)
	if err != nil {
		return translate(err, "create vote", nil, nil)
	}
	if !ok {
		return domain.ErrVotedTwice
	}
	if _, err := s.c.InsertOne(ctx, d); err != nil {
		_ = s.keys.release(context.WithoutCancel(ctx), keyVote, pair, d.ID)
		return translate(err, "create vote", nil, domain.ErrVotedTwice)
	}
	return nil
}

// Get returns a vote. ErrNotFound.
func (s *Votes) Get(ctx context.Context, id domain.ID) (*domain.Vote, error) {
	var d voteDoc
	if err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: oid(id)}}).Decode(&d); err != nil {
		return nil, translate(err, "get vote", domain.ErrVoteNotFound, nil)
	}
	return d.vote(), nil
}

// Find returns user's vote for image. ErrNotFound.
func (s *Votes) Find(ctx context.Context, user, image domain.ID) (*domain.Vote, error) {
	ref, ok, err := s.keys.owner(ctx, keyVote, votePair(user, image))
	if err != nil {
		return nil, translate(err, "find vote", nil, nil)
	}
	if !ok {
		return nil, domain.ErrVoteNotFound
	}
	v, err := s.Get(ctx, did(ref))
	if err != nil {
		return nil, err
	}
	if v.User != user || v.Image != image {
		return nil, domain.ErrVoteNotFound // a stale claim
	}
	return v, nil
}

// Delete removes a vote and frees its pair. ErrNotFound, also for the
// losers of concurrent deletes.
func (s *Votes) Delete(ctx context.Context, id domain.ID) error {
	defer s.g.one(id.Hex())()
	var d voteDoc
	if err := s.c.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: oid(id)}}).Decode(&d); err != nil {
		return translate(err, "delete vote", domain.ErrVoteNotFound, nil)
	}
	_ = s.keys.release(context.WithoutCancel(ctx), keyVote, votePair(did(d.User), did(d.Image)), d.ID)
	return nil
}

// ListByUser returns one page of the user's votes, newest first.
func (s *Votes) ListByUser(ctx context.Context, user domain.ID, p ports.Page) ([]*domain.Vote, int, error) {
	skip, limit := pageOf(p.Page, p.Limit)
	docs, total, err := findPage[voteDoc](ctx, s.srv, s.c, bson.D{{Key: "user", Value: oid(user)}},
		bson.D{{Key: "created", Value: -1}, {Key: "_id", Value: -1}}, skip, limit)
	if err != nil {
		return nil, 0, translate(err, "list votes", nil, nil)
	}
	return mapDocs(docs, (*voteDoc).vote), total, nil
}

// CountByImage counts the image's votes.
func (s *Votes) CountByImage(ctx context.Context, image domain.ID) (int, error) {
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "image", Value: oid(image)}})
	if err != nil {
		return 0, translate(err, "count votes", nil, nil)
	}
	return int(n), nil
}

// DeleteByImage removes the image's votes and frees their pairs.
func (s *Votes) DeleteByImage(ctx context.Context, image domain.ID) (int, error) {
	docs, err := findAll[voteDoc](ctx, s.c, bson.D{{Key: "image", Value: oid(image)}}, options.Find())
	if err != nil {
		return 0, translate(err, "delete votes", nil, nil)
	}
	n := 0
	for _, d := range docs {
		err := s.Delete(ctx, did(d.ID))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, domain.ErrNotFound):
			return n, err
		}
	}
	return n, nil
}
