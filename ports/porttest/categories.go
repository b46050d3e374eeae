package porttest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Categories runs the ports.Categories contract. newStore must return an
// empty store that is not shared with other calls.
func Categories(t *testing.T, newStore func(t *testing.T) ports.Categories) {
	t.Run("CreateGet", func(t *testing.T) { categoriesCreateGet(t, newStore(t)) })
	t.Run("AliasConflicts", func(t *testing.T) { categoriesAliasConflicts(t, newStore(t)) })
	t.Run("ConcurrentCreate", func(t *testing.T) { categoriesConcurrentCreate(t, newStore(t)) })
	t.Run("UpdateDelete", func(t *testing.T) { categoriesUpdateDelete(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { categoriesList(t, newStore(t)) })
}

func newCategory(name string, created time.Time) *domain.Category {
	return &domain.Category{ID: newID(), Name: name, Aliases: []string{domain.Alias(name)}, Created: created}
}

func wantCategory(t *testing.T, got, want *domain.Category, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil category, want %+v", what, *want)
	}
	g, w := *got, *want
	g.Created, w.Created = msTime(g.Created), msTime(w.Created)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: got %+v, want %+v", what, g, w)
	}
}

func categoriesCreateGet(t *testing.T, s ports.Categories) {
	ctx := t.Context()
	c := &domain.Category{ID: newID(), Name: "Web", Description: "the web", Aliases: []string{"web", "www"}, Created: at(odd)}
	must(t, s.Create(ctx, c), "Create")
	got, err := s.Get(ctx, c.ID)
	must(t, err, "Get")
	wantCategory(t, got, c, "Get")
	for _, alias := range []string{"web", "www", "WWW"} {
		got, err = s.FindByAlias(ctx, alias)
		must(t, err, "FindByAlias "+alias)
		wantCategory(t, got, c, "FindByAlias "+alias)
	}
	_, err = s.Get(ctx, newID())
	wantKind(t, err, domain.ErrNotFound, "Get unknown")
	_, err = s.FindByAlias(ctx, "internet")
	wantKind(t, err, domain.ErrNotFound, "FindByAlias unknown")
}

func categoriesAliasConflicts(t *testing.T, s ports.Categories) {
	ctx := t.Context()
	a := newCategory("Web", at(0))
	a.Aliases = append(a.Aliases, "www")
	must(t, s.Create(ctx, a), "Create Web")
	wantConflict(t, s.Create(ctx, newCategory("WWW", at(0))), "category with name already exists", "Create with another's alias")
	b := newCategory("Databases", at(0))
	must(t, s.Create(ctx, b), "Create Databases")
	b.Aliases = append(b.Aliases, "www")
	wantConflict(t, s.Update(ctx, b), "category with alias already exists", "Update taking another's alias")
	a.Aliases = []string{"web"}
	must(t, s.Update(ctx, a), "Update dropping an alias")
	must(t, s.Update(ctx, b), "Update taking the freed alias")
	got, err := s.FindByAlias(ctx, "www")
	must(t, err, "FindByAlias www")
	wantCategory(t, got, b, "FindByAlias moved alias")
}

func categoriesConcurrentCreate(t *testing.T, s ports.Categories) {
	ctx := t.Context()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Create(ctx, newCategory("Games", at(0)))
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !isKind(err, domain.ErrConflict) {
			t.Errorf("concurrent Create: got error %v, want nil or ErrConflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("concurrent Create of one alias: got %d successes, want 1", ok)
	}
}

func categoriesUpdateDelete(t *testing.T, s ports.Categories) {
	ctx := t.Context()
	c := newCategory("Games", at(0))
	must(t, s.Create(ctx, c), "Create")
	c.Name, c.Description, c.Aliases = "Gaming", "fun", []string{"games", "gaming"}
	must(t, s.Update(ctx, c), "Update")
	got, err := s.Get(ctx, c.ID)
	must(t, err, "Get")
	wantCategory(t, got, c, "Get after Update")
	wantKind(t, s.Update(ctx, newCategory("ghost", at(0))), domain.ErrNotFound, "Update unknown")
	must(t, s.Delete(ctx, c.ID), "Delete")
	_, err = s.Get(ctx, c.ID)
	wantKind(t, err, domain.ErrNotFound, "Get deleted")
	wantKind(t, s.Delete(ctx, c.ID), domain.ErrNotFound, "Delete twice")
	must(t, s.Create(ctx, newCategory("Gaming", at(0))), "Create with the freed alias")
}

func categoriesList(t *testing.T, s ports.Categories) {
	ctx := t.Context()
	b, a, c := newCategory("beta", at(0)), newCategory("Alpha", at(0)), newCategory("charlie", at(0))
	for _, x := range []*domain.Category{b, a, c} {
		must(t, s.Create(ctx, x), "Create "+x.Name)
	}
	tests := []struct {
		name      string
		ids       []domain.ID
		p         ports.Page
		want      []domain.ID
		wantTotal int
	}{
		{"all", nil, ports.Page{}, []domain.ID{a.ID, b.ID, c.ID}, 3},
		{"page 0", nil, ports.Page{Limit: 2}, []domain.ID{a.ID, b.ID}, 3},
		{"page 1", nil, ports.Page{Page: 1, Limit: 2}, []domain.ID{c.ID}, 3},
		{"past the end", nil, ports.Page{Page: 9, Limit: 2}, nil, 3},
		{"by ids", []domain.ID{c.ID, a.ID}, ports.Page{}, []domain.ID{a.ID, c.ID}, 2},
		{"no ids", []domain.ID{}, ports.Page{}, nil, 0},
	}
	for _, tt := range tests {
		got, total, err := s.List(ctx, tt.ids, tt.p)
		must(t, err, "List "+tt.name)
		sameIDs(t, idsOf(got, func(c *domain.Category) domain.ID { return c.ID }), tt.want, "List "+tt.name)
		if total != tt.wantTotal {
			t.Errorf("List %s: got total %d, want %d", tt.name, total, tt.wantTotal)
		}
	}
}
