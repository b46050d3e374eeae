package inmem

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// aliased is an in-memory store of records whose lower-case aliases are
// unique across the store: what Channels and Categories share.
type aliased[T any] struct {
	mu     sync.RWMutex
	byID   map[domain.ID]*T
	faults faults
	kind   aliasedKind[T]
}

// aliasedKind says how to read one kind of aliased record and which public
// errors the store answers with.
type aliasedKind[T any] struct {
	id      func(*T) domain.ID
	name    func(*T) string
	aliases func(*T) []string
	clone   func(*T) *T
	// notFound: Get, FindByAlias, Update and Delete; taken: Create;
	// aliasTaken: Update.
	notFound, taken, aliasTaken *domain.Error
}

// FailNext makes the next call of method return err.
func (s *aliased[T]) FailNext(method string, err error) { s.faults.add(method, err) }

// aliasTaken reports whether another record than r owns one of r's
// aliases. Called with the lock held.
func (s *aliased[T]) aliasTaken(r *T) bool {
	for id, other := range s.byID {
		if id == s.kind.id(r) {
			continue
		}
		for _, a := range s.kind.aliases(other) {
			for _, b := range s.kind.aliases(r) {
				if a == strings.ToLower(b) {
					return true
				}
			}
		}
	}
	return false
}

// Create inserts r unless its id or one of its aliases is taken.
func (s *aliased[T]) Create(ctx context.Context, r *T) error {
	if err := s.faults.take("Create"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[s.kind.id(r)]; ok || s.aliasTaken(r) {
		return s.kind.taken
	}
	s.byID[s.kind.id(r)] = s.kind.clone(r)
	return nil
}

// Get returns a record by id.
func (s *aliased[T]) Get(ctx context.Context, id domain.ID) (*T, error) {
	if err := s.faults.take("Get"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.byID[id]
	if !ok {
		return nil, s.kind.notFound
	}
	return s.kind.clone(r), nil
}

// FindByAlias returns the record owning alias.
func (s *aliased[T]) FindByAlias(ctx context.Context, alias string) (*T, error) {
	if err := s.faults.take("FindByAlias"); err != nil {
		return nil, err
	}
	alias = strings.ToLower(alias)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.byID {
		for _, a := range s.kind.aliases(r) {
			if a == alias {
				return s.kind.clone(r), nil
			}
		}
	}
	return nil, s.kind.notFound
}

// Update replaces r unless one of its aliases belongs to another record.
func (s *aliased[T]) Update(ctx context.Context, r *T) error {
	if err := s.faults.take("Update"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[s.kind.id(r)]; !ok {
		return s.kind.notFound
	}
	if s.aliasTaken(r) {
		return s.kind.aliasTaken
	}
	s.byID[s.kind.id(r)] = s.kind.clone(r)
	return nil
}

// Delete removes a record.
func (s *aliased[T]) Delete(ctx context.Context, id domain.ID) error {
	if err := s.faults.take("Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		return s.kind.notFound
	}
	delete(s.byID, id)
	return nil
}

// list returns one page of the records keep accepts, by lower-cased name
// then id, and the total.
func (s *aliased[T]) list(keep func(*T) bool, p ports.Page) ([]*T, int, error) {
	if err := s.faults.take("List"); err != nil {
		return nil, 0, err
	}
	s.mu.RLock()
	var all []*T
	for _, r := range s.byID {
		if keep(r) {
			all = append(all, s.kind.clone(r))
		}
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool {
		a, b := strings.ToLower(s.kind.name(all[i])), strings.ToLower(s.kind.name(all[j]))
		if a != b {
			return a < b
		}
		return lessID(s.kind.id(all[i]), s.kind.id(all[j]))
	})
	start, end := page(len(all), p.Page, p.Limit)
	return all[start:end], len(all), nil
}

// idSet is the set of ids; nil when ids is nil (no filter).
func idSet(ids []domain.ID) map[domain.ID]bool {
	if ids == nil {
		return nil
	}
	want := make(map[domain.ID]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	return want
}
