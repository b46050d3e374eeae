package domain_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
)

var (
	now      = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	ownerID  = domain.ID{1}
	otherID  = domain.ID{2}
	anonUser = &domain.User{ID: ownerID, Level: domain.LevelAnonymous}
	owner    = &domain.User{ID: ownerID, Level: domain.LevelRegistered, Username: "owner"}
	stranger = &domain.User{ID: otherID, Level: domain.LevelRegistered, Username: "stranger"}
	anonElse = &domain.User{ID: domain.ID{3}, Level: domain.LevelAnonymous}
	mod      = &domain.User{ID: domain.ID{4}, Level: domain.LevelModerator, Username: "mod"}
	admin    = &domain.User{ID: domain.ID{5}, Level: domain.LevelAdmin, Username: "admin"}
)

func strp(s string) *string { return &s }

// checkErr compares an error with the wanted contract message ("" = none).
func checkErr(t *testing.T, err error, wantKind error, wantMsg string) {
	t.Helper()
	if wantMsg == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	got, _ := domain.PublicMessage(err)
	if !errors.Is(err, wantKind) || got != wantMsg {
		t.Fatalf("got error %v (message %q), want kind %v message %q", err, got, wantKind, wantMsg)
	}
}

func TestCanTag(t *testing.T) {
	tests := []struct {
		name     string
		give     *domain.User
		wantTag  bool
		wantUntg bool
	}{
		{"registered owner", owner, true, true},
		{"anonymous owner may untag but not tag", anonUser, false, true},
		{"registered stranger", stranger, false, false},
		{"anonymous stranger", anonElse, false, false},
		{"moderator", mod, true, true},
		{"admin", admin, true, true},
		{"no caller", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.CanTag(tt.give, ownerID) == nil; got != tt.wantTag {
				t.Errorf("CanTag: got %v, want %v", got, tt.wantTag)
			}
			if got := domain.CanUntag(tt.give, ownerID) == nil; got != tt.wantUntg {
				t.Errorf("CanUntag: got %v, want %v", got, tt.wantUntg)
			}
			if err := domain.CanTag(tt.give, ownerID); err != nil {
				checkErr(t, err, domain.ErrForbidden, "permission denied")
			}
		})
	}
}

func tagsOn(n int) []domain.Tag {
	out := make([]domain.Tag, n)
	for i := range out {
		out[i] = domain.Tag{ID: domain.ID{0xa0, byte(i)}, Channel: domain.ID{0xc0, byte(i)}, Name: "c"}
	}
	return out
}

func TestNewTag(t *testing.T) {
	ch := &domain.Channel{ID: domain.ID{0xc0, 3}, Name: "Facebook"}
	fresh := &domain.Channel{ID: domain.ID{0xcf}, Name: "jQuery"}
	tests := []struct {
		name    string
		tags    []domain.Tag
		ch      *domain.Channel
		wantErr error
		wantMsg string
	}{
		{"first tag", nil, fresh, nil, ""},
		{"ninth tag", tagsOn(9), fresh, nil, ""},
		{"eleventh tag", tagsOn(10), fresh, domain.ErrInvalid, "too many tags"},
		{"too many wins over a duplicate", tagsOn(10), ch, domain.ErrInvalid, "too many tags"},
		{"same channel twice", tagsOn(4), ch, domain.ErrConflict, "runnable already tagged with Facebook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag, err := domain.NewTag(tt.tags, tt.ch, domain.ID{0xee})
			checkErr(t, err, tt.wantErr, tt.wantMsg)
			if err == nil {
				want := domain.Tag{ID: domain.ID{0xee}, Channel: tt.ch.ID, Name: tt.ch.Name}
				if tag != want {
					t.Fatalf("got %+v, want %+v", tag, want)
				}
			}
		})
	}
}

func TestFindTag(t *testing.T) {
	tags := tagsOn(3)
	tests := []struct {
		name    string
		give    domain.ID
		wantMsg string
	}{
		{"present", tags[1].ID, ""},
		{"absent", domain.ID{0x99}, "tag not found"},
		{"zero id", domain.NilID, "tag not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.FindTag(tags, tt.give)
			checkErr(t, err, domain.ErrNotFound, tt.wantMsg)
			if err == nil && got != tags[1] {
				t.Fatalf("got %+v, want %+v", got, tags[1])
			}
		})
	}
}

func TestValidateTagName(t *testing.T) {
	tests := []struct {
		name, give, want string
		wantErr          bool
	}{
		{"plain", "jquery", "jquery", false},
		{"trimmed", "  Node.js \t", "Node.js", false},
		{"unicode counted in characters", strings.Repeat("é", 50), strings.Repeat("é", 50), false},
		{"fifty-one", strings.Repeat("a", 51), "", true},
		{"empty", "", "", true},
		{"blank", "   ", "", true},
		{"control character", "a\x00b", "", true},
		{"newline inside", "a\nb", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ValidateTagName(tt.give)
			if tt.wantErr {
				checkErr(t, err, domain.ErrInvalid, "name must be 1 to 50 characters")
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestChannelSetAliases(t *testing.T) {
	tests := []struct {
		name    string
		give    []string
		want    []string
		wantErr bool
	}{
		{"name always kept first", []string{"jq"}, []string{"jquery", "jq"}, false},
		{"trimmed, lower-cased, de-duplicated", []string{" JQ ", "jq", "JQuery", "JS"}, []string{"jquery", "jq", "js"}, false},
		{"empty array keeps the name", []string{}, []string{"jquery"}, false},
		{"blank values dropped", []string{"", "  "}, []string{"jquery"}, false},
		{"twenty values", make20(), append([]string{"jquery"}, make20()...), false},
		{"twenty-one values", append(make20(), "x"), nil, true},
		{"too long", []string{strings.Repeat("a", 51)}, nil, true},
		{"control character", []string{"a\tb"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := domain.NewChannel(domain.ID{1}, "jQuery", "", now)
			got, err := ch.SetAliases(tt.give)
			if tt.wantErr {
				checkErr(t, err, domain.ErrInvalid, "aliases must be an array of strings")
				if !reflect.DeepEqual(ch.Aliases, []string{"jquery"}) {
					t.Fatalf("aliases changed on error: %v", ch.Aliases)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(ch.Aliases, tt.want) {
				t.Fatalf("got %v (stored %v), %v, want %v", got, ch.Aliases, err, tt.want)
			}
		})
	}
}

func make20() []string {
	out := make([]string, 20)
	for i := range out {
		out[i] = "a" + string(rune('a'+i))
	}
	return out
}

func TestChannelUpdate(t *testing.T) {
	tests := []struct {
		name        string
		giveName    *string
		giveDesc    *string
		wantName    string
		wantDesc    string
		wantAliases []string
		wantMsg     string
	}{
		{"rename keeps old aliases", strp("JavaScript"), nil, "JavaScript", "", []string{"js", "javascript"}, ""},
		{"rename to a case variant adds nothing", strp("JS"), nil, "JS", "", []string{"js"}, ""},
		{"describe only", nil, strp("the language"), "js", "the language", []string{"js"}, ""},
		{"nothing to change", nil, nil, "js", "", []string{"js"}, "must provide name or description"},
		{"bad name", strp(" "), nil, "js", "", []string{"js"}, "name must be 1 to 50 characters"},
		{"long description", nil, strp(strings.Repeat("d", 2001)), "js", "", []string{"js"}, "description must be at most 2000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := domain.NewChannel(domain.ID{1}, "js", "", now)
			err := ch.Update(tt.giveName, tt.giveDesc)
			checkErr(t, err, domain.ErrInvalid, tt.wantMsg)
			if ch.Name != tt.wantName || ch.Description != tt.wantDesc || !reflect.DeepEqual(ch.Aliases, tt.wantAliases) {
				t.Fatalf("got %q %q %v, want %q %q %v", ch.Name, ch.Description, ch.Aliases, tt.wantName, tt.wantDesc, tt.wantAliases)
			}
		})
	}
}

func TestChannelCategoryTags(t *testing.T) {
	web := &domain.Category{ID: domain.ID{0xca, 1}, Name: "Web"}
	db := &domain.Category{ID: domain.ID{0xca, 2}, Name: "Databases"}
	ch := domain.NewChannel(domain.ID{1}, "jquery", "", now)
	steps := []struct {
		name    string
		do      func() error
		wantErr error
		wantMsg string
		wantN   int
	}{
		{"add web", func() error { _, err := ch.AddCategoryTag(web, domain.ID{0x11}); return err }, nil, "", 1},
		{"add web again", func() error { _, err := ch.AddCategoryTag(web, domain.ID{0x12}); return err }, domain.ErrConflict, "channel already tagged with Web", 1},
		{"add databases", func() error { _, err := ch.AddCategoryTag(db, domain.ID{0x13}); return err }, nil, "", 2},
		{"get web's tag", func() error { _, err := ch.CategoryTag(domain.ID{0x11}); return err }, nil, "", 2},
		{"get unknown tag", func() error { _, err := ch.CategoryTag(domain.ID{0x12}); return err }, domain.ErrNotFound, "tag not found", 2},
		{"remove web", func() error { return ch.RemoveCategoryTag(domain.ID{0x11}) }, nil, "", 1},
		{"remove web twice", func() error { return ch.RemoveCategoryTag(domain.ID{0x11}) }, domain.ErrNotFound, "tag not found", 1},
	}
	for _, st := range steps {
		err := st.do()
		if st.wantMsg == "" && err != nil {
			t.Fatalf("%s: got %v, want no error", st.name, err)
		}
		if st.wantMsg != "" {
			checkErr(t, err, st.wantErr, st.wantMsg)
		}
		if len(ch.Tags) != st.wantN {
			t.Fatalf("%s: got %d tags, want %d", st.name, len(ch.Tags), st.wantN)
		}
	}
	if ch.Tags[0].Category != db.ID || ch.Tags[0].Name != "Databases" {
		t.Fatalf("got %+v, want the Databases tag", ch.Tags[0])
	}
}

func TestCanManageChannels(t *testing.T) {
	tests := []struct {
		name string
		give *domain.User
		want bool
	}{
		{"anonymous", anonElse, false},
		{"registered", owner, false},
		{"moderator", mod, true},
		{"admin", admin, true},
		{"nobody", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.CanManageChannels(tt.give) == nil; got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
