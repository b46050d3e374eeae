package inmem

import (
	"context"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var (
	_ ports.ImageTags = (*Images)(nil)
	_ ports.DraftTags = (*Drafts)(nil)
)

// addTag appends tag to tags under the rules of ports.ImageTags.AddTag.
func addTag(tags []domain.Tag, tag domain.Tag, max int) ([]domain.Tag, error) {
	if len(tags) >= max {
		return nil, domain.ErrTooManyTags
	}
	if domain.HasTagOn(tags, tag.Channel) {
		return nil, domain.AlreadyTagged(tag.Name)
	}
	return append(cloneTags(tags), tag), nil
}

// removeTag drops the tag with id, or answers "tag not found".
func removeTag(tags []domain.Tag, id domain.ID) ([]domain.Tag, error) {
	for i, t := range tags {
		if t.ID == id {
			out := append(cloneTags(tags[:i]), tags[i+1:]...)
			if len(out) == 0 {
				out = nil
			}
			return out, nil
		}
	}
	return nil, domain.ErrTagNotFound
}

// withoutChannel drops tags on channel; changed reports whether any was.
func withoutChannel(tags []domain.Tag, channel domain.ID) (out []domain.Tag, changed bool) {
	for _, t := range tags {
		if t.Channel == channel {
			changed = true
			continue
		}
		out = append(out, t)
	}
	return out, changed
}

func renameChannel(tags []domain.Tag, channel domain.ID, name string) {
	for i := range tags {
		if tags[i].Channel == channel {
			tags[i].Name = name
		}
	}
}

// tagged is what the image and draft stores share for their tag
// operations: records by id under one lock, and where a record keeps its
// tags.
type tagged[T any] struct {
	mu     *sync.RWMutex
	byID   map[domain.ID]*T
	faults *faults
	tags   func(*T) *[]domain.Tag
}

func (s *Images) tagged() tagged[domain.Image] {
	return tagged[domain.Image]{&s.mu, s.byID, &s.faults, func(img *domain.Image) *[]domain.Tag { return &img.Tags }}
}

func (s *Drafts) tagged() tagged[domain.Draft] {
	return tagged[domain.Draft]{&s.mu, s.byID, &s.faults, func(d *domain.Draft) *[]domain.Tag { return &d.Tags }}
}

// change replaces the tags of the record with id by what fn makes of them,
// atomically; "runnable not found" when there is no such record.
func (s tagged[T]) change(method string, id domain.ID, fn func([]domain.Tag) ([]domain.Tag, error)) error {
	if err := s.faults.take(method); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return domain.ErrRunnableNotFound
	}
	tags := s.tags(r)
	out, err := fn(*tags)
	if err != nil {
		return err
	}
	*tags = out
	return nil
}

// removeChannel drops the channel's tags from every record and counts the
// records changed.
func (s tagged[T]) removeChannel(channel domain.ID) (int, error) {
	if err := s.faults.take("RemoveTagsOfChannel"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.byID {
		tags := s.tags(r)
		if out, changed := withoutChannel(*tags, channel); changed {
			*tags = out
			n++
		}
	}
	return n, nil
}

// renameChannel renames the channel's tags on every record.
func (s tagged[T]) renameChannel(channel domain.ID, name string) error {
	if err := s.faults.take("RenameTagsOfChannel"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.byID {
		renameChannel(*s.tags(r), channel, name)
	}
	return nil
}

// AddTag appends tag to the image atomically.
func (s *Images) AddTag(ctx context.Context, image domain.ID, tag domain.Tag, max int) error {
	return s.tagged().change("AddTag", image, func(tags []domain.Tag) ([]domain.Tag, error) {
		return addTag(tags, tag, max)
	})
}

// RemoveTag removes one tag of the image.
func (s *Images) RemoveTag(ctx context.Context, image, tag domain.ID) error {
	return s.tagged().change("RemoveTag", image, func(tags []domain.Tag) ([]domain.Tag, error) {
		return removeTag(tags, tag)
	})
}

// RemoveTagsOfChannel removes the channel's tags from every image.
func (s *Images) RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error) {
	return s.tagged().removeChannel(channel)
}

// RenameTagsOfChannel renames the channel's tags on every image.
func (s *Images) RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error {
	return s.tagged().renameChannel(channel, name)
}

// ChannelCounts counts listed images per channel (see ports.ImageTags).
func (s *Images) ChannelCounts(ctx context.Context, with domain.ID, channels []domain.ID) (map[domain.ID]int, error) {
	if err := s.faults.take("ChannelCounts"); err != nil {
		return nil, err
	}
	want := idSet(channels)
	out := map[domain.ID]int{}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, img := range s.byID {
		if img.Version < 1 || (!with.IsZero() && !domain.HasTagOn(img.Tags, with)) {
			continue
		}
		seen := map[domain.ID]bool{}
		for _, t := range img.Tags {
			if seen[t.Channel] || t.Channel == with || (want != nil && !want[t.Channel]) {
				continue
			}
			seen[t.Channel] = true
			out[t.Channel]++
		}
	}
	return out, nil
}

// AddTag appends tag to the draft atomically.
func (s *Drafts) AddTag(ctx context.Context, draft domain.ID, tag domain.Tag, max int) error {
	return s.tagged().change("AddTag", draft, func(tags []domain.Tag) ([]domain.Tag, error) {
		return addTag(tags, tag, max)
	})
}

// RemoveTag removes one tag of the draft.
func (s *Drafts) RemoveTag(ctx context.Context, draft, tag domain.ID) error {
	return s.tagged().change("RemoveTag", draft, func(tags []domain.Tag) ([]domain.Tag, error) {
		return removeTag(tags, tag)
	})
}

// RemoveTagsOfChannel removes the channel's tags from every draft.
func (s *Drafts) RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error) {
	return s.tagged().removeChannel(channel)
}

// RenameTagsOfChannel renames the channel's tags on every draft.
func (s *Drafts) RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error {
	return s.tagged().renameChannel(channel, name)
}
