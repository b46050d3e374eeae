package domain_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/runnable/runnable/domain"
)

func TestNewCategoryAndChannel(t *testing.T) {
	tests := []struct {
		name     string
		giveName *string
		giveDesc *string
		wantName string
		wantMsg  string
	}{
		{"name and description", strp(" Web "), strp("front end"), "Web", ""},
		{"name only", strp("Web"), nil, "Web", ""},
		{"no name", nil, strp("x"), "", "name required"},
		{"blank name", strp(""), nil, "", "name must be 1 to 50 characters"},
		{"long name", strp(strings.Repeat("n", 51)), nil, "", "name must be 1 to 50 characters"},
		{"long description", strp("Web"), strp(strings.Repeat("d", 2001)), "", "description must be at most 2000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, err := domain.NewCategory(domain.ID{7}, tt.giveName, tt.giveDesc, now)
			checkErr(t, err, domain.ErrInvalid, tt.wantMsg)
			ch, err2 := domain.NewChannelFrom(domain.ID{8}, tt.giveName, tt.giveDesc, now)
			checkErr(t, err2, domain.ErrInvalid, tt.wantMsg)
			if err != nil {
				return
			}
			want := []string{strings.ToLower(tt.wantName)}
			if cat.Name != tt.wantName || !reflect.DeepEqual(cat.Aliases, want) || !cat.Created.Equal(now) {
				t.Fatalf("category: got %+v, want name %q aliases %v", cat, tt.wantName, want)
			}
			if ch.Name != tt.wantName || !reflect.DeepEqual(ch.Aliases, want) {
				t.Fatalf("channel: got %+v, want name %q aliases %v", ch, tt.wantName, want)
			}
		})
	}
}

func TestCategoryUpdateAndAliases(t *testing.T) {
	tests := []struct {
		name        string
		do          func(c *domain.Category) error
		wantName    string
		wantAliases []string
		wantMsg     string
	}{
		{"rename", func(c *domain.Category) error { return c.Update(strp("Frontend"), nil) }, "Frontend", []string{"web", "frontend"}, ""},
		{"describe only", func(c *domain.Category) error { return c.Update(nil, strp("d")) }, "Web", []string{"web"}, ""},
		{"neither", func(c *domain.Category) error { return c.Update(nil, nil) }, "Web", []string{"web"}, "must provide name or description"},
		{"aliases", func(c *domain.Category) error { _, err := c.SetAliases([]string{"WWW", "web "}); return err }, "Web", []string{"web", "www"}, ""},
		{"too many aliases", func(c *domain.Category) error { _, err := c.SetAliases(append(make20(), "z")); return err }, "Web", []string{"web"}, "aliases must be an array of strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := domain.NewCategory(domain.ID{7}, strp("Web"), nil, now)
			if err != nil {
				t.Fatal(err)
			}
			checkErr(t, tt.do(c), domain.ErrInvalid, tt.wantMsg)
			if c.Name != tt.wantName || !reflect.DeepEqual(c.Aliases, tt.wantAliases) {
				t.Fatalf("got %q %v, want %q %v", c.Name, c.Aliases, tt.wantName, tt.wantAliases)
			}
		})
	}
}
