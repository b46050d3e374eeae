package mongostore

import "go.mongodb.org/mongo-driver/v2/mongo"

// SetInlineBudget changes how much cached content a file index document
// holds inline, for the length of a test.
func SetInlineBudget(n int) (restore func()) {
	old := inlineBudget
	inlineBudget = n
	return func() { inlineBudget = old }
}

// ExclusiveImages is NewImages as Open makes it for the embedded store:
// this process is the only writer of db.
func ExclusiveImages(db *mongo.Database) *Images {
	s := NewImages(db)
	s.exclusive = true
	return s
}

// ExclusiveDrafts is NewDrafts as Open makes it for the embedded store.
func ExclusiveDrafts(db *mongo.Database) *Drafts {
	s := NewDrafts(db)
	s.exclusive = true
	return s
}

// Exclusive reports whether the tag changes of s and d write by _id alone.
func Exclusive(s *Images, d *Drafts) (images, drafts bool) { return s.exclusive, d.exclusive }
