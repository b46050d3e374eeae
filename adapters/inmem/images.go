package inmem

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Images = (*Images)(nil)

// Images is an in-memory ports.Images. Names are unique
// case-insensitively. Lookups by id and by name are map lookups; listings
// and counts scan every image (adapters/mirror uses it as the in-memory
// index of the embedded store's images).
type Images struct {
	mu     sync.RWMutex
	byID   map[domain.ID]*domain.Image
	byName map[string]domain.ID // lower-cased name -> id
	faults faults
}

// NewImages returns an empty image store.
func NewImages() *Images {
	return &Images{byID: map[domain.ID]*domain.Image{}, byName: map[string]domain.ID{}}
}

// FailNext makes the next call of method (e.g. "Update") return err.
func (s *Images) FailNext(method string, err error) { s.faults.add(method, err) }

func cloneTags(tags []domain.Tag) []domain.Tag {
	if tags == nil {
		return nil
	}
	out := make([]domain.Tag, len(tags))
	copy(out, tags)
	return out
}

func cloneEnv(env map[string]string) map[string]string {
	if env == nil {
		return nil
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

func cloneImage(img *domain.Image) *domain.Image {
	c := *img
	c.Tags = cloneTags(img.Tags)
	c.Env = cloneEnv(img.Env)
	c.Created = ms(c.Created)
	c.Updated = ms(c.Updated)
	return &c
}

func (s *Images) nameTaken(img *domain.Image) bool {
	id, ok := s.byName[strings.ToLower(img.Name)]
	return ok && id != img.ID
}

// put stores a copy of img under its id and name, replacing old (nil for
// a new image).
func (s *Images) put(old, img *domain.Image) {
	if old != nil {
		delete(s.byName, strings.ToLower(old.Name))
	}
	s.byID[img.ID] = cloneImage(img)
	s.byName[strings.ToLower(img.Name)] = img.ID
}

// Create inserts img.
func (s *Images) Create(ctx context.Context, img *domain.Image) error {
	if err := s.faults.take("Create"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[img.ID]; ok {
		return domain.E(domain.ErrConflict, "runnable already exists")
	}
	if s.nameTaken(img) {
		return domain.ErrNameTaken
	}
	s.put(nil, img)
	return nil
}

// Get returns the image.
func (s *Images) Get(ctx context.Context, id domain.ID) (*domain.Image, error) {
	if err := s.faults.take("Get"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	img, ok := s.byID[id]
	if !ok {
		return nil, domain.ErrRunnableNotFound
	}
	return cloneImage(img), nil
}

// Update replaces img.
func (s *Images) Update(ctx context.Context, img *domain.Image) error {
	if err := s.faults.take("Update"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[img.ID]
	if !ok {
		return domain.ErrRunnableNotFound
	}
	if s.nameTaken(img) {
		return domain.ErrNameTaken
	}
	s.put(old, img)
	return nil
}

// Delete removes the image.
func (s *Images) Delete(ctx context.Context, id domain.ID) error {
	if err := s.faults.take("Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.byID[id]
	if !ok {
		return domain.ErrRunnableNotFound
	}
	delete(s.byName, strings.ToLower(img.Name))
	delete(s.byID, id)
	return nil
}

// FindByName matches case-insensitively.
func (s *Images) FindByName(ctx context.Context, name string) (*domain.Image, error) {
	if err := s.faults.take("FindByName"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if id, ok := s.byName[strings.ToLower(name)]; ok {
		return cloneImage(s.byID[id]), nil
	}
	return nil, domain.ErrRunnableNotFound
}

func matchImage(img *domain.Image, q ports.ImageQuery) bool {
	if img.Version < 1 {
		return false
	}
	if q.Published != nil && img.Published() != *q.Published {
		return false
	}
	if q.Channels != nil {
		found := false
		for _, ch := range q.Channels {
			if domain.HasTagOn(img.Tags, ch) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if !q.Owner.IsZero() && img.Owner != q.Owner {
		return false
	}
	if !q.Parent.IsZero() && img.Parent != q.Parent {
		return false
	}
	for _, term := range q.Search {
		if !imageHas(img, strings.ToLower(term)) {
			return false
		}
	}
	return true
}

func imageHas(img *domain.Image, term string) bool {
	if strings.Contains(strings.ToLower(img.Name), term) || strings.Contains(strings.ToLower(img.Description), term) {
		return true
	}
	for _, t := range img.Tags {
		if strings.Contains(strings.ToLower(t.Name), term) {
			return true
		}
	}
	return false
}

// newerFirst orders by created descending, then id descending.
func newerFirst(a, b *domain.Image) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.After(b.Created)
	}
	return lessID(b.ID, a.ID)
}

func imageLess(sortBy string) func(a, b *domain.Image) bool {
	byCount := func(get func(*domain.Image) int) func(a, b *domain.Image) bool {
		return func(a, b *domain.Image) bool {
			if x, y := get(a), get(b); x != y {
				return x > y
			}
			return newerFirst(a, b)
		}
	}
	switch sortBy {
	case "created":
		return func(a, b *domain.Image) bool {
			if !a.Created.Equal(b.Created) {
				return a.Created.Before(b.Created)
			}
			return lessID(a.ID, b.ID)
		}
	case "votes", "-votes":
		return byCount(func(i *domain.Image) int { return i.Votes })
	case "runs", "-runs":
		return byCount(func(i *domain.Image) int { return i.Stats.Runs })
	case "views", "-views":
		return byCount(func(i *domain.Image) int { return i.Stats.Views })
	default:
		return newerFirst
	}
}

// List returns one page and the total matching.
func (s *Images) List(ctx context.Context, q ports.ImageQuery) ([]*domain.Image, int, error) {
	if err := s.faults.take("List"); err != nil {
		return nil, 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var all []*domain.Image
	for _, img := range s.byID {
		if matchImage(img, q) {
			all = append(all, img)
		}
	}
	less := imageLess(q.Sort)
	sort.Slice(all, func(i, j int) bool { return less(all[i], all[j]) })
	start, end := page(len(all), q.Page.Page, q.Limit)
	out := make([]*domain.Image, 0, end-start)
	for _, img := range all[start:end] {
		out = append(out, cloneImage(img))
	}
	return out, len(all), nil
}

// All returns a copy of every image, version-0 ones included, in no
// particular order. It is not part of ports.Images: adapters/mirror loads
// its in-memory copy with it.
func (s *Images) All(ctx context.Context) ([]*domain.Image, error) {
	if err := s.faults.take("All"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*domain.Image, 0, len(s.byID))
	for _, img := range s.byID {
		out = append(out, cloneImage(img))
	}
	return out, nil
}

// CountByOwner counts the owner's listed images and the published ones.
func (s *Images) CountByOwner(ctx context.Context, owner domain.ID) (images, published int, err error) {
	if err := s.faults.take("CountByOwner"); err != nil {
		return 0, 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, img := range s.byID {
		if img.Owner != owner || img.Version < 1 {
			continue
		}
		images++
		if img.Published() {
			published++
		}
	}
	return images, published, nil
}

// Transfer moves every image of from to to.
func (s *Images) Transfer(ctx context.Context, from, to domain.ID) (int, error) {
	if err := s.faults.take("Transfer"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, img := range s.byID {
		if img.Owner == from {
			img.Owner = to
			n++
		}
	}
	return n, nil
}

// AddStat atomically adds n to a counter or to the votes.
func (s *Images) AddStat(ctx context.Context, id domain.ID, stat string, n int) (domain.Stats, int, error) {
	if err := s.faults.take("AddStat"); err != nil {
		return domain.Stats{}, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.byID[id]
	if !ok {
		return domain.Stats{}, 0, domain.ErrRunnableNotFound
	}
	if stat == "votes" {
		img.Votes += n
	} else {
		img.Stats = img.Stats.Add(stat, n)
	}
	return img.Stats, img.Votes, nil
}

// Refs lists the distinct non-empty container image references, sorted.
func (s *Images) Refs(ctx context.Context) ([]string, error) {
	if err := s.faults.take("Refs"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	out := []string{}
	for _, img := range s.byID {
		if img.Ref != "" && !seen[img.Ref] {
			seen[img.Ref] = true
			out = append(out, img.Ref)
		}
	}
	sort.Strings(out)
	return out, nil
}
