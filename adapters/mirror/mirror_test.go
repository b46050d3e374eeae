package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/mirror"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var (
	idSeq atomic.Uint32
	base  = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
)

// newID returns an ObjectId-shaped id, unique in the process.
func newID() domain.ID {
	var id domain.ID
	id[0], id[1] = 0x65, 0xe1
	n := idSeq.Add(1)
	id[8], id[9], id[10], id[11] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return id
}

func newImage(name string, owner domain.ID, version int, tags ...domain.Tag) *domain.Image {
	id := newID()
	img := &domain.Image{ID: id, Name: name, Owner: owner, Version: version, Status: domain.ImageReady,
		FileRoot: domain.DefaultFileRoot, Created: base, Updated: base, Tags: tags}
	if version > 0 {
		img.Ref = domain.ImageRef(id, version)
	}
	return img
}

func newDraft(owner domain.ID, tags ...domain.Tag) *domain.Draft {
	parent := newID()
	return &domain.Draft{ID: newID(), Name: "draft", Owner: owner, Parent: parent, ParentVersion: 1, Root: parent,
		FileRoot: domain.DefaultFileRoot, BaseRef: domain.ImageRef(parent, 1), Status: domain.StatusNotCreated,
		LastAccess: base, Created: base, Save: domain.SaveState{Status: domain.SaveNone}, Tags: tags}
}

func tagOn(channel domain.ID, name string) domain.Tag {
	return domain.Tag{ID: newID(), Channel: channel, Name: name}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", what, err)
	}
}

// The stores may differ in empty versus nil slices and maps, and in the
// representation of a time; normalise before comparing.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Millisecond).UTC()
}

func normTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := normTime(*t)
	return &v
}

func normImages(imgs []*domain.Image) []domain.Image {
	out := make([]domain.Image, len(imgs))
	for i, img := range imgs {
		c := *img
		if len(c.Tags) == 0 {
			c.Tags = nil
		}
		if len(c.Env) == 0 {
			c.Env = nil
		}
		c.Created, c.Updated = normTime(c.Created), normTime(c.Updated)
		out[i] = c
	}
	slices.SortFunc(out, func(a, b domain.Image) int { return strings.Compare(a.ID.Hex(), b.ID.Hex()) })
	return out
}

func normDrafts(ds []*domain.Draft) []domain.Draft {
	out := make([]domain.Draft, len(ds))
	for i, d := range ds {
		c := *d
		if len(c.Tags) == 0 {
			c.Tags = nil
		}
		if len(c.Env) == 0 {
			c.Env = nil
		}
		c.StartedAt, c.StoppedAt = normTimePtr(c.StartedAt), normTimePtr(c.StoppedAt)
		c.LastAccess, c.Created = normTime(c.LastAccess), normTime(c.Created)
		c.Save.StartedAt, c.Save.FinishedAt = normTimePtr(c.Save.StartedAt), normTimePtr(c.Save.FinishedAt)
		out[i] = c
	}
	slices.SortFunc(out, func(a, b domain.Draft) int { return strings.Compare(a.ID.Hex(), b.ID.Hex()) })
	return out
}

func allImages(t *testing.T, all func(context.Context) ([]*domain.Image, error)) []domain.Image {
	t.Helper()
	imgs, err := all(context.Background())
	must(t, err, "All images")
	return normImages(imgs)
}

func allDrafts(t *testing.T, all func(context.Context) ([]*domain.Draft, error)) []domain.Draft {
	t.Helper()
	ds, err := all(context.Background())
	must(t, err, "All drafts")
	return normDrafts(ds)
}

// sameImages checks that the mirror holds exactly the backing store's
// images.
func sameImages(t *testing.T, m *mirror.Images, b imageBackend, what string) {
	t.Helper()
	got, want := allImages(t, m.All), allImages(t, b.All)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: mirror holds\n%+v\nbacking store holds\n%+v", what, got, want)
	}
}

func sameDrafts(t *testing.T, m *mirror.Drafts, b draftBackend, what string) {
	t.Helper()
	got, want := allDrafts(t, m.All), allDrafts(t, b.All)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: mirror holds\n%+v\nbacking store holds\n%+v", what, got, want)
	}
}

func TestLoadsWhatIsStored(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			owner, ch := newID(), newID()
			ib := be.images(t)
			listed := newImage("Listed", owner, 2, tagOn(ch, "go"))
			listed.Env = map[string]string{"A": "1"}
			saving := newImage("First Save", owner, 0, tagOn(ch, "go")) // a first save in progress
			for _, img := range []*domain.Image{listed, saving} {
				must(t, ib.Create(ctx, img), "Create "+img.Name)
			}
			images := mirrorImages(t, ib)
			sameImages(t, images, ib, "after load")
			got, err := images.Get(ctx, saving.ID)
			must(t, err, "Get the version-0 image")
			if got.Version != 0 || got.Name != saving.Name {
				t.Errorf("Get version-0 image: got %+v, want %+v", got, saving)
			}
			if got, err := images.FindByName(ctx, "first SAVE"); err != nil || got.ID != saving.ID {
				t.Errorf("FindByName of the version-0 image: got %v, %v, want it", got, err)
			}
			list, total, err := images.List(ctx, ports.ImageQuery{})
			must(t, err, "List")
			if total != 1 || len(list) != 1 || list[0].ID != listed.ID {
				t.Errorf("List: got %d images (total %d), want only the version-2 image", len(list), total)
			}
			if n, pub, err := images.CountByOwner(ctx, owner); err != nil || n != 1 || pub != 1 {
				t.Errorf("CountByOwner: got %d, %d, %v, want 1, 1", n, pub, err)
			}
			if counts, err := images.ChannelCounts(ctx, domain.NilID, nil); err != nil || counts[ch] != 1 {
				t.Errorf("ChannelCounts: got %v, %v, want 1 for the channel (version 0 not counted)", counts, err)
			}
			// The version-0 image's name stays taken.
			clash := newImage("FIRST save", newID(), 1)
			if err := images.Create(ctx, clash); !errors.Is(err, domain.ErrConflict) {
				t.Errorf("Create with the version-0 image's name: got %v, want ErrConflict", err)
			}

			db := be.drafts(t)
			saved, running := newDraft(owner, tagOn(ch, "go")), newDraft(owner)
			saved.Target = listed.ID
			running.ContainerID, running.Status = "c1", domain.StatusRunning
			for _, d := range []*domain.Draft{saved, running, newDraft(newID())} {
				must(t, db.Create(ctx, d), "Create draft")
			}
			drafts := mirrorDrafts(t, db)
			sameDrafts(t, drafts, db, "after load")
			if n, err := drafts.CountByOwner(ctx, owner); err != nil || n != 2 {
				t.Errorf("Drafts.CountByOwner: got %d, %v, want 2", n, err)
			}
			if wc, err := drafts.WithContainer(ctx); err != nil || len(wc) != 1 || wc[0].ID != running.ID {
				t.Errorf("WithContainer: got %v, %v, want the running draft", wc, err)
			}
		})
	}
}

func TestLoadFailure(t *testing.T) {
	boom := errors.New("boom")
	b := inmem.NewImages()
	b.FailNext("All", boom)
	if _, err := mirror.NewImages(t.Context(), b, b, b.All, nil); !errors.Is(err, boom) {
		t.Errorf("NewImages with a failing loader: got %v, want boom", err)
	}
	d := inmem.NewDrafts()
	d.FailNext("All", boom)
	if _, err := mirror.NewDrafts(t.Context(), d, d, d.All, nil); !errors.Is(err, boom) {
		t.Errorf("NewDrafts with a failing loader: got %v, want boom", err)
	}
}

// TestBackingFailureChangesNothing: when the backing store fails a write,
// the caller gets its error and the mirror is unchanged.
func TestBackingFailureChangesNothing(t *testing.T) {
	boom := errors.New("boom")
	ch, owner := newID(), newID()
	t.Run("images", func(t *testing.T) {
		tests := []struct {
			method string
			call   func(ctx context.Context, m *mirror.Images, a *domain.Image) error
		}{
			{"Create", func(ctx context.Context, m *mirror.Images, _ *domain.Image) error {
				return m.Create(ctx, newImage("new", owner, 1))
			}},
			{"Update", func(ctx context.Context, m *mirror.Images, a *domain.Image) error {
				c := *a
				c.Name, c.Version = "renamed", 3
				return m.Update(ctx, &c)
			}},
			{"Delete", func(ctx context.Context, m *mirror.Images, a *domain.Image) error { return m.Delete(ctx, a.ID) }},
			{"Transfer", func(ctx context.Context, m *mirror.Images, _ *domain.Image) error {
				_, err := m.Transfer(ctx, owner, newID())
				return err
			}},
			{"AddStat", func(ctx context.Context, m *mirror.Images, a *domain.Image) error {
				_, _, err := m.AddStat(ctx, a.ID, "runs", 1)
				return err
			}},
			{"AddTag", func(ctx context.Context, m *mirror.Images, a *domain.Image) error {
				return m.AddTag(ctx, a.ID, tagOn(newID(), "new"), 5)
			}},
			{"RemoveTag", func(ctx context.Context, m *mirror.Images, a *domain.Image) error {
				return m.RemoveTag(ctx, a.ID, a.Tags[0].ID)
			}},
			{"RemoveTagsOfChannel", func(ctx context.Context, m *mirror.Images, _ *domain.Image) error {
				_, err := m.RemoveTagsOfChannel(ctx, ch)
				return err
			}},
			{"RenameTagsOfChannel", func(ctx context.Context, m *mirror.Images, _ *domain.Image) error {
				return m.RenameTagsOfChannel(ctx, ch, "renamed")
			}},
		}
		for _, tt := range tests {
			t.Run(tt.method, func(t *testing.T) {
				ctx := t.Context()
				b := inmem.NewImages()
				a := newImage("a", owner, 1, tagOn(ch, "go"))
				must(t, b.Create(ctx, a), "Create")
				must(t, b.Create(ctx, newImage("b", owner, 0)), "Create")
				m := mirrorImages(t, b)
				before := allImages(t, m.All)
				b.FailNext(tt.method, boom)
				if err := tt.call(ctx, m, a); !errors.Is(err, boom) {
					t.Fatalf("%s: got %v, want the backing store's error", tt.method, err)
				}
				if got := allImages(t, m.All); !reflect.DeepEqual(got, before) {
					t.Errorf("%s failed: mirror changed from\n%+v\nto\n%+v", tt.method, before, got)
				}
				sameImages(t, m, b, "after the failure")
			})
		}
	})
	t.Run("drafts", func(t *testing.T) {
		target := newID()
		tests := []struct {
			method string
			call   func(ctx context.Context, m *mirror.Drafts, a *domain.Draft) error
		}{
			{"Create", func(ctx context.Context, m *mirror.Drafts, _ *domain.Draft) error {
				return m.Create(ctx, newDraft(owner))
			}},
			{"Update", func(ctx context.Context, m *mirror.Drafts, a *domain.Draft) error {
				c := *a
				c.Name, c.LastAccess = "renamed", base.Add(time.Hour)
				return m.Update(ctx, &c)
			}},
			{"Delete", func(ctx context.Context, m *mirror.Drafts, a *domain.Draft) error { return m.Delete(ctx, a.ID) }},
			{"Transfer", func(ctx context.Context, m *mirror.Drafts, _ *domain.Draft) error {
				_, err := m.Transfer(ctx, owner, newID())
				return err
			}},
			{"ClearTarget", func(ctx context.Context, m *mirror.Drafts, _ *domain.Draft) error {
				return m.ClearTarget(ctx, target)
			}},
			{"AddTag", func(ctx context.Context, m *mirror.Drafts, a *domain.Draft) error {
				return m.AddTag(ctx, a.ID, tagOn(newID(), "new"), 5)
			}},
			{"RemoveTag", func(ctx context.Context, m *mirror.Drafts, a *domain.Draft) error {
				return m.RemoveTag(ctx, a.ID, a.Tags[0].ID)
			}},
			{"RemoveTagsOfChannel", func(ctx context.Context, m *mirror.Drafts, _ *domain.Draft) error {
				_, err := m.RemoveTagsOfChannel(ctx, ch)
				return err
			}},
			{"RenameTagsOfChannel", func(ctx context.Context, m *mirror.Drafts, _ *domain.Draft) error {
				return m.RenameTagsOfChannel(ctx, ch, "renamed")
			}},
		}
		for _, tt := range tests {
			t.Run(tt.method, func(t *testing.T) {
				ctx := t.Context()
				b := inmem.NewDrafts()
				a := newDraft(owner, tagOn(ch, "go"))
				a.Target = target
				must(t, b.Create(ctx, a), "Create")
				must(t, b.Create(ctx, newDraft(newID())), "Create")
				m := mirrorDrafts(t, b)
				before := allDrafts(t, m.All)
				b.FailNext(tt.method, boom)
				if err := tt.call(ctx, m, a); !errors.Is(err, boom) {
					t.Fatalf("%s: got %v, want the backing store's error", tt.method, err)
				}
				if got := allDrafts(t, m.All); !reflect.DeepEqual(got, before) {
					t.Errorf("%s failed: mirror changed from\n%+v\nto\n%+v", tt.method, before, got)
				}
				sameDrafts(t, m, b, "after the failure")
			})
		}
	})
}

// lostReply is an image store whose Update applies the change and then
// fails, as a write whose reply is lost does.
type lostReply struct {
	*inmem.Images
}

var errLostReply = errors.New("connection reset after the write")

func (s lostReply) Update(ctx context.Context, img *domain.Image) error {
	if err := s.Images.Update(ctx, img); err != nil {
		return err
	}
	return errLostReply
}

// TestUnknownOutcome: a backing write that failed without saying whether it
// happened is re-read; when the re-read fails too, the record is stale
// until the next write, which brings it back.
func TestUnknownOutcome(t *testing.T) {
	ctx := t.Context()
	inner := inmem.NewImages()
	b := lostReply{inner}
	a, other := newImage("a", newID(), 1), newImage("other", newID(), 1)
	must(t, b.Create(ctx, a), "Create")
	must(t, b.Create(ctx, other), "Create")
	log, lines := newLogger(t)
	m, err := mirror.NewImages(ctx, b, b, b.All, log)
	must(t, err, "NewImages")

	c := *a
	c.Description = "written"
	if err := m.Update(ctx, &c); !errors.Is(err, errLostReply) {
		t.Fatalf("Update: got %v, want the lost reply", err)
	}
	if got, _ := m.Get(ctx, a.ID); got.Description != "written" {
		t.Errorf("after a lost reply: mirror has description %q, want the written one", got.Description)
	}

	c.Description = "written again"
	inner.FailNext("Get", errors.New("store down"))
	if err := m.Update(ctx, &c); !errors.Is(err, errLostReply) {
		t.Fatalf("Update: got %v, want the lost reply", err)
	}
	if !strings.Contains(lines.String(), "stale") {
		t.Errorf("a failed re-read was not logged; logs:\n%s", lines)
	}
	// The next write, to another image, re-reads the stale one first.
	_, _, err = m.AddStat(ctx, other.ID, "views", 1)
	must(t, err, "AddStat")
	if got, _ := m.Get(ctx, a.ID); got.Description != "written again" {
		t.Errorf("after the next write: mirror has description %q, want %q", got.Description, "written again")
	}
	sameImages(t, m, inner, "after recovery")
}

// TestRepairsDivergence writes behind the mirror's back, so that the
// mirror's own application of a later write fails or disagrees with the
// backing store: the mirror then re-reads or reloads, logs, and ends equal
// to the backing store.
func TestRepairsDivergence(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			owner := newID()
			b := be.images(t)
			a, x := newImage("a", owner, 1), newImage("x", owner, 1)
			must(t, b.Create(ctx, a), "Create")
			must(t, b.Create(ctx, x), "Create")
			log, lines := newLogger(t)
			m, err := mirror.NewImages(ctx, b, b, b.All, log)
			must(t, err, "NewImages")

			// Counters moved behind its back: the backing store's answer
			// differs from the mirror's sum.
			_, _, err = b.AddStat(ctx, a.ID, "runs", 5)
			must(t, err, "AddStat behind the back")
			stats, _, err := m.AddStat(ctx, a.ID, "runs", 1)
			must(t, err, "AddStat")
			if got, _ := m.Get(ctx, a.ID); stats.Runs != 6 || got.Stats.Runs != 6 {
				t.Errorf("AddStat after a hidden one: got %d returned, %d mirrored, want 6", stats.Runs, got.Stats.Runs)
			}
			sameImages(t, m, b, "after AddStat")

			// A name freed behind its back: the mirror refuses the new
			// image's name until it reloads.
			must(t, b.Delete(ctx, x.ID), "Delete behind the back")
			must(t, m.Create(ctx, newImage("X", owner, 1)), "Create with the freed name")
			sameImages(t, m, b, "after Create")

			// An image created behind its back changes Transfer's count.
			must(t, b.Create(ctx, newImage("hidden", owner, 0)), "Create behind the back")
			n, err := m.Transfer(ctx, owner, newID())
			must(t, err, "Transfer")
			if n != 3 {
				t.Errorf("Transfer: got %d, want 3", n)
			}
			sameImages(t, m, b, "after Transfer")
			for _, want := range []string{"re-reading", "reloading"} {
				if !strings.Contains(lines.String(), want) {
					t.Errorf("logs do not mention %q:\n%s", want, lines)
				}
			}

			db := be.drafts(t)
			d := newDraft(owner)
			must(t, db.Create(ctx, d), "Create draft")
			md, err := mirror.NewDrafts(ctx, db, db, db.All, log)
			must(t, err, "NewDrafts")
			must(t, db.Delete(ctx, d.ID), "Delete behind the back")
			c := *d
			c.Name = "gone"
			if err := md.Update(ctx, &c); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("Update of a draft deleted behind the back: got %v, want ErrNotFound", err)
			}
			must(t, db.Create(ctx, newDraft(owner)), "Create behind the back")
			must(t, md.Create(ctx, newDraft(owner)), "Create")
			if n, err := md.Transfer(ctx, owner, newID()); err != nil || n != 2 {
				t.Errorf("Transfer: got %d, %v, want 2", n, err)
			}
			sameDrafts(t, md, db, "drafts after Transfer")
		})
	}
}

// TestConcurrentWrites: concurrent writes of every kind leave the mirror
// equal to the backing store, counters exact.
func TestConcurrentWrites(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			owner, ch := newID(), newID()
			b := be.images(t)
			hot := newImage("hot", owner, 1)
			others := make([]*domain.Image, 5)
			for i := range others {
				others[i] = newImage(fmt.Sprintf("other %d", i), owner, 1)
				must(t, b.Create(ctx, others[i]), "Create")
			}
			must(t, b.Create(ctx, hot), "Create")
			m := mirrorImages(t, b)

			const n = 50
			var wg sync.WaitGroup
			errs := make(chan error, 4*n)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					if _, _, err := m.AddStat(ctx, hot.ID, "views", 1); err != nil {
						errs <- fmt.Errorf("AddStat: %w", err)
					}
				})
				wg.Go(func() {
					<-start
					img := others[i%len(others)]
					if err := m.AddTag(ctx, img.ID, tagOn(newID(), fmt.Sprintf("t%d", i)), 100); err != nil {
						errs <- fmt.Errorf("AddTag: %w", err)
					}
				})
				if i%5 == 0 {
					wg.Go(func() {
						<-start
						if err := m.Create(ctx, newImage(fmt.Sprintf("new %d", i), owner, i%2, tagOn(ch, "c"))); err != nil {
							errs <- fmt.Errorf("Create: %w", err)
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
			got, err := m.Get(ctx, hot.ID)
			must(t, err, "Get")
			if got.Stats.Views != n {
				t.Errorf("after %d concurrent AddStat: mirror has %d views, want %d", n, got.Stats.Views, n)
			}
			sameImages(t, m, b, "images after concurrent writes")
			if counts, _ := m.ChannelCounts(ctx, domain.NilID, []domain.ID{ch}); counts[ch] != n/10 {
				t.Errorf("ChannelCounts after concurrent creates: got %d, want %d", counts[ch], n/10)
			}

			db := be.drafts(t)
			d := newDraft(owner)
			must(t, db.Create(ctx, d), "Create draft")
			md := mirrorDrafts(t, db)
			start = make(chan struct{})
			errs = make(chan error, 2*n)
			for i := range n {
				wg.Go(func() {
					<-start
					if err := md.Create(ctx, newDraft(owner, tagOn(ch, "c"))); err != nil {
						errs <- fmt.Errorf("Create draft: %w", err)
					}
				})
				wg.Go(func() {
					<-start
					if err := md.AddTag(ctx, d.ID, tagOn(newID(), fmt.Sprintf("t%d", i)), 100); err != nil {
						errs <- fmt.Errorf("AddTag draft: %w", err)
					}
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n2, err := md.RemoveTagsOfChannel(ctx, ch); err != nil || n2 != n {
				t.Errorf("RemoveTagsOfChannel: got %d, %v, want %d", n2, err, n)
			}
			sameDrafts(t, md, db, "drafts after concurrent writes")
		})
	}
}

// blocking is an image store whose next Update waits for release.
type blocking struct {
	*inmem.Images
	entered, release chan struct{}
}

func (s blocking) Update(ctx context.Context, img *domain.Image) error {
	close(s.entered)
	<-s.release
	return s.Images.Update(ctx, img)
}

// TestWaitingWriteHonoursContext: a write waiting for its turn gives up
// when its context ends.
func TestWaitingWriteHonoursContext(t *testing.T) {
	ctx := t.Context()
	b := blocking{inmem.NewImages(), make(chan struct{}), make(chan struct{})}
	a := newImage("a", newID(), 1)
	must(t, b.Create(ctx, a), "Create")
	m := mirrorImages(t, b)
	done := make(chan error)
	go func() { done <- m.Update(ctx, a) }()
	<-b.entered
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := m.Create(wctx, newImage("b", newID(), 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Create while another write holds the turn: got %v, want the context's error", err)
	}
	close(b.release)
	must(t, <-done, "Update")
	sameImages(t, m, b.Images, "after the writes")
}
