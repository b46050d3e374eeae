package app

import (
	"context"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// CommentInfo is a comment with its author as they are now.
type CommentInfo struct {
	*domain.Comment
	Author *domain.User
}

// ListComments lists an image's comments, oldest first, leaving out those
// of deleted users from the page and the total (spec §7.3).
func (a *App) ListComments(ctx context.Context, caller *domain.User, id string, p ports.Page) ([]CommentInfo, int, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return nil, 0, err
	}
	return a.comments(ctx, img.ID, p)
}

func (a *App) comments(ctx context.Context, image domain.ID, p ports.Page) ([]CommentInfo, int, error) {
	authorIDs, err := a.Comments.Authors(ctx, image)
	if err != nil {
		return nil, 0, err
	}
	live := map[domain.ID]*domain.User{}
	if len(authorIDs) > 0 {
		users, _, err := a.Users.List(ctx, authorIDs, "", ports.Page{})
		if err != nil {
			return nil, 0, err
		}
		for _, u := range users {
			live[u.ID] = u
		}
	}
	q := ports.CommentQuery{Image: image, Page: p}
	for _, id := range authorIDs {
		if live[id] == nil {
			q.ExcludeAuthors = append(q.ExcludeAuthors, id)
		}
	}
	cs, total, err := a.Comments.List(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	out := make([]CommentInfo, 0, len(cs))
	for _, c := range cs {
		if u := live[c.Author]; u != nil {
			out = append(out, CommentInfo{Comment: c, Author: u})
		}
	}
	return out, total, nil
}

// PostComment comments on an image (registered callers).
func (a *App) PostComment(ctx context.Context, caller *domain.User, id string, text *string) (*CommentInfo, error) {
	if err := domain.CanComment(caller); err != nil {
		return nil, err
	}
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	c, err := domain.NewComment(a.IDs.NewID(), img.ID, caller, text, a.now())
	if err != nil {
		return nil, err
	}
	if err := a.Comments.Create(ctx, c); err != nil {
		return nil, err
	}
	return &CommentInfo{Comment: c, Author: caller}, nil
}

// GetComment returns one comment of an image; a deleted author's comment
// is "comment not found".
func (a *App) GetComment(ctx context.Context, caller *domain.User, id, commentID string) (*CommentInfo, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	return a.loadComment(ctx, img.ID, commentID)
}

func (a *App) loadComment(ctx context.Context, image domain.ID, commentID string) (*CommentInfo, error) {
	cid, ok := domain.ParseHex(commentID)
	if !ok {
		return nil, domain.ErrCommentNotFound
	}
	c, err := a.Comments.Get(ctx, cid)
	if err != nil {
		return nil, notFound(err, domain.ErrCommentNotFound)
	}
	if c.Image != image {
		return nil, domain.ErrCommentNotFound
	}
	u, err := a.Users.Get(ctx, c.Author)
	if err != nil {
		return nil, notFound(err, domain.ErrCommentNotFound)
	}
	if u.Deleted {
		return nil, domain.ErrCommentNotFound
	}
	return &CommentInfo{Comment: c, Author: u}, nil
}

// DeleteComment deletes a comment (its author or a moderator).
func (a *App) DeleteComment(ctx context.Context, caller *domain.User, id, commentID string) error {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return err
	}
	c, err := a.loadComment(ctx, img.ID, commentID)
	if err != nil {
		return err
	}
	if err := c.CanDelete(caller); err != nil {
		return err
	}
	return notFound(a.Comments.Delete(ctx, c.ID), domain.ErrCommentNotFound)
}
