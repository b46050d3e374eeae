package inmem

import (
	"context"
	"sort"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Votes = (*Votes)(nil)

// Votes is an in-memory ports.Votes, unique per (user, image) like the
// store's unique index.
type Votes struct {
	mu     sync.RWMutex
	byID   map[domain.ID]*domain.Vote
	byPair map[[2]domain.ID]domain.ID
	faults faults
}

// NewVotes returns an empty vote store.
func NewVotes() *Votes {
	return &Votes{byID: map[domain.ID]*domain.Vote{}, byPair: map[[2]domain.ID]domain.ID{}}
}

// FailNext makes the next call of method return err.
func (s *Votes) FailNext(method string, err error) { s.faults.add(method, err) }

func cloneVote(v *domain.Vote) *domain.Vote {
	cp := *v
	cp.Created = ms(v.Created)
	return &cp
}

// Create inserts v unless the user already voted for the image.
func (s *Votes) Create(ctx context.Context, v *domain.Vote) error {
	if err := s.faults.take("Create"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pair := [2]domain.ID{v.User, v.Image}
	if _, ok := s.byPair[pair]; ok {
		return domain.ErrVotedTwice
	}
	if _, ok := s.byID[v.ID]; ok {
		return domain.E(domain.ErrConflict, "vote already exists")
	}
	s.byID[v.ID] = cloneVote(v)
	s.byPair[pair] = v.ID
	return nil
}

// Get returns a vote by id.
func (s *Votes) Get(ctx context.Context, id domain.ID) (*domain.Vote, error) {
	if err := s.faults.take("Get"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.byID[id]
	if !ok {
		return nil, domain.ErrVoteNotFound
	}
	return cloneVote(v), nil
}

// Find returns user's vote for image.
func (s *Votes) Find(ctx context.Context, user, image domain.ID) (*domain.Vote, error) {
	if err := s.faults.take("Find"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byPair[[2]domain.ID{user, image}]
	if !ok {
		return nil, domain.ErrVoteNotFound
	}
	return cloneVote(s.byID[id]), nil
}

// Delete removes a vote.
func (s *Votes) Delete(ctx context.Context, id domain.ID) error {
	if err := s.faults.take("Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.byID[id]
	if !ok {
		return domain.ErrVoteNotFound
	}
	delete(s.byID, id)
	delete(s.byPair, [2]domain.ID{v.User, v.Image})
	return nil
}

// ListByUser returns one page of the user's votes, newest first.
func (s *Votes) ListByUser(ctx context.Context, user domain.ID, p ports.Page) ([]*domain.Vote, int, error) {
	if err := s.faults.take("ListByUser"); err != nil {
		return nil, 0, err
	}
	s.mu.RLock()
	var all []*domain.Vote
	for _, v := range s.byID {
		if v.User == user {
			all = append(all, cloneVote(v))
		}
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return lessID(b.ID, a.ID)
	})
	start, end := page(len(all), p.Page, p.Limit)
	return all[start:end], len(all), nil
}

// CountByImage counts the image's votes.
func (s *Votes) CountByImage(ctx context.Context, image domain.ID) (int, error) {
	if err := s.faults.take("CountByImage"); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, v := range s.byID {
		if v.Image == image {
			n++
		}
	}
	return n, nil
}

// DeleteByImage removes the image's votes.
func (s *Votes) DeleteByImage(ctx context.Context, image domain.ID) (int, error) {
	if err := s.faults.take("DeleteByImage"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, v := range s.byID {
		if v.Image == image {
			delete(s.byID, id)
			delete(s.byPair, [2]domain.ID{v.User, v.Image})
			n++
		}
	}
	return n, nil
}
