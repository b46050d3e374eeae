package porttest

import (
	"reflect"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Drafts runs the ports.Drafts contract. newStore must return an empty
// store that is not shared with other calls.
func Drafts(t *testing.T, newStore func(t *testing.T) ports.Drafts) {
	t.Run("CreateGet", func(t *testing.T) { draftsCreateGet(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { draftsNotFound(t, newStore(t)) })
	t.Run("UpdateDelete", func(t *testing.T) { draftsUpdateDelete(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { draftsList(t, newStore(t)) })
	t.Run("CountByOwner", func(t *testing.T) { draftsCountByOwner(t, newStore(t)) })
	t.Run("Transfer", func(t *testing.T) { draftsTransfer(t, newStore(t)) })
	t.Run("Expired", func(t *testing.T) { draftsExpired(t, newStore(t)) })
	t.Run("ByOwners", func(t *testing.T) { draftsByOwners(t, newStore(t)) })
	t.Run("WithContainer", func(t *testing.T) { draftsWithContainer(t, newStore(t)) })
	t.Run("ClearTarget", func(t *testing.T) { draftsClearTarget(t, newStore(t)) })
	t.Run("BaseRefs", func(t *testing.T) { draftsBaseRefs(t, newStore(t)) })
	t.Run("Saving", func(t *testing.T) { draftsSaving(t, newStore(t)) })
	t.Run("Copies", func(t *testing.T) { draftsCopies(t, newStore(t)) })
}

// newDraft makes a fresh, unsaved, not_created draft.
func newDraft(owner domain.ID, created time.Time) *domain.Draft {
	parent := newID()
	return &domain.Draft{
		ID:            newID(),
		Name:          "draft",
		Owner:         owner,
		Parent:        parent,
		ParentVersion: 1,
		Root:          parent,
		FileRoot:      domain.DefaultFileRoot,
		BaseRef:       domain.ImageRef(parent, 1),
		Status:        domain.StatusNotCreated,
		LastAccess:    created,
		Created:       created,
		Save:          domain.SaveState{Status: domain.SaveNone},
	}
}

func createDrafts(t *testing.T, s ports.Drafts, ds ...*domain.Draft) {
	t.Helper()
	for _, d := range ds {
		must(t, s.Create(t.Context(), d), "Create")
	}
}

func wantDraft(t *testing.T, got, want *domain.Draft, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil draft, want %s", what, show(normDraft(want)))
	}
	if g, w := normDraft(got), normDraft(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: got %s, want %s", what, show(g), show(w))
	}
}

func draftIDs(ds []*domain.Draft) []domain.ID {
	return idsOf(ds, func(d *domain.Draft) domain.ID { return d.ID })
}

func dids(ds ...*domain.Draft) []domain.ID { return draftIDs(ds) }

func draftsCreateGet(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	fresh := newDraft(newID(), at(odd))
	full := &domain.Draft{
		ID: newID(), Name: "My fork ✓", Description: "two\nlines", Owner: newID(), Parent: newID(), ParentVersion: 4,
		Root: newID(), Target: newID(),
		Tags:     []domain.Tag{{ID: newID(), Channel: newID(), Name: "go"}},
		StartCmd: "go run .", Env: map[string]string{"PORT": "8080", "EMPTY": ""}, FileRoot: "/srv",
		BaseRef: "runnable/abc:v4", ContainerID: "0123456789abcdef", Status: domain.StatusStopped,
		StartedAt: ptr(at(time.Minute + odd)), StoppedAt: ptr(at(2*time.Minute + odd)), ExitCode: ptr(137),
		LastAccess: at(3*time.Minute + odd), Created: at(odd),
		Save: domain.SaveState{Status: domain.SaveFailed, Mode: domain.SaveOverwrite, Image: newID(),
			StartedAt: ptr(at(4*time.Minute + odd)), FinishedAt: ptr(at(5*time.Minute + odd)), Error: "commit failed"},
	}
	zeroExit := newDraft(newID(), base)
	zeroExit.Status, zeroExit.ExitCode, zeroExit.ContainerID = domain.StatusRunning, ptr(0), "c0"
	zeroExit.StartedAt = ptr(at(time.Second))
	for _, d := range []*domain.Draft{fresh, full, zeroExit} {
		must(t, s.Create(ctx, d), "Create")
		got, err := s.Get(ctx, d.ID)
		must(t, err, "Get")
		wantDraft(t, got, d, "Get after Create")
	}
}

func draftsNotFound(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	createDrafts(t, s, newDraft(newID(), base))
	_, err := s.Get(ctx, newID())
	wantKind(t, err, domain.ErrNotFound, "Get unknown")
	wantKind(t, s.Update(ctx, newDraft(newID(), base)), domain.ErrNotFound, "Update unknown")
	wantKind(t, s.Delete(ctx, newID()), domain.ErrNotFound, "Delete unknown")
}

func draftsUpdateDelete(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	d := newDraft(newID(), base)
	other := newDraft(newID(), base)
	createDrafts(t, s, d, other)

	d.Name, d.StartCmd, d.Env = "renamed", "make run", map[string]string{"X": "y"}
	d.ContainerID, d.Status, d.StartedAt = "cid", domain.StatusRunning, ptr(at(time.Minute+odd))
	d.Tags = []domain.Tag{{ID: newID(), Channel: newID(), Name: "web"}}
	must(t, d.BeginSave(domain.SaveNew, newID(), at(2*time.Minute+odd)), "BeginSave")
	must(t, s.Update(ctx, d), "Update")
	got, err := s.Get(ctx, d.ID)
	must(t, err, "Get")
	wantDraft(t, got, d, "Get after Update")

	d.FinishSave(d.Save.Image, at(3*time.Minute))
	d.Status, d.StoppedAt, d.ExitCode = domain.StatusStopped, ptr(at(4*time.Minute)), ptr(1)
	d.Tags, d.Env = nil, nil
	must(t, s.Update(ctx, d), "Update")
	got, err = s.Get(ctx, d.ID)
	must(t, err, "Get")
	wantDraft(t, got, d, "Get after second Update")

	must(t, s.Delete(ctx, d.ID), "Delete")
	_, err = s.Get(ctx, d.ID)
	wantKind(t, err, domain.ErrNotFound, "Get after Delete")
	wantKind(t, s.Delete(ctx, d.ID), domain.ErrNotFound, "Delete twice")
	got, err = s.Get(ctx, other.ID)
	must(t, err, "Get other")
	wantDraft(t, got, other, "other draft after Delete")
}

// draftFixture: two owners, a parent, saved and unsaved drafts.
type draftFixture struct {
	ownerA, ownerB, parent domain.ID
	a1, a2, a3, a4, b1, b2 *domain.Draft
}

func newDraftFixture(t *testing.T, s ports.Drafts) *draftFixture {
	f := &draftFixture{ownerA: newID(), ownerB: newID(), parent: newID()}
	mk := func(owner domain.ID, created time.Duration, fromParent, saved bool) *domain.Draft {
		d := newDraft(owner, at(created))
		if fromParent {
			d.Parent = f.parent
		}
		if saved {
			d.Target = newID()
		}
		return d
	}
	f.a1 = mk(f.ownerA, 1*time.Minute, true, false)
	f.a2 = mk(f.ownerA, 2*time.Minute, false, true)
	f.a3 = mk(f.ownerA, 3*time.Minute, true, true)
	f.a4 = mk(f.ownerA, 4*time.Minute, false, false)
	f.b1 = mk(f.ownerB, 0, true, false)
	f.b2 = mk(f.ownerB, 5*time.Minute, false, false)
	createDrafts(t, s, f.a3, f.b1, f.a1, f.b2, f.a4, f.a2)
	return f
}

func draftsList(t *testing.T, s ports.Drafts) {
	f := newDraftFixture(t, s)
	tests := []struct {
		name      string
		give      ports.DraftQuery
		want      []domain.ID
		wantTotal int
	}{
		{"everything newest first", ports.DraftQuery{}, dids(f.b2, f.a4, f.a3, f.a2, f.a1, f.b1), 6},
		{"owner", ports.DraftQuery{Owner: f.ownerA}, dids(f.a4, f.a3, f.a2, f.a1), 4},
		{"unknown owner", ports.DraftQuery{Owner: newID()}, nil, 0},
		{"parent", ports.DraftQuery{Parent: f.parent}, dids(f.a3, f.a1, f.b1), 3},
		{"saved", ports.DraftQuery{Saved: ptr(true)}, dids(f.a3, f.a2), 2},
		{"unsaved", ports.DraftQuery{Saved: ptr(false)}, dids(f.b2, f.a4, f.a1, f.b1), 4},
		{"owner and parent", ports.DraftQuery{Owner: f.ownerA, Parent: f.parent}, dids(f.a3, f.a1), 2},
		{"owner, parent, unsaved", ports.DraftQuery{Owner: f.ownerA, Parent: f.parent, Saved: ptr(false)}, dids(f.a1), 1},
		{"page 0", ports.DraftQuery{Owner: f.ownerA, Page: ports.Page{Page: 0, Limit: 3}}, dids(f.a4, f.a3, f.a2), 4},
		{"page 1", ports.DraftQuery{Owner: f.ownerA, Page: ports.Page{Page: 1, Limit: 3}}, dids(f.a1), 4},
		{"past the end", ports.DraftQuery{Owner: f.ownerA, Page: ports.Page{Page: 2, Limit: 3}}, nil, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.give
			if q.Limit == 0 {
				q.Limit = 100
			}
			got, total, err := s.List(t.Context(), q)
			must(t, err, "List")
			sameIDs(t, draftIDs(got), tt.want, "List")
			if total != tt.wantTotal {
				t.Errorf("List total: got %d, want %d", total, tt.wantTotal)
			}
		})
	}
	got, _, err := s.List(t.Context(), ports.DraftQuery{Owner: f.ownerB, Page: ports.Page{Limit: 1}})
	must(t, err, "List")
	if len(got) == 1 {
		wantDraft(t, got[0], f.b2, "List item")
	}
}

func draftsCountByOwner(t *testing.T, s ports.Drafts) {
	f := newDraftFixture(t, s)
	for _, tt := range []struct {
		name  string
		owner domain.ID
		want  int
	}{{"A", f.ownerA, 4}, {"B", f.ownerB, 2}, {"nobody", newID(), 0}} {
		got, err := s.CountByOwner(t.Context(), tt.owner)
		must(t, err, "CountByOwner")
		if got != tt.want {
			t.Errorf("CountByOwner %s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func draftsTransfer(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	f := newDraftFixture(t, s)
	f.b2.ContainerID, f.b2.Status = "running-container", domain.StatusRunning
	must(t, s.Update(ctx, f.b2), "Update")
	to := newID()
	n, err := s.Transfer(ctx, f.ownerB, to)
	must(t, err, "Transfer")
	if n != 2 {
		t.Errorf("Transfer count: got %d, want 2", n)
	}
	for _, d := range []*domain.Draft{f.b1, f.b2} {
		got, err := s.Get(ctx, d.ID)
		must(t, err, "Get")
		want := *d
		want.Owner = to
		wantDraft(t, got, &want, "Get after Transfer")
	}
	got, err := s.Get(ctx, f.a1.ID)
	must(t, err, "Get")
	wantDraft(t, got, f.a1, "other owner's draft after Transfer")
	if c, _ := s.CountByOwner(ctx, f.ownerB); c != 0 {
		t.Errorf("CountByOwner old owner after Transfer: got %d, want 0", c)
	}
	if c, _ := s.CountByOwner(ctx, to); c != 2 {
		t.Errorf("CountByOwner new owner after Transfer: got %d, want 2", c)
	}
	n, err = s.Transfer(ctx, newID(), to)
	must(t, err, "Transfer")
	if n != 0 {
		t.Errorf("Transfer from nobody: got %d, want 0", n)
	}
}

func draftsExpired(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	before := at(time.Hour)
	mk := func(lastAccess time.Time) *domain.Draft {
		d := newDraft(newID(), base)
		d.LastAccess = lastAccess
		return d
	}
	oldest := mk(base)
	old := mk(at(30 * time.Minute))
	older := mk(at(10 * time.Minute)) // created after old, accessed before it
	justBefore := mk(before.Add(-time.Millisecond))
	atBoundary := mk(before)
	recent := mk(at(2 * time.Hour))
	saved := mk(base)
	saved.Target = newID()
	saving := mk(base)
	must(t, saving.BeginSave(domain.SaveNew, newID(), base), "BeginSave")
	failed := mk(at(5 * time.Minute)) // a failed save leaves it unsaved
	failed.FailSave("boom", base)
	withContainer := mk(at(20 * time.Minute))
	withContainer.ContainerID, withContainer.Status = "cid", domain.StatusStopped
	createDrafts(t, s, recent, old, saved, justBefore, oldest, atBoundary, saving, older, failed, withContainer)

	all := dids(oldest, failed, older, withContainer, old, justBefore)
	tests := []struct {
		name  string
		limit int
		want  []domain.ID
	}{
		{"limit above count", 100, all},
		{"limit exact", len(all), all},
		{"limit 2", 2, all[:2]},
		{"limit 1", 1, all[:1]},
	}
	for _, tt := range tests {
		got, err := s.Expired(ctx, before, tt.limit)
		must(t, err, "Expired")
		sameIDs(t, draftIDs(got), tt.want, "Expired "+tt.name)
	}
	got, err := s.Expired(ctx, base, 10)
	must(t, err, "Expired")
	sameIDs(t, draftIDs(got), nil, "Expired before the oldest access")
	got, err = s.Expired(ctx, before, 1)
	must(t, err, "Expired")
	if len(got) == 1 {
		wantDraft(t, got[0], oldest, "Expired item")
	}
}

func draftsByOwners(t *testing.T, s ports.Drafts) {
	f := newDraftFixture(t, s)
	tests := []struct {
		name   string
		owners []domain.ID
		want   []domain.ID
	}{
		{"one owner", []domain.ID{f.ownerB}, dids(f.b1, f.b2)},
		{"two owners", []domain.ID{f.ownerA, f.ownerB}, dids(f.a1, f.a2, f.a3, f.a4, f.b1, f.b2)},
		{"unknown and known", []domain.ID{newID(), f.ownerB}, dids(f.b1, f.b2)},
		{"unknown", []domain.ID{newID()}, nil},
		{"none", []domain.ID{}, nil},
	}
	for _, tt := range tests {
		got, err := s.ByOwners(t.Context(), tt.owners)
		must(t, err, "ByOwners")
		sameIDSet(t, draftIDs(got), tt.want, "ByOwners "+tt.name)
	}
}

func draftsWithContainer(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	got, err := s.WithContainer(ctx)
	must(t, err, "WithContainer")
	sameIDSet(t, draftIDs(got), nil, "WithContainer of an empty store")
	running := newDraft(newID(), base)
	running.ContainerID, running.Status = "c1", domain.StatusRunning
	stopped := newDraft(newID(), base)
	stopped.ContainerID, stopped.Status = "c2", domain.StatusStopped
	none := newDraft(newID(), base)
	createDrafts(t, s, running, none, stopped)
	got, err = s.WithContainer(ctx)
	must(t, err, "WithContainer")
	sameIDSet(t, draftIDs(got), dids(running, stopped), "WithContainer")
	for _, d := range got {
		if d.ID == running.ID {
			wantDraft(t, d, running, "WithContainer item")
		}
	}
}

func draftsSaving(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	saving := newDraft(newID(), base)
	must(t, saving.BeginSave(domain.SaveNew, newID(), at(time.Minute)), "BeginSave")
	failed := newDraft(newID(), base)
	must(t, failed.BeginSave(domain.SaveNew, newID(), at(time.Minute)), "BeginSave")
	failed.FailSave("commit failed", at(2*time.Minute))
	idle := newDraft(newID(), base)
	createDrafts(t, s, saving, failed, idle)
	got, err := s.Saving(ctx)
	must(t, err, "Saving")
	sameIDSet(t, draftIDs(got), dids(saving), "Saving")
	if len(got) == 1 {
		wantDraft(t, got[0], saving, "Saving item")
	}
}

func draftsClearTarget(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	img, otherImg := newID(), newID()
	d1 := newDraft(newID(), base)
	d1.FinishSave(img, at(time.Minute))
	d2 := newDraft(newID(), base)
	d2.Target = img
	d3 := newDraft(newID(), base)
	d3.Target = otherImg
	d4 := newDraft(newID(), base)
	createDrafts(t, s, d1, d2, d3, d4)
	must(t, s.ClearTarget(ctx, img), "ClearTarget")
	for _, tt := range []struct {
		d          *domain.Draft
		wantTarget domain.ID
	}{{d1, domain.NilID}, {d2, domain.NilID}, {d3, otherImg}, {d4, domain.NilID}} {
		got, err := s.Get(ctx, tt.d.ID)
		must(t, err, "Get")
		want := *tt.d
		want.Target = tt.wantTarget
		wantDraft(t, got, &want, "Get after ClearTarget")
	}
	saved, total, err := s.List(ctx, ports.DraftQuery{Saved: ptr(true), Page: ports.Page{Limit: 10}})
	must(t, err, "List")
	sameIDs(t, draftIDs(saved), dids(d3), "List saved after ClearTarget")
	if total != 1 {
		t.Errorf("List saved total: got %d, want 1", total)
	}
	must(t, s.ClearTarget(ctx, newID()), "ClearTarget of an untargeted image")
}

func draftsBaseRefs(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	got, err := s.BaseRefs(ctx)
	must(t, err, "BaseRefs")
	if len(got) != 0 {
		t.Errorf("BaseRefs of an empty store: got %q, want none", got)
	}
	a := newDraft(newID(), base)
	b := newDraft(newID(), base)
	b.BaseRef = a.BaseRef
	c := newDraft(newID(), base)
	withContainer := newDraft(newID(), base)
	withContainer.ContainerID = "cid"
	createDrafts(t, s, a, b, c, withContainer)
	got, err = s.BaseRefs(ctx)
	must(t, err, "BaseRefs")
	sameStringSet(t, got, []string{a.BaseRef, c.BaseRef}, "BaseRefs")
}

func draftsCopies(t *testing.T, s ports.Drafts) {
	ctx := t.Context()
	d := newDraft(newID(), base)
	d.Tags = []domain.Tag{{ID: newID(), Channel: newID(), Name: "go"}}
	d.Env = map[string]string{"A": "1"}
	d.StartedAt, d.StoppedAt, d.ExitCode = ptr(at(time.Minute)), ptr(at(2*time.Minute)), ptr(3)
	d.ContainerID = "cid"
	d.Save = domain.SaveState{Status: domain.SaveSaved, Mode: domain.SaveNew, Image: newID(), StartedAt: ptr(base), FinishedAt: ptr(at(time.Second))}
	want := normDraft(d)
	createDrafts(t, s, d)

	mutate := func(x *domain.Draft) {
		x.Name = "mutated"
		if len(x.Tags) > 0 {
			x.Tags[0].Name = "mutated"
		}
		if x.Env != nil {
			x.Env["A"] = "mutated"
		}
		if x.StartedAt != nil {
			*x.StartedAt = at(100 * time.Hour)
		}
		if x.StoppedAt != nil {
			*x.StoppedAt = at(100 * time.Hour)
		}
		if x.ExitCode != nil {
			*x.ExitCode = 99
		}
		if x.Save.StartedAt != nil {
			*x.Save.StartedAt = at(100 * time.Hour)
		}
		if x.Save.FinishedAt != nil {
			*x.Save.FinishedAt = at(100 * time.Hour)
		}
	}
	check := func(what string) {
		t.Helper()
		got, err := s.Get(ctx, want.ID)
		must(t, err, "Get")
		wantDraft(t, got, &want, what)
	}
	mutate(d)
	check("Get after mutating the created value")

	got, err := s.Get(ctx, want.ID)
	must(t, err, "Get")
	mutate(got)
	check("Get after mutating a Get result")

	lists := map[string]func() ([]*domain.Draft, error){
		"List": func() ([]*domain.Draft, error) {
			l, _, err := s.List(ctx, ports.DraftQuery{Page: ports.Page{Limit: 10}})
			return l, err
		},
		"ByOwners":      func() ([]*domain.Draft, error) { return s.ByOwners(ctx, []domain.ID{want.Owner}) },
		"WithContainer": func() ([]*domain.Draft, error) { return s.WithContainer(ctx) },
	}
	for name, list := range lists {
		l, err := list()
		must(t, err, name)
		for _, x := range l {
			mutate(x)
		}
		check("Get after mutating a " + name + " result")
	}

	upd := normDraft(&want)
	upd.Description = "updated"
	must(t, s.Update(ctx, &upd), "Update")
	want.Description = "updated"
	mutate(&upd)
	check("Get after mutating the updated value")

	unsaved := newDraft(newID(), base)
	unsaved.StartedAt = ptr(base)
	createDrafts(t, s, unsaved)
	wantUnsaved := normDraft(unsaved)
	exp, err := s.Expired(ctx, at(time.Hour), 10)
	must(t, err, "Expired")
	for _, x := range exp {
		mutate(x)
	}
	got, err = s.Get(ctx, unsaved.ID)
	must(t, err, "Get")
	wantDraft(t, got, &wantUnsaved, "Get after mutating an Expired result")
}
