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
	tags    ports.DraftTags
	c       core[domain.Draft, *inmem.Drafts]
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
	m := &Drafts{backing: backing, tags: tags}
	m.c = core[domain.Draft, *inmem.Drafts]{
		what: "drafts", log: log, fresh: inmem.NewDrafts, load: load, get: backing.Get,
		id: func(d *domain.Draft) domain.ID { return d.ID },
	}
	if err := m.c.init(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Create inserts d. ErrConflict when the id exists.
func (m *Drafts) Create(ctx context.Context, d *domain.Draft) error {
	done, err := m.c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := m.backing.Create(ctx, d); err != nil {
		m.c.failed(ctx, d.ID)
		return err
	}
	m.c.applied(ctx, "Create", m.c.index().Create(ctx, d), d.ID)
	return nil
}

// Get returns the draft. ErrNotFound.
func (m *Drafts) Get(ctx context.Context, id domain.ID) (*domain.Draft, error) {
	return m.c.index().Get(ctx, id)
}

// Update replaces d. ErrNotFound.
func (m *Drafts) Update(ctx context.Context, d *domain.Draft) error {
	done, err := m.c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := m.backing.Update(ctx, d); err != nil {
		m.c.failed(ctx, d.ID)
		return err
	}
	m.c.applied(ctx, "Update", m.c.index().Update(ctx, d), d.ID)
	return nil
}

// Delete removes the draft. ErrNotFound.
func (m *Drafts) Delete(ctx context.Context, id domain.ID) error {
	done, err := m.c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := m.backing.Delete(ctx, id); err != nil {
		m.c.failed(ctx, id)
		return err
	}
	m.c.applied(ctx, "Delete", m.c.index().Delete(ctx, id), id)
	return nil
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
	done, err := m.c.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	ids := m.c.matching(ctx, func(d *domain.Draft) bool { return d.Owner == from })
	n, err := m.backing.Transfer(ctx, from, to)
	m.c.refresh(ctx, ids...)
	if err != nil {
		return n, err
	}
	m.c.agree(ctx, "Transfer", n, len(ids))
	return n, nil
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
	done, err := m.c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	ids := m.c.matching(ctx, func(d *domain.Draft) bool { return d.Target == image })
	err = m.backing.ClearTarget(ctx, image)
	m.c.refresh(ctx, ids...)
	return err
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
	return m.tagOne(ctx, draft, func() error { return m.tags.AddTag(ctx, draft, tag, max) })
}

// RemoveTag removes the draft's tag with id tag. ErrNotFound "runnable not
// found" or "tag not found". The draft is then re-read from the backing
// store.
func (m *Drafts) RemoveTag(ctx context.Context, draft, tag domain.ID) error {
	return m.tagOne(ctx, draft, func() error { return m.tags.RemoveTag(ctx, draft, tag) })
}

func (m *Drafts) tagOne(ctx context.Context, draft domain.ID, write func() error) error {
	done, err := m.c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := write(); err != nil {
		m.c.failed(ctx, draft)
		return err
	}
	m.c.refresh(ctx, draft)
	return nil
}

// RemoveTagsOfChannel removes every tag on channel from every draft and
// returns how many drafts changed. They are re-read from the backing
// store.
func (m *Drafts) RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error) {
	done, err := m.c.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	ids := m.c.matching(ctx, func(d *domain.Draft) bool { return domain.HasTagOn(d.Tags, channel) })
	n, err := m.tags.RemoveTagsOfChannel(ctx, channel)
	m.c.refresh(ctx, ids...)
	if err != nil {
		return n, err
	}
	m.c.agree(ctx, "RemoveTagsOfChannel", n, len(ids))
	return n, nil
}

// RenameTagsOfChannel sets the name of every draft tag on channel. The
// drafts are re-read from the backing store.
func (m *Drafts) RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error {
	done, err := m.c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	ids := m.c.matching(ctx, func(d *domain.Draft) bool { return domain.HasTagOn(d.Tags, channel) })
	err = m.tags.RenameTagsOfChannel(ctx, channel, name)
	m.c.refresh(ctx, ids...)
	return err
}
