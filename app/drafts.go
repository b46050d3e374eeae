package app

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// DraftInput is the body of PUT/PATCH on a draft (spec §4.5).
type DraftInput struct {
	Name, Description, StartCmd *string
	Env                         *map[string]string
	Running                     *bool
}

// Fork resolves from (spec §4.4) and makes a new draft for caller.
func (a *App) Fork(ctx context.Context, caller *domain.User, from string, name, description *string) (*domain.Draft, error) {
	img, err := a.resolveForkSource(ctx, caller, from)
	if err != nil {
		return nil, err
	}
	if a.cfg.MaxDraftsPerUser > 0 {
		n, err := a.Drafts.CountByOwner(ctx, caller.ID)
		if err != nil {
			return nil, err
		}
		if n >= a.cfg.MaxDraftsPerUser {
			return nil, domain.E(domain.ErrForbidden, "draft limit reached")
		}
	}
	d, err := img.Fork(a.IDs.NewID(), caller.ID, name, description, a.now())
	if err != nil {
		return nil, err
	}
	files, err := a.Files.List(ctx, img.ID)
	if err != nil {
		return nil, err
	}
	if err := a.Drafts.Create(ctx, d); err != nil {
		return nil, err
	}
	for i := range files {
		files[i].Runnable = d.ID
	}
	if err := a.Files.Replace(ctx, d.ID, files); err != nil {
		// leave nothing half-made
		if derr := a.Drafts.Delete(context.WithoutCancel(ctx), d.ID); derr != nil {
			a.Logger.Error("undo fork", "draft", d.ID.Hex(), "err", derr)
		}
		return nil, err
	}
	return d, nil
}

func (a *App) resolveForkSource(ctx context.Context, caller *domain.User, from string) (*domain.Image, error) {
	if strings.TrimSpace(from) == "" {
		return nil, domain.E(domain.ErrInvalid, "must provide a runnable to fork from")
	}
	id, idShaped := domain.ParseRunnableID(from)
	if idShaped {
		img, err := a.Images.Get(ctx, id)
		if err == nil && img.Visible(caller) {
			if img.Version < 1 {
				return nil, domain.E(domain.ErrConflict, "source image is still being saved")
			}
			return img, nil
		}
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
		d, err := a.Drafts.Get(ctx, id)
		if err == nil && d.CanRead(caller) {
			target, err := d.ForkSource()
			if err != nil {
				return nil, err
			}
			img, err := a.Images.Get(ctx, target)
			if err != nil {
				return nil, notFound(err, domain.E(domain.ErrNotFound, "could not find source image to fork from"))
			}
			return img, nil
		}
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
	}
	ch, err := a.Channels.FindByAlias(ctx, strings.ToLower(strings.TrimSpace(from)))
	if err != nil {
		if !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
		if idShaped {
			return nil, domain.E(domain.ErrNotFound, "could not find source image to fork from")
		}
		return nil, domain.E(domain.ErrNotFound, "could not find channel by that name")
	}
	published := true
	imgs, _, err := a.Images.List(ctx, ports.ImageQuery{Published: &published, Channels: []domain.ID{ch.ID}, Sort: "created", Page: ports.Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, domain.E(domain.ErrNotFound, "channel has no runnables to fork from")
	}
	return imgs[0], nil
}

// loadDraft finds a draft by either id form; images and malformed ids are
// "runnable not found".
func (a *App) loadDraft(ctx context.Context, id string) (*domain.Draft, error) {
	did, ok := domain.ParseRunnableID(id)
	if !ok {
		return nil, domain.ErrRunnableNotFound
	}
	d, err := a.Drafts.Get(ctx, did)
	if err != nil {
		return nil, notFound(err, domain.ErrRunnableNotFound)
	}
	return d, nil
}

// DraftOwnerPath checks the /users/:userId form (spec §4.2): the path user
// must exist and be the caller, unless the caller is a moderator.
func (a *App) DraftOwnerPath(ctx context.Context, caller *domain.User, idOrMe string) (*domain.User, error) {
	u, err := a.ResolveUser(ctx, caller, idOrMe)
	if err != nil {
		return nil, err
	}
	if u.ID != caller.ID && !caller.IsModerator() {
		return nil, domain.ErrPermissionDenied
	}
	return u, nil
}

// ListDrafts lists the path user's drafts, newest first, with live state
// left as stored.
func (a *App) ListDrafts(ctx context.Context, caller *domain.User, idOrMe string, parent string, saved *bool, page ports.Page) ([]*domain.Draft, int, error) {
	u, err := a.DraftOwnerPath(ctx, caller, idOrMe)
	if err != nil {
		return nil, 0, err
	}
	q := ports.DraftQuery{Owner: u.ID, Saved: saved, Page: page}
	if parent != "" {
		pid, ok := domain.ParseRunnableID(parent)
		if !ok {
			return nil, 0, domain.E(domain.ErrInvalid, "parent must be a runnable id")
		}
		q.Parent = pid
	}
	return a.Drafts.List(ctx, q)
}

// GetDraft returns a draft the caller may read, with its live state.
func (a *App) GetDraft(ctx context.Context, caller *domain.User, id string) (*domain.Draft, error) {
	d, err := a.readableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	unlock := a.locks.lock(d.ID)
	defer unlock()
	return a.refreshState(ctx, d.ID)
}

func (a *App) readableDraft(ctx context.Context, caller *domain.User, id string) (*domain.Draft, error) {
	d, err := a.loadDraft(ctx, id)
	if err != nil {
		return nil, err
	}
	if !d.CanRead(caller) {
		return nil, domain.ErrPermissionDenied
	}
	return d, nil
}

func (a *App) writableDraft(ctx context.Context, caller *domain.User, id string) (*domain.Draft, error) {
	d, err := a.loadDraft(ctx, id)
	if err != nil {
		return nil, err
	}
	if !d.CanWrite(caller) {
		return nil, domain.ErrPermissionDenied
	}
	return d, nil
}

// refreshState reloads the draft and folds in the container's live state.
// Called with the draft's lock held. If the backend cannot be reached the
// stored state is returned.
func (a *App) refreshState(ctx context.Context, id domain.ID) (*domain.Draft, error) {
	d, err := a.Drafts.Get(ctx, id)
	if err != nil {
		return nil, notFound(err, domain.ErrRunnableNotFound)
	}
	if d.ContainerID == "" {
		return d, nil
	}
	st, err := a.Containers.Inspect(ctx, d.ContainerID)
	before := *d
	switch {
	case errors.Is(err, domain.ErrNotFound):
		d.Status = domain.StatusError
	case err != nil:
		a.Logger.Warn("inspect container", "draft", d.ID.Hex(), "err", err)
		return d, nil
	default:
		a.applyState(d, st)
	}
	if stateChanged(&before, d) {
		if err := a.Drafts.Update(ctx, d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func stateChanged(a, b *domain.Draft) bool {
	return a.Status != b.Status || !eqIntPtr(a.ExitCode, b.ExitCode) || !eqTimePtr(a.StoppedAt, b.StoppedAt) || !eqTimePtr(a.StartedAt, b.StartedAt)
}

func (a *App) applyState(d *domain.Draft, st ports.ContainerState) {
	switch {
	case st.Dead:
		d.Status = domain.StatusError
	case st.Running && st.CmdDone:
		d.Status = domain.StatusIdle
		d.ExitCode = st.ExitCode
	case st.Running:
		d.Status = domain.StatusRunning
		d.ExitCode = nil
	default:
		switch d.Status {
		case domain.StatusRunning, domain.StatusIdle:
			d.Status = domain.StatusStopped
			if !st.FinishedAt.IsZero() {
				t := st.FinishedAt.UTC().Truncate(1e6)
				d.StoppedAt = &t
			}
			if st.CmdDone {
				d.ExitCode = st.ExitCode
			}
		case domain.StatusError, domain.StatusNotCreated:
			d.Status = domain.StatusStopped
		}
	}
}

// UpdateDraft applies name, description, start_cmd, env, then running.
func (a *App) UpdateDraft(ctx context.Context, caller *domain.User, id string, in DraftInput) (*domain.Draft, error) {
	if in.Name == nil && in.Description == nil && in.StartCmd == nil && in.Env == nil && in.Running == nil {
		return nil, domain.E(domain.ErrInvalid, "must provide name, description, start_cmd, env or running")
	}
	d, err := a.writableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	var name string
	if in.Name != nil {
		if name, err = domain.ValidateName(*in.Name); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		if err := domain.ValidateDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if in.StartCmd != nil {
		if err := domain.ValidateStartCmd(*in.StartCmd); err != nil {
			return nil, err
		}
	}
	if in.Env != nil {
		if err := domain.ValidateEnv(*in.Env); err != nil {
			return nil, err
		}
	}
	unlock := a.locks.lock(d.ID)
	defer unlock()
	if d, err = a.Drafts.Get(ctx, d.ID); err != nil {
		return nil, notFound(err, domain.ErrRunnableNotFound)
	}
	if err := d.CheckMutable(); err != nil {
		return nil, err
	}
	if in.Name != nil {
		d.Name = name
	}
	if in.Description != nil {
		d.Description = *in.Description
	}
	if in.StartCmd != nil {
		d.StartCmd = *in.StartCmd
	}
	if in.Env != nil {
		d.Env = *in.Env
	}
	if err := a.Drafts.Update(ctx, d); err != nil {
		return nil, err
	}
	if in.Running != nil {
		if *in.Running {
			return a.startLocked(ctx, caller, d, false)
		}
		return a.stopLocked(ctx, d)
	}
	return a.refreshState(ctx, d.ID)
}

// DeleteDraft removes a draft, its container and its file index.
func (a *App) DeleteDraft(ctx context.Context, caller *domain.User, id string) error {
	d, unlock, err := a.lockedMutableDraft(ctx, id, func(d *domain.Draft) bool { return d.CanStop(caller) })
	if err != nil {
		return err
	}
	defer unlock()
	return a.removeDraft(ctx, d)
}

// removeDraft deletes the container first, so a failure leaves a record
// that can be retried rather than an orphan container.
func (a *App) removeDraft(ctx context.Context, d *domain.Draft) error {
	if d.ContainerID != "" {
		if err := a.Containers.Remove(ctx, d.ContainerID); err != nil {
			return err
		}
	}
	if err := a.Files.DeleteAll(ctx, d.ID); err != nil {
		return err
	}
	if err := a.Drafts.Delete(ctx, d.ID); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	return nil
}

// Start starts the draft's container, creating it when needed.
func (a *App) Start(ctx context.Context, caller *domain.User, id string) (*domain.Draft, error) {
	d, unlock, err := a.lockedWritableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return a.startLocked(ctx, caller, d, false)
}

// Restart stops the container if up, then starts it.
func (a *App) Restart(ctx context.Context, caller *domain.User, id string) (*domain.Draft, error) {
	d, unlock, err := a.lockedWritableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return a.startLocked(ctx, caller, d, true)
}

// Stop stops the container (owner or moderator).
func (a *App) Stop(ctx context.Context, caller *domain.User, id string) (*domain.Draft, error) {
	d, unlock, err := a.lockedMutableDraft(ctx, id, func(d *domain.Draft) bool { return d.CanStop(caller) })
	if err != nil {
		return nil, err
	}
	defer unlock()
	return a.stopLocked(ctx, d)
}

func (a *App) stopLocked(ctx context.Context, d *domain.Draft) (*domain.Draft, error) {
	d, err := a.refreshState(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	a.touch(d)
	if d.Running() {
		if err := a.Containers.Stop(ctx, d.ContainerID, a.cfg.StopTimeout); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
		now := a.now()
		d.StoppedAt = &now
		d.Status = domain.StatusStopped
		if st, err := a.Containers.Inspect(ctx, d.ContainerID); err == nil && st.CmdDone {
			d.ExitCode = st.ExitCode
		}
	}
	if err := a.Drafts.Update(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// startLocked starts (or restarts) d; the draft's lock is held.
func (a *App) startLocked(ctx context.Context, caller *domain.User, d *domain.Draft, restart bool) (*domain.Draft, error) {
	d, err := a.refreshState(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	a.touch(d)
	if d.Running() && !restart {
		if err := a.Drafts.Update(ctx, d); err != nil {
			return nil, err
		}
		return d, nil
	}
	if !d.Running() {
		release, err := a.admitStart(ctx, caller, d)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	if d.Running() {
		if err := a.Containers.Stop(ctx, d.ContainerID, a.cfg.StopTimeout); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
	}
	if d.Status == domain.StatusError && d.ContainerID != "" {
		if _, err := a.Containers.Inspect(ctx, d.ContainerID); errors.Is(err, domain.ErrNotFound) {
			if err := a.recreate(ctx, caller, d); err != nil {
				return nil, err
			}
		}
	}
	if err := a.ensureContainer(ctx, caller, d); err != nil {
		return nil, err
	}
	if err := a.Containers.Start(ctx, d.ContainerID, ports.RunSpec{StartCmd: d.StartCmd, Env: d.Env}); err != nil {
		return nil, err
	}
	now := a.now()
	d.StartedAt = &now
	d.ExitCode = nil
	d.Status = domain.StatusRunning
	if d.StartCmd == "" {
		d.Status = domain.StatusIdle
	}
	if err := a.Drafts.Update(ctx, d); err != nil {
		return nil, err
	}
	// the state just set is the live one; no second look at the backend
	return d, nil
}

// admission reserves capacity for starts in flight, so that concurrent
// starts cannot overshoot the caps between the check and the start.
type admission struct {
	mu      sync.Mutex
	pending map[domain.ID]domain.ID // draft → owner
}

// admitStart applies the container rate bucket and capacity caps (§1.7)
// and reserves a place until release is called (after the start).
func (a *App) admitStart(ctx context.Context, caller *domain.User, d *domain.Draft) (release func(), err error) {
	noop := func() {}
	if err := a.hitContainerRate(ctx, caller); err != nil {
		return noop, err
	}
	if a.cfg.MaxRunningPerUser <= 0 && a.cfg.MaxRunningTotal <= 0 {
		return noop, nil
	}
	a.admit.mu.Lock()
	defer a.admit.mu.Unlock()
	if err := a.checkCapacity(ctx, d); err != nil {
		return noop, err
	}
	if a.admit.pending == nil {
		a.admit.pending = map[domain.ID]domain.ID{}
	}
	a.admit.pending[d.ID] = d.Owner
	return func() {
		a.admit.mu.Lock()
		delete(a.admit.pending, d.ID)
		a.admit.mu.Unlock()
	}, nil
}

func (a *App) hitContainerRate(ctx context.Context, caller *domain.User) error {
	if a.cfg.RateLimitEnabled && a.cfg.ContainerRate.Count > 0 && a.Limiter != nil {
		res, err := a.Limiter.Hit(ctx, "container", caller.ID.Hex(), a.cfg.ContainerRate.Count, a.cfg.ContainerRate.Window)
		if err != nil {
			return err
		}
		if !res.Allowed {
			return domain.RateLimited(res.Reset)
		}
	}
	return nil
}

// checkCapacity counts running containers plus reserved starts; called
// with a.admit.mu held.
func (a *App) checkCapacity(ctx context.Context, d *domain.Draft) error {
	running, err := a.Containers.List(ctx)
	if err != nil {
		return err
	}
	busy := map[domain.ID]bool{} // drafts running or about to
	for _, c := range running {
		if c.Running && c.Draft != d.ID {
			busy[c.Draft] = true
		}
	}
	for draft := range a.admit.pending {
		if draft != d.ID {
			busy[draft] = true
		}
	}
	total := len(busy)
	if a.cfg.MaxRunningPerUser > 0 {
		owned, err := a.Drafts.ByOwners(ctx, []domain.ID{d.Owner})
		if err != nil {
			return err
		}
		n := 0
		for _, o := range owned {
			if busy[o.ID] {
				n++
			}
		}
		if n >= a.cfg.MaxRunningPerUser {
			return &domain.Error{Kind: domain.ErrTooMany, Message: "too many running runnables for this user", RetryAfter: 30}
		}
	}
	if a.cfg.MaxRunningTotal > 0 && total >= a.cfg.MaxRunningTotal {
		return &domain.Error{Kind: domain.ErrTooMany, Message: "server is at capacity", RetryAfter: 30}
	}
	return nil
}

// ensureContainer creates the draft's container when it has none. The
// draft record is written after the container exists; if that write fails
// the container is removed, so no orphan is left.
func (a *App) ensureContainer(ctx context.Context, owner *domain.User, d *domain.Draft) error {
	if d.ContainerID != "" {
		return nil
	}
	network := a.cfg.Network
	if u, err := a.Users.Get(ctx, d.Owner); err == nil && !u.Registered() {
		network = a.cfg.NetworkAnonymous
	} else if err != nil && owner != nil && owner.ID == d.Owner && !owner.Registered() {
		network = a.cfg.NetworkAnonymous
	}
	id, err := a.Containers.Create(ctx, ports.ContainerSpec{
		Image: d.BaseRef, Draft: d.ID, Owner: d.Owner, WorkDir: d.FileRoot, Env: d.Env, Network: network,
	})
	if err != nil {
		return err
	}
	d.ContainerID = id
	if d.Status == domain.StatusNotCreated || d.Status == domain.StatusError {
		d.Status = domain.StatusCreated
	}
	if err := a.Drafts.Update(ctx, d); err != nil {
		if rerr := a.Containers.Remove(context.WithoutCancel(ctx), id); rerr != nil {
			a.Logger.Error("remove container after failed draft write", "container", id, "err", rerr)
		}
		d.ContainerID = ""
		return err
	}
	return nil
}

// recreate drops a lost container's id and rebuilds the file index from
// the pinned parent version (unsaved edits are lost, spec §4.6).
func (a *App) recreate(ctx context.Context, owner *domain.User, d *domain.Draft) error {
	d.ContainerID = ""
	d.Status = domain.StatusNotCreated
	if err := a.ensureContainer(ctx, owner, d); err != nil {
		return err
	}
	_, err := a.syncLocked(ctx, d)
	return err
}

// touch records an access on d in memory; the caller writes d.
func (a *App) touch(d *domain.Draft) bool {
	return d.Touch(a.now(), a.cfg.AccessWriteInterval)
}

// touchAndStore records an access and writes it when the throttle allows.
func (a *App) touchAndStore(ctx context.Context, d *domain.Draft) {
	if !a.touch(d) {
		return
	}
	unlock := a.locks.lock(d.ID)
	defer unlock()
	cur, err := a.Drafts.Get(ctx, d.ID)
	if err != nil {
		return
	}
	cur.LastAccess = d.LastAccess
	if err := a.Drafts.Update(ctx, cur); err != nil {
		a.Logger.Warn("record access", "draft", d.ID.Hex(), "err", err)
	}
}
