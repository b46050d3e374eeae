package domain_test

import (
	"strings"
	"testing"

	"github.com/runnable/runnable/domain"
)

func TestNewComment(t *testing.T) {
	img := domain.ID{0x1a}
	tests := []struct {
		name     string
		by       *domain.User
		text     *string
		wantText string
		wantErr  error
		wantMsg  string
	}{
		{"registered", stranger, strp("nice"), "nice", nil, ""},
		{"trimmed", stranger, strp("  nice \n"), "nice", nil, ""},
		{"exactly 2000 characters", stranger, strp(strings.Repeat("é", 2000)), strings.Repeat("é", 2000), nil, ""},
		{"2000 after trimming", stranger, strp(" " + strings.Repeat("a", 2000) + " "), strings.Repeat("a", 2000), nil, ""},
		{"anonymous", anonElse, strp("nice"), "", domain.ErrForbidden, "permission denied"},
		{"anonymous without text is still forbidden", anonElse, nil, "", domain.ErrForbidden, "permission denied"},
		{"no text", stranger, nil, "", domain.ErrInvalid, "comment must include a text field"},
		{"blank text", stranger, strp(" \t "), "", domain.ErrInvalid, "comment must include a text field"},
		{"too long", stranger, strp(strings.Repeat("a", 2001)), "", domain.ErrInvalid, "comment must be at most 2000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := domain.NewComment(domain.ID{0x33}, img, tt.by, tt.text, now)
			checkErr(t, err, tt.wantErr, tt.wantMsg)
			if err != nil {
				return
			}
			want := domain.Comment{ID: domain.ID{0x33}, Image: img, Author: tt.by.ID, Text: tt.wantText, Created: now}
			if *c != want {
				t.Fatalf("got %+v, want %+v", *c, want)
			}
		})
	}
}

func TestCommentCanDelete(t *testing.T) {
	c := &domain.Comment{ID: domain.ID{0x33}, Author: otherID}
	tests := []struct {
		name string
		by   *domain.User
		want bool
	}{
		{"author", stranger, true},
		{"someone else", owner, false},
		{"moderator", mod, true},
		{"admin", admin, true},
		{"nobody", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.CanDelete(tt.by)
			if got := err == nil; got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if err != nil {
				checkErr(t, err, domain.ErrForbidden, "permission denied")
			}
		})
	}
}
