package domain

import (
	"regexp"
	"strings"
	"time"
)

// Level is a permission level (spec §1.3). Levels compare with >=.
type Level int

// The four assigned levels.
const (
	LevelAnonymous  Level = 0
	LevelRegistered Level = 1
	LevelModerator  Level = 5
	LevelAdmin      Level = 10
)

// Stats are the five counters kept on users and images.
type Stats struct {
	Runs, Views, Copies, Cuts, Pastes int
}

// StatNames lists the valid stat names in the order of the API.
var StatNames = []string{"views", "copies", "runs", "cuts", "pastes"}

// ValidStat reports whether name is a countable stat.
func ValidStat(name string) bool {
	for _, n := range StatNames {
		if n == name {
			return true
		}
	}
	return false
}

// Add returns s with the named counter moved by n.
func (s Stats) Add(name string, n int) Stats {
	switch name {
	case "runs":
		s.Runs += n
	case "views":
		s.Views += n
	case "copies":
		s.Copies += n
	case "cuts":
		s.Cuts += n
	case "pastes":
		s.Pastes += n
	}
	return s
}

// Get returns the named counter.
func (s Stats) Get(name string) int {
	switch name {
	case "runs":
		return s.Runs
	case "views":
		return s.Views
	case "copies":
		return s.Copies
	case "cuts":
		return s.Cuts
	case "pastes":
		return s.Pastes
	}
	return 0
}

// User is an account, anonymous or registered.
type User struct {
	ID           ID
	Username     string // "" for anonymous users
	Email        string // "" for anonymous users; trimmed, lower-case
	PasswordHash string // "" for anonymous and system users
	Level        Level
	Created      time.Time
	Deleted      bool
	System       bool // the templates' owner; cannot log in
	Stats        Stats
}

// NewAnonymousUser returns a level-0 user.
func NewAnonymousUser(id ID, now time.Time) *User {
	return &User{ID: id, Level: LevelAnonymous, Created: now}
}

// Registered reports whether the user has level >= 1.
func (u *User) Registered() bool { return u.Level >= LevelRegistered }

// IsModerator reports level >= 5.
func (u *User) IsModerator() bool { return u.Level >= LevelModerator }

// IsAdmin reports level >= 10.
func (u *User) IsAdmin() bool { return u.Level >= LevelAdmin }

// CanLogIn reports whether the user may obtain a token with a password.
func (u *User) CanLogIn() bool {
	return u.Registered() && !u.Deleted && !u.System && u.PasswordHash != ""
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{2,40}$`)

// NormalizeEmail trims and lower-cases an email.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Registration is the input of a registration (spec §2.3).
type Registration struct {
	Email, Username, Password *string
}

// Validate runs checks 1-6 of spec §2.3 in order.
func (r Registration) Validate() error {
	if r.Email == nil || strings.TrimSpace(*r.Email) == "" {
		return E(ErrInvalid, "must provide an email to register with")
	}
	if r.Username == nil || *r.Username == "" {
		return E(ErrInvalid, "must provide a username to register with")
	}
	if r.Password == nil || *r.Password == "" {
		return E(ErrInvalid, "must provide a password to register with")
	}
	if err := ValidateEmail(*r.Email); err != nil {
		return err
	}
	if err := ValidateUsername(*r.Username); err != nil {
		return err
	}
	return ValidatePassword(*r.Password)
}

// ValidateEmail checks spec §2.3 rule 4.
func ValidateEmail(email string) error {
	e := NormalizeEmail(email)
	if strings.Count(e, "@") != 1 || len(e) > 254 || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@") {
		return E(ErrInvalid, "email is invalid")
	}
	return nil
}

// ValidateUsername checks spec §2.3 rule 5.
func ValidateUsername(username string) error {
	if !usernameRE.MatchString(username) {
		return E(ErrInvalid, "username must be 2 to 40 letters, digits, '.', '_' or '-'")
	}
	return nil
}

// ValidatePassword checks spec §2.3 rule 6.
func ValidatePassword(password string) error {
	if len(password) < 6 || len(password) > 72 {
		return E(ErrInvalid, "password must be 6 to 72 characters")
	}
	return nil
}

// Register turns an anonymous user into a registered one in place: the id,
// tokens, drafts and images stay. hash is the already hashed password.
func (u *User) Register(email, username, hash string) error {
	if u.Registered() {
		return E(ErrConflict, "user is already registered")
	}
	u.Email = NormalizeEmail(email)
	u.Username = username
	u.PasswordHash = hash
	u.Level = LevelRegistered
	return nil
}

// SetLevel changes the level as an admin may (spec §2.2).
func (u *User) SetLevel(by *User, level Level) error {
	if !by.IsAdmin() {
		return ErrPermissionDenied
	}
	if level != LevelRegistered && level != LevelModerator && level != LevelAdmin {
		return E(ErrInvalid, "permission_level must be 1, 5 or 10")
	}
	if by.ID == u.ID {
		return E(ErrInvalid, "cannot change your own permission level")
	}
	if !u.Registered() {
		return E(ErrInvalid, "anonymous users cannot be promoted")
	}
	u.Level = level
	return nil
}

// IsSelf reports whether the caller is the user.
func (u *User) IsSelf(caller *User) bool { return caller != nil && caller.ID == u.ID }

// Gravatar returns the avatar URL of the stored email, or "" without one.
// The md5 is computed by the caller's adapter-free helper in this package.
func (u *User) Gravatar() string {
	if u.Email == "" {
		return ""
	}
	return "https://www.gravatar.com/avatar/" + md5Hex(u.Email)
}
