package inmem

import (
	"context"
	"sort"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Comments = (*Comments)(nil)

// Comments is an in-memory ports.Comments.
type Comments struct {
	mu     sync.RWMutex
	byID   map[domain.ID]*domain.Comment
	faults faults
}

// NewComments returns an empty comment store.
func NewComments() *Comments { return &Comments{byID: map[domain.ID]*domain.Comment{}} }

// FailNext makes the next call of method return err.
func (s *Comments) FailNext(method string, err error) { s.faults.add(method, err) }

func cloneComment(c *domain.Comment) *domain.Comment {
	cp := *c
	cp.Created = ms(c.Created)
	return &cp
}

// Create inserts c.
func (s *Comments) Create(ctx context.Context, c *domain.Comment) error {
	if err := s.faults.take("Create"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[c.ID]; ok {
		return domain.E(domain.ErrConflict, "comment already exists")
	}
	s.byID[c.ID] = cloneComment(c)
	return nil
}

// Get returns a comment by id.
func (s *Comments) Get(ctx context.Context, id domain.ID) (*domain.Comment, error) {
	if err := s.faults.take("Get"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.byID[id]
	if !ok {
		return nil, domain.ErrCommentNotFound
	}
	return cloneComment(c), nil
}

// Delete removes a comment.
func (s *Comments) Delete(ctx context.Context, id domain.ID) error {
	if err := s.faults.take("Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		return domain.ErrCommentNotFound
	}
	delete(s.byID, id)
	return nil
}

// List returns one page of the image's comments, oldest first.
func (s *Comments) List(ctx context.Context, q ports.CommentQuery) ([]*domain.Comment, int, error) {
	if err := s.faults.take("List"); err != nil {
		return nil, 0, err
	}
	skip := make(map[domain.ID]bool, len(q.ExcludeAuthors))
	for _, id := range q.ExcludeAuthors {
		skip[id] = true
	}
	s.mu.RLock()
	var all []*domain.Comment
	for _, c := range s.byID {
		if c.Image == q.Image && !skip[c.Author] {
			all = append(all, cloneComment(c))
		}
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return lessID(a.ID, b.ID)
	})
	start, end := page(len(all), q.Page.Page, q.Limit)
	return all[start:end], len(all), nil
}

// Authors lists the distinct authors of the image's comments, sorted.
func (s *Comments) Authors(ctx context.Context, image domain.ID) ([]domain.ID, error) {
	if err := s.faults.take("Authors"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[domain.ID]bool{}
	out := []domain.ID{}
	for _, c := range s.byID {
		if c.Image == image && !seen[c.Author] {
			seen[c.Author] = true
			out = append(out, c.Author)
		}
	}
	sort.Slice(out, func(i, j int) bool { return lessID(out[i], out[j]) })
	return out, nil
}

// DeleteByImage removes the image's comments.
func (s *Comments) DeleteByImage(ctx context.Context, image domain.ID) (int, error) {
	if err := s.faults.take("DeleteByImage"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, c := range s.byID {
		if c.Image == image {
			delete(s.byID, id)
			n++
		}
	}
	return n, nil
}
