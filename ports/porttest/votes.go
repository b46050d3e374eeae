package porttest

import (
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Votes runs the ports.Votes contract. newStore must return an empty store
// that is not shared with other calls.
func Votes(t *testing.T, newStore func(t *testing.T) ports.Votes) {
	t.Run("CreateGetFind", func(t *testing.T) { votesCreateGetFind(t, newStore(t)) })
	t.Run("UniquePerUserAndImage", func(t *testing.T) { votesUnique(t, newStore(t)) })
	t.Run("ConcurrentCreate", func(t *testing.T) { votesConcurrentCreate(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { votesDelete(t, newStore(t)) })
	t.Run("ListByUser", func(t *testing.T) { votesListByUser(t, newStore(t)) })
	t.Run("CountAndDeleteByImage", func(t *testing.T) { votesByImage(t, newStore(t)) })
}

func newVote(user, image domain.ID, created time.Time) *domain.Vote {
	return &domain.Vote{ID: newID(), User: user, Image: image, Created: created}
}

func wantVote(t *testing.T, got, want *domain.Vote, what string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil vote, want %+v", what, *want)
	}
	g, w := *got, *want
	g.Created, w.Created = msTime(g.Created), msTime(w.Created)
	if g != w {
		t.Errorf("%s: got %+v, want %+v", what, g, w)
	}
}

func voteIDs(vs []*domain.Vote) []domain.ID {
	return idsOf(vs, func(v *domain.Vote) domain.ID { return v.ID })
}

func votesCreateGetFind(t *testing.T, s ports.Votes) {
	ctx := t.Context()
	v := newVote(newID(), newID(), at(odd))
	must(t, s.Create(ctx, v), "Create")
	got, err := s.Get(ctx, v.ID)
	must(t, err, "Get")
	wantVote(t, got, v, "Get")
	got, err = s.Find(ctx, v.User, v.Image)
	must(t, err, "Find")
	wantVote(t, got, v, "Find")
	_, err = s.Get(ctx, newID())
	wantKind(t, err, domain.ErrNotFound, "Get unknown")
	_, err = s.Find(ctx, v.User, newID())
	wantKind(t, err, domain.ErrNotFound, "Find another image")
	_, err = s.Find(ctx, v.Image, v.User)
	wantKind(t, err, domain.ErrNotFound, "Find with user and image swapped")
}

func votesUnique(t *testing.T, s ports.Votes) {
	ctx := t.Context()
	user, img := newID(), newID()
	must(t, s.Create(ctx, newVote(user, img, at(0))), "first vote")
	wantKind(t, s.Create(ctx, newVote(user, img, at(time.Second))), domain.ErrConflict, "second vote")
	must(t, s.Create(ctx, newVote(user, newID(), at(0))), "same user, other image")
	must(t, s.Create(ctx, newVote(newID(), img, at(0))), "other user, same image")
	n, err := s.CountByImage(ctx, img)
	must(t, err, "CountByImage")
	if n != 2 {
		t.Errorf("CountByImage: got %d, want 2", n)
	}
}

func votesConcurrentCreate(t *testing.T, s ports.Votes) {
	ctx := t.Context()
	user, img := newID(), newID()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Create(ctx, newVote(user, img, at(0)))
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
		t.Errorf("concurrent votes of one user for one image: got %d successes, want 1", ok)
	}
	if c, _ := s.CountByImage(ctx, img); c != 1 {
		t.Errorf("CountByImage after concurrent votes: got %d, want 1", c)
	}
}

func votesDelete(t *testing.T, s ports.Votes) {
	ctx := t.Context()
	v := newVote(newID(), newID(), at(0))
	must(t, s.Create(ctx, v), "Create")
	must(t, s.Delete(ctx, v.ID), "Delete")
	_, err := s.Get(ctx, v.ID)
	wantKind(t, err, domain.ErrNotFound, "Get deleted")
	_, err = s.Find(ctx, v.User, v.Image)
	wantKind(t, err, domain.ErrNotFound, "Find deleted")
	wantKind(t, s.Delete(ctx, v.ID), domain.ErrNotFound, "Delete twice")
	// The pair is free again.
	must(t, s.Create(ctx, newVote(v.User, v.Image, at(time.Second))), "vote again after removal")

	// Concurrent deletes of one vote: exactly one succeeds.
	w := newVote(newID(), newID(), at(0))
	must(t, s.Create(ctx, w), "Create")
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Delete(ctx, w.ID) }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !isKind(err, domain.ErrNotFound) {
			t.Errorf("concurrent Delete: got error %v, want nil or ErrNotFound", err)
		}
	}
	if ok != 1 {
		t.Errorf("concurrent Delete of one vote: got %d successes, want 1", ok)
	}
}

func votesListByUser(t *testing.T, s ports.Votes) {
	ctx := t.Context()
	user := newID()
	v1 := newVote(user, newID(), at(0))
	v2 := newVote(user, newID(), at(time.Minute))
	v3 := newVote(user, newID(), at(time.Minute)) // same time, higher id
	other := newVote(newID(), v1.Image, at(2*time.Minute))
	for _, v := range []*domain.Vote{v1, v2, v3, other} {
		must(t, s.Create(ctx, v), "Create")
	}
	tests := []struct {
		name      string
		p         ports.Page
		want      []domain.ID
		wantTotal int
	}{
		{"all, newest first", ports.Page{}, []domain.ID{v3.ID, v2.ID, v1.ID}, 3},
		{"page 0", ports.Page{Limit: 2}, []domain.ID{v3.ID, v2.ID}, 3},
		{"page 1", ports.Page{Page: 1, Limit: 2}, []domain.ID{v1.ID}, 3},
		{"past the end", ports.Page{Page: 3, Limit: 2}, nil, 3},
	}
	for _, tt := range tests {
		got, total, err := s.ListByUser(ctx, user, tt.p)
		must(t, err, "ListByUser "+tt.name)
		sameIDs(t, voteIDs(got), tt.want, "ListByUser "+tt.name)
		if total != tt.wantTotal {
			t.Errorf("ListByUser %s: got total %d, want %d", tt.name, total, tt.wantTotal)
		}
	}
	got, total, err := s.ListByUser(ctx, newID(), ports.Page{})
	must(t, err, "ListByUser of a user without votes")
	if len(got) != 0 || total != 0 {
		t.Errorf("ListByUser of a user without votes: got %d (total %d), want none", len(got), total)
	}
}

func votesByImage(t *testing.T, s ports.Votes) {
	ctx := t.Context()
	img, keep := newID(), newID()
	for range 3 {
		must(t, s.Create(ctx, newVote(newID(), img, at(0))), "Create")
	}
	kept := newVote(newID(), keep, at(0))
	must(t, s.Create(ctx, kept), "Create on the other image")
	n, err := s.CountByImage(ctx, img)
	must(t, err, "CountByImage")
	if n != 3 {
		t.Errorf("CountByImage: got %d, want 3", n)
	}
	d, err := s.DeleteByImage(ctx, img)
	must(t, err, "DeleteByImage")
	if d != 3 {
		t.Errorf("DeleteByImage: got %d, want 3", d)
	}
	if n, _ := s.CountByImage(ctx, img); n != 0 {
		t.Errorf("CountByImage after DeleteByImage: got %d, want 0", n)
	}
	got, err := s.Get(ctx, kept.ID)
	must(t, err, "Get the other image's vote")
	wantVote(t, got, kept, "other image's vote")
	if d, _ := s.DeleteByImage(ctx, newID()); d != 0 {
		t.Errorf("DeleteByImage of an image without votes: got %d, want 0", d)
	}
}
