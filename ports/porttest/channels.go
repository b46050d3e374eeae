package porttest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Channels runs the ports.Channels contract. newStore must return an
// empty store that is not shared with other calls.
func Channels(t *testing.T, newStore func(t *testing.T) ports.Channels) {
	t.Run("CreateGet", func(t *testing.T) { channelsCreateGet(t, newStore(t)) })
	t.Run("AliasConflicts", func(t *testing.T) { channelsAliasConflicts(t, newStore(t)) })
	t.Run("ConcurrentCreate", func(t *testing.T) { channelsConcurrentCreate(t, newStore(t)) })
	t.Run("Update", func(t *testing.T) { channelsUpdate(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { channelsDelete(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { channelsList(t, newStore(t)) })
	t.Run("CategoryTags", func(t *testing.T) { channelsCategoryTags(t, newStore(t)) })
}

func newChannel(name string, created time.Time) *domain.Channel {
	return domain.NewChannel(newID(), name, "", created)
}

func normChannel(c *domain.Channel) domain.Channel {
	cp := *c
	if len(cp.Tags) == 0 {
		cp.Tags = nil
	}
	cp.Created = msTime(cp.Created)
	return cp
}

func wantChannel(t *testing.T, got, want *domain.Channel, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil channel, want %+v", what, normChannel(want))
	}
	if g, w := normChannel(got), normChannel(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: got %+v, want %+v", what, g, w)
	}
}

func channelIDs(cs []*domain.Channel) []domain.ID {
	return idsOf(cs, func(c *domain.Channel) domain.ID { return c.ID })
}

func channelsCreateGet(t *testing.T, s ports.Channels) {
	ctx := t.Context()
	c := &domain.Channel{
		ID: newID(), Name: "jQuery", Description: "write less, ünïcödé", Aliases: []string{"jquery", "jq"},
		Tags:    []domain.CategoryTag{{ID: newID(), Category: newID(), Name: "Web"}},
		Created: at(odd),
	}
	must(t, s.Create(ctx, c), "Create")
	got, err := s.Get(ctx, c.ID)
	must(t, err, "Get")
	wantChannel(t, got, c, "Get")
	for _, alias := range []string{"jquery", "jq", "JQ"} {
		got, err = s.FindByAlias(ctx, alias)
		must(t, err, "FindByAlias "+alias)
		wantChannel(t, got, c, "FindByAlias "+alias)
	}
	_, err = s.Get(ctx, newID())
	wantKind(t, err, domain.ErrNotFound, "Get unknown")
	_, err = s.FindByAlias(ctx, "jquery-ui")
	wantKind(t, err, domain.ErrNotFound, "FindByAlias unknown")
	// The returned value is a copy.
	got.Aliases[0] = "changed"
	again, _ := s.Get(ctx, c.ID)
	wantChannel(t, again, c, "Get after changing a returned value")
}

func channelsAliasConflicts(t *testing.T, s ports.Channels) {
	ctx := t.Context()
	a := newChannel("Go", at(0))
	a.Aliases = append(a.Aliases, "golang")
	must(t, s.Create(ctx, a), "Create Go")
	b := newChannel("Golang", at(time.Second))
	wantConflict(t, s.Create(ctx, b), "channel with name already exists", "Create with another's alias")
	c := newChannel("Rust", at(time.Second))
	must(t, s.Create(ctx, c), "Create Rust")
	c.Aliases = append(c.Aliases, "golang")
	wantConflict(t, s.Update(ctx, c), "channel with alias already exists", "Update taking another's alias")
	got, _ := s.Get(ctx, c.ID)
	if len(got.Aliases) != 1 {
		t.Errorf("Update that conflicted: got aliases %v, want [rust]", got.Aliases)
	}
	// A channel may keep and reorder its own aliases.
	a.Aliases = []string{"golang", "go", "gopher"}
	must(t, s.Update(ctx, a), "Update own aliases")
	got, _ = s.FindByAlias(ctx, "gopher")
	wantChannel(t, got, a, "FindByAlias new alias")
	// Aliases dropped by an update are free again.
	a.Aliases = []string{"go"}
	must(t, s.Update(ctx, a), "Update dropping aliases")
	_, err := s.FindByAlias(ctx, "golang")
	wantKind(t, err, domain.ErrNotFound, "FindByAlias dropped alias")
	must(t, s.Create(ctx, b), "Create Golang once free")
}

func channelsConcurrentCreate(t *testing.T, s ports.Channels) {
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
			errs[i] = s.Create(ctx, newChannel("Docker", at(0)))
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case isKind(err, domain.ErrConflict):
		default:
			t.Errorf("concurrent Create: got error %v, want nil or ErrConflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("concurrent Create of one alias: got %d successes, want 1", ok)
	}
	_, total, err := s.List(ctx, ports.ChannelQuery{})
	must(t, err, "List")
	if total != 1 {
		t.Errorf("List after concurrent Create: got total %d, want 1", total)
	}
}

func channelsUpdate(t *testing.T, s ports.Channels) {
	ctx := t.Context()
	c := newChannel("node", at(0))
	must(t, s.Create(ctx, c), "Create")
	c.Name, c.Description = "Node.js", "server side"
	c.Aliases = append(c.Aliases, "node.js")
	c.Tags = []domain.CategoryTag{{ID: newID(), Category: newID(), Name: "Server"}}
	must(t, s.Update(ctx, c), "Update")
	got, err := s.Get(ctx, c.ID)
	must(t, err, "Get")
	wantChannel(t, got, c, "Get after Update")
	wantKind(t, s.Update(ctx, newChannel("ghost", at(0))), domain.ErrNotFound, "Update unknown")
}

func channelsDelete(t *testing.T, s ports.Channels) {
	ctx := t.Context()
	c := newChannel("perl", at(0))
	must(t, s.Create(ctx, c), "Create")
	must(t, s.Delete(ctx, c.ID), "Delete")
	_, err := s.Get(ctx, c.ID)
	wantKind(t, err, domain.ErrNotFound, "Get deleted")
	_, err = s.FindByAlias(ctx, "perl")
	wantKind(t, err, domain.ErrNotFound, "FindByAlias deleted")
	wantKind(t, s.Delete(ctx, c.ID), domain.ErrNotFound, "Delete twice")
	must(t, s.Create(ctx, newChannel("Perl", at(0))), "Create the freed alias")
}

func channelsList(t *testing.T, s ports.Channels) {
	ctx := t.Context()
	web, db := newID(), newID()
	// Names sort case-insensitively.
	b := newChannel("beta", at(0))
	a := newChannel("Alpha", at(time.Second))
	c := newChannel("Charlie", at(2*time.Second))
	a.Tags = []domain.CategoryTag{{ID: newID(), Category: web, Name: "Web"}}
	c.Tags = []domain.CategoryTag{{ID: newID(), Category: db, Name: "DB"}, {ID: newID(), Category: web, Name: "Web"}}
	for _, ch := range []*domain.Channel{b, a, c} {
		must(t, s.Create(ctx, ch), "Create "+ch.Name)
	}
	tests := []struct {
		name      string
		q         ports.ChannelQuery
		want      []domain.ID
		wantTotal int
	}{
		{"all by name", ports.ChannelQuery{}, []domain.ID{a.ID, b.ID, c.ID}, 3},
		{"paged", ports.ChannelQuery{Page: ports.Page{Page: 1, Limit: 2}}, []domain.ID{c.ID}, 3},
		{"past the end", ports.ChannelQuery{Page: ports.Page{Page: 5, Limit: 2}}, nil, 3},
		{"by category", ports.ChannelQuery{Category: web}, []domain.ID{a.ID, c.ID}, 2},
		{"unknown category", ports.ChannelQuery{Category: newID()}, nil, 0},
		{"by ids", ports.ChannelQuery{IDs: []domain.ID{c.ID, b.ID}}, []domain.ID{b.ID, c.ID}, 2},
		{"empty ids", ports.ChannelQuery{IDs: []domain.ID{}}, nil, 0},
		{"ids and category", ports.ChannelQuery{IDs: []domain.ID{b.ID, c.ID}, Category: db}, []domain.ID{c.ID}, 1},
	}
	for _, tt := range tests {
		got, total, err := s.List(ctx, tt.q)
		must(t, err, "List "+tt.name)
		sameIDs(t, channelIDs(got), tt.want, "List "+tt.name)
		if total != tt.wantTotal {
			t.Errorf("List %s: got total %d, want %d", tt.name, total, tt.wantTotal)
		}
	}
	got, _, _ := s.List(ctx, ports.ChannelQuery{IDs: []domain.ID{c.ID}})
	if len(got) == 1 {
		wantChannel(t, got[0], c, "List returns whole channels")
	}
}

func channelsCategoryTags(t *testing.T, s ports.Channels) {
	ctx := t.Context()
	web, db, none := newID(), newID(), newID()
	a, b, c := newChannel("a", at(0)), newChannel("b", at(0)), newChannel("c", at(0))
	a.Tags = []domain.CategoryTag{{ID: newID(), Category: web, Name: "Web"}, {ID: newID(), Category: db, Name: "DB"}}
	b.Tags = []domain.CategoryTag{{ID: newID(), Category: web, Name: "Web"}}
	for _, ch := range []*domain.Channel{a, b, c} {
		must(t, s.Create(ctx, ch), "Create "+ch.Name)
	}
	counts, err := s.CountByCategory(ctx, []domain.ID{web, db, none})
	must(t, err, "CountByCategory")
	if counts[web] != 2 || counts[db] != 1 || counts[none] != 0 {
		t.Errorf("CountByCategory: got web %d db %d none %d, want 2 1 0", counts[web], counts[db], counts[none])
	}
	counts, err = s.CountByCategory(ctx, []domain.ID{db})
	must(t, err, "CountByCategory one")
	if counts[web] != 0 || counts[db] != 1 {
		t.Errorf("CountByCategory [db]: got %v, want only db 1", counts)
	}

	must(t, s.RenameCategoryTags(ctx, web, "Frontend"), "RenameCategoryTags")
	got, _ := s.Get(ctx, a.ID)
	a.Tags[0].Name = "Frontend"
	wantChannel(t, got, a, "a after rename")
	got, _ = s.Get(ctx, b.ID)
	b.Tags[0].Name = "Frontend"
	wantChannel(t, got, b, "b after rename")

	must(t, s.RemoveCategoryTags(ctx, web), "RemoveCategoryTags")
	got, _ = s.Get(ctx, a.ID)
	a.Tags = a.Tags[1:]
	wantChannel(t, got, a, "a after remove")
	got, _ = s.Get(ctx, b.ID)
	b.Tags = nil
	wantChannel(t, got, b, "b after remove")
	list, total, err := s.List(ctx, ports.ChannelQuery{Category: web})
	must(t, err, "List by removed category")
	if total != 0 || len(list) != 0 {
		t.Errorf("List by removed category: got %d (total %d), want none", len(list), total)
	}
	must(t, s.RemoveCategoryTags(ctx, none), "RemoveCategoryTags of an unused category")
}
