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
	mu      sync.RWMutex
	byID    map[domain.ID]*domain.User
	byEmail map[string]domain.ID // lower-cased email -> id
	byName  map[string]domain.ID // lower-cased username -> id
	faults  faults
}

// NewUsers returns an empty user store.
func NewUsers() *Users {
	return &Users{byID: map[domain.ID]*domain.User{}, byEmail: map[string]domain.ID{}, byName: map[string]domain.ID{}}
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
	if email := strings.ToLower(u.Email); email != "" {
		if id, ok := s.byEmail[email]; ok && id != u.ID {
			return domain.E(domain.ErrConflict, "user with email already exists")
		}
	}
	if name := strings.ToLower(u.Username); name != "" {
		if id, ok := s.byName[name]; ok && id != u.ID {
			return domain.E(domain.ErrConflict, "user with username already exists")
		}
	}
	return nil
}

// put stores u, replacing the index entries of the user it replaces.
func (s *Users) put(u *domain.User) {
	if old, ok := s.byID[u.ID]; ok {
		s.unindex(old)
	}
	c := cloneUser(u)
	s.byID[u.ID] = c
	if e := strings.ToLower(c.Email); e != "" {
		s.byEmail[e] = c.ID
	}
	if n := strings.ToLower(c.Username); n != "" {
		s.byName[n] = c.ID
	}
}

func (s *Users) unindex(u *domain.User) {
	if e := strings.ToLower(u.Email); e != "" && s.byEmail[e] == u.ID {
		delete(s.byEmail, e)
	}
	if n := strings.ToLower(u.Username); n != "" && s.byName[n] == u.ID {
		delete(s.byName, n)
	}
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
	s.put(u)
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
	s.put(u)
	return nil
}

// Delete removes the user (not part of ports.Users, whose users are only
// ever marked deleted: the mirror drops a user its backing store no longer
// has). ErrNotFound.
func (s *Users) Delete(ctx context.Context, id domain.ID) error {
	if err := s.faults.take("Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return domain.ErrUserNotFound
	}
	s.unindex(u)
	delete(s.byID, id)
	return nil
}

// All returns a copy of every user, deleted ones included (not part of
// ports.Users).
func (s *Users) All(ctx context.Context) ([]*domain.User, error) {
	if err := s.faults.take("All"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*domain.User, 0, len(s.byID))
	for _, u := range s.byID {
		out = append(out, cloneUser(u))
	}
	return out, nil
}

// find returns the user idx maps key to.
func (s *Users) find(idx map[string]domain.ID, key string) (*domain.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u, ok := s.byID[idx[key]]; ok && key != "" {
		return cloneUser(u), nil
	}
	return nil, domain.ErrUserNotFound
}

// FindByEmail matches case-insensitively, deleted users included.
func (s *Users) FindByEmail(ctx context.Context, email string) (*domain.User, error) {
	if err := s.faults.take("FindByEmail"); err != nil {
		return nil, err
	}
	return s.find(s.byEmail, strings.ToLower(email))
}

// FindByUsername matches case-insensitively, deleted users included.
func (s *Users) FindByUsername(ctx context.Context, username string) (*domain.User, error) {
	if err := s.faults.take("FindByUsername"); err != nil {
		return nil, err
	}
	return s.find(s.byName, strings.ToLower(username))
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
	add := func(u *domain.User) {
		if u.Deleted || (want != nil && !want[u.ID]) || (name != "" && strings.ToLower(u.Username) != name) {
			return
		}
		all = append(all, cloneUser(u))
	}
	switch {
	case name != "": // at most one user has the name
		if u, ok := s.byID[s.byName[name]]; ok {
			add(u)
		}
	case want != nil && len(want) < len(s.byID):
		for id := range want {
			if u, ok := s.byID[id]; ok {
				add(u)
			}
		}
	default:
		for _, u := range s.byID {
			add(u)
		}
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
