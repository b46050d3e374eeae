package app

import (
	"context"
	"errors"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Contract messages of the token gate and users (spec §1.2, §2).
var (
	ErrTokenInvalid = domain.E(domain.ErrUnauthorized, "must provide a valid access token")
	ErrUserGone     = domain.E(domain.ErrNotFound, "user doesnt exist")
	errBadPassword  = domain.E(domain.ErrForbidden, "invalid password")
)

// UserInfo is a user with the counts its views show.
type UserInfo struct {
	*domain.User
	ImagesCount    int
	PublishedCount int
}

// UserInput is the body of POST /users and PUT /users/me.
type UserInput struct {
	Email, Username, Password, CurrentPassword *string
}

func (in UserInput) registration() domain.Registration {
	return domain.Registration{Email: in.Email, Username: in.Username, Password: in.Password}
}

func (in UserInput) any() bool { return in.Email != nil || in.Username != nil || in.Password != nil }

// Authenticate resolves a token to its user (spec §1.2).
func (a *App) Authenticate(ctx context.Context, token string) (*domain.User, error) {
	id, err := a.Tokens.Lookup(ctx, token)
	if err != nil {
		return nil, notFound(err, ErrTokenInvalid)
	}
	u, err := a.Users.Get(ctx, id)
	if err != nil {
		return nil, notFound(err, ErrUserGone)
	}
	if u.Deleted {
		return nil, ErrUserGone
	}
	return u, nil
}

// CreateUser makes an anonymous user, or a registered one when the input
// has any of email, username, password. It returns the user and a token.
func (a *App) CreateUser(ctx context.Context, in UserInput) (*UserInfo, string, error) {
	u := domain.NewAnonymousUser(a.IDs.NewID(), a.now())
	if in.any() {
		reg := in.registration()
		if err := reg.Validate(); err != nil {
			return nil, "", err
		}
		if err := a.checkUnique(ctx, nil, *in.Email, *in.Username); err != nil {
			return nil, "", err
		}
		hash, err := a.hash(*in.Password)
		if err != nil {
			return nil, "", err
		}
		if err := u.Register(*in.Email, *in.Username, hash); err != nil {
			return nil, "", err
		}
	}
	if err := a.Users.Create(ctx, u); err != nil {
		return nil, "", err
	}
	token, err := a.Tokens.Issue(ctx, u.ID, a.cfg.TokenTTL)
	if err != nil {
		return nil, "", err
	}
	return &UserInfo{User: u}, token, nil
}

func (a *App) hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), a.cfg.BcryptCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

func checkPassword(u *domain.User, password string) bool {
	return u.PasswordHash != "" && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil
}

// checkUnique gives the contract's 409s before anything is written (the
// store's unique indexes still decide races).
func (a *App) checkUnique(ctx context.Context, self *domain.User, email, username string) error {
	if email != "" {
		other, err := a.Users.FindByEmail(ctx, domain.NormalizeEmail(email))
		if err == nil && (self == nil || other.ID != self.ID) {
			return domain.E(domain.ErrConflict, "user with email already exists")
		}
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return err
		}
	}
	if username != "" {
		other, err := a.Users.FindByUsername(ctx, username)
		if err == nil && (self == nil || other.ID != self.ID) {
			return domain.E(domain.ErrConflict, "user with username already exists")
		}
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return err
		}
	}
	return nil
}

// ResolveUser finds the user named by a path segment: "me" or a hex id.
// Unknown, malformed and deleted users give 404 "user not found".
func (a *App) ResolveUser(ctx context.Context, caller *domain.User, idOrMe string) (*domain.User, error) {
	if idOrMe == "me" {
		return caller, nil
	}
	id, ok := domain.ParseHex(idOrMe)
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	if id == caller.ID {
		return caller, nil
	}
	u, err := a.Users.Get(ctx, id)
	if err != nil {
		return nil, notFound(err, domain.ErrUserNotFound)
	}
	if u.Deleted {
		return nil, domain.ErrUserNotFound
	}
	return u, nil
}

// GetUser returns a user with its counts.
func (a *App) GetUser(ctx context.Context, caller *domain.User, idOrMe string) (*UserInfo, error) {
	u, err := a.ResolveUser(ctx, caller, idOrMe)
	if err != nil {
		return nil, err
	}
	return a.userInfo(ctx, u)
}

func (a *App) userInfo(ctx context.Context, u *domain.User) (*UserInfo, error) {
	n, p, err := a.Images.CountByOwner(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &UserInfo{User: u, ImagesCount: n, PublishedCount: p}, nil
}

// ListUsers returns non-deleted users by ids and/or username (spec §2.2).
func (a *App) ListUsers(ctx context.Context, ids []string, username string, page ports.Page) ([]*UserInfo, int, error) {
	if len(ids) == 0 && username == "" {
		return nil, 0, domain.E(domain.ErrInvalid, "must provide ids or username")
	}
	if len(ids) > 100 {
		return nil, 0, domain.E(domain.ErrInvalid, "too many ids")
	}
	var parsed []domain.ID
	if len(ids) > 0 {
		parsed = []domain.ID{}
		for _, s := range ids {
			if id, ok := domain.ParseHex(s); ok {
				parsed = append(parsed, id)
			}
		}
	}
	users, total, err := a.Users.List(ctx, parsed, username, page)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*UserInfo, 0, len(users))
	for _, u := range users {
		info, err := a.userInfo(ctx, u)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, info)
	}
	return out, total, nil
}

// UpdateUser registers an anonymous caller in place or changes a
// registered caller's profile (spec §2.3).
func (a *App) UpdateUser(ctx context.Context, caller *domain.User, idOrMe, token string, in UserInput) (*UserInfo, error) {
	u, err := a.ResolveUser(ctx, caller, idOrMe)
	if err != nil {
		return nil, err
	}
	if u.ID != caller.ID {
		return nil, domain.ErrPermissionDenied
	}
	unlock := a.locks.lock(u.ID)
	defer unlock()
	u, err = a.Users.Get(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !u.Registered() {
		reg := in.registration()
		if err := reg.Validate(); err != nil {
			return nil, err
		}
		if err := a.checkUnique(ctx, u, *in.Email, *in.Username); err != nil {
			return nil, err
		}
		hash, err := a.hash(*in.Password)
		if err != nil {
			return nil, err
		}
		if err := u.Register(*in.Email, *in.Username, hash); err != nil {
			return nil, err
		}
		if err := a.Users.Update(ctx, u); err != nil {
			return nil, err
		}
		return a.userInfo(ctx, u)
	}
	if !in.any() {
		return nil, domain.E(domain.ErrInvalid, "must provide email, username or password to update")
	}
	if in.Email != nil {
		if err := domain.ValidateEmail(*in.Email); err != nil {
			return nil, err
		}
	}
	if in.Username != nil {
		if err := domain.ValidateUsername(*in.Username); err != nil {
			return nil, err
		}
	}
	if in.Password != nil {
		if err := domain.ValidatePassword(*in.Password); err != nil {
			return nil, err
		}
	}
	emailChange := in.Email != nil && domain.NormalizeEmail(*in.Email) != u.Email
	if emailChange || in.Password != nil {
		if in.CurrentPassword == nil {
			return nil, domain.E(domain.ErrInvalid, "must provide current_password")
		}
		if !checkPassword(u, *in.CurrentPassword) {
			return nil, errBadPassword
		}
	}
	email, username := "", ""
	if in.Email != nil {
		email = *in.Email
	}
	if in.Username != nil {
		username = *in.Username
	}
	if err := a.checkUnique(ctx, u, email, username); err != nil {
		return nil, err
	}
	if in.Email != nil {
		u.Email = domain.NormalizeEmail(*in.Email)
	}
	if in.Username != nil {
		u.Username = *in.Username
	}
	if in.Password != nil {
		hash, err := a.hash(*in.Password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = hash
	}
	if err := a.Users.Update(ctx, u); err != nil {
		return nil, err
	}
	if in.Password != nil {
		if err := a.Tokens.RevokeAll(ctx, u.ID, token); err != nil {
			return nil, err
		}
	}
	return a.userInfo(ctx, u)
}

// LoginInput is the body of POST /token.
type LoginInput struct {
	Username, Email, Password *string
}

// LoginResult is the reply of POST /token.
type LoginResult struct {
	Token              string
	User               *domain.User
	Drafts, ImagesMove int
}

// Login checks a password and issues a token; an anonymous caller's drafts
// and images move to the logged-in user (spec §2.4).
func (a *App) Login(ctx context.Context, in LoginInput, callerToken string) (*LoginResult, error) {
	var identity string
	byEmail := false
	switch {
	case in.Email != nil && *in.Email != "":
		identity, byEmail = *in.Email, true
	case in.Username != nil && *in.Username != "":
		identity = *in.Username
	default:
		return nil, domain.E(domain.ErrInvalid, "username or email required")
	}
	if in.Password == nil || *in.Password == "" {
		return nil, domain.E(domain.ErrInvalid, "password required")
	}
	var u *domain.User
	var err error
	if byEmail {
		u, err = a.Users.FindByEmail(ctx, domain.NormalizeEmail(identity))
	} else {
		u, err = a.Users.FindByUsername(ctx, identity)
		if errors.Is(err, domain.ErrNotFound) && strings.Contains(identity, "@") {
			// scenario 13: an email sent in the username field
			u, err = a.Users.FindByEmail(ctx, domain.NormalizeEmail(identity))
		}
	}
	if err != nil {
		return nil, notFound(err, domain.ErrUserNotFound)
	}
	if !u.CanLogIn() {
		return nil, domain.ErrUserNotFound
	}
	if !checkPassword(u, *in.Password) {
		return nil, errBadPassword
	}
	res := &LoginResult{User: u}
	if callerToken != "" {
		if anon, err := a.Authenticate(ctx, callerToken); err == nil && !anon.Registered() && anon.ID != u.ID {
			if res.Drafts, res.ImagesMove, err = a.transfer(ctx, anon, u); err != nil {
				return nil, err
			}
		}
	}
	token, err := a.Tokens.Issue(ctx, u.ID, a.cfg.TokenTTL)
	if err != nil {
		return nil, err
	}
	res.Token = token
	return res, nil
}

func (a *App) transfer(ctx context.Context, from, to *domain.User) (int, int, error) {
	drafts, err := a.Drafts.Transfer(ctx, from.ID, to.ID)
	if err != nil {
		return 0, 0, err
	}
	images, err := a.Images.Transfer(ctx, from.ID, to.ID)
	if err != nil {
		return drafts, 0, err
	}
	from.Deleted = true
	if err := a.Users.Update(ctx, from); err != nil {
		return drafts, images, err
	}
	// its tokens stay: they now answer 404 "user doesnt exist" (spec §2.4)
	return drafts, images, nil
}

// Logout revokes the token used.
func (a *App) Logout(ctx context.Context, token string) error {
	return a.Tokens.Revoke(ctx, token)
}

// DeleteUser soft-deletes a user (spec §2.5); drafts are removed with
// their containers in the background.
func (a *App) DeleteUser(ctx context.Context, caller *domain.User, idOrMe string) error {
	u, err := a.ResolveUser(ctx, caller, idOrMe)
	if err != nil {
		return err
	}
	if u.ID != caller.ID && !caller.IsAdmin() {
		return domain.ErrPermissionDenied
	}
	u.Deleted = true
	if err := a.Users.Update(ctx, u); err != nil {
		return err
	}
	// tokens stay until they expire and answer 404 "user doesnt exist"
	a.background(func(ctx context.Context) {
		drafts, err := a.Drafts.ByOwners(ctx, []domain.ID{u.ID})
		if err != nil {
			a.Logger.Error("list deleted user's drafts", "user", u.ID.Hex(), "err", err)
			return
		}
		for _, d := range drafts {
			if err := a.removeDraft(ctx, d); err != nil {
				a.Logger.Error("delete deleted user's draft", "draft", d.ID.Hex(), "err", err)
			}
		}
	})
	return nil
}

// SetLevel changes a user's permission level (admin only).
func (a *App) SetLevel(ctx context.Context, caller *domain.User, idOrMe string, level int) (*UserInfo, error) {
	if !caller.IsAdmin() {
		return nil, domain.ErrPermissionDenied
	}
	u, err := a.ResolveUser(ctx, caller, idOrMe)
	if err != nil {
		return nil, err
	}
	if err := u.SetLevel(caller, domain.Level(level)); err != nil {
		return nil, err
	}
	if err := a.Users.Update(ctx, u); err != nil {
		return nil, err
	}
	return a.userInfo(ctx, u)
}

// EnsureAdmin creates or promotes the bootstrap admin (spec §2.6).
func (a *App) EnsureAdmin(ctx context.Context, email, username, password string, resetPassword bool) (*domain.User, bool, error) {
	reg := domain.Registration{Email: &email, Username: &username, Password: &password}
	if err := reg.Validate(); err != nil {
		return nil, false, err
	}
	for attempt := 0; attempt < 3; attempt++ {
		u, err := a.Users.FindByEmail(ctx, domain.NormalizeEmail(email))
		if err == nil {
			changed := false
			if u.Level < domain.LevelAdmin {
				u.Level = domain.LevelAdmin
				changed = true
			}
			if resetPassword {
				hash, err := a.hash(password)
				if err != nil {
					return nil, false, err
				}
				u.PasswordHash = hash
				changed = true
			}
			if u.Deleted {
				return nil, false, domain.E(domain.ErrConflict, "admin user is deleted")
			}
			if changed {
				if err := a.Users.Update(ctx, u); err != nil {
					return nil, false, err
				}
			}
			return u, false, nil
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return nil, false, err
		}
		if other, err := a.Users.FindByUsername(ctx, username); err == nil && other.Email != domain.NormalizeEmail(email) {
			return nil, false, domain.E(domain.ErrConflict, "user with username already exists")
		}
		hash, err := a.hash(password)
		if err != nil {
			return nil, false, err
		}
		u = domain.NewAnonymousUser(a.IDs.NewID(), a.now())
		if err := u.Register(email, username, hash); err != nil {
			return nil, false, err
		}
		u.Level = domain.LevelAdmin
		err = a.Users.Create(ctx, u)
		if err == nil {
			return u, true, nil
		}
		if !errors.Is(err, domain.ErrConflict) {
			return nil, false, err
		}
		// another replica won the race: re-read
	}
	return nil, false, domain.E(domain.ErrConflict, "could not create the admin user")
}

// SystemUser returns the owner of templates: the admin with email when
// given, else the system user "runnable", created on first use.
func (a *App) SystemUser(ctx context.Context, adminEmail string) (*domain.User, error) {
	if adminEmail != "" {
		if u, err := a.Users.FindByEmail(ctx, domain.NormalizeEmail(adminEmail)); err == nil {
			return u, nil
		}
	}
	u, err := a.Users.FindByUsername(ctx, "runnable")
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	u = &domain.User{ID: a.IDs.NewID(), Username: "runnable", Level: domain.LevelAdmin, System: true, Created: a.now()}
	if err := a.Users.Create(ctx, u); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return a.Users.FindByUsername(ctx, "runnable")
		}
		return nil, err
	}
	return u, nil
}

// background runs fn detached from the request, bounded by shutdown.
func (a *App) background(fn func(ctx context.Context)) {
	if !a.saves.start() {
		a.Logger.Warn("background work refused: shutting down")
		return
	}
	go func() {
		defer a.saves.done()
		fn(a.baseCtx)
	}()
}
