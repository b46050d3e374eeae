package inmem

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Drafts = (*Drafts)(nil)

// Drafts is an in-memory ports.Drafts.
type Drafts struct {
	mu     sync.RWMutex
	byID   map[domain.ID]*domain.Draft
	faults faults
}

// NewDrafts returns an empty draft store.
func NewDrafts() *Drafts {
	return &Drafts{byID: map[domain.ID]*domain.Draft{}}
}

// FailNext makes the next call of method (e.g. "Expired") return err.
func (s *Drafts) FailNext(method string, err error) { s.faults.add(method, err) }

func cloneDraft(d *domain.Draft) *domain.Draft {
	c := *d
	c.Tags = cloneTags(d.Tags)
	c.Env = cloneEnv(d.Env)
	c.StartedAt = msPtr(d.StartedAt)
	c.StoppedAt = msPtr(d.StoppedAt)
	if d.ExitCode != nil {
		v := *d.ExitCode
		c.ExitCode = &v
	}
	c.LastAccess = ms(d.LastAccess)
	c.Created = ms(d.Created)
	c.Save.StartedAt = msPtr(d.Save.StartedAt)
	c.Save.FinishedAt = msPtr(d.Save.FinishedAt)
	return &c
}

// newestFirst orders drafts by created descending, then id descending.
func newestFirst(ds []*domain.Draft) {
	sort.Slice(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return lessID(b.ID, a.ID)
	})
}

// Create inserts d.
func (s *Drafts) Create(ctx context.Context, d *domain.Draft) error {
	if err := s.faults.take("Create"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[d.ID]; ok {
		return domain.E(domain.ErrConflict, "runnable already exists")
	}
	s.byID[d.ID] = cloneDraft(d)
	return nil
}

// Get returns the draft.
func (s *Drafts) Get(ctx context.Context, id domain.ID) (*domain.Draft, error) {
	if err := s.faults.take("Get"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.byID[id]
	if !ok {
		return nil, domain.ErrRunnableNotFound
	}
	return cloneDraft(d), nil
}

// Update replaces d.
func (s *Drafts) Update(ctx context.Context, d *domain.Draft) error {
	if err := s.faults.take("Update"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[d.ID]; !ok {
		return domain.ErrRunnableNotFound
	}
	s.byID[d.ID] = cloneDraft(d)
	return nil
}

// Delete removes the draft.
func (s *Drafts) Delete(ctx context.Context, id domain.ID) error {
	if err := s.faults.take("Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		return domain.ErrRunnableNotFound
	}
	delete(s.byID, id)
	return nil
}

// select copies the drafts match accepts.
func (s *Drafts) selectDrafts(match func(*domain.Draft) bool) []*domain.Draft {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*domain.Draft{}
	for _, d := range s.byID {
		if match(d) {
			out = append(out, cloneDraft(d))
		}
	}
	return out
}

// List returns one page, newest first, and the total.
func (s *Drafts) List(ctx context.Context, q ports.DraftQuery) ([]*domain.Draft, int, error) {
	if err := s.faults.take("List"); err != nil {
		return nil, 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := []*domain.Draft{}
	for _, d := range s.byID {
		if (q.Owner.IsZero() || d.Owner == q.Owner) &&
			(q.Parent.IsZero() || d.Parent == q.Parent) &&
			(q.Saved == nil || d.Saved() == *q.Saved) {
			all = append(all, d)
		}
	}
	newestFirst(all)
	start, end := page(len(all), q.Page.Page, q.Limit)
	out := make([]*domain.Draft, 0, end-start)
	for _, d := range all[start:end] {
		out = append(out, cloneDraft(d))
	}
	return out, len(all), nil
}

// All returns a copy of every draft in no particular order. It is not part
// of ports.Drafts: adapters/mirror loads its in-memory copy with it.
func (s *Drafts) All(ctx context.Context) ([]*domain.Draft, error) {
	if err := s.faults.take("All"); err != nil {
		return nil, err
	}
	return s.selectDrafts(func(*domain.Draft) bool { return true }), nil
}

// CountByOwner counts the owner's drafts.
func (s *Drafts) CountByOwner(ctx context.Context, owner domain.ID) (int, error) {
	if err := s.faults.take("CountByOwner"); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, d := range s.byID {
		if d.Owner == owner {
			n++
		}
	}
	return n, nil
}

// Transfer moves every draft of from to to.
func (s *Drafts) Transfer(ctx context.Context, from, to domain.ID) (int, error) {
	if err := s.faults.take("Transfer"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.byID {
		if d.Owner == from {
			d.Owner = to
			n++
		}
	}
	return n, nil
}

// Expired lists at most limit (all when limit <= 0) unsaved, not saving
// drafts last accessed before before, oldest first.
func (s *Drafts) Expired(ctx context.Context, before time.Time, limit int) ([]*domain.Draft, error) {
	if err := s.faults.take("Expired"); err != nil {
		return nil, err
	}
	out := s.selectDrafts(func(d *domain.Draft) bool {
		return !d.Saved() && !d.Saving() && d.LastAccess.Before(before)
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.LastAccess.Equal(b.LastAccess) {
			return a.LastAccess.Before(b.LastAccess)
		}
		return lessID(a.ID, b.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ByOwners lists drafts owned by any of owners, newest first.
func (s *Drafts) ByOwners(ctx context.Context, owners []domain.ID) ([]*domain.Draft, error) {
	if err := s.faults.take("ByOwners"); err != nil {
		return nil, err
	}
	set := make(map[domain.ID]bool, len(owners))
	for _, o := range owners {
		set[o] = true
	}
	out := s.selectDrafts(func(d *domain.Draft) bool { return set[d.Owner] })
	newestFirst(out)
	return out, nil
}

// WithContainer lists drafts that have a container, newest first.
func (s *Drafts) WithContainer(ctx context.Context) ([]*domain.Draft, error) {
	if err := s.faults.take("WithContainer"); err != nil {
		return nil, err
	}
	out := s.selectDrafts(func(d *domain.Draft) bool { return d.ContainerID != "" })
	newestFirst(out)
	return out, nil
}

// Saving lists drafts whose save status is "saving", newest first.
func (s *Drafts) Saving(ctx context.Context) ([]*domain.Draft, error) {
	if err := s.faults.take("Saving"); err != nil {
		return nil, err
	}
	out := s.selectDrafts(func(d *domain.Draft) bool { return d.Save.Status == domain.SaveSaving })
	newestFirst(out)
	return out, nil
}

// ClearTarget sets target to none on drafts targeting image.
func (s *Drafts) ClearTarget(ctx context.Context, image domain.ID) error {
	if err := s.faults.take("ClearTarget"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.byID {
		if d.Target == image {
			d.Target = domain.NilID
		}
	}
	return nil
}

// BaseRefs lists the distinct non-empty BaseRefs of drafts without a
// container, sorted.
func (s *Drafts) BaseRefs(ctx context.Context) ([]string, error) {
	if err := s.faults.take("BaseRefs"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	out := []string{}
	for _, d := range s.byID {
		if d.ContainerID == "" && d.BaseRef != "" && !seen[d.BaseRef] {
			seen[d.BaseRef] = true
			out = append(out, d.BaseRef)
		}
	}
	sort.Strings(out)
	return out, nil
}
