package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// MaxCommentLength is the longest comment text, in characters.
const MaxCommentLength = 2000

// Comment is a comment on an image (spec §7.3). It points to its author;
// the author's name and gravatar are read when it is shown, and a deleted
// author's comments are hidden.
type Comment struct {
	ID      ID
	Image   ID
	Author  ID
	Text    string
	Created time.Time
}

// ErrCommentNotFound is the 404 of comments.
var ErrCommentNotFound = E(ErrNotFound, "comment not found")

// CanComment checks the level needed to comment: registered (spec §7.3).
func CanComment(caller *User) error { return RequireRegistered(caller) }

// NewComment makes author's comment on image. text is trimmed and must
// then be 1 to MaxCommentLength characters; nil means the field was absent.
func NewComment(id, image ID, author *User, text *string, now time.Time) (*Comment, error) {
	if err := CanComment(author); err != nil {
		return nil, err
	}
	if text == nil {
		return nil, E(ErrInvalid, "comment must include a text field")
	}
	t := strings.TrimSpace(*text)
	if t == "" {
		return nil, E(ErrInvalid, "comment must include a text field")
	}
	if utf8.RuneCountInString(t) > MaxCommentLength {
		return nil, Ef(ErrInvalid, "comment must be at most %d characters", MaxCommentLength)
	}
	return &Comment{ID: id, Image: image, Author: author.ID, Text: t, Created: now}, nil
}

// CanDelete checks that by may delete the comment: its author or a
// moderator.
func (c *Comment) CanDelete(by *User) error {
	if by == nil || (by.ID != c.Author && !by.IsModerator()) {
		return ErrPermissionDenied
	}
	return nil
}
