package app

import (
	"context"
	"errors"
	"time"

	"github.com/runnable/runnable/domain"
)

// heartbeatTTL is how long a save job's heartbeat lives without refresh
// (spec §9.4: save:<draftId>, 30 s, refreshed).
const heartbeatTTL = 30 * time.Second

func heartbeatKey(draft domain.ID) string { return "save:" + draft.Hex() }

// heartbeat holds the draft's save heartbeat while a job runs, so that
// other replicas can tell a running save from one whose server died.
func (a *App) heartbeat(ctx context.Context, draft domain.ID) (stop func()) {
	lock, ok, err := a.Locks.Acquire(ctx, heartbeatKey(draft), heartbeatTTL)
	if err != nil || !ok {
		a.Logger.Warn("save heartbeat not taken", "draft", draft.Hex(), "err", err)
		return func() {}
	}
	beatCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(heartbeatTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-beatCtx.Done():
				return
			case <-t.C:
				if err := lock.Refresh(beatCtx, heartbeatTTL); err != nil && beatCtx.Err() == nil {
					a.Logger.Warn("refresh save heartbeat", "draft", draft.Hex(), "err", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		_ = lock.Release(context.WithoutCancel(ctx))
	}
}

// RecoverSaves marks saves whose job no longer runs anywhere as failed
// "interrupted" (spec §8.3): a new image's version-0 record is deleted, an
// overwritten image returns to "ready" at its old version. A save is dead
// when no heartbeat holds it and it started more than one heartbeat ago.
// It returns how many saves it recovered.
func (a *App) RecoverSaves(ctx context.Context) (int, error) {
	drafts, err := a.Drafts.Saving(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range drafts {
		if d.Save.StartedAt != nil && a.now().Sub(*d.Save.StartedAt) < heartbeatTTL {
			continue
		}
		lock, ok, err := a.Locks.Acquire(ctx, heartbeatKey(d.ID), heartbeatTTL)
		if err != nil {
			return n, err
		}
		if !ok {
			continue // a job is alive somewhere
		}
		err = a.interruptSave(ctx, d.ID)
		_ = lock.Release(context.WithoutCancel(ctx))
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (a *App) interruptSave(ctx context.Context, id domain.ID) error {
	unlock := a.locks.lock(id)
	defer unlock()
	d, err := a.Drafts.Get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !d.Saving() {
		return nil
	}
	if img, err := a.Images.Get(ctx, d.Save.Image); err == nil {
		if d.Save.Mode == domain.SaveNew && img.Version == 0 {
			if err := a.Images.Delete(ctx, img.ID); err != nil && !errors.Is(err, domain.ErrNotFound) {
				return err
			}
			_ = a.Files.DeleteAll(ctx, img.ID)
		} else if img.Status == domain.ImageSaving {
			img.Status = domain.ImageReady
			if err := a.Images.Update(ctx, img); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	d.FailSave("interrupted", a.now())
	a.Logger.Warn("save interrupted", "draft", d.ID.Short())
	return a.Drafts.Update(ctx, d)
}
