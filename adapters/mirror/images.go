package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var (
	_ ports.Images    = (*Images)(nil)
	_ ports.ImageTags = (*Images)(nil)
)

// Images is a ports.Images and ports.ImageTags whose reads are answered by
// an in-memory copy of a backing image store and whose writes go through to
// it (see the package documentation). Valid only while this process is the
// backing store's only writer.
type Images struct {
	backing ports.Images
	c       core[domain.Image, *inmem.Images]
	t       tagged[domain.Image, *inmem.Images]
}

// NewImages loads every image through load (version-0 images included,
// e.g. mongostore's (*Images).All) into memory and returns the mirror of
// backing and tags (usually the same store). log receives the load and
// any repair of the copy; nil discards.
func NewImages(ctx context.Context, backing ports.Images, tags ports.ImageTags,
	load func(context.Context) ([]*domain.Image, error), log *slog.Logger) (*Images, error) {
	if backing == nil || tags == nil || load == nil {
		return nil, errors.New("mirror: NewImages needs a backing store, its tags and a loader")
	}
	m := &Images{backing: backing}
	m.c = core[domain.Image, *inmem.Images]{
		what: "images", log: log, fresh: inmem.NewImages, load: load, get: backing.Get,
		id: func(img *domain.Image) domain.ID { return img.ID },
	}
	m.t = tagged[domain.Image, *inmem.Images]{c: &m.c, w: tags,
		tagsOf: func(img *domain.Image) []domain.Tag { return img.Tags }}
	if err := m.c.init(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Create inserts img. ErrConflict (domain.ErrNameTaken) when another image
// has the name, case-insensitively.
func (m *Images) Create(ctx context.Context, img *domain.Image) error {
	return m.c.create(ctx, img, m.backing.Create)
}

// Get returns the image. ErrNotFound.
func (m *Images) Get(ctx context.Context, id domain.ID) (*domain.Image, error) {
	return m.c.index().Get(ctx, id)
}

// Update replaces img. ErrNotFound; ErrConflict on a taken name.
func (m *Images) Update(ctx context.Context, img *domain.Image) error {
	return m.c.update(ctx, img, m.backing.Update)
}

// Delete removes the image. ErrNotFound.
func (m *Images) Delete(ctx context.Context, id domain.ID) error {
	return m.c.remove(ctx, id, m.backing.Delete)
}

// FindByName matches case-insensitively. ErrNotFound.
func (m *Images) FindByName(ctx context.Context, name string) (*domain.Image, error) {
	return m.c.index().FindByName(ctx, name)
}

// List returns one page and the total matching.
func (m *Images) List(ctx context.Context, q ports.ImageQuery) ([]*domain.Image, int, error) {
	return m.c.index().List(ctx, q)
}

// CountByOwner counts the owner's images with version >= 1, and those of
// them with tags.
func (m *Images) CountByOwner(ctx context.Context, owner domain.ID) (images, published int, err error) {
	return m.c.index().CountByOwner(ctx, owner)
}

// Transfer moves every image of from to to and returns how many. The
// images moved are re-read from the backing store.
func (m *Images) Transfer(ctx context.Context, from, to domain.ID) (int, error) {
	return m.c.rereadCounted(ctx, "Transfer", func(img *domain.Image) bool { return img.Owner == from },
		func() (int, error) { return m.backing.Transfer(ctx, from, to) })
}

// AddStat atomically adds n to a counter ("votes" included) and returns
// the image's new counters and votes. ErrNotFound. The copy adds n too and
// is re-read if its counters then differ from the backing store's.
func (m *Images) AddStat(ctx context.Context, id domain.ID, stat string, n int) (stats domain.Stats, votes int, err error) {
	err = m.c.writeOne(ctx, "AddStat", id,
		func() (err error) {
			stats, votes, err = m.backing.AddStat(ctx, id, stat, n)
			return err
		},
		func(idx *inmem.Images) error {
			mstats, mvotes, err := idx.AddStat(ctx, id, stat, n)
			if err == nil && (mstats != stats || mvotes != votes) {
				err = fmt.Errorf("copy has counters %+v and %d votes, the backing store %+v and %d", mstats, mvotes, stats, votes)
			}
			return err
		})
	return stats, votes, err
}

// Refs lists every container image reference images point at.
func (m *Images) Refs(ctx context.Context) ([]string, error) {
	return m.c.index().Refs(ctx)
}

// AddTag appends tag to the image unless it has a tag on tag.Channel
// (ErrConflict) or max tags (ErrInvalid "too many tags"). ErrNotFound. The
// image is then re-read from the backing store.
func (m *Images) AddTag(ctx context.Context, image domain.ID, tag domain.Tag, max int) error {
	return m.t.addTag(ctx, image, tag, max)
}

// RemoveTag removes the image's tag with id tag. ErrNotFound "runnable not
// found" or "tag not found". The image is then re-read from the backing
// store.
func (m *Images) RemoveTag(ctx context.Context, image, tag domain.ID) error {
	return m.t.removeTag(ctx, image, tag)
}

// RemoveTagsOfChannel removes every tag on channel from every image and
// returns how many images changed. They are re-read from the backing
// store.
func (m *Images) RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error) {
	return m.t.removeTagsOfChannel(ctx, channel)
}

// RenameTagsOfChannel sets the name of every image tag on channel. The
// images are re-read from the backing store.
func (m *Images) RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error {
	return m.t.renameTagsOfChannel(ctx, channel, name)
}

// ChannelCounts counts listed images per channel of their tags (see
// ports.ImageTags).
func (m *Images) ChannelCounts(ctx context.Context, with domain.ID, channels []domain.ID) (map[domain.ID]int, error) {
	return m.c.index().ChannelCounts(ctx, with, channels)
}
