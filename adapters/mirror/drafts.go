package mirror

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var (
	_ ports.Drafts    = (*Drafts)(nil)
	_ ports.DraftTags = (*Drafts)(nil)
)

// Drafts is a ports.Drafts and ports.DraftTags whose reads are answered by
// an in-memory copy of a backing draft store and whose writes go through to
// it (see the package documentation). Valid only while this process is the
// backing store's only writer.
type Drafts struct {
	backing ports.Drafts
	c       core[domain.Draft, *inmem.Drafts]
	t       tagged[domain.Draft, *inmem.Drafts]
}

// NewDrafts loads every draft through load (e.g. mongostore's
// (*Drafts).All) into memory and returns the mirror of backing and tags
// (usually the same store). log receives the load and any repair of the
// copy; nil discards.
func NewDrafts(ctx context.Context, backing ports.Drafts, tags ports.DraftTags,
	load func(context.Context) ([]*domain.Draft, error), log *slog.Logger) (*Drafts, error) {
	if backing == nil || tags == nil || load == nil {
		return nil, errors.New("mirror: NewDrafts needs a backing store, its tags and a loader")
	}
	m := &Drafts{backing: backing}
	m.c = core[domain.Draft, *inmem.Drafts]{
		what: "drafts", log: log, fresh: inmem.NewDrafts, load: load, get: backing.Get,
		id: func(d *domain.Draft) domain.ID { return d.ID },
	}
	m.t = tagged[domain.Draft, *inmem.Drafts]{c: &m.c, w: tags,
		tagsOf: func(d *domain.Draft) []domain.Tag { return d.Tags }}
	if err := m.c.init(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Create inserts d. ErrConflict when the id exists.
func (m *Drafts) Create(ctx context.Context, d *domain.Draft) error {
	return m.c.create(ctx, d, m.backing.Create)
}

// Get returns the draft. ErrNotFound.
func (m *Drafts) Get(ctx context.Context, id domain.ID) (*domain.Draft, error) {
	return m.c.index().Get(ctx, id)
}

// Update replaces d. ErrNotFound.
func (m *Drafts) Update(ctx context.Context, d *domain.Draft) error {
	return m.c.update(ctx, d, m.backing.Update)
}

// Delete removes the draft. ErrNotFound.
func (m *Drafts) Delete(ctx context.Context, id domain.ID) error {
	return m.c.remove(ctx, id, m.backing.Delete)
}

// List returns one page, newest first, and the total.
func (m *Drafts) List(ctx context.Context, q ports.DraftQuery) ([]*domain.Draft, int, error) {
	return m.c.index().List(ctx, q)
}

// CountByOwner counts the owner's drafts.
func (m *Drafts) CountByOwner(ctx context.Context, owner domain.ID) (int, error) {
	return m.c.index().CountByOwner(ctx, owner)
}

// Transfer moves every draft of from to to and returns how many. The
// drafts moved are re-read from the backing store.
func (m *Drafts) Transfer(ctx context.Context, from, to domain.ID) (int, error) {
	return m.c.rereadCounted(ctx, "Transfer", func(d *domain.Draft) bool { return d.Owner == from },
		func() (int, error) { return m.backing.Transfer(ctx, from, to) })
}

// Expired lists at most limit (all when limit <= 0) unsaved drafts with no
// save running whose last access is before before, oldest first.
func (m *Drafts) Expired(ctx context.Context, before time.Time, limit int) ([]*domain.Draft, error) {
	return m.c.index().Expired(ctx, before, limit)
}

// ByOwners lists drafts owned by any of owners, newest first.
func (m *Drafts) ByOwners(ctx context.Context, owners []domain.ID) ([]*domain.Draft, error) {
	return m.c.index().ByOwners(ctx, owners)
}

// WithContainer lists drafts that have a container, newest first.
func (m *Drafts) WithContainer(ctx context.Context) ([]*domain.Draft, error) {
	return m.c.index().WithContainer(ctx)
}

// ClearTarget sets target to none on drafts targeting image. They are
// re-read from the backing store.
func (m *Drafts) ClearTarget(ctx context.Context, image domain.ID) error {
	return m.c.rereadMatching(ctx, func(d *domain.Draft) bool { return d.Target == image },
		func() error { return m.backing.ClearTarget(ctx, image) })
}

// BaseRefs lists the BaseRef of drafts that have no container.
func (m *Drafts) BaseRefs(ctx context.Context) ([]string, error) {
	return m.c.index().BaseRefs(ctx)
}

// Saving lists drafts whose save status is "saving", newest first.
func (m *Drafts) Saving(ctx context.Context) ([]*domain.Draft, error) {
	return m.c.index().Saving(ctx)
}

// AddTag appends tag to the draft unless it has a tag on tag.Channel
// (ErrConflict) or max tags (ErrInvalid "too many tags"). ErrNotFound. The
// draft is then re-read from the backing store.
func (m *Drafts) AddTag(ctx context.Context, draft domain.ID, tag domain.Tag, max int) error {
	return m.t.addTag(ctx, draft, tag, max)
}

// RemoveTag removes the draft's tag with id tag. ErrNotFound "runnable not
// found" or "tag not found". The draft is then re-read from the backing
// store.
func (m *Drafts) RemoveTag(ctx context.Context, draft, tag domain.ID) error {
	return m.t.removeTag(ctx, draft, tag)
}

// RemoveTagsOfChannel removes every tag on channel from every draft and
// returns how many drafts changed. They are re-read from the backing
// store.
func (m *Drafts) RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error) {
	return m.t.removeTagsOfChannel(ctx, channel)
}

// RenameTagsOfChannel sets the name of every draft tag on channel. The
// drafts are re-read from the backing store.
func (m *Drafts) RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error {
	return m.t.renameTagsOfChannel(ctx, channel, name)
}
