package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Channel is a tag name shared by runnables, with aliases and category
// tags (spec §6.1).
type Channel struct {
	ID          ID
	Name        string
	Description string
	Aliases     []string // lower-case; always includes the lower-cased name
	Tags        []CategoryTag
	Created     time.Time
}

// CategoryTag is a category tag on a channel.
type CategoryTag struct {
	ID       ID
	Category ID
	Name     string
}

// ValidateTagName trims and checks a channel, category or tag name.
func ValidateTagName(name string) (string, error) {
	n := strings.TrimSpace(name)
	c := utf8.RuneCountInString(n)
	bad := c < 1 || c > 50
	for _, r := range n {
		if unicode.IsControl(r) {
			bad = true
		}
	}
	if bad {
		return "", E(ErrInvalid, "name must be 1 to 50 characters")
	}
	return n, nil
}

// NewChannel makes a channel whose aliases hold its lower-cased name.
func NewChannel(id ID, name, description string, now time.Time) *Channel {
	return &Channel{ID: id, Name: name, Description: description, Aliases: []string{strings.ToLower(name)}, Created: now}
}

// HasTagOn reports whether tags already include channel.
func HasTagOn(tags []Tag, channel ID) bool {
	for _, t := range tags {
		if t.Channel == channel {
			return true
		}
	}
	return false
}
