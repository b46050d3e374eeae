package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/mirror"
	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

// userBackend is a backing user store the tests can also write behind the
// mirror's back: inmem.Users or mongostore.Users.
type userBackend interface {
	ports.Users
	All(ctx context.Context) ([]*domain.User, error)
}

var userBackends = []struct {
	name  string
	users func(t *testing.T) userBackend
}{
	{"inmem", func(*testing.T) userBackend { return inmem.NewUsers() }},
	{"mongostore", func(t *testing.T) userBackend { return mongostore.NewUsers(migrated(t)) }},
}

func mirrorUsers(t *testing.T, b userBackend) *mirror.Users {
	t.Helper()
	log, _ := newLogger(t)
	m, err := mirror.NewUsers(t.Context(), b, b.All, log)
	if err != nil {
		t.Fatalf("NewUsers: %v", err)
	}
	return m
}

func newUser(name string) *domain.User {
	u := &domain.User{ID: newID(), Level: domain.LevelAnonymous, Created: base}
	if name != "" {
		u.Username, u.Email, u.Level = name, strings.ToLower(name)+"@example.com", domain.LevelRegistered
		u.PasswordHash = "$2a$10$hash-of-" + name
	}
	return u
}

func normUsers(us []*domain.User) []domain.User {
	out := make([]domain.User, len(us))
	for i, u := range us {
		out[i] = *u
		out[i].Created = normTime(u.Created)
	}
	slices.SortFunc(out, func(a, b domain.User) int { return strings.Compare(a.ID.Hex(), b.ID.Hex()) })
	return out
}

// sameUsers checks that the mirror holds exactly the backing store's users.
func sameUsers(t *testing.T, m *mirror.Users, b userBackend, what string) {
	t.Helper()
	got, err := m.All(context.Background())
	must(t, err, "mirror All")
	want, err := b.All(context.Background())
	must(t, err, "backing All")
	if g, w := normUsers(got), normUsers(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: mirror holds\n%+v\nbacking store holds\n%+v", what, g, w)
	}
}

func TestUsersContract(t *testing.T) {
	for _, be := range userBackends {
		t.Run(be.name, func(t *testing.T) {
			porttest.Users(t, func(t *testing.T) ports.Users { return mirrorUsers(t, be.users(t)) })
		})
	}
}

// The inmem fake, with its new indexes, still passes the contract itself.
func TestInmemUsersContract(t *testing.T) {
	porttest.Users(t, func(*testing.T) ports.Users { return inmem.NewUsers() })
}

func TestUsersLoadsWhatIsStored(t *testing.T) {
	for _, be := range userBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			b := be.users(t)
			alice, anon, gone := newUser("Alice"), newUser(""), newUser("Gone")
			gone.Deleted = true
			alice.Stats.Runs = 7
			for _, u := range []*domain.User{alice, anon, gone} {
				must(t, b.Create(ctx, u), "Create")
			}
			m := mirrorUsers(t, b)
			sameUsers(t, m, b, "after load")
			if u, err := m.FindByEmail(ctx, "ALICE@example.com"); err != nil || u.ID != alice.ID || u.Stats.Runs != 7 {
				t.Errorf("FindByEmail: got %+v, %v, want alice with 7 runs", u, err)
			}
			if u, err := m.FindByUsername(ctx, "gone"); err != nil || u.ID != gone.ID {
				t.Errorf("FindByUsername of a deleted user: got %+v, %v, want it", u, err)
			}
			if _, err := m.FindByUsername(ctx, ""); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("FindByUsername \"\": got %v, want ErrNotFound", err)
			}
			list, total, err := m.List(ctx, nil, "", ports.Page{Limit: 10})
			must(t, err, "List")
			if total != 2 || len(list) != 2 {
				t.Errorf("List: got %d users (total %d), want the 2 not deleted", len(list), total)
			}
			// The deleted user's name stays taken.
			clash := newUser("GONE")
			clash.Email = "other@example.com"
			if err := m.Create(ctx, clash); !errors.Is(err, domain.ErrConflict) || !strings.Contains(err.Error(), "username") {
				t.Errorf("Create with a deleted user's username: got %v, want ErrConflict on the username", err)
			}
			sameUsers(t, m, b, "after the refused create")
		})
	}
}

func TestUsersLoadFailure(t *testing.T) {
	boom := errors.New("boom")
	b := inmem.NewUsers()
	b.FailNext("All", boom)
	if _, err := mirror.NewUsers(t.Context(), b, b.All, nil); !errors.Is(err, boom) {
		t.Errorf("NewUsers with a failing loader: got %v, want boom", err)
	}
}

// TestUsersBackingFailureChangesNothing: when the backing store fails a
// write, the caller gets its error and the mirror is unchanged.
func TestUsersBackingFailureChangesNothing(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		method string
		call   func(ctx context.Context, m *mirror.Users, a *domain.User) error
	}{
		{"Create", func(ctx context.Context, m *mirror.Users, _ *domain.User) error { return m.Create(ctx, newUser("new")) }},
		{"Update", func(ctx context.Context, m *mirror.Users, a *domain.User) error {
			c := *a
			c.Username, c.Email = "renamed", "renamed@example.com"
			return m.Update(ctx, &c)
		}},
		{"AddStat", func(ctx context.Context, m *mirror.Users, a *domain.User) error {
			_, err := m.AddStat(ctx, a.ID, "runs", 1)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			ctx := t.Context()
			b := inmem.NewUsers()
			a := newUser("a")
			must(t, b.Create(ctx, a), "Create")
			must(t, b.Create(ctx, newUser("")), "Create")
			m := mirrorUsers(t, b)
			before, _ := m.All(ctx)
			b.FailNext(tt.method, boom)
			if err := tt.call(ctx, m, a); !errors.Is(err, boom) {
				t.Fatalf("%s: got %v, want the backing store's error", tt.method, err)
			}
			after, _ := m.All(ctx)
			if !reflect.DeepEqual(normUsers(after), normUsers(before)) {
				t.Errorf("%s failed: mirror changed", tt.method)
			}
			sameUsers(t, m, b, "after the failure")
			// The names the failed write would have taken are still free.
			if _, err := m.FindByUsername(ctx, "renamed"); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("FindByUsername after a failed write: got %v, want ErrNotFound", err)
			}
		})
	}
}

// lostUserReply is a user store whose Update applies the change and then
// fails, as a write whose reply is lost does.
type lostUserReply struct{ *inmem.Users }

func (s lostUserReply) Update(ctx context.Context, u *domain.User) error {
	if err := s.Users.Update(ctx, u); err != nil {
		return err
	}
	return errLostReply
}

// TestUsersUnknownOutcome: a failed write whose outcome is unknown is
// re-read; a failed re-read is retried by the next write.
func TestUsersUnknownOutcome(t *testing.T) {
	ctx := t.Context()
	inner := inmem.NewUsers()
	b := lostUserReply{inner}
	a, other := newUser("a"), newUser("other")
	must(t, b.Create(ctx, a), "Create")
	must(t, b.Create(ctx, other), "Create")
	log, lines := newLogger(t)
	m, err := mirror.NewUsers(ctx, b, b.All, log)
	must(t, err, "NewUsers")

	c := *a
	c.Username = "renamed"
	if err := m.Update(ctx, &c); !errors.Is(err, errLostReply) {
		t.Fatalf("Update: got %v, want the lost reply", err)
	}
	if got, err := m.FindByUsername(ctx, "RENAMED"); err != nil || got.ID != a.ID {
		t.Errorf("after a lost reply: FindByUsername got %v, %v, want the renamed user", got, err)
	}
	if _, err := m.FindByUsername(ctx, "a"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("after a lost reply: the old name still finds %v", err)
	}

	c.Username = "again"
	inner.FailNext("Get", errors.New("store down"))
	if err := m.Update(ctx, &c); !errors.Is(err, errLostReply) {
		t.Fatalf("Update: got %v, want the lost reply", err)
	}
	if !strings.Contains(lines.String(), "stale") {
		t.Errorf("a failed re-read was not logged; logs:\n%s", lines)
	}
	_, err = m.AddStat(ctx, other.ID, "views", 1)
	must(t, err, "AddStat")
	if got, _ := m.Get(ctx, a.ID); got.Username != "again" {
		t.Errorf("after the next write: mirror has username %q, want %q", got.Username, "again")
	}
	sameUsers(t, m, inner, "after recovery")
}

// TestUsersRepairsDivergence writes behind the mirror's back; the mirror's
// next write notices, re-reads or reloads, and ends equal to the backing
// store.
func TestUsersRepairsDivergence(t *testing.T) {
	for _, be := range userBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			b := be.users(t)
			a, x := newUser("a"), newUser("x")
			must(t, b.Create(ctx, a), "Create")
			must(t, b.Create(ctx, x), "Create")
			log, lines := newLogger(t)
			m, err := mirror.NewUsers(ctx, b, b.All, log)
			must(t, err, "NewUsers")

			_, err = b.AddStat(ctx, a.ID, "runs", 5)
			must(t, err, "AddStat behind the back")
			stats, err := m.AddStat(ctx, a.ID, "runs", 1)
			must(t, err, "AddStat")
			if got, _ := m.Get(ctx, a.ID); stats.Runs != 6 || got.Stats.Runs != 6 {
				t.Errorf("AddStat after a hidden one: got %d returned, %d mirrored, want 6", stats.Runs, got.Stats.Runs)
			}

			// A name freed behind its back: the backing store accepts it,
			// the copy refuses it until it reloads.
			xr := *x
			xr.Username, xr.Email = "x2", "x2@example.com"
			must(t, b.Update(ctx, &xr), "Update behind the back")
			y := newUser("X")
			must(t, m.Create(ctx, y), "Create with the freed name")
			if got, err := m.FindByUsername(ctx, "x"); err != nil || got.ID != y.ID {
				t.Errorf("FindByUsername of the new holder: got %v, %v", got, err)
			}
			sameUsers(t, m, b, "after repairs")
			for _, want := range []string{"re-reading", "reloading"} {
				if !strings.Contains(lines.String(), want) {
					t.Errorf("logs do not mention %q:\n%s", want, lines)
				}
			}
		})
	}
}

// TestUsersConcurrentWrites: concurrent sign-ups (some racing for the same
// names), renames and counter updates leave the mirror equal to the
// backing store, exactly one winner per name and counters exact.
func TestUsersConcurrentWrites(t *testing.T) {
	for _, be := range userBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			b := be.users(t)
			hot := newUser("hot")
			must(t, b.Create(ctx, hot), "Create")
			m := mirrorUsers(t, b)

			const n = 30
			var wg sync.WaitGroup
			var mu sync.Mutex
			won := map[string]int{}
			errs := make(chan error, 3*n)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					if _, err := m.AddStat(ctx, hot.ID, "views", 1); err != nil {
						errs <- fmt.Errorf("AddStat: %w", err)
					}
				})
				wg.Go(func() {
					<-start
					name := fmt.Sprintf("user%d", i%10) // three racers per name
					u := newUser(name)
					u.Email = fmt.Sprintf("%d@example.com", i)
					switch err := m.Create(ctx, u); {
					case err == nil:
						mu.Lock()
						won[name]++
						mu.Unlock()
					case !errors.Is(err, domain.ErrConflict):
						errs <- fmt.Errorf("Create: %w", err)
					}
				})
				if i%3 == 0 {
					wg.Go(func() {
						<-start
						if err := m.Create(ctx, newUser("")); err != nil {
							errs <- fmt.Errorf("Create anonymous: %w", err)
						}
					})
				}
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for i := range 10 {
				if name := fmt.Sprintf("user%d", i); won[name] != 1 {
					t.Errorf("%s: %d creates won, want 1", name, won[name])
				}
			}
			got, err := m.Get(ctx, hot.ID)
			must(t, err, "Get")
			if got.Stats.Views != n {
				t.Errorf("after %d concurrent AddStat: mirror has %d views, want %d", n, got.Stats.Views, n)
			}
			sameUsers(t, m, b, "after concurrent writes")
		})
	}
}
