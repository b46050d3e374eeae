package inmem

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Categories = (*Categories)(nil)

// Categories is an in-memory ports.Categories. Aliases are unique across
// categories.
type Categories struct {
	mu     sync.RWMutex
	byID   map[domain.ID]*domain.Category
	faults faults
}

// NewCategories returns an empty category store.
func NewCategories() *Categories { return &Categories{byID: map[domain.ID]*domain.Category{}} }

// FailNext makes the next call of method return err.
func (s *Categories) FailNext(method string, err error) { s.faults.add(method, err) }

func cloneCategory(c *domain.Category) *domain.Category {
	cp := *c
	cp.Aliases = append([]string(nil), c.Aliases...)
	cp.Created = ms(c.Created)
	return &cp
}

func (s *Categories) aliasTaken(c *domain.Category) bool {
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

// Create inserts c unless one of its aliases is taken.
func (s *Categories) Create(ctx context.Context, c *domain.Category) error {
	if err := s.faults.take("Create"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[c.ID]; ok || s.aliasTaken(c) {
		return domain.ErrCategoryTaken
	}
	s.byID[c.ID] = cloneCategory(c)
	return nil
}

// Get returns a category by id.
func (s *Categories) Get(ctx context.Context, id domain.ID) (*domain.Category, error) {
	if err := s.faults.take("Get"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.byID[id]
	if !ok {
		return nil, domain.ErrCategoryNotFound
	}
	return cloneCategory(c), nil
}

// FindByAlias returns the category owning alias.
func (s *Categories) FindByAlias(ctx context.Context, alias string) (*domain.Category, error) {
	if err := s.faults.take("FindByAlias"); err != nil {
		return nil, err
	}
	alias = strings.ToLower(alias)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.byID {
		for _, a := range c.Aliases {
			if a == alias {
				return cloneCategory(c), nil
			}
		}
	}
	return nil, domain.ErrCategoryNotFound
}

// Update replaces c unless one of its aliases belongs to another category.
func (s *Categories) Update(ctx context.Context, c *domain.Category) error {
	if err := s.faults.take("Update"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[c.ID]; !ok {
		return domain.ErrCategoryNotFound
	}
	if s.aliasTaken(c) {
		return domain.ErrCategoryAlias
	}
	s.byID[c.ID] = cloneCategory(c)
	return nil
}

// Delete removes a category.
func (s *Categories) Delete(ctx context.Context, id domain.ID) error {
	if err := s.faults.take("Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		return domain.ErrCategoryNotFound
	}
	delete(s.byID, id)
	return nil
}

// List returns one page of categories by lower-cased name.
func (s *Categories) List(ctx context.Context, ids []domain.ID, p ports.Page) ([]*domain.Category, int, error) {
	if err := s.faults.take("List"); err != nil {
		return nil, 0, err
	}
	var want map[domain.ID]bool
	if ids != nil {
		want = make(map[domain.ID]bool, len(ids))
		for _, id := range ids {
			want[id] = true
		}
	}
	s.mu.RLock()
	var all []*domain.Category
	for _, c := range s.byID {
		if want == nil || want[c.ID] {
			all = append(all, cloneCategory(c))
		}
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool {
		a, b := strings.ToLower(all[i].Name), strings.ToLower(all[j].Name)
		if a != b {
			return a < b
		}
		return lessID(all[i].ID, all[j].ID)
	})
	start, end := page(len(all), p.Page, p.Limit)
	return all[start:end], len(all), nil
}
