package mirror

import (
	"context"

	"github.com/runnable/runnable/domain"
)

// tagWriter is the write half of ports.ImageTags and ports.DraftTags.
type tagWriter interface {
	AddTag(ctx context.Context, id domain.ID, tag domain.Tag, max int) error
	RemoveTag(ctx context.Context, id, tag domain.ID) error
	RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error)
	RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error
}

// tagged writes the tags of records T through w and re-reads the records
// it may have touched into c's copy: a tag change's effect is decided by
// the backing store (a tag already on the channel, too many tags).
type tagged[T any, I index[T]] struct {
	c      *core[T, I]
	w      tagWriter
	tagsOf func(*T) []domain.Tag
}

func (t tagged[T, I]) addTag(ctx context.Context, id domain.ID, tag domain.Tag, max int) error {
	return t.c.rereadOne(ctx, id, func() error { return t.w.AddTag(ctx, id, tag, max) })
}

func (t tagged[T, I]) removeTag(ctx context.Context, id, tag domain.ID) error {
	return t.c.rereadOne(ctx, id, func() error { return t.w.RemoveTag(ctx, id, tag) })
}

func (t tagged[T, I]) removeTagsOfChannel(ctx context.Context, channel domain.ID) (int, error) {
	return t.c.rereadCounted(ctx, "RemoveTagsOfChannel", t.onChannel(channel),
		func() (int, error) { return t.w.RemoveTagsOfChannel(ctx, channel) })
}

func (t tagged[T, I]) renameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error {
	return t.c.rereadMatching(ctx, t.onChannel(channel),
		func() error { return t.w.RenameTagsOfChannel(ctx, channel, name) })
}

// onChannel matches the records with a tag on channel.
func (t tagged[T, I]) onChannel(channel domain.ID) func(*T) bool {
	return func(v *T) bool { return domain.HasTagOn(t.tagsOf(v), channel) }
}
