package porttest

import (
	"reflect"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Files runs the ports.Files contract. newStore must return an empty store
// that is not shared with other calls.
func Files(t *testing.T, newStore func(t *testing.T) ports.Files) {
	t.Run("PutGetList", func(t *testing.T) { filesPutGetList(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { filesNotFound(t, newStore(t)) })
	t.Run("PutUpserts", func(t *testing.T) { filesPutUpserts(t, newStore(t)) })
	t.Run("PutPathConflict", func(t *testing.T) { filesPutPathConflict(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { filesDelete(t, newStore(t)) })
	t.Run("Replace", func(t *testing.T) { filesReplace(t, newStore(t)) })
	t.Run("DeleteAll", func(t *testing.T) { filesDeleteAll(t, newStore(t)) })
	t.Run("Content", func(t *testing.T) { filesContent(t, newStore(t)) })
	t.Run("Isolation", func(t *testing.T) { filesIsolation(t, newStore(t)) })
	t.Run("Copies", func(t *testing.T) { filesCopies(t, newStore(t)) })
}

func newFile(runnable domain.ID, dir, name string) domain.File {
	return domain.File{
		ID: newID(), Runnable: runnable, Name: name, Path: dir,
		Size: int64(len(name)), Modified: at(time.Minute + odd),
		Content: []byte("content of " + name), Cached: true,
	}
}

func newDir(runnable domain.ID, dir, name string) domain.File {
	return domain.File{ID: newID(), Runnable: runnable, Name: name, Path: dir, Dir: true, Modified: base}
}

func wantFiles(t *testing.T, got, want []domain.File, what string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d entries %s, want %d %s", what, len(got), fileNames(got), len(want), fileNames(want))
		return
	}
	for i := range got {
		if g, w := normFile(got[i]), normFile(want[i]); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: entry %d: got %s, want %s", what, i, show(g), show(w))
		}
	}
}

func wantFile(t *testing.T, got *domain.File, want domain.File, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil file, want %s", what, show(normFile(want)))
	}
	wantFiles(t, []domain.File{*got}, []domain.File{want}, what)
}

func fileNames(fs []domain.File) []string {
	out := make([]string, len(fs))
	for i := range fs {
		out[i] = fs[i].FullPath()
	}
	return out
}

func listFiles(t *testing.T, s ports.Files, runnable domain.ID) []domain.File {
	t.Helper()
	got, err := s.List(t.Context(), runnable)
	must(t, err, "List")
	return got
}

func filesPutGetList(t *testing.T, s ports.Files) {
	ctx := t.Context()
	r := newID()
	src := newDir(r, "/", "src")
	main := newFile(r, "/src", "main.go")
	main.Default = true
	readme := newFile(r, "/", "README.md")
	readme.Default = true
	nodeModules := newDir(r, "/", "node_modules")
	nodeModules.Ignore = true
	link := domain.File{ID: newID(), Runnable: r, Name: "current", Path: "/", IsLink: true, Link: "src", Modified: base}
	zeta := newFile(r, "/src", "Zeta.go")
	lib := newDir(r, "/src", "lib")
	util := newFile(r, "/src/lib", "util.go")
	util.Cached, util.Content = false, nil
	must(t, s.Put(ctx, util, main), "Put")
	must(t, s.Put(ctx, readme), "Put")
	must(t, s.Put(ctx, link, lib, src, nodeModules, zeta), "Put")
	must(t, s.Put(ctx), "Put nothing")

	want := []domain.File{readme, link, nodeModules, src, zeta, lib, main, util}
	wantFiles(t, listFiles(t, s, r), want, "List sorted by path then name")
	for _, f := range want {
		got, err := s.Get(ctx, r, f.ID)
		must(t, err, "Get "+f.FullPath())
		wantFile(t, got, f, "Get "+f.FullPath())
	}
}

func filesNotFound(t *testing.T, s ports.Files) {
	ctx := t.Context()
	r := newID()
	f := newFile(r, "/", "a")
	must(t, s.Put(ctx, f), "Put")
	_, err := s.Get(ctx, r, newID())
	wantKind(t, err, domain.ErrNotFound, "Get unknown id")
	_, err = s.Get(ctx, newID(), f.ID)
	wantKind(t, err, domain.ErrNotFound, "Get id of another runnable")
	if got := listFiles(t, s, newID()); len(got) != 0 {
		t.Errorf("List unknown runnable: got %s, want none", fileNames(got))
	}
}

func filesPutUpserts(t *testing.T, s ports.Files) {
	ctx := t.Context()
	r := newID()
	a := newFile(r, "/", "a.txt")
	b := newFile(r, "/", "b.txt")
	must(t, s.Put(ctx, a, b), "Put")
	a2 := a
	a2.Name, a2.Path, a2.Size, a2.Content, a2.Modified, a2.Default = "c.txt", "/", 5, []byte("hello"), at(time.Hour), true
	must(t, s.Put(ctx, a2), "Put again (rename)")
	wantFiles(t, listFiles(t, s, r), []domain.File{b, a2}, "List after upsert")
	// The old full path is free again.
	a3 := newFile(r, "/", "a.txt")
	must(t, s.Put(ctx, a3), "Put at the freed path")
	wantFiles(t, listFiles(t, s, r), []domain.File{a3, b, a2}, "List after reuse of a freed path")
	// Within one Put, entries apply in order: a rename frees its old path
	// for a later entry of the same call.
	b2 := b
	b2.Name = "d.txt"
	e := newFile(r, "/", "b.txt")
	must(t, s.Put(ctx, b2, e), "Put a rename and a new entry at the old path")
	wantFiles(t, listFiles(t, s, r), []domain.File{a3, e, a2, b2}, "List after rename and reuse in one Put")
}

func filesPutPathConflict(t *testing.T, s ports.Files) {
	ctx := t.Context()
	r := newID()
	a := newFile(r, "/dir", "a.txt")
	must(t, s.Put(ctx, a), "Put")
	dup := newFile(r, "/dir", "a.txt")
	wantKind(t, s.Put(ctx, dup), domain.ErrConflict, "Put another id at a taken full path")
	_, err := s.Get(ctx, r, dup.ID)
	wantKind(t, err, domain.ErrNotFound, "Get of the refused entry")
	wantFiles(t, listFiles(t, s, r), []domain.File{a}, "List after refused Put")
	must(t, s.Put(ctx, newFile(r, "/dir", "A.txt")), "Put at a path differing in case")
	must(t, s.Put(ctx, newFile(newID(), "/dir", "a.txt")), "Put the same path in another runnable")
}

func filesDelete(t *testing.T, s ports.Files) {
	ctx := t.Context()
	r := newID()
	a, b, c := newFile(r, "/", "a"), newFile(r, "/", "b"), newFile(r, "/", "c")
	must(t, s.Put(ctx, a, b, c), "Put")
	must(t, s.Delete(ctx, r, a.ID, newID(), c.ID), "Delete with an unknown id")
	wantFiles(t, listFiles(t, s, r), []domain.File{b}, "List after Delete")
	must(t, s.Delete(ctx, r), "Delete nothing")
	must(t, s.Delete(ctx, r, a.ID), "Delete again")
	must(t, s.Delete(ctx, newID(), b.ID), "Delete in another runnable")
	wantFiles(t, listFiles(t, s, r), []domain.File{b}, "List after no-op Deletes")
	must(t, s.Put(ctx, newFile(r, "/", "a")), "Put at a deleted entry's path")
}

func filesReplace(t *testing.T, s ports.Files) {
	ctx := t.Context()
	r, other := newID(), newID()
	old1, old2 := newFile(r, "/", "old1"), newFile(r, "/", "old2")
	kept := newFile(other, "/", "kept")
	must(t, s.Put(ctx, old1, old2, kept), "Put")

	keep := old2
	keep.Size, keep.Content = 3, []byte("new")
	nw := []domain.File{newFile(r, "/x", "z"), newDir(r, "/", "x"), keep, newFile(r, "/", "old1")}
	must(t, s.Replace(ctx, r, nw), "Replace")
	wantFiles(t, listFiles(t, s, r), []domain.File{nw[3], keep, nw[1], nw[0]}, "List after Replace")
	_, err := s.Get(ctx, r, old1.ID)
	wantKind(t, err, domain.ErrNotFound, "Get a replaced-away entry")
	wantFiles(t, listFiles(t, s, other), []domain.File{kept}, "other runnable after Replace")

	fresh := newID()
	copied := []domain.File{newFile(fresh, "/", "b"), newFile(fresh, "/", "a")}
	must(t, s.Replace(ctx, fresh, copied), "Replace into an empty runnable")
	wantFiles(t, listFiles(t, s, fresh), []domain.File{copied[1], copied[0]}, "List after Replace into an empty runnable")

	must(t, s.Replace(ctx, r, nil), "Replace with nothing")
	wantFiles(t, listFiles(t, s, r), nil, "List after Replace with nothing")
	wantFiles(t, listFiles(t, s, other), []domain.File{kept}, "other runnable after Replace with nothing")
}

func filesDeleteAll(t *testing.T, s ports.Files) {
	ctx := t.Context()
	r, other := newID(), newID()
	a := newFile(r, "/", "a")
	kept := newFile(other, "/", "a")
	must(t, s.Put(ctx, a, newFile(r, "/", "b"), kept), "Put")
	must(t, s.DeleteAll(ctx, r), "DeleteAll")
	wantFiles(t, listFiles(t, s, r), nil, "List after DeleteAll")
	_, err := s.Get(ctx, r, a.ID)
	wantKind(t, err, domain.ErrNotFound, "Get after DeleteAll")
	wantFiles(t, listFiles(t, s, other), []domain.File{kept}, "other runnable after DeleteAll")
	must(t, s.DeleteAll(ctx, r), "DeleteAll twice")
	must(t, s.DeleteAll(ctx, newID()), "DeleteAll of an unknown runnable")
}

func filesContent(t *testing.T, s ports.Files) {
	ctx := t.Context()
	r := newID()
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(255 - i)
	}
	tests := []struct {
		name    string
		content []byte
		cached  bool
	}{
		{"text", []byte("package main\n\nfunc main() {}\n"), true},
		{"binary", binary, true},
		{"invalid utf-8 and NUL", []byte{0xff, 0xfe, 0x00, 'a', 0x00, 0xc3}, true},
		{"empty cached", []byte{}, true},
		{"nil cached", nil, true},
		{"not cached", nil, false},
	}
	var put []domain.File
	for _, tt := range tests {
		f := newFile(r, "/", tt.name)
		f.Content, f.Cached, f.Size = tt.content, tt.cached, int64(len(tt.content))
		put = append(put, f)
	}
	must(t, s.Put(ctx, put...), "Put")
	for i, tt := range tests {
		got, err := s.Get(ctx, r, put[i].ID)
		must(t, err, "Get "+tt.name)
		if got.Cached != tt.cached || string(got.Content) != string(tt.content) {
			t.Errorf("Get %s: got cached %v content %q, want cached %v content %q", tt.name, got.Cached, got.Content, tt.cached, tt.content)
		}
	}
	for _, f := range listFiles(t, s, r) {
		for i, tt := range tests {
			if f.ID == put[i].ID && (f.Cached != tt.cached || string(f.Content) != string(tt.content)) {
				t.Errorf("List %s: got cached %v content %q, want cached %v content %q", tt.name, f.Cached, f.Content, tt.cached, tt.content)
			}
		}
	}
	// Content can be dropped from the cache and added back.
	f := put[1]
	f.Content, f.Cached = nil, false
	must(t, s.Put(ctx, f), "Put uncached")
	got, err := s.Get(ctx, r, f.ID)
	must(t, err, "Get")
	wantFile(t, got, f, "Get after dropping the cache")
	f.Content, f.Cached = []byte("again"), true
	must(t, s.Put(ctx, f), "Put cached")
	got, err = s.Get(ctx, r, f.ID)
	must(t, err, "Get")
	wantFile(t, got, f, "Get after caching again")
}

func filesIsolation(t *testing.T, s ports.Files) {
	ctx := t.Context()
	parent, fork := newID(), newID()
	// A fork copies its parent's index with the same file ids.
	a := newFile(parent, "/", "a.txt")
	b := newFile(parent, "/", "b.txt")
	must(t, s.Put(ctx, a, b), "Put")
	copied := listFiles(t, s, parent)
	for i := range copied {
		copied[i].Runnable = fork
	}
	must(t, s.Replace(ctx, fork, copied), "Replace with the same ids")
	fa := copied[0]
	fa.Content, fa.Size = []byte("changed in the fork"), 19
	must(t, s.Put(ctx, fa), "Put in the fork")
	must(t, s.Delete(ctx, fork, b.ID), "Delete in the fork")

	wantFiles(t, listFiles(t, s, parent), []domain.File{a, b}, "parent after changes to the fork")
	wantFiles(t, listFiles(t, s, fork), []domain.File{fa}, "fork")
	got, err := s.Get(ctx, parent, a.ID)
	must(t, err, "Get")
	wantFile(t, got, a, "parent's entry with a shared id")
	got, err = s.Get(ctx, fork, a.ID)
	must(t, err, "Get")
	wantFile(t, got, fa, "fork's entry with a shared id")

	must(t, s.DeleteAll(ctx, fork), "DeleteAll fork")
	wantFiles(t, listFiles(t, s, parent), []domain.File{a, b}, "parent after DeleteAll of the fork")
}

func filesCopies(t *testing.T, s ports.Files) {
	ctx := t.Context()
	r := newID()
	f := newFile(r, "/", "a.txt")
	want := normFile(f)
	must(t, s.Put(ctx, f), "Put")
	f.Content[0] = 'X'
	f.Name = "mutated"

	check := func(what string) {
		t.Helper()
		got, err := s.Get(ctx, r, want.ID)
		must(t, err, "Get")
		wantFile(t, got, want, what)
	}
	check("Get after mutating the put value")

	got, err := s.Get(ctx, r, want.ID)
	must(t, err, "Get")
	got.Content[0], got.Name = 'Y', "mutated"
	check("Get after mutating a Get result")

	list := listFiles(t, s, r)
	for i := range list {
		list[i].Content[0] = 'Z'
	}
	check("Get after mutating a List result")

	repl := []domain.File{normFile(want)}
	must(t, s.Replace(ctx, r, repl), "Replace")
	repl[0].Content[0] = 'W'
	check("Get after mutating the replaced value")
}
