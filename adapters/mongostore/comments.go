package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Comments = (*Comments)(nil)

const colComments = "comments"

// commentDoc is a comment in the comments collection. It references its
// author by id only (no copied email or avatar), so that a deleted
// author's comments can be left out when listed.
type commentDoc struct {
	ID      bson.ObjectID `bson:"_id"`
	Image   bson.ObjectID `bson:"image"`
	Author  bson.ObjectID `bson:"author"`
	Text    string        `bson:"text"`
	Created bson.DateTime `bson:"created"`
}

func (d *commentDoc) comment() *domain.Comment {
	return &domain.Comment{ID: did(d.ID), Image: did(d.Image), Author: did(d.Author), Text: d.Text, Created: tm(d.Created)}
}

// Comments is the MongoDB ports.Comments.
type Comments struct {
	c   *mongo.Collection
	srv *server
	g   guard
}

// NewComments returns the comment store of db.
func NewComments(db *mongo.Database) *Comments {
	return &Comments{c: db.Collection(colComments), srv: &server{db: db}}
}

// Create inserts c.
func (s *Comments) Create(ctx context.Context, c *domain.Comment) error {
	d := commentDoc{ID: oid(c.ID), Image: oid(c.Image), Author: oid(c.Author), Text: c.Text, Created: dt(c.Created)}
	_, err := s.c.InsertOne(ctx, d)
	return translate(err, "create comment", nil, domain.E(domain.ErrConflict, "comment already exists"))
}

// Get returns a comment. ErrNotFound.
func (s *Comments) Get(ctx context.Context, id domain.ID) (*domain.Comment, error) {
	var d commentDoc
	if err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: oid(id)}}).Decode(&d); err != nil {
		return nil, translate(err, "get comment", domain.ErrCommentNotFound, nil)
	}
	return d.comment(), nil
}

// Delete removes a comment. ErrNotFound.
func (s *Comments) Delete(ctx context.Context, id domain.ID) error {
	defer s.g.one(id.Hex())()
	res, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid(id)}})
	if err != nil {
		return translate(err, "delete comment", nil, nil)
	}
	if res.DeletedCount == 0 {
		return domain.ErrCommentNotFound
	}
	return nil
}

// List returns one page of the image's comments, oldest first, without
// those of q.ExcludeAuthors.
func (s *Comments) List(ctx context.Context, q ports.CommentQuery) ([]*domain.Comment, int, error) {
	filter := bson.D{{Key: "image", Value: oid(q.Image)}}
	if len(q.ExcludeAuthors) > 0 {
		filter = append(filter, bson.E{Key: "author", Value: bson.D{{Key: "$nin", Value: oids(q.ExcludeAuthors)}}})
	}
	skip, limit := pageOf(q.Page.Page, q.Limit)
	docs, total, err := findPage[commentDoc](ctx, s.srv, s.c, filter,
		bson.D{{Key: "created", Value: 1}, {Key: "_id", Value: 1}}, skip, limit)
	if err != nil {
		return nil, 0, translate(err, "list comments", nil, nil)
	}
	return mapDocs(docs, (*commentDoc).comment), total, nil
}

// Authors lists the distinct authors of the image's comments.
func (s *Comments) Authors(ctx context.Context, image domain.ID) ([]domain.ID, error) {
	var ids []bson.ObjectID
	if err := s.c.Distinct(ctx, "author", bson.D{{Key: "image", Value: oid(image)}}).Decode(&ids); err != nil {
		return nil, translate(err, "comment authors", nil, nil)
	}
	out := make([]domain.ID, len(ids))
	for i, id := range ids {
		out[i] = did(id)
	}
	return out, nil
}

// DeleteByImage removes the image's comments.
func (s *Comments) DeleteByImage(ctx context.Context, image domain.ID) (int, error) {
	defer s.g.many()()
	res, err := s.c.DeleteMany(ctx, bson.D{{Key: "image", Value: oid(image)}})
	if err != nil {
		return 0, translate(err, "delete comments", nil, nil)
	}
	return int(res.DeletedCount), nil
}
