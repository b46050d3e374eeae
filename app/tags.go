package app

import (
	"context"
	"errors"

	"github.com/runnable/runnable/domain"
)

// Tags on images and drafts (spec §6.2). Each use case checks, in the
// order of spec §1.5: level, the runnable named in the path, ownership,
// the input, then conflicts; the store applies the change atomically.

// ListImageTags returns an image's tags (any caller).
func (a *App) ListImageTags(ctx context.Context, caller *domain.User, id string) ([]domain.Tag, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	return img.Tags, nil
}

// GetImageTag returns one tag of an image (any caller).
func (a *App) GetImageTag(ctx context.Context, caller *domain.User, id, tagID string) (domain.Tag, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return domain.Tag{}, err
	}
	return findTag(img.Tags, tagID)
}

// TagImage tags an image with the channel called name, creating the
// channel when no alias matches (registered and owner or moderator). name
// is nil when the body has no name.
func (a *App) TagImage(ctx context.Context, caller *domain.User, id string, name *string) (domain.Tag, error) {
	if err := domain.RequireRegistered(caller); err != nil {
		return domain.Tag{}, err
	}
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return domain.Tag{}, err
	}
	if err := domain.CanTag(caller, img.Owner); err != nil {
		return domain.Tag{}, err
	}
	tag, err := a.newTag(ctx, img.Tags, name)
	if err != nil {
		return domain.Tag{}, err
	}
	// The image lock keeps this process's whole-image writers (the save
	// job, renames) from overwriting the new tag with an older copy.
	unlock := a.locks.lock(img.ID)
	defer unlock()
	if err := a.ImageTags.AddTag(ctx, img.ID, tag, domain.MaxTags); err != nil {
		return domain.Tag{}, notFound(err, domain.ErrRunnableNotFound)
	}
	return tag, nil
}

// UntagImage removes a tag from an image (owner or moderator).
func (a *App) UntagImage(ctx context.Context, caller *domain.User, id, tagID string) error {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return err
	}
	if err := domain.CanUntag(caller, img.Owner); err != nil {
		return err
	}
	tag, err := findTag(img.Tags, tagID)
	if err != nil {
		return err
	}
	unlock := a.locks.lock(img.ID)
	defer unlock()
	return a.tagGone(a.ImageTags.RemoveTag(ctx, img.ID, tag.ID))
}

// ListDraftTags returns a draft's tags (owner or moderator).
func (a *App) ListDraftTags(ctx context.Context, caller *domain.User, id string) ([]domain.Tag, error) {
	d, err := a.readableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	return d.Tags, nil
}

// GetDraftTag returns one tag of a draft (owner or moderator).
func (a *App) GetDraftTag(ctx context.Context, caller *domain.User, id, tagID string) (domain.Tag, error) {
	d, err := a.readableDraft(ctx, caller, id)
	if err != nil {
		return domain.Tag{}, err
	}
	return findTag(d.Tags, tagID)
}

// TagDraft tags a draft (registered and owner or moderator). userPath is
// the :userId of the /users/:userId/runnables form ("" for none); its rule
// (spec §4.2) is checked after the level, as spec §1.5 orders.
func (a *App) TagDraft(ctx context.Context, caller *domain.User, userPath, id string, name *string) (domain.Tag, error) {
	if err := domain.RequireRegistered(caller); err != nil {
		return domain.Tag{}, err
	}
	if userPath != "" {
		if _, err := a.DraftOwnerPath(ctx, caller, userPath); err != nil {
			return domain.Tag{}, err
		}
	}
	d, err := a.loadDraft(ctx, id)
	if err != nil {
		return domain.Tag{}, err
	}
	if err := domain.CanTag(caller, d.Owner); err != nil {
		return domain.Tag{}, err
	}
	tag, err := a.newTag(ctx, d.Tags, name)
	if err != nil {
		return domain.Tag{}, err
	}
	unlock := a.locks.lock(d.ID)
	defer unlock()
	if err := a.DraftTags.AddTag(ctx, d.ID, tag, domain.MaxTags); err != nil {
		return domain.Tag{}, notFound(err, domain.ErrRunnableNotFound)
	}
	return tag, nil
}

// UntagDraft removes a tag from a draft (owner or moderator).
func (a *App) UntagDraft(ctx context.Context, caller *domain.User, id, tagID string) error {
	d, err := a.loadDraft(ctx, id)
	if err != nil {
		return err
	}
	if err := domain.CanUntag(caller, d.Owner); err != nil {
		return err
	}
	tag, err := findTag(d.Tags, tagID)
	if err != nil {
		return err
	}
	unlock := a.locks.lock(d.ID)
	defer unlock()
	return a.tagGone(a.DraftTags.RemoveTag(ctx, d.ID, tag.ID))
}

// newTag validates the name, refuses an eleventh tag before touching any
// channel, then finds or creates the channel and checks for a duplicate.
func (a *App) newTag(ctx context.Context, tags []domain.Tag, name *string) (domain.Tag, error) {
	if name == nil {
		return domain.Tag{}, domain.ErrTagNameMissing
	}
	if _, err := domain.ValidateTagName(*name); err != nil {
		return domain.Tag{}, err
	}
	if len(tags) >= domain.MaxTags {
		return domain.Tag{}, domain.ErrTooManyTags
	}
	ch, err := a.EnsureChannel(ctx, *name)
	if err != nil {
		return domain.Tag{}, err
	}
	return domain.NewTag(tags, ch, a.IDs.NewID())
}

// tagGone maps a store's "not found" on removal: the tag or the runnable
// went away meanwhile.
func (a *App) tagGone(err error) error {
	if err == nil || !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	if msg, _ := domain.PublicMessage(err); msg == "tag not found" {
		return domain.ErrTagNotFound
	}
	return domain.ErrRunnableNotFound
}

func findTag(tags []domain.Tag, tagID string) (domain.Tag, error) {
	id, ok := domain.ParseHex(tagID)
	if !ok {
		return domain.Tag{}, domain.ErrTagNotFound
	}
	return domain.FindTag(tags, id)
}
