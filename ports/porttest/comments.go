package porttest

import (
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Comments runs the ports.Comments contract. newStore must return an empty
// store that is not shared with other calls.
func Comments(t *testing.T, newStore func(t *testing.T) ports.Comments) {
	t.Run("CreateGetDelete", func(t *testing.T) { commentsCreateGetDelete(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { commentsList(t, newStore(t)) })
	t.Run("ExcludeAuthors", func(t *testing.T) { commentsExclude(t, newStore(t)) })
	t.Run("AuthorsAndDeleteByImage", func(t *testing.T) { commentsByImage(t, newStore(t)) })
}

func newComment(image, author domain.ID, text string, created time.Time) *domain.Comment {
	return &domain.Comment{ID: newID(), Image: image, Author: author, Text: text, Created: created}
}

func wantComment(t *testing.T, got, want *domain.Comment, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil comment, want %+v", what, *want)
	}
	g, w := *got, *want
	g.Created, w.Created = msTime(g.Created), msTime(w.Created)
	if g != w {
		t.Errorf("%s: got %+v, want %+v", what, g, w)
	}
}

func commentIDs(cs []*domain.Comment) []domain.ID {
	return idsOf(cs, func(c *domain.Comment) domain.ID { return c.ID })
}

func commentsCreateGetDelete(t *testing.T, s ports.Comments) {
	ctx := t.Context()
	c := newComment(newID(), newID(), "Nice one.\nSecond line, ünïcödé <b>", at(odd))
	must(t, s.Create(ctx, c), "Create")
	got, err := s.Get(ctx, c.ID)
	must(t, err, "Get")
	wantComment(t, got, c, "Get")
	_, err = s.Get(ctx, newID())
	wantKind(t, err, domain.ErrNotFound, "Get unknown")
	must(t, s.Delete(ctx, c.ID), "Delete")
	_, err = s.Get(ctx, c.ID)
	wantKind(t, err, domain.ErrNotFound, "Get deleted")
	wantKind(t, s.Delete(ctx, c.ID), domain.ErrNotFound, "Delete twice")
}

func commentsList(t *testing.T, s ports.Comments) {
	ctx := t.Context()
	img := newID()
	c1 := newComment(img, newID(), "first", at(0))
	c2 := newComment(img, newID(), "second", at(time.Minute))
	c3 := newComment(img, newID(), "same time, higher id", at(time.Minute))
	other := newComment(newID(), c1.Author, "elsewhere", at(0))
	for _, c := range []*domain.Comment{c3, c1, other, c2} {
		must(t, s.Create(ctx, c), "Create "+c.Text)
	}
	tests := []struct {
		name      string
		p         ports.Page
		want      []domain.ID
		wantTotal int
	}{
		{"all, oldest first", ports.Page{}, []domain.ID{c1.ID, c2.ID, c3.ID}, 3},
		{"page 0", ports.Page{Limit: 2}, []domain.ID{c1.ID, c2.ID}, 3},
		{"page 1", ports.Page{Page: 1, Limit: 2}, []domain.ID{c3.ID}, 3},
		{"past the end", ports.Page{Page: 2, Limit: 2}, nil, 3},
	}
	for _, tt := range tests {
		got, total, err := s.List(ctx, ports.CommentQuery{Image: img, Page: tt.p})
		must(t, err, "List "+tt.name)
		sameIDs(t, commentIDs(got), tt.want, "List "+tt.name)
		if total != tt.wantTotal {
			t.Errorf("List %s: got total %d, want %d", tt.name, total, tt.wantTotal)
		}
	}
	got, _, _ := s.List(ctx, ports.CommentQuery{Image: img, Page: ports.Page{Limit: 1}})
	if len(got) == 1 {
		wantComment(t, got[0], c1, "List returns whole comments")
	}
	got, total, err := s.List(ctx, ports.CommentQuery{Image: newID()})
	must(t, err, "List of an image without comments")
	if len(got) != 0 || total != 0 {
		t.Errorf("List of an image without comments: got %d (total %d), want none", len(got), total)
	}
}

func commentsExclude(t *testing.T, s ports.Comments) {
	ctx := t.Context()
	img, alice, bob, carol := newID(), newID(), newID(), newID()
	var all []*domain.Comment
	for i, author := range []domain.ID{alice, bob, alice, carol, bob} {
		c := newComment(img, author, "c", at(time.Duration(i)*time.Second))
		all = append(all, c)
		must(t, s.Create(ctx, c), "Create")
	}
	got, total, err := s.List(ctx, ports.CommentQuery{Image: img, ExcludeAuthors: []domain.ID{bob}})
	must(t, err, "List without bob")
	sameIDs(t, commentIDs(got), []domain.ID{all[0].ID, all[2].ID, all[3].ID}, "List without bob")
	if total != 3 {
		t.Errorf("List without bob: got total %d, want 3", total)
	}
	got, total, err = s.List(ctx, ports.CommentQuery{Image: img, ExcludeAuthors: []domain.ID{bob, alice}, Page: ports.Page{Limit: 1}})
	must(t, err, "List without bob and alice")
	sameIDs(t, commentIDs(got), []domain.ID{all[3].ID}, "List without bob and alice")
	if total != 1 {
		t.Errorf("List without bob and alice: got total %d, want 1", total)
	}
	_, total, _ = s.List(ctx, ports.CommentQuery{Image: img, ExcludeAuthors: []domain.ID{}})
	if total != 5 {
		t.Errorf("List excluding nobody: got total %d, want 5", total)
	}
}

func commentsByImage(t *testing.T, s ports.Comments) {
	ctx := t.Context()
	img, keep, alice, bob := newID(), newID(), newID(), newID()
	for _, a := range []domain.ID{alice, bob, alice} {
		must(t, s.Create(ctx, newComment(img, a, "c", at(0))), "Create")
	}
	kept := newComment(keep, alice, "kept", at(0))
	must(t, s.Create(ctx, kept), "Create on the other image")
	authors, err := s.Authors(ctx, img)
	must(t, err, "Authors")
	sameIDSet(t, authors, []domain.ID{alice, bob}, "Authors")
	n, err := s.DeleteByImage(ctx, img)
	must(t, err, "DeleteByImage")
	if n != 3 {
		t.Errorf("DeleteByImage: got %d, want 3", n)
	}
	if _, total, _ := s.List(ctx, ports.CommentQuery{Image: img}); total != 0 {
		t.Errorf("List after DeleteByImage: got total %d, want 0", total)
	}
	authors, err = s.Authors(ctx, img)
	must(t, err, "Authors after DeleteByImage")
	if len(authors) != 0 {
		t.Errorf("Authors after DeleteByImage: got %s, want none", hexes(authors))
	}
	got, err := s.Get(ctx, kept.ID)
	must(t, err, "Get the other image's comment")
	wantComment(t, got, kept, "other image's comment")
}
