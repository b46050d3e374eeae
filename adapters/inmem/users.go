package inmem

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Users = (*Users)(nil)

// Users is an in-memory ports.Users. Email and username are unique
// case-insensitively among users that have them, as the store's unique
// indexes make them.
type Users struct {
	mu     sync.RWMutex
	byID   map[domain.ID]*domain.User
	faults faults
}

// NewUsers returns an empty user store.
func NewUsers() *Users {
	return &Users{byID: map[domain.ID]*domain.User{}}
}

// FailNext makes the next call of method (e.g. "Create") return err.
func (s *Users) FailNext(method string, err error) { s.faults.add(method, err) }

func cloneUser(u *domain.User) *domain.User {
	c := *u
	c.Created = ms(c.Created)
	return &c
}

// conflict checks u's email and username against every other user.
func (s *Users) conflict(u *domain.User) error {
	email, name := strings.ToLower(u.Email), strings.ToLower(u.Username)
	for id, o := range s.byID {
		if id == u.ID {
			continue
		}
		if email != "" && strings.ToLower(o.Email) == email {
			return domain.E(domain.ErrConflict, "user with email already exists")
		}
	}
	for id, o := range s.byID {
		if id == u.ID {
			continue
		}
		if name != "" && strings.ToLower(o.Username) == name {
			return domain.E(domain.ErrConflict, "user with username already exists")
		}
	}
	return nil
}

// Create inserts u.
func (s *Users) Create(ctx context.Context, u *domain.User) error {
	if err := s.faults.take("Create"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[u.ID]; ok {
		return domain.E(domain.ErrConflict, "user already exists")
	}
	if err := s.conflict(u); err != nil {
		return err
	}
	s.byID[u.ID] = cloneUser(u)
	return nil
}

// Get returns the user, deleted ones included.
func (s *Users) Get(ctx context.Context, id domain.ID) (*domain.User, error) {
	if err := s.faults.take("Get"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.byID[id]
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	return cloneUser(u), nil
}

// Update replaces u.
func (s *Users) Update(ctx context.Context, u *domain.User) error {
	if err := s.faults.take("Update"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[u.ID]; !ok {
		return domain.ErrUserNotFound
	}
	if err := s.conflict(u); err != nil {
		return err
	}
	s.byID[u.ID] = cloneUser(u)
	return nil
}

func (s *Users) find(match func(*domain.User) bool) (*domain.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.byID {
		if match(u) {
			return cloneUser(u), nil
		}
	}
	return nil, domain.ErrUserNotFound
}

// FindByEmail matches case-insensitively, deleted users included.
func (s *Users) FindByEmail(ctx context.Context, email string) (*domain.User, error) {
	if err := s.faults.take("FindByEmail"); err != nil {
		return nil, err
	}
	e := strings.ToLower(email)
	if e == "" {
		return nil, domain.ErrUserNotFound
	}
	return s.find(func(u *domain.User) bool { return strings.ToLower(u.Email) == e })
}

// FindByUsername matches case-insensitively, deleted users included.
func (s *Users) FindByUsername(ctx context.Context, username string) (*domain.User, error) {
	if err := s.faults.take("FindByUsername"); err != nil {
		return nil, err
	}
	n := strings.ToLower(username)
	if n == "" {
		return nil, domain.ErrUserNotFound
	}
	return s.find(func(u *domain.User) bool { return strings.ToLower(u.Username) == n })
}

// List returns non-deleted users filtered by ids and username, ordered by
// creation, and the total before paging.
func (s *Users) List(ctx context.Context, ids []domain.ID, username string, p ports.Page) ([]*domain.User, int, error) {
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
	name := strings.ToLower(username)
	s.mu.RLock()
	var all []*domain.User
	for _, u := range s.byID {
		if u.Deleted || (want != nil && !want[u.ID]) || (name != "" && strings.ToLower(u.Username) != name) {
			continue
		}
		all = append(all, cloneUser(u))
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool {
		if !all[i].Created.Equal(all[j].Created) {
			return all[i].Created.Before(all[j].Created)
		}
		return lessID(all[i].ID, all[j].ID)
	})
	start, end := page(len(all), p.Page, p.Limit)
	return all[start:end], len(all), nil
}

// AddStat atomically adds n to the named counter.
func (s *Users) AddStat(ctx context.Context, id domain.ID, stat string, n int) (domain.Stats, error) {
	if err := s.faults.take("AddStat"); err != nil {
		return domain.Stats{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return domain.Stats{}, domain.ErrUserNotFound
	}
	u.Stats = u.Stats.Add(stat, n)
	return u.Stats, nil
}

// lessID orders ids as MongoDB orders ObjectIds: bytewise.
func lessID(a, b domain.ID) bool {
	return strings.Compare(string(a[:]), string(b[:])) < 0
}
