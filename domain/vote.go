package domain

import "time"

// Vote is one user's vote for an image (spec §7.1). A user votes at most
// once per image.
type Vote struct {
	ID      ID
	User    ID
	Image   ID
	Created time.Time
}

// Contract errors of votes (spec §7.1).
var (
	ErrVoteNotFound  = E(ErrNotFound, "vote not found")
	ErrVoteMissing   = E(ErrInvalid, "must include runnable to vote on")
	ErrVoteOwn       = E(ErrForbidden, "cannot vote for own runnables")
	ErrVotedTwice    = E(ErrConflict, "cannot vote on runnable more than once")
	ErrNotAValidStat = E(ErrInvalid, "not a valid stat")
)

// Vote makes by's vote for the image (spec §7.1). Only listed images
// (version >= 1) can be voted for, and never by their owner.
func (img *Image) Vote(by *User, id ID, now time.Time) (*Vote, error) {
	if img.Version < 1 {
		return nil, ErrRunnableNotFound
	}
	if by.ID == img.Owner {
		return nil, ErrVoteOwn
	}
	return &Vote{ID: id, User: by.ID, Image: img.ID, Created: now}, nil
}

// CanRemove checks that by cast the vote; anyone else's removal answers
// 404 "vote not found", as if the vote did not exist.
func (v *Vote) CanRemove(by *User) error {
	if by == nil || by.ID != v.User {
		return ErrVoteNotFound
	}
	return nil
}

// CanSeeVotes checks that caller may list user's votes: the user or a
// moderator.
func CanSeeVotes(caller, user *User) error {
	if caller == nil || (caller.ID != user.ID && !caller.IsModerator()) {
		return ErrPermissionDenied
	}
	return nil
}

// CheckStat validates a stat name (spec §7.2): 400 "not a valid stat".
func CheckStat(name string) error {
	if !ValidStat(name) {
		return ErrNotAValidStat
	}
	return nil
}
