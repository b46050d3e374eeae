package mongostore_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// seedIDs are fixed so that a second process finds what the first wrote.
var (
	seedUser  = domain.ID{0x51, 1}
	seedImage = domain.ID{0x51, 2}
	seedDraft = domain.ID{0x51, 3}
	seedFile  = domain.ID{0x51, 4}
	seedTime  = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

// openEmbedded opens the embedded store in dir and applies migrations.
func openEmbedded(t *testing.T, dir string) *mongostore.Store {
	t.Helper()
	s, err := mongostore.Open(t.Context(), mongostore.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("Open embedded store in %s: %v", dir, err)
	}
	if !s.Embedded() {
		t.Fatal("Open with no URL: got a remote store, want the embedded one")
	}
	if err := mongostore.Migrate(t.Context(), s.DB()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// writeSeed stores one record of every kind.
func writeSeed(t *testing.T, s *mongostore.Store) {
	t.Helper()
	ctx := t.Context()
	u := domain.NewAnonymousUser(seedUser, seedTime)
	if err := s.Users().Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := u.Register("Keep@Example.com", "keeper", "$2a$10$x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Users().Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	img := &domain.Image{ID: seedImage, Name: "Kept", Owner: seedUser, Version: 1, Status: domain.ImageReady, Created: seedTime, Updated: seedTime, Ref: "runnable/x:v1"}
	if err := s.Images().Create(ctx, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Fork(seedDraft, seedUser, nil, nil, seedTime)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Drafts().Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	f := domain.File{ID: seedFile, Runnable: seedDraft, Name: "main.go", Path: "/", Size: 12, Modified: seedTime, Content: []byte("package main"), Cached: true}
	if err := s.Files().Put(ctx, f); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Images().AddStat(ctx, seedImage, "runs", 2); err != nil {
		t.Fatal(err)
	}
}

// checkSeed finds every record writeSeed stored.
func checkSeed(t *testing.T, s *mongostore.Store) {
	t.Helper()
	ctx := t.Context()
	u, err := s.Users().FindByEmail(ctx, "keep@example.com")
	if err != nil || u.ID != seedUser || u.Username != "keeper" || !u.Registered() {
		t.Errorf("user after reopening: got %+v, %v", u, err)
	}
	img, err := s.Images().FindByName(ctx, "kept")
	if err != nil || img.ID != seedImage || img.Stats.Runs != 2 {
		t.Errorf("image after reopening: got %+v, %v", img, err)
	}
	d, err := s.Drafts().Get(ctx, seedDraft)
	if err != nil || d.Parent != seedImage || !d.LastAccess.Equal(seedTime) {
		t.Errorf("draft after reopening: got %+v, %v", d, err)
	}
	fs, err := s.Files().List(ctx, seedDraft)
	if err != nil || len(fs) != 1 || string(fs[0].Content) != "package main" {
		t.Errorf("files after reopening: got %+v, %v", fs, err)
	}
	list, total, err := s.Drafts().List(ctx, ports.DraftQuery{Owner: seedUser, Page: ports.Page{Limit: 10}})
	if err != nil || total != 1 || len(list) != 1 {
		t.Errorf("draft list after reopening: got %d of %d, %v", len(list), total, err)
	}
}

func TestEmbeddedStoreKeepsDataAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s := openEmbedded(t, dir)
	writeSeed(t, s)
	if err := s.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openEmbedded(t, dir)
	defer s.Close(t.Context())
	checkSeed(t, s)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestEmbeddedStoreRefusesASecondProcess(t *testing.T) {
	dir := t.TempDir()
	s := openEmbedded(t, dir)
	defer s.Close(t.Context())
	_, err := mongostore.Open(t.Context(), mongostore.Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Open of %s: got error %v, want it in use", dir, err)
	}
}

// TestEmbeddedStoreTagsWriteByID checks that the embedded store, which
// its flock gives to this process alone, makes tag changes that filter on
// _id only (tags.go), and that they work.
func TestEmbeddedStoreTagsWriteByID(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	defer s.Close(t.Context())
	if img, dr := mongostore.Exclusive(s.Images(), s.Drafts()); !img || !dr {
		t.Fatalf("embedded store: exclusive tag writes images %v drafts %v, want both", img, dr)
	}
	writeSeed(t, s)
	ctx := t.Context()
	tag := domain.Tag{ID: domain.ID{0x51, 9}, Channel: domain.ID{0x51, 10}, Name: "kept"}
	if err := s.Images().AddTag(ctx, seedImage, tag, 10); err != nil {
		t.Fatalf("AddTag: %v", err)
	}
	if err := s.Images().AddTag(ctx, seedImage, tag, 10); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("AddTag twice on one channel: got %v, want ErrConflict", err)
	}
	if err := s.Images().AddTag(ctx, domain.ID{0x51, 11}, tag, 10); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("AddTag to a missing image: got %v, want ErrNotFound", err)
	}
	img, err := s.Images().Get(ctx, seedImage)
	if err != nil {
		t.Fatal(err)
	}
	if !img.Published() || len(img.Tags) == 0 || img.Tags[len(img.Tags)-1] != tag {
		t.Errorf("after AddTag: tags %v published %v", img.Tags, img.Published())
	}
	if err := s.Drafts().RemoveTag(ctx, seedDraft, tag.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("RemoveTag of an absent tag: got %v, want ErrNotFound", err)
	}
}

// TestEmbeddedStoreSurvivesKill writes from a child process, kills it with
// SIGKILL (no Close), and reopens the data directory.
func TestEmbeddedStoreSurvivesKill(t *testing.T) {
	if dir := os.Getenv("MONGOSTORE_KILL_CHILD_DIR"); dir != "" {
		s := openEmbedded(t, dir)
		writeSeed(t, s)
		os.Stdout.WriteString("written\n")
		time.Sleep(time.Minute) // killed here
		return
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestEmbeddedStoreSurvivesKill$", "-test.v")
	cmd.Env = append(os.Environ(), "MONGOSTORE_KILL_CHILD_DIR="+dir, "MONGO_URL=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	written := make(chan bool)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "written" {
				written <- true
				return
			}
		}
		written <- false
	}()
	select {
	case ok := <-written:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("child did not write: %s", stderr.String())
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("child did not write within a minute")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s := openEmbedded(t, dir)
	defer s.Close(t.Context())
	checkSeed(t, s)
}

func TestFilesContentBeyondTheInlineBudget(t *testing.T) {
	defer mongostore.SetInlineBudget(10)()
	ctx := t.Context()
	db := migrated(t)
	files := mongostore.NewFiles(db)
	r := domain.ID{7}
	mk := func(id byte, name, content string) domain.File {
		return domain.File{ID: domain.ID{id}, Runnable: r, Name: name, Path: "/", Size: int64(len(content)), Content: []byte(content), Cached: true, Modified: seedTime}
	}
	small, big1, big2 := mk(1, "a", "tiny"), mk(2, "b", "more than ten bytes"), mk(3, "c", "another long content")
	if err := files.Put(ctx, small, big1, big2); err != nil {
		t.Fatal(err)
	}
	contents := db.Collection("file_contents")
	count := func() int64 {
		n, err := contents.CountDocuments(ctx, map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Errorf("external contents: got %d, want 2 (the two beyond the budget)", n)
	}
	got, err := files.List(ctx, r)
	if err != nil || len(got) != 3 {
		t.Fatalf("List: got %d, %v", len(got), err)
	}
	for i, want := range []domain.File{small, big1, big2} {
		if string(got[i].Content) != string(want.Content) {
			t.Errorf("List entry %s: got content %q, want %q", want.Name, got[i].Content, want.Content)
		}
	}
	one, err := files.Get(ctx, r, big2.ID)
	if err != nil || string(one.Content) != string(big2.Content) {
		t.Errorf("Get external content: got %+v, %v", one, err)
	}
	big1.Content = []byte("rewritten, still too long")
	if err := files.Put(ctx, big1); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Errorf("external contents after rewriting one: got %d, want 2 (the old one dropped)", n)
	}
	if err := files.Delete(ctx, r, big2.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("external contents after a delete: got %d, want 1", n)
	}
	if err := files.Replace(ctx, r, []domain.File{small}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Errorf("external contents after Replace: got %d, want 0", n)
	}
	if err := files.Put(ctx, big1); err != nil {
		t.Fatal(err)
	}
	if err := files.DeleteAll(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Errorf("external contents after DeleteAll: got %d, want 0", n)
	}
}
