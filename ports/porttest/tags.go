package porttest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// ImageTagStore is an image store with its tag operations.
type ImageTagStore interface {
	ports.Images
	ports.ImageTags
}

// DraftTagStore is a draft store with its tag operations.
type DraftTagStore interface {
	ports.Drafts
	ports.DraftTags
}

// ImageTags runs the ports.ImageTags contract. newStore must return an
// empty store that is not shared with other calls.
func ImageTags(t *testing.T, newStore func(t *testing.T) ImageTagStore) {
	t.Run("AddRemove", func(t *testing.T) { imageTagsAddRemove(t, newStore(t)) })
	t.Run("ConcurrentAdd", func(t *testing.T) { imageTagsConcurrent(t, newStore(t)) })
	t.Run("ByChannel", func(t *testing.T) { imageTagsByChannel(t, newStore(t)) })
	t.Run("ChannelCounts", func(t *testing.T) { imageTagsChannelCounts(t, newStore(t)) })
}

// DraftTags runs the ports.DraftTags contract. newStore must return an
// empty store that is not shared with other calls.
func DraftTags(t *testing.T, newStore func(t *testing.T) DraftTagStore) {
	t.Run("AddRemove", func(t *testing.T) { draftTagsAddRemove(t, newStore(t)) })
	t.Run("ConcurrentAdd", func(t *testing.T) { draftTagsConcurrent(t, newStore(t)) })
	t.Run("ByChannel", func(t *testing.T) { draftTagsByChannel(t, newStore(t)) })
}

func newTag(name string) domain.Tag { return domain.Tag{ID: newID(), Channel: newID(), Name: name} }

// tagOps abstracts images and drafts for the shared checks.
type tagOps struct {
	add    func(id domain.ID, tag domain.Tag, max int) error
	remove func(id, tag domain.ID) error
	tags   func(t *testing.T, id domain.ID) []domain.Tag
}

func checkAddRemove(t *testing.T, ops tagOps, id domain.ID) {
	a, b, c := newTag("jQuery"), newTag("Node.js"), newTag("Go")
	must(t, ops.add(id, a, 3), "AddTag a")
	must(t, ops.add(id, b, 3), "AddTag b")
	wantTags(t, ops.tags(t, id), []domain.Tag{a, b}, "after two adds")

	dup := domain.Tag{ID: newID(), Channel: a.Channel, Name: a.Name}
	wantConflict(t, ops.add(id, dup, 3), "runnable already tagged with jQuery", "AddTag on a tagged channel")
	must(t, ops.add(id, c, 3), "AddTag c")
	err := ops.add(id, newTag("Rust"), 3)
	wantKind(t, err, domain.ErrInvalid, "AddTag over max")
	if msg, _ := domain.PublicMessage(err); msg != "too many tags" {
		t.Errorf("AddTag over max: got message %q, want %q", msg, "too many tags")
	}
	wantTags(t, ops.tags(t, id), []domain.Tag{a, b, c}, "after refused adds")

	must(t, ops.remove(id, b.ID), "RemoveTag b")
	wantTags(t, ops.tags(t, id), []domain.Tag{a, c}, "after RemoveTag")
	err = ops.remove(id, b.ID)
	wantKind(t, err, domain.ErrNotFound, "RemoveTag twice")
	if msg, _ := domain.PublicMessage(err); msg != "tag not found" {
		t.Errorf("RemoveTag twice: got message %q, want %q", msg, "tag not found")
	}
	must(t, ops.remove(id, a.ID), "RemoveTag a")
	must(t, ops.remove(id, c.ID), "RemoveTag c")
	wantTags(t, ops.tags(t, id), nil, "after removing every tag")

	wantKind(t, ops.add(newID(), newTag("x"), 3), domain.ErrNotFound, "AddTag unknown runnable")
	wantKind(t, ops.remove(newID(), a.ID), domain.ErrNotFound, "RemoveTag unknown runnable")
}

func checkConcurrentAdd(t *testing.T, ops tagOps, id domain.ID, bump func() error) {
	const n = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, 2*n)
	distinct := make([]domain.Tag, n)
	same := newTag("shared")
	for i := range n {
		distinct[i] = newTag(fmt.Sprintf("c%d", i))
		wg.Add(2)
		go func() { defer wg.Done(); <-start; errs[i] = ops.add(id, distinct[i], 100) }()
		go func() {
			defer wg.Done()
			<-start
			errs[n+i] = ops.add(id, domain.Tag{ID: newID(), Channel: same.Channel, Name: same.Name}, 100)
		}()
	}
	var bumpErr error
	if bump != nil {
		wg.Add(1)
		go func() { defer wg.Done(); <-start; bumpErr = bump() }()
	}
	close(start)
	wg.Wait()
	must(t, bumpErr, "concurrent counter update")
	sameOK := 0
	for i, err := range errs {
		switch {
		case err == nil && i >= n:
			sameOK++
		case err == nil:
		case i >= n && isKind(err, domain.ErrConflict):
		default:
			t.Errorf("concurrent AddTag %d: got error %v", i, err)
		}
	}
	if sameOK != 1 {
		t.Errorf("concurrent AddTag of one channel: got %d successes, want 1", sameOK)
	}
	got := ops.tags(t, id)
	if len(got) != n+1 {
		t.Errorf("after concurrent AddTag: got %d tags, want %d (none lost)", len(got), n+1)
	}
	for _, d := range distinct {
		if !domain.HasTagOn(got, d.Channel) {
			t.Errorf("after concurrent AddTag: tag %s lost", d.Name)
		}
	}
}

func wantTags(t *testing.T, got, want []domain.Tag, what string) {
	t.Helper()
	g, w := normTags(got), normTags(want)
	if len(g) != len(w) {
		t.Errorf("%s: got tags %+v, want %+v", what, g, w)
		return
	}
	for i := range g {
		if g[i] != w[i] {
			t.Errorf("%s: got tags %+v, want %+v", what, g, w)
			return
		}
	}
}

func imageOps(t *testing.T, s ImageTagStore) tagOps {
	ctx := t.Context()
	return tagOps{
		add:    func(id domain.ID, tag domain.Tag, max int) error { return s.AddTag(ctx, id, tag, max) },
		remove: func(id, tag domain.ID) error { return s.RemoveTag(ctx, id, tag) },
		tags: func(t *testing.T, id domain.ID) []domain.Tag {
			t.Helper()
			img, err := s.Get(t.Context(), id)
			must(t, err, "Get image")
			return img.Tags
		},
	}
}

func draftOps(t *testing.T, s DraftTagStore) tagOps {
	ctx := t.Context()
	return tagOps{
		add:    func(id domain.ID, tag domain.Tag, max int) error { return s.AddTag(ctx, id, tag, max) },
		remove: func(id, tag domain.ID) error { return s.RemoveTag(ctx, id, tag) },
		tags: func(t *testing.T, id domain.ID) []domain.Tag {
			t.Helper()
			d, err := s.Get(t.Context(), id)
			must(t, err, "Get draft")
			return d.Tags
		},
	}
}

func imageTagsAddRemove(t *testing.T, s ImageTagStore) {
	img := newImage("tagged", newID(), at(0))
	createImages(t, s, img)
	checkAddRemove(t, imageOps(t, s), img.ID)
	// Everything but the tags is untouched.
	got, err := s.Get(t.Context(), img.ID)
	must(t, err, "Get")
	wantImage(t, got, img, "image after tag changes")
}

func imageTagsConcurrent(t *testing.T, s ImageTagStore) {
	img := newImage("busy", newID(), at(0))
	createImages(t, s, img)
	checkConcurrentAdd(t, imageOps(t, s), img.ID, func() error {
		_, _, err := s.AddStat(t.Context(), img.ID, "runs", 1)
		return err
	})
	got, _ := s.Get(t.Context(), img.ID)
	if got.Stats.Runs != 1 {
		t.Errorf("runs after AddStat racing AddTag: got %d, want 1", got.Stats.Runs)
	}
}

func imageTagsByChannel(t *testing.T, s ImageTagStore) {
	ctx := t.Context()
	ch, keep := newID(), newTag("keep")
	i1, i2, i3 := newImage("one", newID(), at(0)), newImage("two", newID(), at(time.Second)), newImage("three", newID(), at(2*time.Second))
	i1.Tags = []domain.Tag{{ID: newID(), Channel: ch, Name: "old"}}
	i2.Tags = []domain.Tag{keep, {ID: newID(), Channel: ch, Name: "old"}}
	i3.Tags = []domain.Tag{keep}
	createImages(t, s, i1, i2, i3)

	must(t, s.RenameTagsOfChannel(ctx, ch, "New"), "RenameTagsOfChannel")
	got, _ := s.Get(ctx, i2.ID)
	wantTags(t, got.Tags, []domain.Tag{keep, {ID: i2.Tags[1].ID, Channel: ch, Name: "New"}}, "renamed")
	published := true
	list, _, err := s.List(ctx, ports.ImageQuery{Search: []string{"new"}})
	must(t, err, "List searching the new tag name")
	sameIDSet(t, imageIDs(list), []domain.ID{i1.ID, i2.ID}, "search by renamed tag")

	n, err := s.RemoveTagsOfChannel(ctx, ch)
	must(t, err, "RemoveTagsOfChannel")
	if n != 2 {
		t.Errorf("RemoveTagsOfChannel: got %d images changed, want 2", n)
	}
	got, _ = s.Get(ctx, i1.ID)
	wantTags(t, got.Tags, nil, "i1 after removal")
	got, _ = s.Get(ctx, i2.ID)
	wantTags(t, got.Tags, []domain.Tag{keep}, "i2 after removal")
	list, _, err = s.List(ctx, ports.ImageQuery{Published: &published})
	must(t, err, "List published")
	sameIDSet(t, imageIDs(list), []domain.ID{i2.ID, i3.ID}, "published after removal")
	list, _, err = s.List(ctx, ports.ImageQuery{Channels: []domain.ID{ch}})
	must(t, err, "List by removed channel")
	if len(list) != 0 {
		t.Errorf("List by removed channel: got %s, want none", hexes(imageIDs(list)))
	}
	if n, _ := s.RemoveTagsOfChannel(ctx, ch); n != 0 {
		t.Errorf("RemoveTagsOfChannel again: got %d, want 0", n)
	}
}

func imageTagsChannelCounts(t *testing.T, s ImageTagStore) {
	ctx := t.Context()
	js, css, html, lone := newID(), newID(), newID(), newID()
	tag := func(ch domain.ID) domain.Tag { return domain.Tag{ID: newID(), Channel: ch, Name: "t"} }
	mk := func(name string, version int, chans ...domain.ID) {
		img := newImage(name, newID(), at(0))
		img.Version = version
		for _, c := range chans {
			img.Tags = append(img.Tags, tag(c))
		}
		createImages(t, s, img)
	}
	mk("a", 1, js, css)
	mk("b", 1, js, css, html)
	mk("c", 2, js)
	mk("d", 1, html)
	mk("saving", 0, js, css, lone) // version 0 is never counted
	mk("untagged", 1)

	counts, err := s.ChannelCounts(ctx, domain.NilID, nil)
	must(t, err, "ChannelCounts all")
	want := map[domain.ID]int{js: 3, css: 2, html: 2}
	for ch, n := range want {
		if counts[ch] != n {
			t.Errorf("ChannelCounts all: got %d for a channel, want %d (%v)", counts[ch], n, counts)
		}
	}
	if counts[lone] != 0 {
		t.Errorf("ChannelCounts: a channel only on a version-0 image got %d, want 0", counts[lone])
	}
	counts, err = s.ChannelCounts(ctx, domain.NilID, []domain.ID{css, lone})
	must(t, err, "ChannelCounts some")
	if counts[css] != 2 || counts[js] != 0 || counts[lone] != 0 {
		t.Errorf("ChannelCounts [css lone]: got %v, want css 2 only", counts)
	}
	// Related channels: images carrying js also carry css (2) and html (1).
	counts, err = s.ChannelCounts(ctx, js, nil)
	must(t, err, "ChannelCounts with js")
	if counts[css] != 2 || counts[html] != 1 || counts[js] != 0 || counts[lone] != 0 {
		t.Errorf("ChannelCounts with js: got css %d html %d js %d lone %d, want 2 1 0 0", counts[css], counts[html], counts[js], counts[lone])
	}
	counts, err = s.ChannelCounts(ctx, js, []domain.ID{html})
	must(t, err, "ChannelCounts with js of html")
	if counts[html] != 1 || counts[css] != 0 {
		t.Errorf("ChannelCounts with js of [html]: got %v, want html 1 only", counts)
	}
	counts, err = s.ChannelCounts(ctx, newID(), nil)
	must(t, err, "ChannelCounts with an unknown channel")
	for ch, n := range counts {
		if n != 0 {
			t.Errorf("ChannelCounts with an unknown channel: got %d for %s, want nothing", n, ch.Hex())
		}
	}
}

func draftTagsAddRemove(t *testing.T, s DraftTagStore) {
	d := newDraft(newID(), at(0))
	createDrafts(t, s, d)
	checkAddRemove(t, draftOps(t, s), d.ID)
	got, err := s.Get(t.Context(), d.ID)
	must(t, err, "Get")
	wantDraft(t, got, d, "draft after tag changes")
}

func draftTagsConcurrent(t *testing.T, s DraftTagStore) {
	d := newDraft(newID(), at(0))
	createDrafts(t, s, d)
	checkConcurrentAdd(t, draftOps(t, s), d.ID, nil)
}

func draftTagsByChannel(t *testing.T, s DraftTagStore) {
	ctx := t.Context()
	ch, keep := newID(), newTag("keep")
	d1, d2 := newDraft(newID(), at(0)), newDraft(newID(), at(0))
	d1.Tags = []domain.Tag{{ID: newID(), Channel: ch, Name: "old"}, keep}
	d2.Tags = []domain.Tag{keep}
	createDrafts(t, s, d1, d2)
	must(t, s.RenameTagsOfChannel(ctx, ch, "New"), "RenameTagsOfChannel")
	got, _ := s.Get(ctx, d1.ID)
	wantTags(t, got.Tags, []domain.Tag{{ID: d1.Tags[0].ID, Channel: ch, Name: "New"}, keep}, "renamed")
	n, err := s.RemoveTagsOfChannel(ctx, ch)
	must(t, err, "RemoveTagsOfChannel")
	if n != 1 {
		t.Errorf("RemoveTagsOfChannel: got %d drafts changed, want 1", n)
	}
	got, _ = s.Get(ctx, d1.ID)
	wantTags(t, got.Tags, []domain.Tag{keep}, "d1 after removal")
	got, _ = s.Get(ctx, d2.ID)
	wantTags(t, got.Tags, []domain.Tag{keep}, "d2 untouched")
}
