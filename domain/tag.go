package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTags is how many tags an image or a draft may carry (spec §6.2).
const MaxTags = 10

// MaxAliases is how many aliases a PUT of aliases may send (spec §6.3).
const MaxAliases = 20

// Contract errors of tags, channels and categories (spec §6).
var (
	ErrTagNotFound      = E(ErrNotFound, "tag not found")
	ErrChannelNotFound  = E(ErrNotFound, "channel not found")
	ErrCategoryNotFound = E(ErrNotFound, "category not found")
	ErrTagNameMissing   = E(ErrInvalid, "tag must include a name field")
	ErrTooManyTags      = E(ErrInvalid, "too many tags")
	ErrBadAliases       = E(ErrInvalid, "aliases must be an array of strings")
	ErrChannelNameTaken = E(ErrConflict, "channel with name already exists")
	ErrChannelAlias     = E(ErrConflict, "channel with alias already exists")
	ErrCategoryTaken    = E(ErrConflict, "category with name already exists")
	ErrCategoryAlias    = E(ErrConflict, "category with alias already exists")
)

// RequireRegistered checks the level that tagging and commenting need:
// registered (level >= 1), else 403 "permission denied".
func RequireRegistered(caller *User) error {
	if caller == nil || !caller.Registered() {
		return ErrPermissionDenied
	}
	return nil
}

// CanTag checks that caller may add tags to a runnable owned by owner:
// registered, and the owner or a moderator (spec §6.2). Anonymous owners
// may not tag even their own runnables.
func CanTag(caller *User, owner ID) error {
	if err := RequireRegistered(caller); err != nil {
		return err
	}
	return CanUntag(caller, owner)
}

// CanUntag checks that caller may remove tags from a runnable owned by
// owner: the owner or a moderator (spec §6.2).
func CanUntag(caller *User, owner ID) error {
	if caller == nil || (caller.ID != owner && !caller.IsModerator()) {
		return ErrPermissionDenied
	}
	return nil
}

// NewTag makes the tag on ch that a runnable holding tags would get (spec
// §6.2): at most MaxTags tags (400 "too many tags"), one per channel (409
// "runnable already tagged with <channel name>").
func NewTag(tags []Tag, ch *Channel, id ID) (Tag, error) {
	if len(tags) >= MaxTags {
		return Tag{}, ErrTooManyTags
	}
	if HasTagOn(tags, ch.ID) {
		return Tag{}, AlreadyTagged(ch.Name)
	}
	return Tag{ID: id, Channel: ch.ID, Name: ch.Name}, nil
}

// AlreadyTagged is the 409 of tagging a runnable twice with one channel.
func AlreadyTagged(channelName string) *Error {
	return Ef(ErrConflict, "runnable already tagged with %s", channelName)
}

// FindTag returns the tag with id, or 404 "tag not found".
func FindTag(tags []Tag, id ID) (Tag, error) {
	for _, t := range tags {
		if t.ID == id {
			return t, nil
		}
	}
	return Tag{}, ErrTagNotFound
}

// Alias normalises a name or alias for lookups: trimmed and lower-cased.
func Alias(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// aliasList builds an alias list (spec §6.3): the lower-cased name first,
// then values trimmed, lower-cased and de-duplicated. Values must be at most
// MaxAliases strings of 1 to 50 characters without control characters;
// empty ones are dropped.
func aliasList(name string, values []string) ([]string, error) {
	if len(values) > MaxAliases {
		return nil, ErrBadAliases
	}
	out := []string{Alias(name)}
	seen := map[string]bool{out[0]: true}
	for _, v := range values {
		a := Alias(v)
		if a == "" {
			continue
		}
		if utf8.RuneCountInString(a) > 50 || strings.IndexFunc(a, unicode.IsControl) >= 0 {
			return nil, ErrBadAliases
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// addAlias returns aliases with the lower-cased name added once.
func addAlias(aliases []string, name string) []string {
	a := Alias(name)
	for _, x := range aliases {
		if x == a {
			return aliases
		}
	}
	return append(aliases, a)
}

// SetAliases replaces the channel's aliases (spec §6.3); the lower-cased
// name is always kept. It returns the final list.
func (c *Channel) SetAliases(values []string) ([]string, error) {
	list, err := aliasList(c.Name, values)
	if err != nil {
		return nil, err
	}
	c.Aliases = list
	return list, nil
}

// Update renames and/or re-describes the channel (spec §6.3). Renaming adds
// the new lower-cased name to the aliases and keeps the old ones.
func (c *Channel) Update(name, description *string) error {
	if name == nil && description == nil {
		return E(ErrInvalid, "must provide name or description")
	}
	if name != nil {
		n, err := ValidateTagName(*name)
		if err != nil {
			return err
		}
		c.Name = n
		c.Aliases = addAlias(c.Aliases, n)
	}
	if description != nil {
		if err := ValidateDescription(*description); err != nil {
			return err
		}
		c.Description = *description
	}
	return nil
}

// AddCategoryTag tags the channel with cat (spec §6.3): 409 "channel
// already tagged with <category name>" when it already is.
func (c *Channel) AddCategoryTag(cat *Category, id ID) (CategoryTag, error) {
	for _, t := range c.Tags {
		if t.Category == cat.ID {
			return CategoryTag{}, Ef(ErrConflict, "channel already tagged with %s", cat.Name)
		}
	}
	t := CategoryTag{ID: id, Category: cat.ID, Name: cat.Name}
	c.Tags = append(c.Tags, t)
	return t, nil
}

// CategoryTag returns the category tag with id, or 404 "tag not found".
func (c *Channel) CategoryTag(id ID) (CategoryTag, error) {
	for _, t := range c.Tags {
		if t.ID == id {
			return t, nil
		}
	}
	return CategoryTag{}, ErrTagNotFound
}

// RemoveCategoryTag removes the category tag with id, or answers 404 "tag
// not found".
func (c *Channel) RemoveCategoryTag(id ID) error {
	for i, t := range c.Tags {
		if t.ID == id {
			c.Tags = append(c.Tags[:i:i], c.Tags[i+1:]...)
			return nil
		}
	}
	return ErrTagNotFound
}

// CanManageChannels reports whether caller may create, change and delete
// channels and categories: moderators only (spec §1.3).
func CanManageChannels(caller *User) error {
	if caller == nil || !caller.IsModerator() {
		return ErrPermissionDenied
	}
	return nil
}
