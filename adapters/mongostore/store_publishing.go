package mongostore

import "go.mongodb.org/mongo-driver/v2/mongo"

// publishing holds the stores of the publishing layer (spec §6, §7). The
// image and draft stores carry their tag operations themselves
// (ports.ImageTags, ports.DraftTags).
type publishing struct {
	channels   *Channels
	categories *Categories
	votes      *Votes
	comments   *Comments
}

func newPublishing(db *mongo.Database) publishing {
	return publishing{channels: NewChannels(db), categories: NewCategories(db), votes: NewVotes(db), comments: NewComments(db)}
}

// Channels is the ports.Channels of the store.
func (s *Store) Channels() *Channels { return s.pub.channels }

// Categories is the ports.Categories of the store.
func (s *Store) Categories() *Categories { return s.pub.categories }

// Votes is the ports.Votes of the store.
func (s *Store) Votes() *Votes { return s.pub.votes }

// Comments is the ports.Comments of the store.
func (s *Store) Comments() *Comments { return s.pub.comments }
