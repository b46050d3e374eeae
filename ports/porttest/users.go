package porttest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Users runs the ports.Users contract. newStore must return an empty store
// that is not shared with other calls.
func Users(t *testing.T, newStore func(t *testing.T) ports.Users) {
	t.Run("CreateGet", func(t *testing.T) { usersCreateGet(t, newStore(t)) })
	t.Run("GetUnknown", func(t *testing.T) {
		_, err := newStore(t).Get(t.Context(), newID())
		wantKind(t, err, domain.ErrNotFound, "Get unknown")
	})
	t.Run("CreateConflicts", func(t *testing.T) { usersCreateConflicts(t, newStore) })
	t.Run("AnonymousUsersDoNotCollide", func(t *testing.T) { usersAnonymous(t, newStore(t)) })
	t.Run("Update", func(t *testing.T) { usersUpdate(t, newStore(t)) })
	t.Run("FindByEmail", func(t *testing.T) { usersFindByEmail(t, newStore(t)) })
	t.Run("FindByUsername", func(t *testing.T) { usersFindByUsername(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { usersList(t, newStore(t)) })
	t.Run("AddStat", func(t *testing.T) { usersAddStat(t, newStore(t)) })
	t.Run("AddStatConcurrent", func(t *testing.T) { usersAddStatConcurrent(t, newStore(t)) })
	t.Run("Copies", func(t *testing.T) { usersCopies(t, newStore(t)) })
}

func newUser(username, email string, created time.Time) *domain.User {
	return &domain.User{
		ID:           newID(),
		Username:     username,
		Email:        email,
		PasswordHash: "$2a$10$hash-of-" + username,
		Level:        domain.LevelRegistered,
		Created:      created,
	}
}

func createUsers(t *testing.T, s ports.Users, us ...*domain.User) {
	t.Helper()
	for _, u := range us {
		must(t, s.Create(t.Context(), u), "Create "+u.Username)
	}
}

func wantUser(t *testing.T, got *domain.User, want *domain.User, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil user, want %s", what, show(normUser(want)))
	}
	if g, w := normUser(got), normUser(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: got %s, want %s", what, show(g), show(w))
	}
}

func usersCreateGet(t *testing.T, s ports.Users) {
	ctx := t.Context()
	reg := &domain.User{
		ID: newID(), Username: "Alice", Email: "alice@example.com", PasswordHash: "$2a$10$abc",
		Level: domain.LevelAdmin, Created: at(odd), Stats: domain.Stats{Runs: 1, Views: 2, Copies: 3, Cuts: 4, Pastes: 5},
	}
	anon := domain.NewAnonymousUser(newID(), at(time.Minute+odd))
	sys := &domain.User{ID: newID(), Username: "templates", Email: "templates@runnable.local", Level: domain.LevelRegistered, System: true, Created: at(2 * time.Minute)}
	gone := &domain.User{ID: newID(), Username: "gone", Email: "gone@example.com", Level: domain.LevelModerator, Deleted: true, Created: at(3 * time.Minute)}
	for _, u := range []*domain.User{reg, anon, sys, gone} {
		must(t, s.Create(ctx, u), "Create")
		got, err := s.Get(ctx, u.ID)
		must(t, err, "Get")
		wantUser(t, got, u, "Get after Create")
	}
}

func usersCreateConflicts(t *testing.T, newStore func(t *testing.T) ports.Users) {
	const emailTaken, nameTaken = "user with email already exists", "user with username already exists"
	tests := []struct {
		name     string
		existing *domain.User
		give     *domain.User
		want     string
	}{
		{"same email", newUser("alice", "alice@example.com", base), newUser("bob", "alice@example.com", base), emailTaken},
		{"email other case", newUser("alice", "alice@example.com", base), newUser("bob", "ALICE@Example.COM", base), emailTaken},
		{"email of deleted user", &domain.User{ID: newID(), Username: "alice", Email: "alice@example.com", Level: 1, Deleted: true, Created: base}, newUser("bob", "alice@example.com", base), emailTaken},
		{"same username", newUser("alice", "alice@example.com", base), newUser("alice", "bob@example.com", base), nameTaken},
		{"username other case", newUser("Alice", "alice@example.com", base), newUser("aLICE", "bob@example.com", base), nameTaken},
		{"username of deleted user", &domain.User{ID: newID(), Username: "alice", Email: "alice@example.com", Level: 1, Deleted: true, Created: base}, newUser("ALICE", "bob@example.com", base), nameTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			createUsers(t, s, tt.existing)
			err := s.Create(t.Context(), tt.give)
			wantConflict(t, err, tt.want, "Create")
			if _, err := s.Get(t.Context(), tt.give.ID); !isKind(err, domain.ErrNotFound) {
				t.Errorf("Get of refused user: got error %v, want ErrNotFound", err)
			}
		})
	}
	t.Run("similar but different", func(t *testing.T) {
		s := newStore(t)
		createUsers(t, s, newUser("a.b", "a.b@example.com", base))
		must(t, s.Create(t.Context(), newUser("axb", "axb@example.com", base)), "Create axb next to a.b")
		must(t, s.Create(t.Context(), newUser("a.bc", "a.b@example.co", base)), "Create a.bc next to a.b")
	})
}

func usersAnonymous(t *testing.T, s ports.Users) {
	ctx := t.Context()
	a := domain.NewAnonymousUser(newID(), base)
	b := domain.NewAnonymousUser(newID(), at(time.Second))
	createUsers(t, s, a, b)
	createUsers(t, s, newUser("carol", "carol@example.com", at(2*time.Second)))
	b.Stats.Runs = 3
	must(t, s.Update(ctx, b), "Update anonymous user")
	if _, err := s.FindByEmail(ctx, ""); !isKind(err, domain.ErrNotFound) {
		t.Errorf(`FindByEmail(""): got error %v, want ErrNotFound`, err)
	}
	if _, err := s.FindByUsername(ctx, ""); !isKind(err, domain.ErrNotFound) {
		t.Errorf(`FindByUsername(""): got error %v, want ErrNotFound`, err)
	}
}

func usersUpdate(t *testing.T, s ports.Users) {
	ctx := t.Context()
	alice := newUser("alice", "alice@example.com", base)
	bob := newUser("bob", "bob@example.com", at(time.Second))
	createUsers(t, s, alice, bob)

	anon := domain.NewAnonymousUser(newID(), at(2*time.Second))
	createUsers(t, s, anon)
	must(t, anon.Register("Dave@Example.com", "Dave", "$2a$10$dave"), "Register")
	must(t, s.Update(ctx, anon), "Update registering in place")
	got, err := s.Get(ctx, anon.ID)
	must(t, err, "Get")
	wantUser(t, got, anon, "Get after Update")

	alice.Username = "ALICE"
	alice.Level = domain.LevelModerator
	alice.Stats.Views = 7
	must(t, s.Update(ctx, alice), "Update own username case")
	got, err = s.Get(ctx, alice.ID)
	must(t, err, "Get")
	wantUser(t, got, alice, "Get after Update")

	before := *bob
	taken := *bob
	taken.Email = "ALICE@example.com"
	wantConflict(t, s.Update(ctx, &taken), "user with email already exists", "Update to taken email")
	taken = *bob
	taken.Username = "Alice"
	wantConflict(t, s.Update(ctx, &taken), "user with username already exists", "Update to taken username")
	got, err = s.Get(ctx, bob.ID)
	must(t, err, "Get")
	wantUser(t, got, &before, "Get after refused Update")

	unknown := newUser("zed", "zed@example.com", base)
	wantKind(t, s.Update(ctx, unknown), domain.ErrNotFound, "Update unknown")
	if _, err := s.Get(ctx, unknown.ID); !isKind(err, domain.ErrNotFound) {
		t.Errorf("Get after Update unknown: got error %v, want ErrNotFound", err)
	}
}

func usersFindByEmail(t *testing.T, s ports.Users) {
	ctx := t.Context()
	alice := newUser("alice", "alice@example.com", base)
	gone := newUser("gone", "gone@example.com", base)
	gone.Deleted = true
	dotted := newUser("dotted", "a.b@example.com", base)
	createUsers(t, s, alice, gone, dotted)
	tests := []struct {
		give string
		want *domain.User
	}{
		{"alice@example.com", alice},
		{"ALICE@Example.Com", alice},
		{"gone@example.com", gone},
		{"a.b@example.com", dotted},
		{"axb@example.com", nil},
		{"a.b@example", nil},
		{"alice", nil},
		{"nobody@example.com", nil},
	}
	for _, tt := range tests {
		got, err := s.FindByEmail(ctx, tt.give)
		if tt.want == nil {
			if !isKind(err, domain.ErrNotFound) {
				t.Errorf("FindByEmail(%q): got %v, %v, want ErrNotFound", tt.give, got, err)
			}
			continue
		}
		must(t, err, "FindByEmail "+tt.give)
		wantUser(t, got, tt.want, "FindByEmail "+tt.give)
	}
}

func usersFindByUsername(t *testing.T, s ports.Users) {
	ctx := t.Context()
	alice := newUser("Alice", "alice@example.com", base)
	gone := newUser("gone", "gone@example.com", base)
	gone.Deleted = true
	dotted := newUser("a.b", "ab@example.com", base)
	createUsers(t, s, alice, gone, dotted, domain.NewAnonymousUser(newID(), base))
	tests := []struct {
		give string
		want *domain.User
	}{
		{"Alice", alice},
		{"alice", alice},
		{"ALICE", alice},
		{"gone", gone},
		{"a.b", dotted},
		{"axb", nil},
		{"a.", nil},
		{"Alic", nil},
		{"alice@example.com", nil},
	}
	for _, tt := range tests {
		got, err := s.FindByUsername(ctx, tt.give)
		if tt.want == nil {
			if !isKind(err, domain.ErrNotFound) {
				t.Errorf("FindByUsername(%q): got %v, %v, want ErrNotFound", tt.give, got, err)
			}
			continue
		}
		must(t, err, "FindByUsername "+tt.give)
		wantUser(t, got, tt.want, "FindByUsername "+tt.give)
	}
}

func usersList(t *testing.T, s ports.Users) {
	// Created out of insertion order so that the order must come from Created.
	u3 := newUser("carol", "carol@example.com", at(3*time.Minute))
	u1 := newUser("Alice", "alice@example.com", at(1*time.Minute))
	gone := newUser("gone", "gone@example.com", at(2*time.Minute))
	gone.Deleted = true
	u2 := newUser("bob", "bob@example.com", at(2*time.Minute+time.Second))
	anon := domain.NewAnonymousUser(newID(), at(4*time.Minute))
	createUsers(t, s, u3, u1, gone, u2, anon)
	all := []domain.ID{u1.ID, u2.ID, u3.ID, anon.ID}

	tests := []struct {
		name      string
		ids       []domain.ID
		username  string
		page      ports.Page
		want      []domain.ID
		wantTotal int
	}{
		{"everyone not deleted", nil, "", ports.Page{Limit: 10}, all, 4},
		{"by ids", []domain.ID{u3.ID, u1.ID, gone.ID, newID()}, "", ports.Page{Limit: 10}, []domain.ID{u1.ID, u3.ID}, 2},
		{"empty ids match nothing", []domain.ID{}, "", ports.Page{Limit: 10}, nil, 0},
		{"username case-insensitive", nil, "ALICE", ports.Page{Limit: 10}, []domain.ID{u1.ID}, 1},
		{"username is exact", nil, "ali", ports.Page{Limit: 10}, nil, 0},
		{"username of deleted user", nil, "gone", ports.Page{Limit: 10}, nil, 0},
		{"ids and username", []domain.ID{u1.ID, u2.ID}, "bob", ports.Page{Limit: 10}, []domain.ID{u2.ID}, 1},
		{"ids and other username", []domain.ID{u1.ID}, "bob", ports.Page{Limit: 10}, nil, 0},
		{"first page", nil, "", ports.Page{Page: 0, Limit: 3}, all[:3], 4},
		{"second page", nil, "", ports.Page{Page: 1, Limit: 3}, all[3:], 4},
		{"past the end", nil, "", ports.Page{Page: 2, Limit: 3}, nil, 4},
		{"limit one", nil, "", ports.Page{Page: 2, Limit: 1}, all[2:3], 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := s.List(t.Context(), tt.ids, tt.username, tt.page)
			must(t, err, "List")
			sameIDs(t, idsOf(got, func(u *domain.User) domain.ID { return u.ID }), tt.want, "List")
			if total != tt.wantTotal {
				t.Errorf("List total: got %d, want %d", total, tt.wantTotal)
			}
		})
	}
	got, _, err := s.List(t.Context(), []domain.ID{u1.ID}, "", ports.Page{Limit: 1})
	must(t, err, "List")
	if len(got) == 1 {
		wantUser(t, got[0], u1, "List item")
	}
}

func usersAddStat(t *testing.T, s ports.Users) {
	ctx := t.Context()
	u := newUser("alice", "alice@example.com", base)
	u.Stats = domain.Stats{Runs: 1, Views: 2, Copies: 3, Cuts: 4, Pastes: 5}
	other := newUser("bob", "bob@example.com", base)
	createUsers(t, s, u, other)
	want := u.Stats
	for _, step := range []struct {
		stat string
		n    int
	}{{"runs", 1}, {"views", 10}, {"copies", 2}, {"cuts", 1}, {"pastes", 3}, {"views", -1}} {
		want = want.Add(step.stat, step.n)
		got, err := s.AddStat(ctx, u.ID, step.stat, step.n)
		must(t, err, "AddStat "+step.stat)
		if got != want {
			t.Errorf("AddStat(%q, %d): got %+v, want %+v", step.stat, step.n, got, want)
		}
	}
	stored, err := s.Get(ctx, u.ID)
	must(t, err, "Get")
	if stored.Stats != want {
		t.Errorf("Stats after AddStat: got %+v, want %+v", stored.Stats, want)
	}
	if stored.Username != u.Username || stored.Email != u.Email || stored.PasswordHash != u.PasswordHash {
		t.Errorf("AddStat changed other fields: got %s, want %s", show(normUser(stored)), show(normUser(u)))
	}
	o, err := s.Get(ctx, other.ID)
	must(t, err, "Get other")
	if o.Stats != (domain.Stats{}) {
		t.Errorf("other user's stats: got %+v, want zero", o.Stats)
	}
	_, err = s.AddStat(ctx, newID(), "runs", 1)
	wantKind(t, err, domain.ErrNotFound, "AddStat unknown")
}

func usersAddStatConcurrent(t *testing.T, s ports.Users) {
	u := newUser("alice", "alice@example.com", base)
	createUsers(t, s, u)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if _, err := s.AddStat(t.Context(), u.ID, "runs", 1); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AddStat: got error %v, want nil", err)
	}
	got, err := s.Get(t.Context(), u.ID)
	must(t, err, "Get")
	if got.Stats.Runs != n {
		t.Errorf("runs after %d concurrent AddStat: got %d, want %d", n, got.Stats.Runs, n)
	}
}

func usersCopies(t *testing.T, s ports.Users) {
	ctx := t.Context()
	u := newUser("alice", "alice@example.com", base)
	want := *u
	createUsers(t, s, u)
	u.Username = "mutated-input"
	u.Stats.Runs = 99

	check := func(what string) {
		t.Helper()
		got, err := s.Get(ctx, want.ID)
		must(t, err, "Get")
		wantUser(t, got, &want, what)
	}
	check("Get after mutating the created value")

	got, err := s.Get(ctx, want.ID)
	must(t, err, "Get")
	got.Username, got.Stats.Views = "mutated-get", 42
	check("Get after mutating a Get result")

	got, err = s.FindByEmail(ctx, want.Email)
	must(t, err, "FindByEmail")
	got.Email = "mutated@example.com"
	check("Get after mutating a FindByEmail result")

	got, err = s.FindByUsername(ctx, want.Username)
	must(t, err, "FindByUsername")
	got.Level = domain.LevelAdmin
	check("Get after mutating a FindByUsername result")

	list, _, err := s.List(ctx, nil, "", ports.Page{Limit: 10})
	must(t, err, "List")
	for _, l := range list {
		l.Deleted = true
		l.Username = "mutated-list"
	}
	check("Get after mutating a List result")

	upd := want
	upd.Level = domain.LevelModerator
	must(t, s.Update(ctx, &upd), "Update")
	upd.Level = domain.LevelAdmin
	want.Level = domain.LevelModerator
	check("Get after mutating the updated value")
}
