package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

func TestRecoverSavesInterruptsDeadJobsOnly(t *testing.T) {
	// heartbeats live on wall-clock time here, as in Redis; the app's
	// clock is moved by hand to age the saves
	e := newEnvWith(t, func(d *app.Deps) { d.Locks = inmem.NewLocks(system.Clock{}) }, func(c *app.Config) { c.SaveWait = 0 })
	ctx := t.Context()
	a, _ := e.anon(t)
	d, err := e.app.Fork(ctx, a, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Start(ctx, a, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	e.containers.BlockCommit()
	res, err := e.app.SaveNew(ctx, a, d.ID.Short(), str("stuck"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// the job is alive and holds its heartbeat: nothing to recover
	e.clock.Advance(time.Minute)
	if n, err := e.app.RecoverSaves(ctx); err != nil || n != 0 {
		t.Fatalf("got %d, %v; want a live save left alone", n, err)
	}

	// a save whose server died: a draft stuck in "saving" with no heartbeat
	d2, err := e.app.Fork(ctx, a, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := domain.NewImageFromDraft(domain.ID{0xee, 1}, d2, "orphaned save", e.clock.Now())
	if err := e.images.Create(ctx, img); err != nil {
		t.Fatal(err)
	}
	stored, err := e.drafts.Get(ctx, d2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := stored.BeginSave(domain.SaveNew, img.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.drafts.Update(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.app.RecoverSaves(ctx); n != 0 {
		t.Fatalf("got %d recovered, want a save younger than one heartbeat left alone", n)
	}
	e.clock.Advance(time.Minute)
	n, err := e.app.RecoverSaves(ctx)
	if err != nil || n != 1 {
		t.Fatalf("got %d, %v; want the dead save recovered", n, err)
	}
	got, _ := e.drafts.Get(ctx, d2.ID)
	if got.Save.Status != domain.SaveFailed || got.Save.Error != "interrupted" {
		t.Fatalf("got save %+v, want failed interrupted", got.Save)
	}
	if _, err := e.images.Get(ctx, img.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("got %v, want the version-0 image deleted", err)
	}
	e.containers.UnblockCommit()
	waitSaved(t, e, a, d.ID.Short())
	if img, err := e.images.Get(ctx, res.Image.ID); err != nil || img.Version != 1 {
		t.Fatalf("got %v, %v; want the live save finished at version 1", img, err)
	}
}

func waitSaved(t *testing.T, e *env, u *domain.User, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := e.app.GetDraft(t.Context(), u, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Save.Status == domain.SaveSaved {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got save %+v, want saved", d.Save)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestShutdownInterruptsRunningSaves(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.SaveWait = 0 })
	ctx := t.Context()
	a, _ := e.anon(t)
	d, err := e.app.Fork(ctx, a, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Start(ctx, a, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	e.containers.BlockCommit()
	defer e.containers.UnblockCommit()
	if _, err := e.app.SaveNew(ctx, a, d.ID.Short(), str("never"), nil); err != nil {
		t.Fatal(err)
	}
	short, cancel := contextWithTimeout(50 * time.Millisecond)
	defer cancel()
	if err := e.app.Shutdown(short); err == nil {
		t.Fatal("got nil, want the shutdown deadline reported")
	}
	got, err := e.drafts.Get(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Save.Status != domain.SaveFailed || got.Save.Error != "interrupted" {
		t.Fatalf("got save %+v, want failed interrupted", got.Save)
	}
	if _, err := e.images.FindByName(ctx, "never"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("got %v, want the new image's record gone", err)
	}
}
