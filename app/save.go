package app

import (
	"context"
	"errors"
	"time"

	"github.com/runnable/runnable/domain"
)

// SaveResult is the outcome of a save request: Done is false when the job
// still runs after SAVE_WAIT (the reply is then 202).
type SaveResult struct {
	Image *domain.Image
	Draft *domain.Draft
	Done  bool
}

// errShuttingDown answers work that arrives while the server stops.
var errShuttingDown = domain.E(domain.ErrUnavailable, "service unavailable")

// ErrSaveFailed is the 502 of a save that failed within the wait.
var ErrSaveFailed = domain.E(domain.ErrBackend, "save failed")

// sourceDraft resolves `from` for saves (spec §3.4).
func (a *App) sourceDraft(ctx context.Context, caller *domain.User, from string) (*domain.Draft, error) {
	if from == "" {
		return nil, domain.E(domain.ErrInvalid, "must provide a runnable to save from")
	}
	d, err := a.loadDraft(ctx, from)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.E(domain.ErrNotFound, "source runnable not found")
		}
		return nil, err
	}
	if d.Owner != caller.ID && !caller.IsModerator() {
		return nil, domain.ErrPermissionDenied
	}
	return d, nil
}

// SaveNew saves a draft as a new image (POST /runnables?from=).
func (a *App) SaveNew(ctx context.Context, caller *domain.User, from string, name, description *string) (*SaveResult, error) {
	d, err := a.sourceDraft(ctx, caller, from)
	if err != nil {
		return nil, err
	}
	return a.saveNew(ctx, d, name, description)
}

func (a *App) saveNew(ctx context.Context, d *domain.Draft, name, description *string) (*SaveResult, error) {
	newName, err := validateRename(name, description)
	if err != nil {
		return nil, err
	}
	unlock := a.locks.lock(d.ID)
	defer unlock()
	if d, err = a.Drafts.Get(ctx, d.ID); err != nil {
		return nil, notFound(err, domain.E(domain.ErrNotFound, "source runnable not found"))
	}
	if err := d.CheckMutable(); err != nil {
		return nil, err
	}
	if newName != "" {
		d.Name = newName
	}
	if description != nil {
		d.Description = *description
	}
	if err := a.checkImageQuota(ctx, d.Owner); err != nil {
		return nil, err
	}
	now := a.now()
	img := domain.NewImageFromDraft(a.IDs.NewID(), d, d.Name, now)
	for i := range img.Tags {
		img.Tags[i].ID = a.IDs.NewID()
	}
	if err := a.Images.Create(ctx, img); err != nil {
		return nil, err
	}
	if err := d.BeginSave(domain.SaveNew, img.ID, now); err != nil {
		return nil, err
	}
	a.touch(d)
	if err := a.Drafts.Update(ctx, d); err != nil {
		_ = a.Images.Delete(context.WithoutCancel(ctx), img.ID)
		return nil, err
	}
	return a.runSave(ctx, d, img, domain.SaveNew, unlock)
}

// SaveOverwrite saves a draft into an existing image (PUT /runnables/:id?from=).
func (a *App) SaveOverwrite(ctx context.Context, caller *domain.User, imageID, from string, name, description *string) (*SaveResult, error) {
	if from == "" {
		return nil, domain.E(domain.ErrInvalid, "must provide a runnable to save from")
	}
	img, err := a.loadImage(ctx, caller, imageID)
	if err != nil {
		return nil, err
	}
	d, err := a.sourceDraft(ctx, caller, from)
	if err != nil {
		return nil, err
	}
	if !img.CanModify(caller) {
		return nil, domain.ErrPermissionDenied
	}
	return a.saveOverwrite(ctx, d, img, name, description)
}

func (a *App) saveOverwrite(ctx context.Context, d *domain.Draft, img *domain.Image, name, description *string) (*SaveResult, error) {
	newName, err := validateRename(name, description)
	if err != nil {
		return nil, err
	}
	unlock := a.locks.lock(d.ID)
	defer unlock()
	unlockImg := a.locks.lock(img.ID)
	if d, err = a.Drafts.Get(ctx, d.ID); err != nil {
		unlockImg()
		return nil, notFound(err, domain.E(domain.ErrNotFound, "source runnable not found"))
	}
	if img, err = a.Images.Get(ctx, img.ID); err != nil {
		unlockImg()
		return nil, notFound(err, domain.ErrRunnableNotFound)
	}
	if err := d.CheckMutable(); err != nil {
		unlockImg()
		return nil, err
	}
	if img.Status == domain.ImageSaving {
		unlockImg()
		return nil, domain.ErrSaveInProgress
	}
	if newName != "" {
		d.Name = newName
	}
	if description != nil {
		d.Description = *description
	}
	if d.Name != img.Name {
		if other, err := a.Images.FindByName(ctx, d.Name); err == nil && other.ID != img.ID {
			unlockImg()
			return nil, domain.ErrNameTaken
		}
	}
	img.Status = domain.ImageSaving
	if err := a.Images.Update(ctx, img); err != nil {
		unlockImg()
		return nil, err
	}
	unlockImg()
	now := a.now()
	if err := d.BeginSave(domain.SaveOverwrite, img.ID, now); err != nil {
		return nil, err
	}
	a.touch(d)
	if err := a.Drafts.Update(ctx, d); err != nil {
		a.restoreImage(img.ID)
		return nil, err
	}
	return a.runSave(ctx, d, img, domain.SaveOverwrite, unlock)
}

// SaveDraft is POST P/:id/save: overwrite the target when it exists and the
// caller may overwrite it, else save as new.
func (a *App) SaveDraft(ctx context.Context, caller *domain.User, id string, name, description *string) (*SaveResult, error) {
	d, err := a.writableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if !d.Target.IsZero() {
		if img, err := a.Images.Get(ctx, d.Target); err == nil && img.CanModify(caller) {
			return a.saveOverwrite(ctx, d, img, name, description)
		}
	}
	return a.saveNew(ctx, d, name, description)
}

func validateRename(name, description *string) (string, error) {
	var n string
	if name != nil {
		var err error
		if n, err = domain.ValidateName(*name); err != nil {
			return "", err
		}
	}
	if description != nil {
		if err := domain.ValidateDescription(*description); err != nil {
			return "", err
		}
	}
	return n, nil
}

// runSave starts the job and waits up to SAVE_WAIT. unlock releases the
// draft lock held by the caller; the job takes it again for its writes.
func (a *App) runSave(ctx context.Context, d *domain.Draft, img *domain.Image, mode domain.SaveMode, unlock func()) (*SaveResult, error) {
	unlock()
	if !a.saves.start() {
		// shutting down: the job will not run here
		if err := a.interruptSave(context.WithoutCancel(ctx), d.ID); err != nil {
			a.Logger.Error("interrupt save at shutdown", "draft", d.ID.Short(), "err", err)
		}
		return nil, errShuttingDown
	}
	done := make(chan error, 1)
	jobCtx, cancel := context.WithTimeout(a.jobsCtx, a.cfg.SaveTimeout)
	stopBeat := a.heartbeat(jobCtx, d.ID) // held before the reply: replicas see a live save
	go func() {
		defer a.saves.done()
		defer cancel()
		defer stopBeat()
		start := time.Now()
		err := a.saveJob(jobCtx, d.ID, img.ID, mode)
		a.recordSave(err, time.Since(start))
		done <- err
	}()
	var wait <-chan time.Time
	if a.cfg.SaveWait > 0 {
		t := time.NewTimer(a.cfg.SaveWait)
		defer t.Stop()
		wait = t.C
	} else {
		c := make(chan time.Time)
		close(c)
		wait = c
	}
	select {
	case err := <-done:
		if err != nil {
			return nil, ErrSaveFailed
		}
		img, err := a.Images.Get(ctx, img.ID)
		if err != nil {
			return nil, err
		}
		d, err := a.Drafts.Get(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		return &SaveResult{Image: img, Draft: d, Done: true}, nil
	case <-wait:
		cur, err := a.Images.Get(ctx, img.ID)
		if err != nil {
			cur = img
		}
		return &SaveResult{Image: cur, Draft: d, Done: false}, nil
	}
}

// saveJob is §8.3 steps 2-5.
func (a *App) saveJob(ctx context.Context, draftID, imageID domain.ID, mode domain.SaveMode) (err error) {
	var committed string
	defer func() {
		if err == nil {
			return
		}
		reason := "commit failed"
		if errors.Is(err, context.DeadlineExceeded) {
			reason = "timed out"
		} else if a.jobsCtx.Err() != nil {
			reason = "interrupted"
		}
		a.Logger.Error("save failed", "draft", draftID.Hex(), "image", imageID.Hex(), "err", err)
		bg := context.WithoutCancel(ctx)
		if committed != "" {
			if rerr := a.Containers.RemoveImage(bg, committed); rerr != nil {
				a.Logger.Warn("remove image of failed save", "ref", committed, "err", rerr)
			}
		}
		if mode == domain.SaveNew {
			if derr := a.Images.Delete(bg, imageID); derr != nil && !errors.Is(derr, domain.ErrNotFound) {
				a.Logger.Error("delete image of failed save", "image", imageID.Hex(), "err", derr)
			}
			_ = a.Files.DeleteAll(bg, imageID)
		} else {
			a.restoreImage(imageID)
		}
		unlock := a.locks.lock(draftID)
		defer unlock()
		if d, gerr := a.Drafts.Get(bg, draftID); gerr == nil {
			d.FailSave(reason, a.now())
			if uerr := a.Drafts.Update(bg, d); uerr != nil {
				a.Logger.Error("record failed save", "draft", draftID.Hex(), "err", uerr)
			}
		}
	}()

	d, err := a.Drafts.Get(ctx, draftID)
	if err != nil {
		return err
	}
	img, err := a.Images.Get(ctx, imageID)
	if err != nil {
		return err
	}
	// step 2: sync the index from the container
	if d.ContainerID != "" {
		if _, err := a.syncFrom(ctx, d); err != nil {
			return err
		}
	}
	// step 3: snapshot
	ref := d.BaseRef
	if d.ContainerID != "" {
		ref = domain.ImageRef(img.ID, img.Version+1)
		if err := a.Containers.Commit(ctx, d.ContainerID, ref); err != nil {
			return err
		}
		committed = ref
	}
	files, err := a.Files.List(ctx, d.ID)
	if err != nil {
		return err
	}
	// step 4: the image takes the draft's metadata, index and tags
	unlockImg := a.locks.lock(imageID)
	img, err = a.Images.Get(ctx, imageID)
	if err != nil {
		unlockImg()
		return err
	}
	unlockD := a.locks.lock(draftID)
	d, err = a.Drafts.Get(ctx, draftID)
	unlockD()
	if err != nil {
		unlockImg()
		return err
	}
	oldFiles, err := a.Files.List(ctx, img.ID)
	if err != nil {
		unlockImg()
		return err
	}
	if mode == domain.SaveOverwrite {
		img.MergeTags(d.Tags, a.IDs.NewID)
	}
	now := a.now()
	for i := range files {
		files[i].Runnable = img.ID
	}
	if err := a.Files.Replace(ctx, img.ID, files); err != nil {
		unlockImg()
		return err
	}
	d.Snapshot(img, ref, now)
	if err := a.Images.Update(ctx, img); err != nil {
		if rerr := a.Files.Replace(context.WithoutCancel(ctx), img.ID, oldFiles); rerr != nil {
			a.Logger.Error("restore file index after failed save", "image", img.ID.Hex(), "err", rerr)
		}
		unlockImg()
		return err
	}
	unlockImg()
	committed = "" // the image owns it now; older versions go in cleanup
	// step 5
	unlock := a.locks.lock(draftID)
	defer unlock()
	d, err = a.Drafts.Get(context.WithoutCancel(ctx), draftID)
	if err != nil {
		return nil // the draft was deleted meanwhile; the image stands
	}
	d.FinishSave(img.ID, a.now())
	return a.Drafts.Update(context.WithoutCancel(ctx), d)
}

// restoreImage returns an overwritten image to "ready" at its old version.
func (a *App) restoreImage(id domain.ID) {
	unlock := a.locks.lock(id)
	defer unlock()
	ctx := context.WithoutCancel(a.baseCtx)
	img, err := a.Images.Get(ctx, id)
	if err != nil {
		return
	}
	img.Status = domain.ImageReady
	if err := a.Images.Update(ctx, img); err != nil {
		a.Logger.Error("restore image after failed save", "image", id.Hex(), "err", err)
	}
}
