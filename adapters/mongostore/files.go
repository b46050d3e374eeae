package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Files = (*Files)(nil)

// inlineBudget is how many bytes of cached content one runnable's index
// document holds inline; the rest goes to file_contents. It keeps the
// document under the 16 MiB BSON limit with 10,000 entries of metadata.
var inlineBudget = 8 << 20

// fileIndexDoc is one runnable's whole file index: one document per
// runnable, so that listing is one _id lookup (see doc.go). Entries are
// keyed by "f" + the file id's hex (a field name that is never numeric).
type fileIndexDoc struct {
	ID      bson.ObjectID        `bson:"_id"`
	Entries map[string]fileEntry `bson:"entries"`
}

// fileEntry is one file index entry.
type fileEntry struct {
	ID       bson.ObjectID `bson:"_id"`
	Name     string        `bson:"name"`
	Path     string        `bson:"path"`
	Dir      bool          `bson:"dir"`
	Default  bool          `bson:"default"`
	Ignore   bool          `bson:"ignore"`
	Link     string        `bson:"link,omitempty"`
	IsLink   bool          `bson:"is_link"`
	Size     int64         `bson:"size"`
	Modified bson.DateTime `bson:"modified"`
	Cached   bool          `bson:"cached"`
	// Content is the cached content when it is kept inline.
	Content []byte `bson:"content,omitempty"`
	// Ext is the _id of the file_contents document holding the content
	// when it did not fit inline.
	Ext string `bson:"ext,omitempty"`
}

// contentDoc holds one cached content that did not fit inline.
type contentDoc struct {
	ID       string        `bson:"_id"`
	Runnable bson.ObjectID `bson:"runnable"`
	Data     []byte        `bson:"data"`
}

func entryKey(id domain.ID) string { return "f" + id.Hex() }

func (e *fileEntry) fullPath() string { return domain.JoinPath(e.Path, e.Name) }

func toEntry(f *domain.File) fileEntry {
	e := fileEntry{
		ID:       oid(f.ID),
		Name:     f.Name,
		Path:     f.Path,
		Dir:      f.Dir,
		Default:  f.Default,
		Ignore:   f.Ignore,
		Link:     f.Link,
		IsLink:   f.IsLink,
		Size:     f.Size,
		Modified: dt(f.Modified),
		Cached:   f.Cached,
	}
	if len(f.Content) > 0 {
		e.Content = append([]byte(nil), f.Content...)
	}
	return e
}

func (e *fileEntry) file(runnable domain.ID, content []byte) domain.File {
	f := domain.File{
		ID:       did(e.ID),
		Runnable: runnable,
		Name:     e.Name,
		Path:     e.Path,
		Dir:      e.Dir,
		Default:  e.Default,
		Ignore:   e.Ignore,
		Link:     e.Link,
		IsLink:   e.IsLink,
		Size:     e.Size,
		Modified: tm(e.Modified),
		Cached:   e.Cached,
	}
	if e.Ext == "" {
		content = e.Content
	}
	if len(content) > 0 {
		f.Content = append([]byte(nil), content...)
	}
	return f
}

// Files is the MongoDB ports.Files. Entries are unique per (runnable, id)
// by construction (the entry key) and per (runnable, full path) by the
// check every write makes under the runnable's lock. Use one value per
// database in a process.
type Files struct {
	c        *mongo.Collection
	contents *mongo.Collection
	g        guard
}

// NewFiles returns the file index store of db.
func NewFiles(db *mongo.Database) *Files {
	return &Files{c: db.Collection(colFiles), contents: db.Collection(colFileContents)}
}

// load reads a runnable's index; a runnable without one has no entries.
func (s *Files) load(ctx context.Context, runnable domain.ID, projection bson.D) (map[string]fileEntry, error) {
	opts := options.FindOne()
	if projection != nil {
		opts.SetProjection(projection)
	}
	var d fileIndexDoc
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: oid(runnable)}}, opts).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return map[string]fileEntry{}, nil
	}
	if err != nil {
		return nil, err
	}
	if d.Entries == nil {
		d.Entries = map[string]fileEntry{}
	}
	return d.Entries, nil
}

// content reads an entry's external content.
func (s *Files) content(ctx context.Context, e *fileEntry) ([]byte, error) {
	if e.Ext == "" {
		return nil, nil
	}
	var c contentDoc
	err := s.contents.FindOne(ctx, bson.D{{Key: "_id", Value: e.Ext}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil // lost with a crash between writes: not cached
	}
	return c.Data, err
}

// List returns the runnable's entries sorted by path then name, with
// cached content.
func (s *Files) List(ctx context.Context, runnable domain.ID) ([]domain.File, error) {
	entries, err := s.load(ctx, runnable, nil)
	if err != nil {
		return nil, translate(err, "list files", nil, nil)
	}
	out := make([]domain.File, 0, len(entries))
	for _, e := range entries {
		data, err := s.content(ctx, &e)
		if err != nil {
			return nil, translate(err, "list files", nil, nil)
		}
		out = append(out, e.file(runnable, data))
	}
	domain.SortFiles(out)
	return out, nil
}

// Get returns one entry. ErrNotFound.
func (s *Files) Get(ctx context.Context, runnable, id domain.ID) (*domain.File, error) {
	key := entryKey(id)
	entries, err := s.load(ctx, runnable, bson.D{{Key: "entries." + key, Value: 1}})
	if err != nil {
		return nil, translate(err, "get file", nil, nil)
	}
	e, ok := entries[key]
	if !ok {
		return nil, domain.ErrFileNotFound
	}
	data, err := s.content(ctx, &e)
	if err != nil {
		return nil, translate(err, "get file", nil, nil)
	}
	f := e.file(runnable, data)
	return &f, nil
}

// change is the planned write of one runnable's index.
type change struct {
	runnable domain.ID
	set      map[string]fileEntry // entries to write
	unset    []string             // entry keys to remove
	contents []contentDoc         // external contents to write first
	drop     []string             // external contents to delete after
	empty    bool                 // the index ends with no entries
}

// plan applies files in order to entries, as ordered upserts would, and
// fails with ErrConflict when an entry's full path belongs to another id.
// It moves contents beyond the inline budget out of the document.
func plan(runnable domain.ID, entries map[string]fileEntry, files []domain.File) (*change, error) {
	byPath := make(map[string]string, len(entries))
	inline := 0
	for k, e := range entries {
		byPath[e.fullPath()] = k
		if e.Ext == "" {
			inline += len(e.Content)
		}
	}
	ch := &change{runnable: runnable, set: map[string]fileEntry{}}
	for i := range files {
		f := &files[i]
		key := entryKey(f.ID)
		full := f.FullPath()
		if k, ok := byPath[full]; ok && k != key {
			return nil, domain.Ef(domain.ErrConflict, "file %s already exists", full)
		}
		if old, ok := entries[key]; ok {
			delete(byPath, old.fullPath())
			if old.Ext != "" {
				ch.drop = append(ch.drop, old.Ext)
			} else {
				inline -= len(old.Content)
			}
		}
		e := toEntry(f)
		if len(e.Content) > 0 && inline+len(e.Content) > inlineBudget {
			e.Ext = runnable.Hex() + ":" + f.ID.Hex() + ":" + nonce()
			ch.contents = append(ch.contents, contentDoc{ID: e.Ext, Runnable: oid(runnable), Data: e.Content})
			e.Content = nil
		} else {
			inline += len(e.Content)
		}
		byPath[full] = key
		entries[key] = e
		ch.set[key] = e
	}
	ch.empty = len(entries) == 0
	return ch, nil
}

func nonce() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// lockAll locks the runnables in a fixed order and returns the unlock.
func (s *Files) lockAll(runnables []domain.ID) func() {
	keys := make([]string, len(runnables))
	for i, r := range runnables {
		keys[i] = r.Hex()
	}
	sort.Strings(keys)
	var unlocks []func()
	for i, k := range keys {
		if i > 0 && keys[i-1] == k {
			continue
		}
		unlocks = append(unlocks, s.g.one(k))
	}
	return func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
}

// apply writes a planned change: new external contents, then the index,
// then the removal of contents no longer referenced.
func (s *Files) apply(ctx context.Context, ch *change) error {
	for _, c := range ch.contents {
		if _, err := s.contents.InsertOne(ctx, c); err != nil {
			return err
		}
	}
	if len(ch.set) > 0 || len(ch.unset) > 0 {
		set := bson.D{}
		for k, e := range ch.set {
			set = append(set, bson.E{Key: "entries." + k, Value: e})
		}
		unset := bson.D{}
		for _, k := range ch.unset {
			unset = append(unset, bson.E{Key: "entries." + k, Value: ""})
		}
		update := bson.D{}
		if len(set) > 0 {
			update = append(update, bson.E{Key: "$set", Value: set})
		}
		if len(unset) > 0 {
			update = append(update, bson.E{Key: "$unset", Value: unset})
		}
		_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid(ch.runnable)}}, update, options.UpdateOne().SetUpsert(len(set) > 0))
		if err != nil {
			return err
		}
	}
	s.dropContents(ctx, ch.drop)
	return nil
}

// dropContents deletes external contents; a failure only leaves garbage.
func (s *Files) dropContents(ctx context.Context, ids []string) {
	ctx = context.WithoutCancel(ctx)
	for _, id := range ids {
		_, _ = s.contents.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	}
}

// Put inserts or replaces entries by (runnable, id). ErrConflict when an
// entry's full path belongs to another entry; nothing is written then.
func (s *Files) Put(ctx context.Context, files ...domain.File) error {
	var order []domain.ID
	byRun := map[domain.ID][]domain.File{}
	for _, f := range files {
		if _, ok := byRun[f.Runnable]; !ok {
			order = append(order, f.Runnable)
		}
		byRun[f.Runnable] = append(byRun[f.Runnable], f)
	}
	defer s.lockAll(order)()
	changes := make([]*change, 0, len(order))
	for _, r := range order {
		entries, err := s.load(ctx, r, nil)
		if err != nil {
			return translate(err, "put files", nil, nil)
		}
		ch, err := plan(r, entries, byRun[r])
		if err != nil {
			return err
		}
		changes = append(changes, ch)
	}
	for _, ch := range changes {
		if err := s.apply(ctx, ch); err != nil {
			return translate(err, "put files", nil, nil)
		}
	}
	return nil
}

// Delete removes entries by id; unknown ids are ignored.
func (s *Files) Delete(ctx context.Context, runnable domain.ID, ids ...domain.ID) error {
	defer s.g.one(runnable.Hex())()
	entries, err := s.load(ctx, runnable, nil)
	if err != nil {
		return translate(err, "delete files", nil, nil)
	}
	ch := &change{runnable: runnable}
	for _, id := range ids {
		key := entryKey(id)
		e, ok := entries[key]
		if !ok {
			continue
		}
		delete(entries, key)
		ch.unset = append(ch.unset, key)
		if e.Ext != "" {
			ch.drop = append(ch.drop, e.Ext)
		}
	}
	if len(ch.unset) == 0 {
		return nil
	}
	if len(entries) == 0 {
		if _, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid(runnable)}}); err != nil {
			return translate(err, "delete files", nil, nil)
		}
		s.dropContents(ctx, ch.drop)
		return nil
	}
	return translate(s.apply(ctx, ch), "delete files", nil, nil)
}

// Replace swaps the runnable's whole index for files (stored under
// runnable). ErrConflict on two entries with one full path; the old index
// stays then.
func (s *Files) Replace(ctx context.Context, runnable domain.ID, files []domain.File) error {
	mine := make([]domain.File, len(files))
	for i, f := range files {
		f.Runnable = runnable
		mine[i] = f
	}
	ch, err := plan(runnable, map[string]fileEntry{}, mine)
	if err != nil {
		return err
	}
	defer s.g.one(runnable.Hex())()
	old, err := s.load(ctx, runnable, bson.D{{Key: "entries", Value: 1}})
	if err != nil {
		return translate(err, "replace files", nil, nil)
	}
	for _, e := range old {
		if e.Ext != "" {
			ch.drop = append(ch.drop, e.Ext)
		}
	}
	for _, c := range ch.contents {
		if _, err := s.contents.InsertOne(ctx, c); err != nil {
			return translate(err, "replace files", nil, nil)
		}
	}
	if ch.empty {
		_, err = s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid(runnable)}})
	} else {
		_, err = s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: oid(runnable)}},
			fileIndexDoc{ID: oid(runnable), Entries: ch.set}, options.Replace().SetUpsert(true))
	}
	if err != nil {
		return translate(err, "replace files", nil, nil)
	}
	s.dropContents(ctx, ch.drop)
	return nil
}

// DeleteAll removes the runnable's index and its external contents.
func (s *Files) DeleteAll(ctx context.Context, runnable domain.ID) error {
	defer s.g.one(runnable.Hex())()
	old, err := s.load(ctx, runnable, nil)
	if err != nil {
		return translate(err, "delete file index", nil, nil)
	}
	if _, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid(runnable)}}); err != nil {
		return translate(err, "delete file index", nil, nil)
	}
	var drop []string
	for _, e := range old {
		if e.Ext != "" {
			drop = append(drop, e.Ext)
		}
	}
	s.dropContents(ctx, drop)
	return nil
}
