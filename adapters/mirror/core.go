package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/runnable/runnable/domain"
)

// repairTimeout bounds a re-read or reload done after a write, which runs
// even when the write's context has ended.
const repairTimeout = time.Minute

// index is what the mirror needs of its in-memory copy beyond the reads:
// inmem.Users, inmem.Images and inmem.Drafts.
type index[T any] interface {
	Create(ctx context.Context, v *T) error
	Update(ctx context.Context, v *T) error
	Delete(ctx context.Context, id domain.ID) error
	All(ctx context.Context) ([]*T, error)
}

// core keeps an in-memory index I of records T equal to a backing store's,
// the mechanism Users, Images and Drafts share: each gives it the
// store-specific hooks (below) and runs its writes through writeOne (and
// create, update, remove) when the copy can apply their effect itself, or
// rereadOne, rereadMatching and rereadCounted when the touched records are
// re-read instead. The index is replaced as a whole on a reload, so readers
// load it through mem.
type core[T any, I index[T]] struct {
	what  string // "users", "images" or "drafts", for errors and logs
	log   *slog.Logger
	fresh func() I                                            // an empty index
	load  func(ctx context.Context) ([]*T, error)             // every record of the backing store
	get   func(ctx context.Context, id domain.ID) (*T, error) // one record of the backing store
	id    func(*T) domain.ID

	mem atomic.Pointer[I]

	// turn is held (full) by the write in progress; the fields below
	// belong to its holder.
	turn  chan struct{}
	stale map[domain.ID]bool // re-read failed: retried by the next write
	whole bool               // reload failed: retried by the next write
}

func (c *core[T, I]) init(ctx context.Context) error {
	c.turn = make(chan struct{}, 1)
	c.stale = map[domain.ID]bool{}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	n, err := c.reload(ctx)
	if err != nil {
		return err
	}
	c.log.Info("mirror loaded", "collection", c.what, "count", n, "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// index is the current copy.
func (c *core[T, I]) index() I { return *c.mem.Load() }

// reload replaces the copy with a new one filled from the backing store.
func (c *core[T, I]) reload(ctx context.Context) (int, error) {
	items, err := c.load(ctx)
	if err != nil {
		return 0, fmt.Errorf("mirror: load %s: %w", c.what, err)
	}
	idx := c.fresh()
	for _, v := range items {
		if err := idx.Create(ctx, v); err != nil {
			return 0, fmt.Errorf("mirror: load %s: %s: %w", c.what, c.id(v).Hex(), err)
		}
	}
	c.mem.Store(&idx)
	return len(items), nil
}

// begin waits for the turn to write (or for ctx to end), brings back what
// an earlier write left stale, and returns the function that ends the
// turn.
func (c *core[T, I]) begin(ctx context.Context) (func(), error) {
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	switch {
	case c.whole:
		c.reloadAll(ctx, "retry after a failed reload")
	case len(c.stale) > 0:
		ids := make([]domain.ID, 0, len(c.stale))
		for id := range c.stale {
			ids = append(ids, id)
		}
		c.refresh(ctx, ids...)
	}
	return func() { <-c.turn }, nil
}

// writeOne writes record id through: backing to the backing store, then,
// when that succeeded, apply to the copy. A failure of either re-reads the
// record (see failed and applied); only the backing store's error is
// returned.
func (c *core[T, I]) writeOne(ctx context.Context, op string, id domain.ID, backing func() error, apply func(I) error) error {
	done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := backing(); err != nil {
		c.failed(ctx, id)
		return err
	}
	c.applied(ctx, op, apply(c.index()), id)
	return nil
}

// create, update and remove write one record through with the backing
// store's method of the same name, then the copy's.
func (c *core[T, I]) create(ctx context.Context, v *T, backing func(context.Context, *T) error) error {
	return c.writeOne(ctx, "Create", c.id(v), func() error { return backing(ctx, v) },
		func(idx I) error { return idx.Create(ctx, v) })
}

func (c *core[T, I]) update(ctx context.Context, v *T, backing func(context.Context, *T) error) error {
	return c.writeOne(ctx, "Update", c.id(v), func() error { return backing(ctx, v) },
		func(idx I) error { return idx.Update(ctx, v) })
}

func (c *core[T, I]) remove(ctx context.Context, id domain.ID, backing func(context.Context, domain.ID) error) error {
	return c.writeOne(ctx, "Delete", id, func() error { return backing(ctx, id) },
		func(idx I) error { return idx.Delete(ctx, id) })
}

// rereadOne runs a backing write to record id whose effect the copy cannot
// apply itself (a tag change), then re-reads the record.
func (c *core[T, I]) rereadOne(ctx context.Context, id domain.ID, write func() error) error {
	done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := write(); err != nil {
		c.failed(ctx, id)
		return err
	}
	c.refresh(ctx, id)
	return nil
}

// rereadMatching runs a backing write that may touch the records of the
// copy that match, then re-reads them, whether or not the write failed.
func (c *core[T, I]) rereadMatching(ctx context.Context, match func(*T) bool, write func() error) error {
	done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	ids := c.matching(ctx, match)
	err = write()
	c.refresh(ctx, ids...)
	return err
}

// rereadCounted is rereadMatching for a write that returns how many
// records it changed: when it succeeded and that differs from how many
// matched in the copy, the copy is reloaded (see agree).
func (c *core[T, I]) rereadCounted(ctx context.Context, op string, match func(*T) bool, write func() (int, error)) (int, error) {
	done, err := c.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	ids := c.matching(ctx, match)
	n, err := write()
	c.refresh(ctx, ids...)
	if err != nil {
		return n, err
	}
	c.agree(ctx, op, n, len(ids))
	return n, nil
}

// failed follows a backing write that returned an error: the records it
// may have touched are re-read. Most such errors are refusals that changed
// nothing (ErrNotFound, ErrConflict), but a lost reply or an ended context
// leaves the outcome unknown, and a refusal the copy would not have made
// shows that it disagrees; a re-read by _id settles both.
func (c *core[T, I]) failed(ctx context.Context, ids ...domain.ID) {
	c.refresh(ctx, ids...)
}

// applied follows the copy's application of a write the backing store
// accepted: when it failed (err), the records are re-read.
func (c *core[T, I]) applied(ctx context.Context, op string, err error, ids ...domain.ID) {
	if err == nil {
		return
	}
	c.log.Warn("mirror: the copy refused a write the backing store accepted; re-reading",
		"collection", c.what, "op", op, "ids", hexes(ids), "err", err)
	c.refresh(ctx, ids...)
}

// agree follows a multi-record write: the backing store changed got
// records where the copy knew of want; when they differ the copy is
// reloaded.
func (c *core[T, I]) agree(ctx context.Context, op string, got, want int) {
	if got != want {
		c.reloadAll(ctx, fmt.Sprintf("%s changed %d records in the backing store, %d in the copy", op, got, want))
	}
}

// refresh re-reads records from the backing store into the copy, a
// missing one being deleted from it.
func (c *core[T, I]) refresh(ctx context.Context, ids ...domain.ID) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), repairTimeout)
	defer cancel()
	idx := c.index()
	for _, id := range ids {
		v, err := c.get(ctx, id)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			if err = idx.Delete(ctx, id); errors.Is(err, domain.ErrNotFound) {
				err = nil
			}
		case err != nil:
			c.stale[id] = true
			c.log.Error("mirror: cannot re-read a record; it may be stale until the next write",
				"collection", c.what, "id", id.Hex(), "err", err)
			continue
		default:
			if err = idx.Update(ctx, v); errors.Is(err, domain.ErrNotFound) {
				err = idx.Create(ctx, v)
			}
		}
		if err != nil {
			// A unique value the copy still gives another record: the
			// copy disagrees beyond this record.
			c.reloadAll(ctx, fmt.Sprintf("re-reading %s: %v", id.Hex(), err))
			return
		}
		delete(c.stale, id)
	}
}

// reloadAll replaces the whole copy, logging why.
func (c *core[T, I]) reloadAll(ctx context.Context, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), repairTimeout)
	defer cancel()
	c.log.Warn("mirror: reloading the copy from the backing store", "collection", c.what, "why", why)
	if _, err := c.reload(ctx); err != nil {
		c.whole = true
		c.log.Error("mirror: reload failed; the copy may be stale until the next write", "collection", c.what, "err", err)
		return
	}
	c.whole = false
	clear(c.stale)
}

// matching lists the ids of the records of the copy that match.
func (c *core[T, I]) matching(ctx context.Context, match func(*T) bool) []domain.ID {
	all, _ := c.index().All(ctx) // the copy fails no call
	var ids []domain.ID
	for _, v := range all {
		if match(v) {
			ids = append(ids, c.id(v))
		}
	}
	return ids
}

func hexes(ids []domain.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Hex()
	}
	return out
}
