package app_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	app        *app.App
	clock      *fakeClock
	users      *inmem.Users
	images     *inmem.Images
	drafts     *inmem.Drafts
	files      *inmem.Files
	containers *inmem.Containers
	template   *domain.Image
}

func contextTar(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const manifest = `{"name":"shell","description":"a shell","start_cmd":"sh main.sh","tags":["shell"],"file_root":"/root",
"files":[{"path":"/main.sh","default":true},{"path":"/README.md"}]}`

func newEnv(t *testing.T, mutate ...func(*app.Config)) *env {
	t.Helper()
	return newEnvWith(t, nil, mutate...)
}

// newEnvWith is newEnv with a hook that may replace ports before the app
// is built.
func newEnvWith(t *testing.T, deps func(*app.Deps), mutate ...func(*app.Config)) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	e := &env{
		clock: clock, users: inmem.NewUsers(), images: inmem.NewImages(), drafts: inmem.NewDrafts(),
		files: inmem.NewFiles(), containers: inmem.NewContainers(),
	}
	cfg := app.DefaultConfig()
	cfg.BcryptCost = 4
	cfg.SaveWait = 5 * time.Second
	for _, m := range mutate {
		m(&cfg)
	}
	d := app.Deps{
		Users: e.users, Images: e.images, Drafts: e.drafts, Files: e.files, Channels: inmem.NewChannels(),
		Tokens: inmem.NewTokens(clock), Limiter: inmem.NewRateLimiter(clock), Locks: inmem.NewLocks(clock),
		Containers: e.containers, Clock: clock, IDs: system.NewIDs(),
	}
	if deps != nil {
		deps(&d)
	}
	e.app = app.New(d, cfg)
	t.Cleanup(func() { _ = e.app.Shutdown(context.Background()) })
	sys, err := e.app.SystemUser(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := e.app.ImportContext(t.Context(), contextTar(t, map[string]string{
		"Dockerfile": "FROM runnable/busybox\n", "runnable.json": manifest,
		"main.sh": "echo hello\n", "README.md": "# shell\n",
	}), app.ImportOptions{Owner: sys, Template: true})
	if err != nil {
		t.Fatalf("import template: %v", err)
	}
	e.template = tpl
	return e
}

func (e *env) anon(t *testing.T) (*domain.User, string) {
	t.Helper()
	u, tok, err := e.app.CreateUser(t.Context(), app.UserInput{})
	if err != nil {
		t.Fatal(err)
	}
	return u.User, tok
}

func str(s string) *string { return &s }

func wantMsg(t *testing.T, err error, kind error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %q", msg)
	}
	got, _ := domain.PublicMessage(err)
	if !errors.Is(err, kind) || got != msg {
		t.Fatalf("got error %v (message %q), want kind %v message %q", err, got, kind, msg)
	}
}

func fileByName(t *testing.T, files []domain.File, name string) domain.File {
	t.Helper()
	for _, f := range files {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no file %q in %d entries", name, len(files))
	return domain.File{}
}

func TestTemplateImportIndexesFilesWithDefaults(t *testing.T) {
	e := newEnv(t)
	files, err := e.files.List(t.Context(), e.template.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("got %d entries, want 2 (Dockerfile and runnable.json are not copied)", len(files))
	}
	if f := fileByName(t, files, "main.sh"); !f.Default || f.Path != "/" {
		t.Fatalf("got main.sh default=%v path=%q, want default in /", f.Default, f.Path)
	}
	if !e.template.Published() || e.template.Tags[0].Name != "shell" {
		t.Fatalf("got tags %+v, want the shell tag", e.template.Tags)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	u, tok := e.anon(t)
	got, err := e.app.Authenticate(t.Context(), tok)
	if err != nil || got.ID != u.ID {
		t.Fatalf("got %v, %v; want user %s", got, err, u.ID)
	}
	_, err = e.app.Authenticate(t.Context(), "bad_token")
	wantMsg(t, err, domain.ErrUnauthorized, "must provide a valid access token")
	if err := e.app.DeleteUser(t.Context(), u, "me"); err != nil {
		t.Fatal(err)
	}
	_, err = e.app.Authenticate(t.Context(), tok)
	if err == nil {
		t.Fatal("got no error for a deleted user's token")
	}
}

func TestRegistrationFailureCreatesNothing(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.app.CreateUser(t.Context(), app.UserInput{Email: str("a@b.co")})
	wantMsg(t, err, domain.ErrInvalid, "must provide a username to register with")
	list, total, err := e.users.List(t.Context(), nil, "", pageAll)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(list) != 1 { // the system user only
		t.Fatalf("got %d users, want only the system user", total)
	}
}

func TestRegisterInPlaceKeepsIDAndDrafts(t *testing.T) {
	e := newEnv(t)
	a, tok := e.anon(t)
	d, err := e.app.Fork(t.Context(), a, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.app.UpdateUser(t.Context(), a, "me", tok, app.UserInput{Email: str("A@x.io"), Username: str("anna"), Password: str("secret1")})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != a.ID || u.Level != domain.LevelRegistered || u.Email != "a@x.io" {
		t.Fatalf("got %+v, want same id, level 1, lower-cased email", u.User)
	}
	if _, err := e.app.GetDraft(t.Context(), u.User, d.ID.Short()); err != nil {
		t.Fatalf("draft after registering: %v", err)
	}
	b, _ := e.anon(t)
	_, err = e.app.UpdateUser(t.Context(), b, "me", "", app.UserInput{Email: str("other@x.io"), Username: str("ANNA"), Password: str("secret1")})
	wantMsg(t, err, domain.ErrConflict, "user with username already exists")
}

func TestLoginTransfersAnonymousDrafts(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.app.CreateUser(t.Context(), app.UserInput{Email: str("r@example.com"), Username: str("rita"), Password: str("testing")})
	if err != nil {
		t.Fatal(err)
	}
	b, btok := e.anon(t)
	for i := 0; i < 2; i++ {
		if _, err := e.app.Fork(t.Context(), b, e.template.ID.Hex(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.app.Login(t.Context(), app.LoginInput{Username: str("r@example.com"), Password: str("testing")}, btok)
	if err != nil {
		t.Fatal(err)
	}
	if res.Drafts != 2 || res.ImagesMove != 0 {
		t.Fatalf("got transferred %d/%d, want 2/0", res.Drafts, res.ImagesMove)
	}
	_, err = e.app.Authenticate(t.Context(), btok)
	wantMsg(t, err, domain.ErrNotFound, "user doesnt exist")
	_, err = e.app.Login(t.Context(), app.LoginInput{Username: str("rita"), Password: str("wrong!")}, "")
	wantMsg(t, err, domain.ErrForbidden, "invalid password")
	_, err = e.app.Login(t.Context(), app.LoginInput{Username: str("nobody"), Password: str("x")}, "")
	wantMsg(t, err, domain.ErrNotFound, "user not found")
}

// TestForkEditSaveForkAgain is the first slice's end-to-end property over
// the fakes: edits survive save and are what the next fork reads.
func TestForkEditSaveForkAgain(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a, _ := e.anon(t)
	b, _ := e.anon(t)

	d, err := e.app.Fork(ctx, a, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != domain.StatusNotCreated || d.Parent != e.template.ID || d.ParentVersion != 1 || len(d.Tags) != 0 {
		t.Fatalf("got draft %+v, want not_created fork of the template without tags", d)
	}
	files, err := e.app.ListDraftFiles(ctx, a, d.ID.Short(), app.FileFilter{})
	if err != nil {
		t.Fatal(err)
	}
	main := fileByName(t, files, "main.sh")
	if main.ID != fileByName(t, mustList(t, e, e.template.ID), "main.sh").ID {
		t.Fatal("got a new file id on fork, want the parent's")
	}
	if _, err := e.app.UpdateFile(ctx, a, d.ID.Short(), main.ID.Hex(), app.FileUpdate{Content: str("echo edited\n")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.app.GetDraft(ctx, a, d.ID.Short()); got.Status != domain.StatusCreated {
		t.Fatalf("got status %q after a write, want created", got.Status)
	}

	res, err := e.app.SaveNew(ctx, a, d.ID.Short(), str("my app"), nil)
	if err != nil {
		t.Fatal(err)
	}
	img := res.Image
	if !res.Done || img.Version != 1 || img.Status != domain.ImageReady || img.Parent != e.template.ID || img.Root != e.template.ID || img.Owner != a.ID {
		t.Fatalf("got image %+v, want ready v1 owned by A with parent and root the template", img)
	}
	saved, _ := e.app.GetDraft(ctx, a, d.ID.Short())
	if saved.Target != img.ID || saved.Save.Status != domain.SaveSaved || saved.ExpiresAt(time.Hour) != nil {
		t.Fatalf("got draft save %+v target %v, want saved into the image", saved.Save, saved.Target)
	}

	d2, err := e.app.Fork(ctx, b, img.ID.Hex(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, e, b, d2, "main.sh"); got != "echo edited\n" {
		t.Fatalf("got %q in B's fork, want the edit", got)
	}

	// overwrite with a second save; a third fork reads the newest content
	if _, err := e.app.UpdateFile(ctx, a, d.ID.Short(), main.ID.Hex(), app.FileUpdate{Content: str("echo v2\n")}); err != nil {
		t.Fatal(err)
	}
	res, err = e.app.SaveOverwrite(ctx, a, img.ID.Short(), d.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Image.Version != 2 || res.Image.ID != img.ID {
		t.Fatalf("got version %d, want 2 of the same image", res.Image.Version)
	}
	d3, err := e.app.Fork(ctx, b, img.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, e, b, d3, "main.sh"); got != "echo v2\n" {
		t.Fatalf("got %q in the third fork, want the newest content", got)
	}
	if got := readFile(t, e, b, d2, "main.sh"); got != "echo edited\n" {
		t.Fatalf("got %q in B's first fork, want it pinned to version 1", got)
	}
	// B may not overwrite A's image
	_, err = e.app.SaveOverwrite(ctx, b, img.ID.Short(), d2.ID.Short(), nil, nil)
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
}

func readFile(t *testing.T, e *env, u *domain.User, d *domain.Draft, name string) string {
	t.Helper()
	files, err := e.app.ListDraftFiles(t.Context(), u, d.ID.Short(), app.FileFilter{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.app.GetDraftFile(t.Context(), u, d.ID.Short(), fileByName(t, files, name).ID.Hex())
	if err != nil {
		t.Fatal(err)
	}
	return string(f.Content)
}

func mustList(t *testing.T, e *env, id domain.ID) []domain.File {
	t.Helper()
	files, err := e.files.List(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSaveNameConflictAndForkRules(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a, _ := e.anon(t)
	d, err := e.app.Fork(ctx, a, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.app.SaveNew(ctx, a, d.ID.Short(), nil, nil)
	wantMsg(t, err, domain.ErrConflict, "runnable with name already exists")
	_, err = e.app.Fork(ctx, a, d.ID.Short(), nil, nil)
	wantMsg(t, err, domain.ErrInvalid, "cannot fork a draft that was never saved")
	_, err = e.app.Fork(ctx, a, "", nil, nil)
	wantMsg(t, err, domain.ErrInvalid, "must provide a runnable to fork from")
	_, err = e.app.Fork(ctx, a, "nochannel", nil, nil)
	wantMsg(t, err, domain.ErrNotFound, "could not find channel by that name")
	byChannel, err := e.app.Fork(ctx, a, "SHELL", nil, nil)
	if err != nil || byChannel.Parent != e.template.ID {
		t.Fatalf("got %v, %v; want a fork of the template by channel", byChannel, err)
	}
}

func TestFailedForkLeavesNoDraft(t *testing.T) {
	e := newEnv(t)
	a, _ := e.anon(t)
	e.files.FailNext("Replace", errors.New("disk full"))
	if _, err := e.app.Fork(t.Context(), a, e.template.ID.Short(), nil, nil); err == nil {
		t.Fatal("got no error, want the store's")
	}
	if n, _ := e.drafts.CountByOwner(t.Context(), a.ID); n != 0 {
		t.Fatalf("got %d drafts after a failed fork, want 0", n)
	}
}

func TestFailedContainerRecordLeavesNoOrphan(t *testing.T) {
	e := newEnv(t)
	a, _ := e.anon(t)
	d, err := e.app.Fork(t.Context(), a, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.drafts.FailNext("Update", errors.New("store down"))
	if _, err := e.app.Start(t.Context(), a, d.ID.Short()); err == nil {
		t.Fatal("got no error, want the store's")
	}
	list, err := e.containers.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("got %d containers, want none left behind", len(list))
	}
}

func TestFailedSaveKeepsOldImage(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a, _ := e.anon(t)
	d, err := e.app.Fork(ctx, a, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.CreateFile(ctx, a, d.ID.Short(), app.FileInput{Name: str("x.txt"), Path: str("/"), Content: str("1")}); err != nil {
		t.Fatal(err)
	}
	e.containers.FailNext("Commit", errors.New("disk full"))
	_, err = e.app.SaveNew(ctx, a, d.ID.Short(), str("first"), nil)
	wantMsg(t, err, domain.ErrBackend, "save failed")
	if _, err := e.images.FindByName(ctx, "first"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("got %v, want the half-made image gone", err)
	}
	got, _ := e.app.GetDraft(ctx, a, d.ID.Short())
	if got.Save.Status != domain.SaveFailed || got.Save.Error != "commit failed" {
		t.Fatalf("got save %+v, want failed with commit failed", got.Save)
	}
	res, err := e.app.SaveNew(ctx, a, d.ID.Short(), str("first"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.containers.FailNext("Commit", errors.New("disk full"))
	_, err = e.app.SaveOverwrite(ctx, a, res.Image.ID.Short(), d.ID.Short(), nil, nil)
	wantMsg(t, err, domain.ErrBackend, "save failed")
	img, err := e.images.Get(ctx, res.Image.ID)
	if err != nil {
		t.Fatal(err)
	}
	if img.Version != 1 || img.Status != domain.ImageReady || img.Ref != res.Image.Ref {
		t.Fatalf("got image v%d %s ref %s, want ready v1 at %s", img.Version, img.Status, img.Ref, res.Image.Ref)
	}
}

func TestSaveInProgressConflicts(t *testing.T) {
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
	res, err := e.app.SaveNew(ctx, a, d.ID.Short(), str("slow"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done || res.Image.Status != domain.ImageSaving || res.Image.Version != 0 {
		t.Fatalf("got %+v, want a running save at version 0", res.Image)
	}
	_, err = e.app.SaveNew(ctx, a, d.ID.Short(), str("slow2"), nil)
	wantMsg(t, err, domain.ErrConflict, "a save is already in progress")
	_, err = e.app.Stop(ctx, a, d.ID.Short())
	wantMsg(t, err, domain.ErrConflict, "a save is already in progress")
	e.containers.UnblockCommit()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := e.app.GetDraft(ctx, a, d.ID.Short())
		if err != nil {
			t.Fatal(err)
		}
		if got.Save.Status == domain.SaveSaved {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got save %+v, want saved", got.Save)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
