package mongostore

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// server remembers whether the database is served by FerretDB, whose
// filters all scan (see doc.go), so that listings can pick the cheaper
// plan for each server.
type server struct {
	db     *mongo.Database
	mu     sync.Mutex
	known  bool
	ferret bool
}

// isFerretDB asks the server once (buildInfo names FerretDB's version); an
// unanswered question is asked again next time.
func (s *server) isFerretDB(ctx context.Context) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known {
		return s.ferret
	}
	raw, err := s.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return false
	}
	_, err = raw.LookupErr("ferretdbVersion")
	s.known, s.ferret = true, err == nil
	return s.ferret
}

// findPage runs a sorted, paged find and returns the page and the total
// matching filter.
//
// On MongoDB it is a find with skip and limit plus a count, both answered
// from indexes; the count is skipped when a first page that is not full
// shows the total. On FerretDB each of those would scan the collection,
// so one find without paging scans once and the page is cut here
// (measured over 1,000 images: about 90 ms instead of 150 ms).
func findPage[T any](ctx context.Context, srv *server, c *mongo.Collection, filter any, sort bson.D, skip, limit int64) ([]T, int, error) {
	if srv.isFerretDB(ctx) {
		all, err := findAll[T](ctx, c, filter, options.Find().SetSort(sort))
		if err != nil {
			return nil, 0, err
		}
		n := int64(len(all))
		start, end := min(skip, n), n
		if limit > 0 {
			end = min(start+limit, n)
		}
		return all[start:end], len(all), nil
	}
	docs, err := findAll[T](ctx, c, filter, options.Find().SetSort(sort).SetSkip(skip).SetLimit(limit))
	if err != nil {
		return nil, 0, err
	}
	if limit == 0 || (skip == 0 && int64(len(docs)) < limit) {
		return docs, len(docs), nil
	}
	total, err := c.CountDocuments(ctx, filter)
	return docs, int(total), err
}

// findAll decodes every document a find returns.
func findAll[T any](ctx context.Context, c *mongo.Collection, filter any, opts *options.FindOptionsBuilder) ([]T, error) {
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []T
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// mapDocs converts decoded documents into domain values.
func mapDocs[D, T any](docs []D, conv func(*D) T) []T {
	out := make([]T, len(docs))
	for i := range docs {
		out[i] = conv(&docs[i])
	}
	return out
}
