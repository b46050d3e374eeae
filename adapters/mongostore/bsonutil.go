package mongostore

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/runnable/runnable/domain"
)

// Collection names.
const (
	colUsers        = "users"
	colImages       = "images"
	colDrafts       = "drafts"
	colFiles        = "files"
	colFileContents = "file_contents"
	colUniqueKeys   = "unique_keys"
	colChannels     = "channels"
	colMigrations   = "migrations"
)

// oid is the ObjectId of a domain id (the same 12 bytes).
func oid(id domain.ID) bson.ObjectID { return bson.ObjectID(id) }

// did is the domain id of an ObjectId.
func did(o bson.ObjectID) domain.ID { return domain.ID(o) }

// optOID is nil for the zero id, so that optional references are left out.
func optOID(id domain.ID) *bson.ObjectID {
	if id.IsZero() {
		return nil
	}
	o := oid(id)
	return &o
}

// optDID is the zero id for a missing reference.
func optDID(o *bson.ObjectID) domain.ID {
	if o == nil {
		return domain.NilID
	}
	return did(*o)
}

func oids(ids []domain.ID) bson.A {
	out := make(bson.A, len(ids))
	for i, id := range ids {
		out[i] = oid(id)
	}
	return out
}

// dt stores a time as a UTC millisecond BSON date.
func dt(t time.Time) bson.DateTime { return bson.NewDateTimeFromTime(t) }

// tm reads a BSON date back as UTC; the zero time survives the round trip.
func tm(d bson.DateTime) time.Time {
	t := d.Time().UTC()
	if t.Equal(time.Time{}) {
		return time.Time{}
	}
	return t
}

func optDT(t *time.Time) *bson.DateTime {
	if t == nil {
		return nil
	}
	d := dt(*t)
	return &d
}

func optTM(d *bson.DateTime) *time.Time {
	if d == nil {
		return nil
	}
	t := tm(*d)
	return &t
}

func copyEnv(env map[string]string) map[string]string {
	if len(env) == 0 {
		return nil
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

// tagDoc is a tag on an image or a draft.
type tagDoc struct {
	ID      bson.ObjectID `bson:"_id"`
	Channel bson.ObjectID `bson:"channel"`
	Name    string        `bson:"name"`
}

func toTagDocs(tags []domain.Tag) []tagDoc {
	out := make([]tagDoc, len(tags))
	for i, t := range tags {
		out[i] = tagDoc{ID: oid(t.ID), Channel: oid(t.Channel), Name: t.Name}
	}
	return out
}

func fromTagDocs(docs []tagDoc) []domain.Tag {
	if len(docs) == 0 {
		return nil
	}
	out := make([]domain.Tag, len(docs))
	for i, t := range docs {
		out[i] = domain.Tag{ID: did(t.ID), Channel: did(t.Channel), Name: t.Name}
	}
	return out
}

// pageOf returns skip and limit of a page; limit <= 0 means all.
func pageOf(pg, limit int) (skip, lim int64) {
	if limit <= 0 {
		return 0, 0
	}
	if pg < 0 {
		pg = 0
	}
	return int64(pg) * int64(limit), int64(limit)
}
