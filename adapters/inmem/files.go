package inmem

import (
	"context"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Files = (*Files)(nil)

// Files is an in-memory ports.Files: one index per runnable, entries
// unique per (runnable, id) and per (runnable, full path).
type Files struct {
	mu     sync.RWMutex
	byRun  map[domain.ID]map[domain.ID]*domain.File
	faults faults
}

// NewFiles returns an empty file store.
func NewFiles() *Files {
	return &Files{byRun: map[domain.ID]map[domain.ID]*domain.File{}}
}

// FailNext makes the next call of method (e.g. "Replace") return err.
func (s *Files) FailNext(method string, err error) { s.faults.add(method, err) }

func cloneFile(f *domain.File) domain.File {
	c := *f
	c.Modified = ms(f.Modified)
	if f.Content != nil {
		c.Content = append([]byte(nil), f.Content...)
	}
	return c
}

// apply puts files into ix one by one, as ordered upserts would, and fails
// with ErrConflict when an entry's full path belongs to another id.
func apply(ix map[domain.ID]*domain.File, files []domain.File) error {
	byPath := make(map[string]domain.ID, len(ix))
	for id, e := range ix {
		byPath[e.FullPath()] = id
	}
	for i := range files {
		f := cloneFile(&files[i])
		full := f.FullPath()
		if id, ok := byPath[full]; ok && id != f.ID {
			return domain.Ef(domain.ErrConflict, "file %s already exists", full)
		}
		if old, ok := ix[f.ID]; ok {
			delete(byPath, old.FullPath())
		}
		byPath[full] = f.ID
		ix[f.ID] = &f
	}
	return nil
}

// List returns the runnable's entries sorted by path then name.
func (s *Files) List(ctx context.Context, runnable domain.ID) ([]domain.File, error) {
	if err := s.faults.take("List"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	out := make([]domain.File, 0, len(s.byRun[runnable]))
	for _, f := range s.byRun[runnable] {
		out = append(out, cloneFile(f))
	}
	s.mu.RUnlock()
	domain.SortFiles(out)
	return out, nil
}

// Get returns one entry.
func (s *Files) Get(ctx context.Context, runnable, id domain.ID) (*domain.File, error) {
	if err := s.faults.take("Get"); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f, ok := s.byRun[runnable][id]
	if !ok {
		return nil, domain.ErrFileNotFound
	}
	c := cloneFile(f)
	return &c, nil
}

// Put inserts or replaces entries by (runnable, id). On a conflict nothing
// is written.
func (s *Files) Put(ctx context.Context, files ...domain.File) error {
	if err := s.faults.take("Put"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := map[domain.ID]map[domain.ID]*domain.File{}
	for _, f := range files {
		if _, ok := next[f.Runnable]; ok {
			continue
		}
		ix := make(map[domain.ID]*domain.File, len(s.byRun[f.Runnable]))
		for id, e := range s.byRun[f.Runnable] {
			ix[id] = e
		}
		next[f.Runnable] = ix
	}
	for r, ix := range next {
		var mine []domain.File
		for _, f := range files {
			if f.Runnable == r {
				mine = append(mine, f)
			}
		}
		if err := apply(ix, mine); err != nil {
			return err
		}
	}
	for r, ix := range next {
		s.byRun[r] = ix
	}
	return nil
}

// Delete removes entries by id; unknown ids are ignored.
func (s *Files) Delete(ctx context.Context, runnable domain.ID, ids ...domain.ID) error {
	if err := s.faults.take("Delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.byRun[runnable]
	for _, id := range ids {
		delete(ix, id)
	}
	if len(ix) == 0 {
		delete(s.byRun, runnable)
	}
	return nil
}

// Replace swaps the runnable's whole index for files, stored under
// runnable. On a conflict the old index stays.
func (s *Files) Replace(ctx context.Context, runnable domain.ID, files []domain.File) error {
	if err := s.faults.take("Replace"); err != nil {
		return err
	}
	mine := make([]domain.File, len(files))
	for i, f := range files {
		f.Runnable = runnable
		mine[i] = f
	}
	ix := make(map[domain.ID]*domain.File, len(files))
	if err := apply(ix, mine); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(ix) == 0 {
		delete(s.byRun, runnable)
	} else {
		s.byRun[runnable] = ix
	}
	return nil
}

// DeleteAll removes the runnable's index.
func (s *Files) DeleteAll(ctx context.Context, runnable domain.ID) error {
	if err := s.faults.take("DeleteAll"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byRun, runnable)
	return nil
}
