package app

import (
	"context"
	"errors"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// PageComments is how many comments the page view carries.
const PageComments = 10

// ImagePage is everything a runnable's page shows, gathered in one request
// (the seed's "view-level requests"): the image, its owner's public
// profile, its and its root's tags, the exact vote count, whether the
// caller voted, and the first comments.
type ImagePage struct {
	Image *domain.Image
	// Owner is nil when the owner was deleted.
	Owner *UserInfo
	// RootTags are the tags of the image's root, the tags it derives from
	// (nil when the image is a root or the root is gone).
	RootTags []domain.Tag
	Votes    int
	// Vote is the caller's vote for the image, nil when none.
	Vote          *domain.Vote
	Comments      []CommentInfo
	CommentsTotal int
}

// GetImagePage gathers the page view of an image (any caller who may see
// the image).
func (a *App) GetImagePage(ctx context.Context, caller *domain.User, id string) (*ImagePage, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	pg := &ImagePage{Image: img}
	if u, err := a.Users.Get(ctx, img.Owner); err == nil && !u.Deleted {
		if pg.Owner, err = a.userInfo(ctx, u); err != nil {
			return nil, err
		}
	} else if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	if !img.Root.IsZero() {
		root, err := a.Images.Get(ctx, img.Root)
		switch {
		case err == nil && root.Visible(caller):
			pg.RootTags = root.Tags
		case err != nil && !errors.Is(err, domain.ErrNotFound):
			return nil, err
		}
	}
	if pg.Votes, err = a.Votes.CountByImage(ctx, img.ID); err != nil {
		return nil, err
	}
	switch v, err := a.Votes.Find(ctx, caller.ID, img.ID); {
	case err == nil:
		pg.Vote = v
	case !errors.Is(err, domain.ErrNotFound):
		return nil, err
	}
	pg.Comments, pg.CommentsTotal, err = a.comments(ctx, img.ID, ports.Page{Limit: PageComments})
	if err != nil {
		return nil, err
	}
	return pg, nil
}
