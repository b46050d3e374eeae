package inmem

import (
	"context"
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
