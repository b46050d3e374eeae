package app

import (
	"context"
	"errors"
	"time"

	"github.com/runnable/runnable/domain"
)

// ErrCleanupRunning is returned when another run holds the lock.
var ErrCleanupRunning = domain.E(domain.ErrConflict, "cleanup already running")

// CleanupOptions tune one run: DryRun changes nothing; MaxAge overrides
// CLEANUP_MAX_AGE when not zero.
type CleanupOptions struct {
	DryRun bool
	MaxAge time.Duration
}

// CleanupSummary reports a run (spec §8.5).
type CleanupSummary struct {
	DryRun            bool      `json:"dry_run"`
	StartedAt         time.Time `json:"started_at"`
	FinishedAt        time.Time `json:"finished_at"`
	DeletedDrafts     int       `json:"deleted_drafts"`
	StoppedContainers int       `json:"stopped_containers"`
	RemovedContainers int       `json:"removed_containers"`
	RemovedImages     int       `json:"removed_images"`
	Errors            []string  `json:"errors"`
}

// orphanAge is how old a labelled container without a draft must be before
// cleanup removes it (a fork may be between its two steps).
const orphanAge = time.Hour

// Cleanup runs one cleanup under the cluster lock (spec §8.5).
func (a *App) Cleanup(ctx context.Context, opt CleanupOptions) (*CleanupSummary, error) {
	lock, ok, err := a.Locks.Acquire(ctx, "lock:cleanup", a.cfg.CleanupLockTTL)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrCleanupRunning
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		t := time.NewTicker(a.cfg.CleanupLockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if err := lock.Refresh(runCtx, a.cfg.CleanupLockTTL); err != nil {
					a.Logger.Warn("refresh cleanup lock", "err", err)
				}
			}
		}
	}()
	defer func() { _ = lock.Release(context.WithoutCancel(ctx)) }()

	maxAge := a.cfg.CleanupMaxAge
	if opt.MaxAge > 0 {
		maxAge = opt.MaxAge
	}
	sum := &CleanupSummary{DryRun: opt.DryRun, StartedAt: a.now(), Errors: []string{}}
	fail := func(what string, err error) {
		a.Logger.Error("cleanup", "step", what, "err", err)
		sum.Errors = append(sum.Errors, what)
	}

	// step 2: expired unsaved drafts
	now := a.now()
	expired, err := a.Drafts.Expired(runCtx, now.Add(-maxAge), a.cfg.CleanupBatch)
	if err != nil {
		fail("list expired drafts", err)
	}
	for _, d := range expired {
		if a.openTerminals(d.ID) > 0 {
			continue
		}
		if opt.DryRun {
			sum.DeletedDrafts++
			continue
		}
		deleted, err := a.deleteIfExpired(runCtx, d.ID, maxAge)
		if err != nil {
			fail("delete draft "+d.ID.Short(), err)
			continue
		}
		if deleted {
			sum.DeletedDrafts++
		}
	}

	// steps 3 and 4: drafts of deleted users, idle containers
	withContainer, err := a.Drafts.WithContainer(runCtx)
	if err != nil {
		fail("list drafts with containers", err)
	}
	owners := map[domain.ID]bool{}
	for _, d := range withContainer {
		deletedOwner, known := owners[d.Owner]
		if !known {
			u, err := a.Users.Get(runCtx, d.Owner)
			deletedOwner = errors.Is(err, domain.ErrNotFound) || (err == nil && u.Deleted)
			owners[d.Owner] = deletedOwner
		}
		if deletedOwner {
			if !opt.DryRun {
				if err := a.removeDraft(runCtx, d); err != nil {
					fail("delete draft of deleted user "+d.ID.Short(), err)
					continue
				}
			}
			sum.DeletedDrafts++
			continue
		}
		if a.cfg.IdleStopAfter > 0 && now.Sub(d.LastAccess) > a.cfg.IdleStopAfter && a.openTerminals(d.ID) == 0 {
			stopped, err := a.idleStop(runCtx, d.ID, opt.DryRun)
			if err != nil {
				fail("idle stop "+d.ID.Short(), err)
			} else if stopped {
				sum.StoppedContainers++
			}
		}
	}

	// saves whose server died: failed "interrupted" (spec §8.3)
	if !opt.DryRun {
		if _, err := a.RecoverSaves(runCtx); err != nil {
			fail("recover interrupted saves", err)
		}
	}

	// step 5: orphan containers and unreferenced image versions
	if n, err := a.removeOrphans(runCtx, orphanAge, opt.DryRun); err != nil {
		fail("remove orphan containers", err)
	} else {
		sum.RemovedContainers = n
	}
	if n, err := a.removeUnusedImages(runCtx, opt.DryRun); err != nil {
		fail("remove unused images", err)
	} else {
		sum.RemovedImages = n
	}
	sum.FinishedAt = a.now()
	if !opt.DryRun {
		a.metrics().CleanupDeletedDrafts(sum.DeletedDrafts)
	}
	return sum, nil
}

// deleteIfExpired re-checks the draft under its lock, so a draft touched
// during the sweep survives.
func (a *App) deleteIfExpired(ctx context.Context, id domain.ID, maxAge time.Duration) (bool, error) {
	unlock := a.locks.lock(id)
	defer unlock()
	d, err := a.Drafts.Get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !d.Expired(a.now(), maxAge) || a.openTerminals(id) > 0 {
		return false, nil
	}
	return true, a.removeDraft(ctx, d)
}

func (a *App) idleStop(ctx context.Context, id domain.ID, dry bool) (bool, error) {
	unlock := a.locks.lock(id)
	defer unlock()
	d, err := a.refreshState(ctx, id)
	if err != nil || !d.Running() || d.Saving() {
		return false, nil
	}
	if now := a.now(); now.Sub(d.LastAccess) <= a.cfg.IdleStopAfter {
		return false, nil
	}
	if dry {
		return true, nil
	}
	if err := a.Containers.Stop(ctx, d.ContainerID, a.cfg.StopTimeout); err != nil {
		return false, err
	}
	now := a.now()
	d.Status, d.StoppedAt = domain.StatusStopped, &now
	return true, a.Drafts.Update(ctx, d)
}

// removeOrphans removes labelled containers with no draft record, older
// than minAge.
func (a *App) removeOrphans(ctx context.Context, minAge time.Duration, dry bool) (int, error) {
	list, err := a.Containers.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range list {
		if minAge > 0 && a.now().Sub(c.Created) < minAge {
			continue
		}
		d, err := a.Drafts.Get(ctx, c.Draft)
		if err == nil && d.ContainerID == c.ID {
			continue
		}
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return n, err
		}
		if !dry {
			if err := a.Containers.Remove(ctx, c.ID); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

func (a *App) removeUnusedImages(ctx context.Context, dry bool) (int, error) {
	all, err := a.Containers.ListImages(ctx)
	if err != nil {
		return 0, err
	}
	keep := map[string]bool{}
	refs, err := a.Images.Refs(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range refs {
		keep[r] = true
	}
	pinned, err := a.Drafts.BaseRefs(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range pinned {
		keep[r] = true
	}
	n := 0
	for _, ref := range all {
		if _, _, ours := domain.ParseImageRef(ref); !ours || keep[ref] {
			continue // base images and other tags are never ours to remove
		}
		if dry {
			n++
			continue
		}
		err := a.Containers.RemoveImage(ctx, ref)
		if errors.Is(err, domain.ErrConflict) {
			continue // in use by a container: a later run
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Reconcile runs at start-up: containers labelled as ours with no draft
// are removed, and drafts whose container vanished are marked "error" so
// the next start re-creates them.
func (a *App) Reconcile(ctx context.Context) error {
	if _, err := a.removeOrphans(ctx, 0, false); err != nil {
		return err
	}
	drafts, err := a.Drafts.WithContainer(ctx)
	if err != nil {
		return err
	}
	for _, d := range drafts {
		unlock := a.locks.lock(d.ID)
		if _, err := a.refreshState(ctx, d.ID); err != nil {
			a.Logger.Warn("reconcile draft", "draft", d.ID.Short(), "err", err)
		}
		unlock()
	}
	return nil
}
