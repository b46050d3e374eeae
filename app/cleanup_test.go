package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

// touchingDrafts simulates a user touching a draft while a cleanup sweep
// runs: right after the sweep lists expired drafts.
type touchingDrafts struct {
	*inmem.Drafts
	touch func()
}

func (d *touchingDrafts) Expired(ctx context.Context, before time.Time, limit int) ([]*domain.Draft, error) {
	out, err := d.Drafts.Expired(ctx, before, limit)
	if d.touch != nil {
		d.touch()
	}
	return out, err
}

func TestCleanupDeletesOnlyExpiredUnsavedDrafts(t *testing.T) {
	td := &touchingDrafts{Drafts: inmem.NewDrafts()}
	e := newEnvWith(t, func(d *app.Deps) { d.Drafts = td }, func(c *app.Config) {
		c.CleanupMaxAge = 24 * time.Hour
		c.AccessWriteInterval = 0
		c.IdleStopAfter = 0
	})
	e.drafts = td.Drafts
	ctx := t.Context()
	a, _ := e.anon(t)
	fork := func() *domain.Draft {
		d, err := e.app.Fork(ctx, a, e.template.ID.Short(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	unsaved, saved, touched := fork(), fork(), fork()
	if _, err := e.app.Start(ctx, a, unsaved.ID.Short()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.SaveNew(ctx, a, saved.ID.Short(), str("kept"), nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(25 * time.Hour)

	dry, err := e.app.Cleanup(ctx, app.CleanupOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.DeletedDrafts != 2 || !dry.DryRun {
		t.Fatalf("got dry run %+v, want 2 drafts it would delete", dry)
	}
	if _, err := e.drafts.Get(ctx, unsaved.ID); err != nil {
		t.Fatalf("got %v, want the dry run to delete nothing", err)
	}

	td.touch = func() {
		if _, err := e.app.ListDraftFiles(ctx, a, touched.ID.Short(), app.FileFilter{}); err != nil {
			t.Error(err)
		}
	}
	sum, err := e.app.Cleanup(ctx, app.CleanupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.DeletedDrafts != 1 {
		t.Fatalf("got %+v, want exactly the untouched unsaved draft deleted", sum)
	}
	if _, err := e.drafts.Get(ctx, unsaved.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("got %v, want the expired draft gone", err)
	}
	if list, _ := e.containers.List(ctx); len(list) != 0 {
		t.Fatalf("got %d containers, want the expired draft's container removed", len(list))
	}
	for _, keep := range []*domain.Draft{saved, touched} {
		if _, err := e.drafts.Get(ctx, keep.ID); err != nil {
			t.Fatalf("draft %s: got %v, want it kept", keep.ID.Short(), err)
		}
	}
	// the saved draft survives any age
	e.clock.Advance(1000 * time.Hour)
	td.touch = nil
	if _, err := e.app.Cleanup(ctx, app.CleanupOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.drafts.Get(ctx, saved.ID); err != nil {
		t.Fatalf("got %v, want a saved draft never deleted", err)
	}
}

func TestCleanupLockHeld(t *testing.T) {
	e := newEnv(t)
	lock, ok, err := e.app.Locks.Acquire(t.Context(), "lock:cleanup", time.Minute)
	if err != nil || !ok {
		t.Fatalf("got %v %v, want the lock", ok, err)
	}
	defer func() { _ = lock.Release(context.Background()) }()
	_, err = e.app.Cleanup(t.Context(), app.CleanupOptions{})
	wantMsg(t, err, domain.ErrConflict, "cleanup already running")
}

func TestCleanupKeepsForeignImagesAndRemovesUnreferencedVersions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.containers.AddImage("runnable/busybox:latest", map[string][]byte{"/bin/x": nil})
	orphan := domain.ImageRef(domain.ID{1, 2, 3}, 1)
	e.containers.AddImage(orphan, map[string][]byte{"/root/a": []byte("a")})
	sum, err := e.app.Cleanup(ctx, app.CleanupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RemovedImages != 1 {
		t.Fatalf("got %+v, want the one unreferenced version removed", sum)
	}
	for ref, want := range map[string]bool{"runnable/busybox:latest": true, orphan: false, e.template.Ref: true} {
		if got, _ := e.containers.ImageExists(ctx, ref); got != want {
			t.Errorf("image %s: exists=%v, want %v", ref, got, want)
		}
	}
}
