package domain

import "time"

// Category is a group of channels (spec §6.4). Channels point to it with
// category tags.
type Category struct {
	ID          ID
	Name        string
	Description string
	Aliases     []string // lower-case; always includes the lower-cased name
	Created     time.Time
}

// NewCategory makes a category from a name and an optional description
// (spec §6.4): 400 "name required" without a name, the name rule, and the
// description rule.
func NewCategory(id ID, name, description *string, now time.Time) (*Category, error) {
	n, desc, err := newNamed(name, description)
	if err != nil {
		return nil, err
	}
	return &Category{ID: id, Name: n, Description: desc, Aliases: []string{Alias(n)}, Created: now}, nil
}

// NewChannelFrom makes a channel from a moderator's input (spec §6.3): 400
// "name required" without a name, the name rule, and the description rule.
func NewChannelFrom(id ID, name, description *string, now time.Time) (*Channel, error) {
	n, desc, err := newNamed(name, description)
	if err != nil {
		return nil, err
	}
	return NewChannel(id, n, desc, now), nil
}

func newNamed(name, description *string) (string, string, error) {
	if name == nil {
		return "", "", E(ErrInvalid, "name required")
	}
	n, err := ValidateTagName(*name)
	if err != nil {
		return "", "", err
	}
	var desc string
	if description != nil {
		if err := ValidateDescription(*description); err != nil {
			return "", "", err
		}
		desc = *description
	}
	return n, desc, nil
}

// Update renames and/or re-describes the category; renaming adds the new
// lower-cased name to the aliases and keeps the old ones.
func (c *Category) Update(name, description *string) error {
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

// SetAliases replaces the category's aliases; the lower-cased name is
// always kept. It returns the final list.
func (c *Category) SetAliases(values []string) ([]string, error) {
	list, err := aliasList(c.Name, values)
	if err != nil {
		return nil, err
	}
	c.Aliases = list
	return list, nil
}
