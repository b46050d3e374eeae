package inmem

import (
	"context"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Channels is an in-memory ports.Channels. Aliases are unique across
// channels.
type Channels struct {
	aliased[domain.Channel]
}

// NewChannels returns an empty channel store.
func NewChannels() *Channels {
	return &Channels{aliased[domain.Channel]{byID: map[domain.ID]*domain.Channel{}, kind: aliasedKind[domain.Channel]{
		id:       func(c *domain.Channel) domain.ID { return c.ID },
		name:     func(c *domain.Channel) string { return c.Name },
		aliases:  func(c *domain.Channel) []string { return c.Aliases },
		clone:    cloneChannel,
		notFound: domain.ErrChannelNotFound, taken: domain.ErrChannelNameTaken, aliasTaken: domain.ErrChannelAlias,
	}}}
}

var _ ports.Channels = (*Channels)(nil)

func cloneChannel(c *domain.Channel) *domain.Channel {
	cp := *c
	cp.Aliases = append([]string(nil), c.Aliases...)
	cp.Tags = append([]domain.CategoryTag(nil), c.Tags...)
	return &cp
}

// List returns one page of the matching channels by lower-cased name.
func (s *Channels) List(ctx context.Context, q ports.ChannelQuery) ([]*domain.Channel, int, error) {
	want := idSet(q.IDs)
	return s.list(func(c *domain.Channel) bool {
		return (want == nil || want[c.ID]) && (q.Category.IsZero() || hasCategory(c, q.Category))
	}, q.Page)
}

func hasCategory(c *domain.Channel, category domain.ID) bool {
	for _, t := range c.Tags {
		if t.Category == category {
			return true
		}
	}
	return false
}

// CountByCategory counts channels per category tag.
func (s *Channels) CountByCategory(ctx context.Context, categories []domain.ID) (map[domain.ID]int, error) {
	if err := s.faults.take("CountByCategory"); err != nil {
		return nil, err
	}
	want := make(map[domain.ID]bool, len(categories))
	for _, id := range categories {
		want[id] = true
	}
	out := map[domain.ID]int{}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.byID {
		for _, t := range c.Tags {
			if want[t.Category] {
				out[t.Category]++
			}
		}
	}
	return out, nil
}

// RemoveCategoryTags drops category tags on category from every channel.
func (s *Channels) RemoveCategoryTags(ctx context.Context, category domain.ID) error {
	if err := s.faults.take("RemoveCategoryTags"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.byID {
		kept := c.Tags[:0:0]
		for _, t := range c.Tags {
			if t.Category != category {
				kept = append(kept, t)
			}
		}
		c.Tags = kept
	}
	return nil
}

// RenameCategoryTags renames category tags on category.
func (s *Channels) RenameCategoryTags(ctx context.Context, category domain.ID, name string) error {
	if err := s.faults.take("RenameCategoryTags"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.byID {
		for i := range c.Tags {
			if c.Tags[i].Category == category {
				c.Tags[i].Name = name
			}
		}
	}
	return nil
}
