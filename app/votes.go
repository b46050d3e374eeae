package app

import (
	"context"
	"errors"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// ListVotes lists a user's votes, newest first (the user or a moderator).
// userPath is "me" or a user's hex id.
func (a *App) ListVotes(ctx context.Context, caller *domain.User, userPath string, p ports.Page) ([]*domain.Vote, int, error) {
	u, err := a.ResolveUser(ctx, caller, userPath)
	if err != nil {
		return nil, 0, err
	}
	if err := domain.CanSeeVotes(caller, u); err != nil {
		return nil, 0, err
	}
	return a.Votes.ListByUser(ctx, u.ID, p)
}

// Vote records the caller's vote for the image named by runnable, in
// either id form (spec §7.1). runnable is nil when the body has none. The
// image's votes counter moves with the stored vote.
func (a *App) Vote(ctx context.Context, caller *domain.User, runnable *string) (*domain.Vote, error) {
	if runnable == nil || *runnable == "" {
		return nil, domain.ErrVoteMissing
	}
	id, ok := domain.ParseRunnableID(*runnable)
	if !ok {
		return nil, domain.ErrRunnableNotFound
	}
	img, err := a.Images.Get(ctx, id)
	if err != nil {
		return nil, notFound(err, domain.ErrRunnableNotFound)
	}
	v, err := img.Vote(caller, a.IDs.NewID(), a.now())
	if err != nil {
		return nil, err
	}
	if err := a.Votes.Create(ctx, v); err != nil {
		return nil, conflict(err, domain.ErrVotedTwice)
	}
	if _, _, err := a.Images.AddStat(ctx, img.ID, "votes", 1); err != nil {
		// Keep the counter equal to the stored votes: undo the vote.
		if derr := a.Votes.Delete(context.WithoutCancel(ctx), v.ID); derr != nil {
			a.Logger.Error("undo vote after counter failure", "vote", v.ID.Hex(), "err", derr)
		}
		return nil, notFound(err, domain.ErrRunnableNotFound)
	}
	return v, nil
}

// RemoveVote deletes one of the caller's votes; anyone else's vote is
// "vote not found".
func (a *App) RemoveVote(ctx context.Context, caller *domain.User, voteID string) error {
	id, ok := domain.ParseHex(voteID)
	if !ok {
		return domain.ErrVoteNotFound
	}
	v, err := a.Votes.Get(ctx, id)
	if err != nil {
		return notFound(err, domain.ErrVoteNotFound)
	}
	if err := v.CanRemove(caller); err != nil {
		return err
	}
	if err := a.Votes.Delete(ctx, v.ID); err != nil {
		return notFound(err, domain.ErrVoteNotFound) // a concurrent removal won
	}
	_, _, err = a.Images.AddStat(context.WithoutCancel(ctx), v.Image, "votes", -1)
	if errors.Is(err, domain.ErrNotFound) {
		return nil // the image went away meanwhile
	}
	return err
}

// CountVotes returns the exact number of votes stored for an image.
func (a *App) CountVotes(ctx context.Context, caller *domain.User, id string) (int, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return 0, err
	}
	return a.Votes.CountByImage(ctx, img.ID)
}

// StatCounts are an image's and the caller's counter of one stat.
type StatCounts struct {
	Image, User int
}

// GetStat reads a stat of an image and of the caller (spec §7.2).
func (a *App) GetStat(ctx context.Context, caller *domain.User, id, stat string) (StatCounts, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return StatCounts{}, err
	}
	if err := domain.CheckStat(stat); err != nil {
		return StatCounts{}, err
	}
	return StatCounts{Image: img.Stats.Get(stat), User: caller.Stats.Get(stat)}, nil
}

// AddStat adds 1 to a stat of an image and of the caller, each atomically,
// and returns both new values.
func (a *App) AddStat(ctx context.Context, caller *domain.User, id, stat string) (StatCounts, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return StatCounts{}, err
	}
	if err := domain.CheckStat(stat); err != nil {
		return StatCounts{}, err
	}
	is, _, err := a.Images.AddStat(ctx, img.ID, stat, 1)
	if err != nil {
		return StatCounts{}, notFound(err, domain.ErrRunnableNotFound)
	}
	us, err := a.Users.AddStat(ctx, caller.ID, stat, 1)
	if err != nil {
		return StatCounts{}, err
	}
	return StatCounts{Image: is.Get(stat), User: us.Get(stat)}, nil
}

// forgetImage removes what points at a deleted image: its votes and
// comments (spec §3.5). Failures are logged; the image is already gone.
func (a *App) forgetImage(ctx context.Context, id domain.ID) {
	ctx = context.WithoutCancel(ctx)
	if a.Votes != nil {
		if _, err := a.Votes.DeleteByImage(ctx, id); err != nil {
			a.Logger.Error("delete votes of deleted image", "image", id.Hex(), "err", err)
		}
	}
	if a.Comments != nil {
		if _, err := a.Comments.DeleteByImage(ctx, id); err != nil {
			a.Logger.Error("delete comments of deleted image", "image", id.Hex(), "err", err)
		}
	}
}
