package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// ImageListInput is the parsed query of GET /runnables (spec §3.3).
type ImageListInput struct {
	Published *bool
	Channels  []string // nil: no filter
	Owner     string   // hex id or "me"
	Parent    string
	Search    string
	Sort      string
	ports.Page
}

var sorts = map[string]string{
	"": "-created", "-created": "-created", "created": "created",
	"votes": "votes", "-votes": "votes", "runs": "runs", "-runs": "runs",
	"views": "views", "-views": "views", "trending": "trending",
}

// ListImages lists images (version >= 1) with the filters combined.
func (a *App) ListImages(ctx context.Context, caller *domain.User, in ImageListInput) ([]*domain.Image, int, error) {
	q := ports.ImageQuery{Published: in.Published, Page: in.Page}
	sort, ok := sorts[in.Sort]
	if !ok {
		return nil, 0, domain.E(domain.ErrInvalid, "sort must be one of votes, -created, created, runs, views, trending")
	}
	q.Sort = sort
	if in.Owner != "" {
		if in.Owner == "me" {
			q.Owner = caller.ID
		} else if id, ok := domain.ParseHex(in.Owner); ok {
			q.Owner = id
		} else {
			return nil, 0, domain.E(domain.ErrInvalid, "owner must be a user id or me")
		}
	}
	if in.Parent != "" {
		id, ok := domain.ParseRunnableID(in.Parent)
		if !ok {
			return nil, 0, domain.E(domain.ErrInvalid, "parent must be a runnable id")
		}
		q.Parent = id
	}
	if in.Search != "" {
		if n := len([]rune(in.Search)); n > 100 {
			return nil, 0, domain.E(domain.ErrInvalid, "search must be 1 to 100 characters")
		}
		q.Search = strings.Fields(in.Search)
	}
	if in.Channels != nil {
		ids, err := a.channelIDs(ctx, in.Channels)
		if err != nil {
			return nil, 0, err
		}
		q.Channels = ids
	}
	if sort == "trending" {
		return a.trending(ctx, q)
	}
	return a.Images.List(ctx, q)
}

// channelIDs resolves channel names through aliases; unknown names
// contribute nothing, so the result may be an empty non-nil slice.
func (a *App) channelIDs(ctx context.Context, names []string) ([]domain.ID, error) {
	ids := []domain.ID{}
	for _, n := range names {
		ch, err := a.Channels.FindByAlias(ctx, strings.ToLower(strings.TrimSpace(n)))
		if errors.Is(err, domain.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, ch.ID)
	}
	return ids, nil
}

// trending sorts by the feed score (spec §7.4) computed now.
func (a *App) trending(ctx context.Context, q ports.ImageQuery) ([]*domain.Image, int, error) {
	page := q.Page
	q.Page = ports.Page{Limit: 0}
	all, total, err := a.Images.List(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	now := a.now()
	domain.SortByScore(all, now)
	start := page.Page * page.Limit
	if start >= len(all) {
		return []*domain.Image{}, total, nil
	}
	end := start + page.Limit
	if end > len(all) || page.Limit == 0 {
		end = len(all)
	}
	return all[start:end], total, nil
}

// loadImage finds an image the caller can see; drafts, malformed ids and
// hidden version-0 images are "runnable not found".
func (a *App) loadImage(ctx context.Context, caller *domain.User, id string) (*domain.Image, error) {
	iid, ok := domain.ParseRunnableID(id)
	if !ok {
		return nil, domain.ErrRunnableNotFound
	}
	img, err := a.Images.Get(ctx, iid)
	if err != nil {
		return nil, notFound(err, domain.ErrRunnableNotFound)
	}
	if !img.Visible(caller) {
		return nil, domain.ErrRunnableNotFound
	}
	return img, nil
}

// GetImage returns one image.
func (a *App) GetImage(ctx context.Context, caller *domain.User, id string) (*domain.Image, error) {
	return a.loadImage(ctx, caller, id)
}

// OwnerUsername returns the username shown as owner_username: "" for
// anonymous or deleted owners.
func (a *App) OwnerUsername(ctx context.Context, owner domain.ID) string {
	u, err := a.Users.Get(ctx, owner)
	if err != nil || u.Deleted || !u.Registered() {
		return ""
	}
	return u.Username
}

// CreateFromTemplate makes the caller's first runnable from a template
// (spec §3.6).
func (a *App) CreateFromTemplate(ctx context.Context, caller *domain.User, name, description, template *string) (*domain.Image, error) {
	tname := a.cfg.DefaultTemplate
	if template != nil && *template != "" {
		tname = *template
	}
	tpl, err := a.Images.FindByName(ctx, tname)
	if err != nil || !tpl.Template || tpl.Version < 1 {
		if err == nil || errors.Is(err, domain.ErrNotFound) {
			return nil, domain.E(domain.ErrNotFound, "template not found")
		}
		return nil, err
	}
	var desc string
	if description != nil {
		if err := domain.ValidateDescription(*description); err != nil {
			return nil, err
		}
		desc = *description
	} else {
		desc = tpl.Description
	}
	if err := a.checkImageQuota(ctx, caller.ID); err != nil {
		return nil, err
	}
	now := a.now()
	img := &domain.Image{
		ID: a.IDs.NewID(), Description: desc, Owner: caller.ID, Parent: tpl.ID, Root: tpl.RootOrSelf(),
		Version: 1, Status: domain.ImageReady, StartCmd: tpl.StartCmd, Env: copyEnv(tpl.Env), FileRoot: tpl.FileRoot,
		Created: now, Updated: now, Ref: tpl.Ref,
	}
	files, err := a.Files.List(ctx, tpl.ID)
	if err != nil {
		return nil, err
	}
	var name1 string
	if name != nil {
		if name1, err = domain.ValidateName(*name); err != nil {
			return nil, err
		}
	}
	// the index first: once the image is listed, a fork copies its index
	for i := range files {
		files[i].Runnable = img.ID
	}
	if err := a.Files.Replace(ctx, img.ID, files); err != nil {
		return nil, err
	}
	if err := a.createNamed(ctx, img, name1, tpl.Name); err != nil {
		_ = a.Files.DeleteAll(context.WithoutCancel(ctx), img.ID)
		return nil, err
	}
	return img, nil
}

// createNamed inserts img under name, or, when name is "", under the
// first free "<base> (n)".
func (a *App) createNamed(ctx context.Context, img *domain.Image, name, base string) error {
	if name != "" {
		img.Name = name
		return a.Images.Create(ctx, img)
	}
	for n := 1; n <= 10000; n++ {
		img.Name = fmt.Sprintf("%s (%d)", base, n)
		err := a.Images.Create(ctx, img)
		if err == nil || !errors.Is(err, domain.ErrConflict) {
			return err
		}
	}
	return domain.ErrNameTaken
}

func copyEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

func (a *App) checkImageQuota(ctx context.Context, owner domain.ID) error {
	if a.cfg.MaxImagesPerUser <= 0 {
		return nil
	}
	n, _, err := a.Images.CountByOwner(ctx, owner)
	if err != nil {
		return err
	}
	if n >= a.cfg.MaxImagesPerUser {
		return domain.E(domain.ErrForbidden, "image limit reached")
	}
	return nil
}

// UpdateImage renames or re-describes an image (owner or moderator).
func (a *App) UpdateImage(ctx context.Context, caller *domain.User, id string, name, description *string) (*domain.Image, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if !img.CanModify(caller) {
		return nil, domain.ErrPermissionDenied
	}
	if name == nil && description == nil {
		return nil, domain.E(domain.ErrInvalid, "must provide name or description")
	}
	unlock := a.locks.lock(img.ID)
	defer unlock()
	if img, err = a.Images.Get(ctx, img.ID); err != nil {
		return nil, notFound(err, domain.ErrRunnableNotFound)
	}
	if name != nil {
		n, err := domain.ValidateName(*name)
		if err != nil {
			return nil, err
		}
		img.Name = n
	}
	if description != nil {
		if err := domain.ValidateDescription(*description); err != nil {
			return nil, err
		}
		img.Description = *description
	}
	img.Updated = a.now()
	if err := a.Images.Update(ctx, img); err != nil {
		return nil, err
	}
	return img, nil
}

// DeleteImage removes an image and its index; drafts targeting it become
// unsaved (spec §3.5).
func (a *App) DeleteImage(ctx context.Context, caller *domain.User, id string) error {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return err
	}
	if !img.CanModify(caller) {
		return domain.ErrPermissionDenied
	}
	unlock := a.locks.lock(img.ID)
	defer unlock()
	if img, err = a.Images.Get(ctx, img.ID); err != nil {
		return notFound(err, domain.ErrRunnableNotFound)
	}
	if img.Status == domain.ImageSaving {
		return domain.ErrSaveInProgress
	}
	if err := a.Images.Delete(ctx, img.ID); err != nil {
		return notFound(err, domain.ErrRunnableNotFound)
	}
	if err := a.Drafts.ClearTarget(ctx, img.ID); err != nil {
		a.Logger.Error("clear targets of deleted image", "image", img.ID.Hex(), "err", err)
	}
	if err := a.Files.DeleteAll(ctx, img.ID); err != nil {
		a.Logger.Error("delete file index of deleted image", "image", img.ID.Hex(), "err", err)
	}
	a.forgetImage(ctx, img.ID)
	return nil
}
