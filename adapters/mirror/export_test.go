package mirror

import (
	"context"

	"github.com/runnable/runnable/domain"
)

// All returns a copy of every image the mirror holds (tests compare it with
// the backing store's).
func (m *Images) All(ctx context.Context) ([]*domain.Image, error) { return m.c.index().All(ctx) }

// All returns a copy of every draft the mirror holds.
func (m *Drafts) All(ctx context.Context) ([]*domain.Draft, error) { return m.c.index().All(ctx) }

// All returns a copy of every user the mirror holds.
func (m *Users) All(ctx context.Context) ([]*domain.User, error) { return m.c.index().All(ctx) }
