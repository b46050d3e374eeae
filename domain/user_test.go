package domain

import (
	"testing"
	"time"
)

func sp(s string) *string { return &s }

func TestRegistrationValidate(t *testing.T) {
	tests := []struct {
		name string
		give Registration
		want string
	}{
		{"no email", Registration{Username: sp("rita"), Password: sp("testing")}, "must provide an email to register with"},
		{"no username", Registration{Email: sp("a@b.co")}, "must provide a username to register with"},
		{"no password", Registration{Email: sp("a@b.co"), Username: sp("rita")}, "must provide a password to register with"},
		{"bad email", Registration{Email: sp("nope"), Username: sp("rita"), Password: sp("testing")}, "email is invalid"},
		{"bad username", Registration{Email: sp("a@b.co"), Username: sp("r"), Password: sp("testing")}, "username must be 2 to 40 letters, digits, '.', '_' or '-'"},
		{"short password", Registration{Email: sp("a@b.co"), Username: sp("rita"), Password: sp("12345")}, "password must be 6 to 72 characters"},
		{"ok", Registration{Email: sp("R@Example.com"), Username: sp("rita"), Password: sp("testing")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, _ := PublicMessage(tt.give.Validate())
			if msg != tt.want {
				t.Fatalf("got %q, want %q", msg, tt.want)
			}
		})
	}
}

func TestRegisterInPlaceAndLevels(t *testing.T) {
	u := NewAnonymousUser(ID{1}, timeZero)
	if err := u.Register(" R@Example.com ", "rita", "hash"); err != nil {
		t.Fatal(err)
	}
	if u.ID != (ID{1}) || u.Email != "r@example.com" || u.Level != LevelRegistered || !u.CanLogIn() {
		t.Fatalf("got %+v, want a registered user with the same id", u)
	}
	admin := &User{ID: ID{9}, Level: LevelAdmin}
	anon := NewAnonymousUser(ID{2}, timeZero)
	tests := []struct {
		name   string
		target *User
		by     *User
		level  Level
		want   string
	}{
		{"not admin", u, u, LevelModerator, "permission denied"},
		{"bad level", u, admin, 3, "permission_level must be 1, 5 or 10"},
		{"self", admin, admin, LevelRegistered, "cannot change your own permission level"},
		{"anonymous", anon, admin, LevelModerator, "anonymous users cannot be promoted"},
		{"ok", u, admin, LevelModerator, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, _ := PublicMessage(tt.target.SetLevel(tt.by, tt.level))
			if msg != tt.want {
				t.Fatalf("got %q, want %q", msg, tt.want)
			}
		})
	}
	if u.Gravatar() != "https://www.gravatar.com/avatar/"+md5Hex("r@example.com") || anon.Gravatar() != "" {
		t.Fatal("gravatar is not the md5 of the stored email")
	}
}

var timeZero time.Time
