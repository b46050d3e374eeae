package porttest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Images runs the ports.Images contract. newStore must return an empty
// store that is not shared with other calls.
func Images(t *testing.T, newStore func(t *testing.T) ports.Images) {
	t.Run("CreateGet", func(t *testing.T) { imagesCreateGet(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { imagesNotFound(t, newStore(t)) })
	t.Run("NameConflicts", func(t *testing.T) { imagesNameConflicts(t, newStore) })
	t.Run("Update", func(t *testing.T) { imagesUpdate(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { imagesDelete(t, newStore(t)) })
	t.Run("FindByName", func(t *testing.T) { imagesFindByName(t, newStore(t)) })
	t.Run("ListFilters", func(t *testing.T) { imagesListFilters(t, newStore(t)) })
	t.Run("ListSort", func(t *testing.T) { imagesListSort(t, newStore(t)) })
	t.Run("ListSortTies", func(t *testing.T) { imagesListSortTies(t, newStore(t)) })
	t.Run("ListPaging", func(t *testing.T) { imagesListPaging(t, newStore(t)) })
	t.Run("CountByOwner", func(t *testing.T) { imagesCountByOwner(t, newStore(t)) })
	t.Run("Transfer", func(t *testing.T) { imagesTransfer(t, newStore(t)) })
	t.Run("AddStat", func(t *testing.T) { imagesAddStat(t, newStore(t)) })
	t.Run("AddStatConcurrent", func(t *testing.T) { imagesAddStatConcurrent(t, newStore(t)) })
	t.Run("Refs", func(t *testing.T) { imagesRefs(t, newStore(t)) })
	t.Run("Copies", func(t *testing.T) { imagesCopies(t, newStore(t)) })
}

// newImage makes a ready version-1 image.
func newImage(name string, owner domain.ID, created time.Time) *domain.Image {
	id := newID()
	return &domain.Image{
		ID:       id,
		Name:     name,
		Owner:    owner,
		Version:  1,
		Status:   domain.ImageReady,
		FileRoot: domain.DefaultFileRoot,
		Created:  created,
		Updated:  created,
		Ref:      domain.ImageRef(id, 1),
	}
}

func createImages(t *testing.T, s ports.Images, imgs ...*domain.Image) {
	t.Helper()
	for _, img := range imgs {
		must(t, s.Create(t.Context(), img), "Create "+img.Name)
	}
}

func wantImage(t *testing.T, got, want *domain.Image, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil image, want %s", what, show(normImage(want)))
	}
	if g, w := normImage(got), normImage(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: got %s, want %s", what, show(g), show(w))
	}
}

func imageIDs(imgs []*domain.Image) []domain.ID {
	return idsOf(imgs, func(i *domain.Image) domain.ID { return i.ID })
}

func imagesCreateGet(t *testing.T, s ports.Images) {
	ctx := t.Context()
	full := &domain.Image{
		ID: newID(), Name: "Python 3 (CPython)", Description: "A REPL.\nTwo lines, ünïcödé.",
		Owner: newID(), Parent: newID(), Root: newID(), Version: 3, Status: domain.ImageSaving,
		Tags:     []domain.Tag{{ID: newID(), Channel: newID(), Name: "python"}, {ID: newID(), Channel: newID(), Name: "REPL"}},
		StartCmd: "python3 -i", Env: map[string]string{"PYTHONUNBUFFERED": "1", "EMPTY": ""},
		FileRoot: "/srv/app", Votes: -2, Stats: domain.Stats{Runs: 1, Views: 2, Copies: 3, Cuts: 4, Pastes: 5},
		Created: at(odd), Updated: at(time.Hour + odd), Ref: "runnable/abc:v3", Template: true,
	}
	bare := &domain.Image{ID: newID(), Name: "bare", Owner: newID(), Status: domain.ImageSaving, Created: at(time.Minute), Updated: at(time.Minute)}
	for _, img := range []*domain.Image{full, bare} {
		must(t, s.Create(ctx, img), "Create")
		got, err := s.Get(ctx, img.ID)
		must(t, err, "Get")
		wantImage(t, got, img, "Get after Create")
	}
}

func imagesNotFound(t *testing.T, s ports.Images) {
	ctx := t.Context()
	createImages(t, s, newImage("exists", newID(), base))
	_, err := s.Get(ctx, newID())
	wantKind(t, err, domain.ErrNotFound, "Get unknown")
	wantKind(t, s.Update(ctx, newImage("other", newID(), base)), domain.ErrNotFound, "Update unknown")
	wantKind(t, s.Delete(ctx, newID()), domain.ErrNotFound, "Delete unknown")
	_, err = s.FindByName(ctx, "missing")
	wantKind(t, err, domain.ErrNotFound, "FindByName unknown")
	_, _, err = s.AddStat(ctx, newID(), "runs", 1)
	wantKind(t, err, domain.ErrNotFound, "AddStat unknown")
}

func imagesNameConflicts(t *testing.T, newStore func(t *testing.T) ports.Images) {
	const msg = "runnable with name already exists"
	owner := newID()
	draftOnly := newImage("Saving One", owner, base)
	draftOnly.Version, draftOnly.Status, draftOnly.Ref = 0, domain.ImageSaving, ""
	tests := []struct {
		name     string
		existing *domain.Image
		give     string
	}{
		{"same name", newImage("Node.js", owner, base), "Node.js"},
		{"other case", newImage("Node.js", owner, base), "NODE.JS"},
		{"other owner", newImage("Node.js", newID(), base), "node.js"},
		{"version 0 image", draftOnly, "saving one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			createImages(t, s, tt.existing)
			give := newImage(tt.give, owner, base)
			wantConflict(t, s.Create(t.Context(), give), msg, "Create "+tt.give)
			if _, err := s.Get(t.Context(), give.ID); !isKind(err, domain.ErrNotFound) {
				t.Errorf("Get of refused image: got error %v, want ErrNotFound", err)
			}
		})
	}
	t.Run("similar but different", func(t *testing.T) {
		s := newStore(t)
		createImages(t, s, newImage("a.b", owner, base), newImage("C++ (gcc)", owner, base))
		for _, name := range []string{"axb", "a.bc", "a", "C++", "C++ (gcc) 2", "c (gcc)"} {
			must(t, s.Create(t.Context(), newImage(name, owner, base)), "Create "+name)
		}
	})
}

func imagesUpdate(t *testing.T, s ports.Images) {
	ctx := t.Context()
	const msg = "runnable with name already exists"
	a := newImage("Alpha", newID(), base)
	b := newImage("Beta", newID(), at(time.Second))
	createImages(t, s, a, b)

	a.Name = "ALPHA"
	a.Description = "renamed to its own name in upper case"
	a.Version, a.Status, a.Ref = 2, domain.ImageReady, domain.ImageRef(a.ID, 2)
	a.Tags = []domain.Tag{{ID: newID(), Channel: newID(), Name: "go"}}
	a.Env = map[string]string{"A": "1"}
	a.Updated = at(time.Hour + odd)
	must(t, s.Update(ctx, a), "Update")
	got, err := s.Get(ctx, a.ID)
	must(t, err, "Get")
	wantImage(t, got, a, "Get after Update")

	before := *b
	taken := *b
	taken.Name = "alpha"
	wantConflict(t, s.Update(ctx, &taken), msg, "Update to a taken name")
	got, err = s.Get(ctx, b.ID)
	must(t, err, "Get")
	wantImage(t, got, &before, "Get after refused Update")

	b.Name = "Gamma"
	must(t, s.Update(ctx, b), "Update to a free name")
	must(t, s.Create(ctx, newImage("beta", newID(), base)), "Create with the name freed by a rename")
}

func imagesDelete(t *testing.T, s ports.Images) {
	ctx := t.Context()
	a := newImage("Alpha", newID(), base)
	b := newImage("Beta", newID(), base)
	createImages(t, s, a, b)
	must(t, s.Delete(ctx, a.ID), "Delete")
	_, err := s.Get(ctx, a.ID)
	wantKind(t, err, domain.ErrNotFound, "Get after Delete")
	wantKind(t, s.Delete(ctx, a.ID), domain.ErrNotFound, "Delete twice")
	got, err := s.Get(ctx, b.ID)
	must(t, err, "Get the other image")
	wantImage(t, got, b, "the other image")
	must(t, s.Create(ctx, newImage("alpha", newID(), base)), "Create with the name of a deleted image")
}

func imagesFindByName(t *testing.T, s ports.Images) {
	ctx := t.Context()
	node := newImage("Node.js", newID(), base)
	cpp := newImage("C++ (gcc)", newID(), base)
	saving := newImage("Saving", newID(), base)
	saving.Version = 0
	createImages(t, s, node, cpp, saving)
	tests := []struct {
		give string
		want *domain.Image
	}{
		{"Node.js", node},
		{"node.JS", node},
		{"c++ (GCC)", cpp},
		{"saving", saving},
		{"Nodexjs", nil},
		{"Node", nil},
		{"Node.js ", nil},
		{"C++ (gcc", nil},
		{".*", nil},
	}
	for _, tt := range tests {
		got, err := s.FindByName(ctx, tt.give)
		if tt.want == nil {
			if !isKind(err, domain.ErrNotFound) {
				t.Errorf("FindByName(%q): got %v, %v, want ErrNotFound", tt.give, got, err)
			}
			continue
		}
		must(t, err, "FindByName "+tt.give)
		wantImage(t, got, tt.want, "FindByName "+tt.give)
	}
}

// imageFixture is a small catalogue for listing tests.
type imageFixture struct {
	ownerA, ownerB, parent, chanX, chanY, chanZ domain.ID
	py, node, gofiber, bash, saving, ruby       *domain.Image
}

func newImageFixture(t *testing.T, s ports.Images) *imageFixture {
	f := &imageFixture{ownerA: newID(), ownerB: newID(), parent: newID(), chanX: newID(), chanY: newID(), chanZ: newID()}
	mk := func(name, desc string, owner, parent domain.ID, created time.Duration, votes, runs, views int, tags ...domain.Tag) *domain.Image {
		img := newImage(name, owner, at(created))
		img.Description, img.Parent, img.Votes = desc, parent, votes
		img.Stats = domain.Stats{Runs: runs, Views: views}
		img.Tags = tags
		return img
	}
	tag := func(ch domain.ID, name string) domain.Tag { return domain.Tag{ID: newID(), Channel: ch, Name: name} }
	f.ruby = mk("Ruby Web", "Rails", f.ownerB, domain.NilID, 0, 5, 1, 100)
	f.py = mk("Python Starter", "Hello world in python", f.ownerA, domain.NilID, time.Minute, 5, 10, 100, tag(f.chanX, "python"))
	f.node = mk("Node Express", "A web server", f.ownerA, f.parent, 2*time.Minute, 5, 30, 5, tag(f.chanY, "node"))
	f.gofiber = mk("Go Fiber", "fast web framework", f.ownerB, f.parent, 3*time.Minute, 0, 30, 50, tag(f.chanX, "golang"), tag(f.chanY, "web"))
	f.bash = mk("Bash Shell", "", f.ownerB, domain.NilID, 4*time.Minute, 9, 0, 0)
	f.saving = mk("Python Draft", "web python", f.ownerA, f.parent, 5*time.Minute, 100, 100, 100, tag(f.chanX, "python"))
	f.saving.Version, f.saving.Status, f.saving.Ref = 0, domain.ImageSaving, ""
	// Insert in an order unrelated to any sort.
	createImages(t, s, f.node, f.saving, f.ruby, f.bash, f.py, f.gofiber)
	return f
}

func ids(imgs ...*domain.Image) []domain.ID { return imageIDs(imgs) }

func imagesListFilters(t *testing.T, s ports.Images) {
	f := newImageFixture(t, s)
	tests := []struct {
		name string
		give ports.ImageQuery
		want []domain.ID
	}{
		{"no filter", ports.ImageQuery{}, ids(f.bash, f.gofiber, f.node, f.py, f.ruby)},
		{"published", ports.ImageQuery{Published: ptr(true)}, ids(f.gofiber, f.node, f.py)},
		{"unpublished", ports.ImageQuery{Published: ptr(false)}, ids(f.bash, f.ruby)},
		{"channel X", ports.ImageQuery{Channels: []domain.ID{f.chanX}}, ids(f.gofiber, f.py)},
		{"channel Y", ports.ImageQuery{Channels: []domain.ID{f.chanY}}, ids(f.gofiber, f.node)},
		{"channels X or Y", ports.ImageQuery{Channels: []domain.ID{f.chanX, f.chanY}}, ids(f.gofiber, f.node, f.py)},
		{"channel without images", ports.ImageQuery{Channels: []domain.ID{f.chanZ}}, nil},
		{"empty channel list", ports.ImageQuery{Channels: []domain.ID{}}, nil},
		{"owner A", ports.ImageQuery{Owner: f.ownerA}, ids(f.node, f.py)},
		{"owner B", ports.ImageQuery{Owner: f.ownerB}, ids(f.bash, f.gofiber, f.ruby)},
		{"unknown owner", ports.ImageQuery{Owner: newID()}, nil},
		{"parent", ports.ImageQuery{Parent: f.parent}, ids(f.gofiber, f.node)},
		{"search name, description or tag", ports.ImageQuery{Search: []string{"web"}}, ids(f.gofiber, f.node, f.ruby)},
		{"search case-insensitive", ports.ImageQuery{Search: []string{"WeB"}}, ids(f.gofiber, f.node, f.ruby)},
		{"search terms all match", ports.ImageQuery{Search: []string{"web", "GO"}}, ids(f.gofiber)},
		{"search tag only", ports.ImageQuery{Search: []string{"golang"}}, ids(f.gofiber)},
		{"search description only", ports.ImageQuery{Search: []string{"hello"}}, ids(f.py)},
		{"search substring", ports.ImageQuery{Search: []string{"yth"}}, ids(f.py)},
		{"search is literal", ports.ImageQuery{Search: []string{"."}}, nil},
		{"search no match", ports.ImageQuery{Search: []string{"zzz"}}, nil},
		{"search one term missing", ports.ImageQuery{Search: []string{"python", "zzz"}}, nil},
		{"published, owner and search", ports.ImageQuery{Published: ptr(true), Owner: f.ownerA, Search: []string{"web"}}, ids(f.node)},
		{"channel and owner", ports.ImageQuery{Channels: []domain.ID{f.chanX}, Owner: f.ownerB}, ids(f.gofiber)},
		{"unpublished in a channel", ports.ImageQuery{Published: ptr(false), Channels: []domain.ID{f.chanX}}, nil},
		{"parent and owner", ports.ImageQuery{Parent: f.parent, Owner: f.ownerA}, ids(f.node)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.give
			q.Limit = 100
			got, total, err := s.List(t.Context(), q)
			must(t, err, "List")
			sameIDs(t, imageIDs(got), tt.want, "List")
			if total != len(tt.want) {
				t.Errorf("List total: got %d, want %d", total, len(tt.want))
			}
		})
	}
	got, _, err := s.List(t.Context(), ports.ImageQuery{Owner: f.ownerA, Search: []string{"hello"}, Page: ports.Page{Limit: 10}})
	must(t, err, "List")
	if len(got) == 1 {
		wantImage(t, got[0], f.py, "List item")
	}
}

func imagesListSort(t *testing.T, s ports.Images) {
	f := newImageFixture(t, s)
	tests := []struct {
		sort string
		want []domain.ID
	}{
		{"", ids(f.bash, f.gofiber, f.node, f.py, f.ruby)},
		{"-created", ids(f.bash, f.gofiber, f.node, f.py, f.ruby)},
		{"created", ids(f.ruby, f.py, f.node, f.gofiber, f.bash)},
		// votes 9, then three at 5 by newer created, then 0
		{"votes", ids(f.bash, f.node, f.py, f.ruby, f.gofiber)},
		// runs 30 (newer first), 10, 1, 0
		{"runs", ids(f.gofiber, f.node, f.py, f.ruby, f.bash)},
		// views 100 (newer first), 50, 5, 0
		{"views", ids(f.py, f.ruby, f.gofiber, f.node, f.bash)},
	}
	for _, tt := range tests {
		t.Run("sort "+tt.sort, func(t *testing.T) {
			got, total, err := s.List(t.Context(), ports.ImageQuery{Sort: tt.sort, Page: ports.Page{Limit: 100}})
			must(t, err, "List")
			sameIDs(t, imageIDs(got), tt.want, "List sort "+tt.sort)
			if total != 5 {
				t.Errorf("List total: got %d, want 5", total)
			}
		})
	}
}

func imagesListSortTies(t *testing.T, s ports.Images) {
	owner := newID()
	// Equal counters: the newer comes first, even with the lowest id; with
	// equal created too, the higher id comes first.
	newer := newImage("newer", owner, at(time.Second))
	lo := newImage("lo", owner, base)
	hi := newImage("hi", owner, base) // newID gives it the greater id
	for _, img := range []*domain.Image{lo, hi, newer} {
		img.Votes, img.Stats.Runs, img.Stats.Views = 3, 3, 3
	}
	createImages(t, s, hi, newer, lo)
	for _, sortBy := range []string{"votes", "runs", "views"} {
		got, _, err := s.List(t.Context(), ports.ImageQuery{Sort: sortBy, Page: ports.Page{Limit: 10}})
		must(t, err, "List")
		sameIDs(t, imageIDs(got), ids(newer, hi, lo), "List sort "+sortBy+" ties")
	}
}

func imagesListPaging(t *testing.T, s ports.Images) {
	f := newImageFixture(t, s)
	tests := []struct {
		name      string
		give      ports.ImageQuery
		want      []domain.ID
		wantTotal int
	}{
		{"page 0", ports.ImageQuery{Page: ports.Page{Page: 0, Limit: 2}}, ids(f.bash, f.gofiber), 5},
		{"page 1", ports.ImageQuery{Page: ports.Page{Page: 1, Limit: 2}}, ids(f.node, f.py), 5},
		{"last page", ports.ImageQuery{Page: ports.Page{Page: 2, Limit: 2}}, ids(f.ruby), 5},
		{"past the end", ports.ImageQuery{Page: ports.Page{Page: 3, Limit: 2}}, nil, 5},
		{"sorted page", ports.ImageQuery{Sort: "votes", Page: ports.Page{Page: 1, Limit: 3}}, ids(f.ruby, f.gofiber), 5},
		{"filtered page", ports.ImageQuery{Owner: f.ownerB, Page: ports.Page{Page: 1, Limit: 2}}, ids(f.ruby), 3},
		{"filtered past the end", ports.ImageQuery{Owner: f.ownerB, Page: ports.Page{Page: 5, Limit: 2}}, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := s.List(t.Context(), tt.give)
			must(t, err, "List")
			sameIDs(t, imageIDs(got), tt.want, "List")
			if total != tt.wantTotal {
				t.Errorf("List total: got %d, want %d", total, tt.wantTotal)
			}
		})
	}
}

func imagesCountByOwner(t *testing.T, s ports.Images) {
	f := newImageFixture(t, s)
	tests := []struct {
		name              string
		owner             domain.ID
		images, published int
	}{
		{"owner A (version 0 not counted)", f.ownerA, 2, 2},
		{"owner B", f.ownerB, 3, 1},
		{"nobody", newID(), 0, 0},
	}
	for _, tt := range tests {
		images, published, err := s.CountByOwner(t.Context(), tt.owner)
		must(t, err, "CountByOwner")
		if images != tt.images || published != tt.published {
			t.Errorf("CountByOwner %s: got %d, %d, want %d, %d", tt.name, images, published, tt.images, tt.published)
		}
	}
}

func imagesTransfer(t *testing.T, s ports.Images) {
	ctx := t.Context()
	f := newImageFixture(t, s)
	to := newID()
	n, err := s.Transfer(ctx, f.ownerA, to)
	must(t, err, "Transfer")
	if n != 3 {
		t.Errorf("Transfer count: got %d, want 3 (version 0 included)", n)
	}
	for _, img := range []*domain.Image{f.py, f.node, f.saving} {
		got, err := s.Get(ctx, img.ID)
		must(t, err, "Get")
		want := *img
		want.Owner = to
		wantImage(t, got, &want, "Get after Transfer")
	}
	got, err := s.Get(ctx, f.bash.ID)
	must(t, err, "Get")
	wantImage(t, got, f.bash, "other owner's image after Transfer")
	list, total, err := s.List(ctx, ports.ImageQuery{Owner: f.ownerA, Page: ports.Page{Limit: 10}})
	must(t, err, "List")
	if len(list) != 0 || total != 0 {
		t.Errorf("List old owner after Transfer: got %d items, total %d, want 0, 0", len(list), total)
	}
	list, _, err = s.List(ctx, ports.ImageQuery{Owner: to, Page: ports.Page{Limit: 10}})
	must(t, err, "List")
	sameIDs(t, imageIDs(list), ids(f.node, f.py), "List new owner after Transfer")
	n, err = s.Transfer(ctx, newID(), to)
	must(t, err, "Transfer")
	if n != 0 {
		t.Errorf("Transfer from nobody: got %d, want 0", n)
	}
}

func imagesAddStat(t *testing.T, s ports.Images) {
	ctx := t.Context()
	img := newImage("counted", newID(), base)
	img.Votes = 2
	img.Stats = domain.Stats{Runs: 1, Views: 2, Copies: 3, Cuts: 4, Pastes: 5}
	other := newImage("other", newID(), base)
	createImages(t, s, img, other)
	wantStats, wantVotes := img.Stats, img.Votes
	for _, step := range []struct {
		stat string
		n    int
	}{{"runs", 1}, {"views", 5}, {"copies", 1}, {"cuts", 2}, {"pastes", 1}, {"votes", 1}, {"votes", -1}, {"votes", 1}} {
		if step.stat == "votes" {
			wantVotes += step.n
		} else {
			wantStats = wantStats.Add(step.stat, step.n)
		}
		stats, votes, err := s.AddStat(ctx, img.ID, step.stat, step.n)
		must(t, err, "AddStat "+step.stat)
		if stats != wantStats || votes != wantVotes {
			t.Errorf("AddStat(%q, %d): got %+v, %d, want %+v, %d", step.stat, step.n, stats, votes, wantStats, wantVotes)
		}
	}
	got, err := s.Get(ctx, img.ID)
	must(t, err, "Get")
	want := *img
	want.Stats, want.Votes = wantStats, wantVotes
	wantImage(t, got, &want, "Get after AddStat")
	got, err = s.Get(ctx, other.ID)
	must(t, err, "Get")
	wantImage(t, got, other, "other image after AddStat")
}

func imagesAddStatConcurrent(t *testing.T, s ports.Images) {
	img := newImage("busy", newID(), base)
	createImages(t, s, img)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if _, _, err := s.AddStat(t.Context(), img.ID, "views", 1); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			<-start
			if _, _, err := s.AddStat(t.Context(), img.ID, "votes", 1); err != nil {
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
	got, err := s.Get(t.Context(), img.ID)
	must(t, err, "Get")
	if got.Stats.Views != n || got.Votes != n {
		t.Errorf("after %d concurrent AddStat each: got views %d, votes %d, want %d, %d", n, got.Stats.Views, got.Votes, n, n)
	}
}

func imagesRefs(t *testing.T, s ports.Images) {
	ctx := t.Context()
	got, err := s.Refs(ctx)
	must(t, err, "Refs")
	if len(got) != 0 {
		t.Errorf("Refs of an empty store: got %q, want none", got)
	}
	a := newImage("a", newID(), base)
	b := newImage("b", newID(), base)
	b.Ref = a.Ref // shares a's container image (a template copy)
	c := newImage("c", newID(), base)
	c.Ref = domain.ImageRef(c.ID, 3)
	saving := newImage("saving", newID(), base)
	saving.Version, saving.Ref = 0, ""
	createImages(t, s, a, b, c, saving)
	got, err = s.Refs(ctx)
	must(t, err, "Refs")
	sameStringSet(t, got, []string{a.Ref, c.Ref}, "Refs")
}

func imagesCopies(t *testing.T, s ports.Images) {
	ctx := t.Context()
	img := newImage("Original", newID(), base)
	img.Tags = []domain.Tag{{ID: newID(), Channel: newID(), Name: "go"}}
	img.Env = map[string]string{"A": "1"}
	want := normImage(img)
	createImages(t, s, img)
	img.Name, img.Tags[0].Name, img.Env["A"] = "mutated-input", "mutated", "2"
	img.Env["B"] = "new"

	check := func(what string) {
		t.Helper()
		got, err := s.Get(ctx, want.ID)
		must(t, err, "Get")
		wantImage(t, got, &want, what)
	}
	check("Get after mutating the created value")

	mutate := func(i *domain.Image) {
		i.Name = "mutated"
		i.Votes = 1000
		if len(i.Tags) > 0 {
			i.Tags[0].Name = "mutated"
		}
		if i.Env != nil {
			i.Env["A"] = "mutated"
		}
	}
	got, err := s.Get(ctx, want.ID)
	must(t, err, "Get")
	mutate(got)
	check("Get after mutating a Get result")

	got, err = s.FindByName(ctx, want.Name)
	must(t, err, "FindByName")
	mutate(got)
	check("Get after mutating a FindByName result")

	list, _, err := s.List(ctx, ports.ImageQuery{Page: ports.Page{Limit: 10}})
	must(t, err, "List")
	for _, l := range list {
		mutate(l)
	}
	check("Get after mutating a List result")

	upd := normImage(&want)
	upd.Description = "updated"
	must(t, s.Update(ctx, &upd), "Update")
	want.Description = "updated"
	mutate(&upd)
	check("Get after mutating the updated value")
}
