package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Users = (*Users)(nil)

// Users is a ports.Users whose reads are answered by an in-memory copy of
// a backing user store and whose writes go through to it (see the package
// documentation). Valid only while this process is the backing store's
// only writer.
type Users struct {
	backing ports.Users
	c       core[domain.User, *inmem.Users]
}

// NewUsers loads every user through load (deleted ones included, e.g.
// mongostore's (*Users).All) into memory and returns the mirror of
// backing. log receives the load and any repair of the copy; nil discards.
func NewUsers(ctx context.Context, backing ports.Users,
	load func(context.Context) ([]*domain.User, error), log *slog.Logger) (*Users, error) {
	if backing == nil || load == nil {
		return nil, errors.New("mirror: NewUsers needs a backing store and a loader")
	}
	m := &Users{backing: backing}
	m.c = core[domain.User, *inmem.Users]{
		what: "users", log: log, fresh: inmem.NewUsers, load: load, get: backing.Get,
		id: func(u *domain.User) domain.ID { return u.ID },
	}
	if err := m.c.init(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Create inserts u. ErrConflict naming the email or the username when
// taken: the backing store decides, and the copy follows it.
func (m *Users) Create(ctx context.Context, u *domain.User) error {
	return m.c.create(ctx, u, m.backing.Create)
}

// Get returns the user, deleted ones included. ErrNotFound.
func (m *Users) Get(ctx context.Context, id domain.ID) (*domain.User, error) {
	return m.c.index().Get(ctx, id)
}

// Update replaces u. ErrNotFound; ErrConflict as Create.
func (m *Users) Update(ctx context.Context, u *domain.User) error {
	return m.c.update(ctx, u, m.backing.Update)
}

// FindByEmail matches case-insensitively, deleted users included.
// ErrNotFound.
func (m *Users) FindByEmail(ctx context.Context, email string) (*domain.User, error) {
	return m.c.index().FindByEmail(ctx, email)
}

// FindByUsername matches case-insensitively, deleted users included.
// ErrNotFound.
func (m *Users) FindByUsername(ctx context.Context, username string) (*domain.User, error) {
	return m.c.index().FindByUsername(ctx, username)
}

// List returns non-deleted users filtered by ids and username, ordered by
// creation, and the total before paging.
func (m *Users) List(ctx context.Context, ids []domain.ID, username string, p ports.Page) ([]*domain.User, int, error) {
	return m.c.index().List(ctx, ids, username, p)
}

// AddStat atomically adds n to the named counter and returns the new
// counters. ErrNotFound. The copy adds n too and is re-read if its counters
// then differ from the backing store's.
func (m *Users) AddStat(ctx context.Context, id domain.ID, stat string, n int) (stats domain.Stats, err error) {
	err = m.c.writeOne(ctx, "AddStat", id,
		func() (err error) {
			stats, err = m.backing.AddStat(ctx, id, stat, n)
			return err
		},
		func(idx *inmem.Users) error {
			mstats, err := idx.AddStat(ctx, id, stat, n)
			if err == nil && mstats != stats {
				err = fmt.Errorf("copy has counters %+v, the backing store %+v", mstats, stats)
			}
			return err
		})
	return stats, err
}
