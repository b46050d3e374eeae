package app_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *env) admin(t *testing.T) *domain.User {
	t.Helper()
	return e.withLevel(t, domain.LevelAdmin)
}

const demoManifest = `{"name":"demo","start_cmd":"sh run.sh","tags":["demo"],"files":[{"path":"/run.sh","default":true},{"path":"/missing","default":true}]}`

func TestImportContextArchives(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	x := e.admin(t)
	plain := contextTar(t, map[string]string{"Dockerfile": "FROM runnable/busybox\n", "runnable.json": demoManifest, "run.sh": "echo demo\n"})

	img, err := e.app.ImportArchive(ctx, x, bytes.NewReader(gz(t, plain)), app.ImportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Name != "demo" || img.Version != 1 || img.Owner != x.ID || !img.Published() || img.StartCmd != "sh run.sh" {
		t.Fatalf("got %+v, want demo v1 owned by the admin, published", img)
	}
	files := mustList(t, e, img.ID)
	if f := fileByName(t, files, "run.sh"); !f.Default {
		t.Fatal("got run.sh not default, want the default from runnable.json")
	}

	nested := contextTar(t, map[string]string{"app/Dockerfile": "FROM runnable/busybox\n", "app/runnable.json": demoManifest, "app/run.sh": "x"})
	img, err = e.app.ImportArchive(ctx, x, bytes.NewReader(nested), app.ImportInput{Format: "context", Name: str("nested"), Description: str("d")})
	if err != nil {
		t.Fatal(err)
	}
	if img.Name != "nested" || img.Description != "d" {
		t.Fatalf("got %q %q, want the query's name and description", img.Name, img.Description)
	}
	fileByName(t, mustList(t, e, img.ID), "run.sh")

	u := e.withLevel(t, domain.LevelRegistered)
	img, err = e.app.ImportArchive(ctx, x, bytes.NewReader(plain), app.ImportInput{Name: str("owned"), Owner: u.ID.Hex()})
	if err != nil {
		t.Fatal(err)
	}
	if img.Owner != u.ID {
		t.Fatalf("got owner %s, want %s", img.Owner.Hex(), u.ID.Hex())
	}
}

func TestImportArchiveErrors(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	x := e.admin(t)
	r, _ := e.anon(t)
	good := contextTar(t, map[string]string{"Dockerfile": "FROM runnable/busybox\n", "runnable.json": demoManifest})
	oneImage := `[{"Config":"c.json","RepoTags":["a:b"],"Layers":["l.tar"]}]`
	tests := []struct {
		name   string
		caller *domain.User
		tar    []byte
		in     app.ImportInput
		kind   error
		msg    string
	}{
		{"not admin", r, good, app.ImportInput{}, domain.ErrForbidden, "permission denied"},
		{"bad format", x, good, app.ImportInput{Format: "zip"}, domain.ErrInvalid, "format must be one of auto, docker-save, context"},
		{"neither", x, contextTar(t, map[string]string{"README": "x"}), app.ImportInput{}, domain.ErrInvalid, "archive is not a docker image or build context"},
		{"not a tar", x, []byte("hello, this is not a tar archive at all"), app.ImportInput{}, domain.ErrInvalid, "archive is not a docker image or build context"},
		{"context without runnable.json", x, contextTar(t, map[string]string{"Dockerfile": "FROM x\n"}), app.ImportInput{Format: "context"}, domain.ErrInvalid, "runnable.json required"},
		{"two images", x, contextTar(t, map[string]string{"manifest.json": `[{"Config":"a"},{"Config":"b"}]`}), app.ImportInput{Name: str("n")}, domain.ErrInvalid, "archive must contain exactly one image"},
		{"docker-save without name", x, contextTar(t, map[string]string{"manifest.json": oneImage}), app.ImportInput{}, domain.ErrInvalid, "runnable name required"},
		{"docker-save on memory", x, contextTar(t, map[string]string{"manifest.json": oneImage}), app.ImportInput{Name: str("n")}, domain.ErrInvalid, "docker-save archives need the docker backend"},
		{"bad runnable.json", x, contextTar(t, map[string]string{"manifest.json": oneImage, "runnable.json": `{"env":[1]}`}), app.ImportInput{Name: str("n")}, domain.ErrInvalid, "invalid runnable.json: env"},
		{"name taken", x, good, app.ImportInput{Name: str("SHELL")}, domain.ErrConflict, "runnable with name already exists"},
		{"unknown owner", x, good, app.ImportInput{Owner: "0123456789abcdef01234567"}, domain.ErrNotFound, "user not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.app.ImportArchive(ctx, tt.caller, bytes.NewReader(tt.tar), tt.in)
			wantMsg(t, err, tt.kind, tt.msg)
		})
	}
}

// saveBackend adds docker-save Export and Load to the memory backend: an
// export is a tar of manifest.json (and a stray runnable.json), a load
// makes an image with the files of files.tar in the archive.
type saveBackend struct {
	ports.Containers
	mem interface {
		AddImage(string, map[string][]byte, ...string)
	}
	loaded []string
}

func (b *saveBackend) Export(ctx context.Context, ref string, w io.Writer) error {
	tw := tar.NewWriter(w)
	for name, body := range map[string]string{
		"manifest.json": `[{"Config":"c.json","RepoTags":["` + ref + `"],"Layers":["l/layer.tar"]}]`,
		"runnable.json": "stray",
		"l/layer.tar":   "layer of " + ref,
	} {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(body))
	}
	return tw.Close()
}

func (b *saveBackend) Load(ctx context.Context, r io.Reader, ref string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if h.Name == "l/layer.tar" {
			body, _ := io.ReadAll(tr)
			b.loaded = append(b.loaded, string(body))
		}
	}
	b.mem.AddImage(ref, map[string][]byte{"/root/main.sh": []byte("echo hello\n"), "/root/README.md": []byte("# shell\n")}, "/root")
	return nil
}

func TestExportThenImport(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sb := &saveBackend{Containers: e.containers, mem: e.containers}
	deps := e.app.Deps
	deps.Containers = sb
	a := app.New(deps, e.app.Config())
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	x := e.admin(t)
	r, _ := e.anon(t)

	_, err := a.ExportImage(ctx, r, e.template.ID.Short())
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = a.ExportImage(ctx, x, "nope")
	wantMsg(t, err, domain.ErrNotFound, "runnable not found")
	saving := &domain.Image{ID: system.NewIDs().NewID(), Name: "in progress", Owner: x.ID, Status: domain.ImageSaving, FileRoot: "/root"}
	if err := e.images.Create(ctx, saving); err != nil {
		t.Fatal(err)
	}
	_, err = a.ExportImage(ctx, x, saving.ID.Short())
	wantMsg(t, err, domain.ErrConflict, "a save is already in progress")

	exp, err := a.ExportImage(ctx, x, e.template.ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	if exp.Filename != "shell-v1.tar" {
		t.Fatalf("got filename %q, want shell-v1.tar", exp.Filename)
	}
	var buf bytes.Buffer
	begun := 0
	if err := exp.Stream(ctx, &buf, func() { begun++ }); err != nil {
		t.Fatal(err)
	}
	if begun != 1 {
		t.Fatalf("got begin called %d times, want once", begun)
	}
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	var names []string
	var manifest app.Manifest
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "runnable.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				t.Fatal(err)
			}
		}
	}
	if names[0] != "runnable.json" || strings.Count(strings.Join(names, ","), "runnable.json") != 1 || len(names) != 3 {
		t.Fatalf("got entries %v, want runnable.json first and once, then the docker-save entries", names)
	}
	if *manifest.Name != "shell" || *manifest.StartCmd != "sh main.sh" || len(manifest.Tags) != 1 || manifest.Tags[0] != "shell" ||
		len(manifest.Files) != 1 || manifest.Files[0].Path != "/main.sh" || manifest.FileRoot != "/root" {
		t.Fatalf("got runnable.json %+v, want the template's metadata and default file", manifest)
	}

	img, err := a.ImportArchive(ctx, x, bytes.NewReader(gz(t, buf.Bytes())), app.ImportInput{Name: str("copy")})
	if err != nil {
		t.Fatal(err)
	}
	if img.ID == e.template.ID || img.Name != "copy" || img.StartCmd != "sh main.sh" || img.Version != 1 || !img.Parent.IsZero() {
		t.Fatalf("got %+v, want a new root image named copy with the template's start_cmd", img)
	}
	if len(sb.loaded) != 1 || sb.loaded[0] != "layer of "+e.template.Ref {
		t.Fatalf("got loaded layers %v, want the exported one", sb.loaded)
	}
	files := mustList(t, e, img.ID)
	if f := fileByName(t, files, "main.sh"); !f.Default {
		t.Fatal("got main.sh not default after the round trip")
	}
	if d, err := a.Fork(ctx, r, img.ID.Short(), nil, nil); err != nil || d.BaseRef != img.Ref {
		t.Fatalf("got %v, want the import forkable", err)
	}

	// the memory backend cannot export: an error before the first byte
	exp, err = e.app.ExportImage(ctx, x, e.template.ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	err = exp.Stream(ctx, &buf, func() { t.Fatal("begin called for a failed export") })
	wantMsg(t, err, domain.ErrInvalid, "docker-save archives need the docker backend")
	if buf.Len() != 0 {
		t.Fatalf("got %d bytes written, want none", buf.Len())
	}
}
