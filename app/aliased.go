package app

import (
	"context"
	"errors"
	"time"

	"github.com/runnable/runnable/domain"
)

// aliasedStore is what the channel and the category stores share: records
// found by id or by a lower-cased alias.
type aliasedStore[T any] interface {
	Create(ctx context.Context, r *T) error
	Get(ctx context.Context, id domain.ID) (*T, error)
	FindByAlias(ctx context.Context, alias string) (*T, error)
	Update(ctx context.Context, r *T) error
	Delete(ctx context.Context, id domain.ID) error
}

// aliasedKind is one kind of named record with aliases (channels,
// categories): its store, its domain rules and its public errors. The use
// cases the kinds share are its methods.
type aliasedKind[T any] struct {
	store      aliasedStore[T]
	newRecord  func(id domain.ID, name, description *string, now time.Time) (*T, error)
	update     func(r *T, name, description *string) error
	setAliases func(r *T, values []string) ([]string, error)
	id         func(*T) domain.ID
	name       func(*T) string
	// notFound answers a malformed or unknown id; taken a create or
	// rename onto another record's alias; aliasTaken the same for a new
	// alias list.
	notFound, taken, aliasTaken *domain.Error
}

func (a *App) channelKind() aliasedKind[domain.Channel] {
	return aliasedKind[domain.Channel]{
		store: a.Channels, newRecord: domain.NewChannelFrom,
		update: (*domain.Channel).Update, setAliases: (*domain.Channel).SetAliases,
		id:       func(c *domain.Channel) domain.ID { return c.ID },
		name:     func(c *domain.Channel) string { return c.Name },
		notFound: domain.ErrChannelNotFound, taken: domain.ErrChannelNameTaken, aliasTaken: domain.ErrChannelAlias,
	}
}

func (a *App) categoryKind() aliasedKind[domain.Category] {
	return aliasedKind[domain.Category]{
		store: a.Categories, newRecord: domain.NewCategory,
		update: (*domain.Category).Update, setAliases: (*domain.Category).SetAliases,
		id:       func(c *domain.Category) domain.ID { return c.ID },
		name:     func(c *domain.Category) string { return c.Name },
		notFound: domain.ErrCategoryNotFound, taken: domain.ErrCategoryTaken, aliasTaken: domain.ErrCategoryAlias,
	}
}

// find resolves a name through aliases; nil when none matches.
func (k aliasedKind[T]) find(ctx context.Context, name string) (*T, error) {
	r, err := k.store.FindByAlias(ctx, domain.Alias(name))
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	return r, err
}

// load finds a record by its hex id; malformed ids are not found.
func (k aliasedKind[T]) load(ctx context.Context, id string) (*T, error) {
	rid, ok := domain.ParseHex(id)
	if !ok {
		return nil, k.notFound
	}
	r, err := k.store.Get(ctx, rid)
	if err != nil {
		return nil, notFound(err, k.notFound)
	}
	return r, nil
}

// access checks that caller may manage channels and categories, then loads
// the record with id: the checks that come before a change's input (spec
// §1.5).
func (k aliasedKind[T]) access(ctx context.Context, caller *domain.User, id string) (*T, error) {
	if err := domain.CanManageChannels(caller); err != nil {
		return nil, err
	}
	return k.load(ctx, id)
}

// relocked locks the record r loaded from id, loads it again and runs fn
// on the fresh copy under the lock.
func (k aliasedKind[T]) relocked(ctx context.Context, a *App, id string, r *T, fn func(*T) error) error {
	unlock := a.locks.lock(k.id(r))
	defer unlock()
	r, err := k.load(ctx, id)
	if err != nil {
		return err
	}
	return fn(r)
}

// change runs fn under the lock of the record with id (moderators).
func (k aliasedKind[T]) change(ctx context.Context, a *App, caller *domain.User, id string, fn func(*T) error) error {
	r, err := k.access(ctx, caller, id)
	if err != nil {
		return err
	}
	return k.relocked(ctx, a, id, r, fn)
}

// create makes a record from a moderator's input.
func (k aliasedKind[T]) create(ctx context.Context, a *App, caller *domain.User, name, description *string) (*T, error) {
	if err := domain.CanManageChannels(caller); err != nil {
		return nil, err
	}
	r, err := k.newRecord(a.IDs.NewID(), name, description, a.now())
	if err != nil {
		return nil, err
	}
	if err := k.store.Create(ctx, r); err != nil {
		return nil, conflict(err, k.taken)
	}
	return r, nil
}

// rename renames or re-describes the record with id (moderators); a
// rename keeps the old aliases. then runs, still under the lock, with
// whether the name changed.
func (k aliasedKind[T]) rename(ctx context.Context, a *App, caller *domain.User, id string, name, description *string, then func(r *T, renamed bool) error) error {
	return k.change(ctx, a, caller, id, func(r *T) error {
		oldName := k.name(r)
		if err := k.update(r, name, description); err != nil {
			return err
		}
		if err := k.store.Update(ctx, r); err != nil {
			return conflict(notFound(err, k.notFound), k.taken)
		}
		return then(r, k.name(r) != oldName)
	})
}

// replaceAliases replaces the aliases of the record with id (moderators)
// and returns the final list.
func (k aliasedKind[T]) replaceAliases(ctx context.Context, a *App, caller *domain.User, id string, aliases []string) ([]string, error) {
	var list []string
	err := k.change(ctx, a, caller, id, func(r *T) error {
		var err error
		if list, err = k.setAliases(r, aliases); err != nil {
			return err
		}
		return conflict(notFound(k.store.Update(ctx, r), k.notFound), k.aliasTaken)
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// remove deletes the record with id (moderators), then runs cleanup with a
// context that is not cancelled: the record is gone first so that nothing
// new finds it by alias, and the cleanup finishes even if the request is
// cancelled meanwhile.
func (k aliasedKind[T]) remove(ctx context.Context, caller *domain.User, id string, cleanup func(ctx context.Context, r *T) error) error {
	r, err := k.access(ctx, caller, id)
	if err != nil {
		return err
	}
	if err := k.store.Delete(ctx, k.id(r)); err != nil {
		return notFound(err, k.notFound)
	}
	return cleanup(context.WithoutCancel(ctx), r)
}

// withCounts pairs each record with its count from counts, as info.
func withCounts[T, I any](ctx context.Context, rs []*T, id func(*T) domain.ID,
	counts func(ctx context.Context, ids []domain.ID) (map[domain.ID]int, error), info func(r *T, n int) I) ([]I, error) {
	out := make([]I, 0, len(rs))
	if len(rs) == 0 {
		return out, nil
	}
	ids := make([]domain.ID, len(rs))
	for i, r := range rs {
		ids[i] = id(r)
	}
	n, err := counts(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		out = append(out, info(r, n[id(r)]))
	}
	return out, nil
}

// first is the first of infos, or err.
func first[I any](infos []I, err error) (*I, error) {
	if err != nil {
		return nil, err
	}
	return &infos[0], nil
}
