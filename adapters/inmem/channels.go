package inmem

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Channels is an in-memory ports.Channels.
type Channels struct {
	mu     sync.RWMutex
	byID   map[domain.ID]*domain.Channel
	faults faults
}

// NewChannels returns an empty channel store.
func NewChannels() *Channels { return &Channels{byID: map[domain.ID]*domain.Channel{}} }

// FailNext makes the next call of method return err.
func (s *Channels) FailNext(method string, err error) { s.faults.add(method, err) }

var _ ports.Channels = (*Channels)(nil)

func cloneChannel(c *domain.Channel) *domain.Channel {
	cp := *c
	cp.Aliases = append([]string(nil), c.Aliases...)
	cp.Tags = append([]domain.CategoryTag(nil), c.Tags...)
	return &cp
}

// Create inserts c unless one of its aliases is taken.
func (s *Channels) Create(ctx context.Context, c *domain.Channel) error {
	if err := s.faults.take("Create"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, other := range s.byID {
		for _, a := range other.Aliases {
			for _, b := range c.Aliases {
				if a == strings.ToLower(b) {
					return domain.E(domain.ErrConflict, "channel with name already exists")
				}
			}
		}
	}
	s.byID[c.ID] = cloneChannel(c)
	return nil
}

// Get returns a channel by id.
func (s *Channels) Get(ctx context.Context, id domain.ID) (*domain.Channel, error) {
	if err := s.faults.take("Get"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.byID[id]
	if !ok {
		return nil, domain.E(domain.ErrNotFound, "channel not found")
	}
	return cloneChannel(c), nil
}

// FindByAlias returns the channel owning alias.
func (s *Channels) FindByAlias(ctx context.Context, alias string) (*domain.Channel, error) {
	if err := s.faults.take("FindByAlias"); err != nil {
		return nil, err
	}
	alias = strings.ToLower(alias)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.byID {
		for _, a := range c.Aliases {
			if a == alias {
				return cloneChannel(c), nil
			}
		}
	}
	return nil, domain.E(domain.ErrNotFound, "channel not found")
}

// aliasTaken reports whether another channel than c owns one of c's
// aliases. Called with the lock held.
func (s *Channels) aliasTaken(c *domain.Channel) bool {
	for id, other := range s.byID {
		if id == c.ID {
			continue
		}
		for _, a := range other.Aliases {
			for _, b := range c.Aliases {
				if a == strings.ToLower(b) {
					return true
				}
			}
		}
	}
	return false
}

// List returns one page of the matching channels by lower-cased name.
func (s *Channels) List(ctx context.Context, q ports.ChannelQuery) ([]*domain.Channel, int, error) {
	if err := s.faults.take("List"); err != nil {
		return nil, 0, err
	}
	var want map[domain.ID]bool
	if q.IDs != nil {
		want = make(map[domain.ID]bool, len(q.IDs))
		for _, id := range q.IDs {
			want[id] = true
		}
	}
	s.mu.RLock()
	var all []*domain.Channel
	for _, c := range s.byID {
		if want != nil && !want[c.ID] {
			continue
		}
		if !q.Category.IsZero() && !hasCategory(c, q.Category) {
			continue
		}
		all = append(all, cloneChannel(c))
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool {
		a, b := strings.ToLower(all[i].Name), strings.ToLower(all[j].Name)
		if a != b {
			return a < b
		}
		return lessID(all[i].ID, all[j].ID)
	})
	start, end := page(len(all), q.Page.Page, q.Limit)
	return all[start:end], len(all), nil
}

func hasCategory(c *domain.Channel, category domain.ID) bool {
	for _, t := range c.Tags {
		if t.Category == category {
			return true
		}
	}
	return false
}

// Update replaces c unless one of its aliases belongs to another channel.
func (s *Channels) Update(ctx context.Context, c *domain.Channel) error {
	if err := s.faults.take("Update"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[c.ID]; !ok {
		return domain.ErrChannelNotFound
	}
	if s.aliasTaken(c) {
		return domain.ErrChannelAlias
	}
	s.byID[c.ID] = cloneChannel(c)
	return nil
}

// Delete removes a channel.
func (s *Channels) Delete(ctx context.Context, id domain.ID) error {
	if err := s.faults.take("Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		return domain.ErrChannelNotFound
	}
	delete(s.byID, id)
	return nil
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
