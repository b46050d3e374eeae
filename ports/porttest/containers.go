package porttest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// ContainersFixture is what the ports.Containers contract runs against.
type ContainersFixture struct {
	// Backend is the backend under test. The suite removes every container
	// and image it makes.
	Backend ports.Containers
	// Image is a container image reference whose filesystem has /bin/sh, a
	// regular file /root/hello.txt holding "hello\n" and a directory
	// /root/sub.
	Image string
}

// Containers runs the backend-neutral ports.Containers contract: lifecycle
// and state, files, archives, commit and image removal. It runs no program
// but the supervisor with an empty start_cmd, so a simulated backend can
// pass it. Besides the port's documentation it fixes these points:
//   - Inspect right after a Start with an empty start_cmd reports Running
//     and CmdDone with a nil ExitCode (no waiting).
//   - ReadTree lists the entries under root, root itself excluded, sorted
//     by Path (byte order); MaxEntries keeps the first entries of that
//     order. A directory named in Ignore is listed, its contents are not.
//     HasData and Content are set exactly for regular files no larger than
//     MaxContent (when MaxContent > 0).
//   - WriteFile and MakeDir under a missing parent, ReadFile and Archive of
//     a missing path give ErrNotFound.
//   - File operations work on created, running and stopped containers and
//     leave a container that was not running not running.
//   - Archive names entries relative to abs's parent ("dir/a.txt").
//   - RemoveImage of a reference a container still uses gives ErrConflict.
//
// Subtests run in parallel.
func Containers(t *testing.T, f ContainersFixture) {
	s := &containerSuite{b: f.Backend, image: f.Image}
	for _, c := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"Ping", s.ping},
		{"CreateInspect", s.createInspect},
		{"StartStop", s.startStop},
		{"MissingContainer", s.missingContainer},
		{"Remove", s.remove},
		{"List", s.list},
		{"WriteReadCreated", s.writeReadCreated},
		{"WriteReadRunning", s.writeReadRunning},
		{"MakeDir", s.makeDir},
		{"MissingParent", s.missingParent},
		{"Move", s.move},
		{"RemovePathStopped", s.removePathStopped},
		{"ReadTree", s.readTree},
		{"ReadImage", s.readImage},
		{"Archive", s.archive},
		{"CommitAndRemoveImage", s.commit},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

type containerSuite struct {
	b     ports.Containers
	image string
}

// randomID returns a random ObjectId-shaped id.
func (s *containerSuite) randomID(t *testing.T) domain.ID {
	t.Helper()
	var id domain.ID
	if _, err := rand.Read(id[:]); err != nil {
		t.Fatalf("random id: %v", err)
	}
	return id
}

// ok fails the test now when err is not nil.
func (s *containerSuite) ok(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", what, err)
	}
}

// kind checks that err matches kind with errors.Is.
func (s *containerSuite) kind(t *testing.T, err, kind error, what string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %v, want kind %q", what, err, kind)
	}
}

// create makes a container for a fresh draft and removes it at cleanup.
func (s *containerSuite) create(t *testing.T) (string, domain.ID) {
	t.Helper()
	return s.createFrom(t, s.image)
}

func (s *containerSuite) createFrom(t *testing.T, image string) (string, domain.ID) {
	t.Helper()
	draft := s.randomID(t)
	id, err := s.b.Create(t.Context(), ports.ContainerSpec{
		Image:   image,
		Draft:   draft,
		Owner:   s.randomID(t),
		WorkDir: "/root",
		Env:     map[string]string{"PORTTEST": "1"},
		Network: "none",
	})
	s.ok(t, err, "Create")
	if id == "" {
		t.Fatalf("Create: got id %q, want a non-empty id", id)
	}
	t.Cleanup(func() {
		if err := s.b.Remove(context.WithoutCancel(t.Context()), id); err != nil {
			t.Errorf("cleanup Remove %s: got error %v, want nil", id, err)
		}
	})
	return id, draft
}

// start starts id with an empty start_cmd.
func (s *containerSuite) start(t *testing.T, id string) {
	t.Helper()
	s.ok(t, s.b.Start(t.Context(), id, ports.RunSpec{Env: map[string]string{"PORTTEST": "2"}}), "Start")
}

func (s *containerSuite) stop(t *testing.T, id string) {
	t.Helper()
	s.ok(t, s.b.Stop(t.Context(), id, 5*time.Second), "Stop")
}

func (s *containerSuite) inspect(t *testing.T, id, what string) ports.ContainerState {
	t.Helper()
	st, err := s.b.Inspect(t.Context(), id)
	s.ok(t, err, what+": Inspect")
	return st
}

func (s *containerSuite) wantRunning(t *testing.T, id string, want bool, what string) {
	t.Helper()
	if st := s.inspect(t, id, what); st.Running != want {
		t.Errorf("%s: got Running %v, want %v", what, st.Running, want)
	}
}

func (s *containerSuite) read(t *testing.T, src ports.Source, abs string) string {
	t.Helper()
	b, err := s.b.ReadFile(t.Context(), src, abs)
	s.ok(t, err, "ReadFile "+abs)
	return string(b)
}

func (s *containerSuite) wantContent(t *testing.T, src ports.Source, abs, want string) {
	t.Helper()
	if got := s.read(t, src, abs); got != want {
		t.Errorf("ReadFile %s: got %q, want %q", abs, got, want)
	}
}

func (s *containerSuite) wantGone(t *testing.T, id, abs string) {
	t.Helper()
	_, err := s.b.ReadFile(t.Context(), ports.Source{Container: id}, abs)
	s.kind(t, err, domain.ErrNotFound, "ReadFile of removed "+abs)
}

func (s *containerSuite) write(t *testing.T, id, abs, data string) {
	t.Helper()
	s.ok(t, s.b.WriteFile(t.Context(), id, abs, []byte(data)), "WriteFile "+abs)
}

func (s *containerSuite) mkdir(t *testing.T, id, abs string) {
	t.Helper()
	s.ok(t, s.b.MakeDir(t.Context(), id, abs), "MakeDir "+abs)
}

func (s *containerSuite) ping(t *testing.T) {
	s.ok(t, s.b.Ping(t.Context()), "Ping")
}

func (s *containerSuite) createInspect(t *testing.T) {
	id, _ := s.create(t)
	st := s.inspect(t, id, "created")
	if st.Running || st.Dead || st.CmdDone || st.ExitCode != nil {
		t.Errorf("created: got %+v, want not running, not dead, not done, no exit code", st)
	}
	if !st.StartedAt.IsZero() {
		t.Errorf("created: got StartedAt %v, want zero", st.StartedAt)
	}
	s.wantContent(t, ports.Source{Container: id}, "/root/hello.txt", "hello\n")
}

func (s *containerSuite) startStop(t *testing.T) {
	id, _ := s.create(t)
	for run := 1; run <= 2; run++ {
		what := fmt.Sprintf("run %d", run)
		s.start(t, id)
		st := s.inspect(t, id, what+": started")
		if !st.Running || !st.CmdDone || st.ExitCode != nil || st.Dead {
			t.Errorf("%s: after Start with empty start_cmd: got %+v, want Running, CmdDone, nil ExitCode", what, st)
		}
		if st.StartedAt.IsZero() {
			t.Errorf("%s: after Start: got zero StartedAt, want the start time", what)
		}
		s.stop(t, id)
		st = s.inspect(t, id, what+": stopped")
		if st.Running {
			t.Errorf("%s: after Stop: got Running true, want false", what)
		}
		if st.FinishedAt.IsZero() {
			t.Errorf("%s: after Stop: got zero FinishedAt, want the stop time", what)
		}
		s.ok(t, s.b.Stop(t.Context(), id, time.Second), what+": Stop of a stopped container")
	}
}

// gone returns the id of a container that existed and was removed.
func (s *containerSuite) gone(t *testing.T) string {
	t.Helper()
	id, _ := s.create(t)
	s.ok(t, s.b.Remove(t.Context(), id), "Remove")
	return id
}

func (s *containerSuite) missingContainer(t *testing.T) {
	id := s.gone(t)
	ctx := t.Context()
	_, err := s.b.Inspect(ctx, id)
	s.kind(t, err, domain.ErrNotFound, "Inspect of a removed container")
	s.kind(t, s.b.Start(ctx, id, ports.RunSpec{}), domain.ErrNotFound, "Start of a removed container")
	s.kind(t, s.b.Stop(ctx, id, time.Second), domain.ErrNotFound, "Stop of a removed container")
	s.ok(t, s.b.Remove(ctx, id), "Remove of a removed container")
}

func (s *containerSuite) remove(t *testing.T) {
	t.Run("Created", func(t *testing.T) {
		id, _ := s.create(t)
		s.ok(t, s.b.Remove(t.Context(), id), "Remove")
		_, err := s.b.Inspect(t.Context(), id)
		s.kind(t, err, domain.ErrNotFound, "Inspect after Remove")
	})
	t.Run("Running", func(t *testing.T) {
		id, _ := s.create(t)
		s.start(t, id)
		s.ok(t, s.b.Remove(t.Context(), id), "Remove of a running container")
		_, err := s.b.Inspect(t.Context(), id)
		s.kind(t, err, domain.ErrNotFound, "Inspect after Remove")
	})
}

func (s *containerSuite) list(t *testing.T) {
	id, draft := s.create(t)
	all, err := s.b.List(t.Context())
	s.ok(t, err, "List")
	i := slices.IndexFunc(all, func(c ports.ManagedContainer) bool { return c.ID == id })
	if i < 0 {
		t.Fatalf("List: got %d containers without %s, want it listed", len(all), id)
	}
	c := all[i]
	if c.Draft != draft {
		t.Errorf("List: got Draft %s, want %s", c.Draft.Hex(), draft.Hex())
	}
	if c.Running {
		t.Errorf("List: got Running true for a created container, want false")
	}
	if c.Created.IsZero() {
		t.Errorf("List: got zero Created, want the creation time")
	}
	gone := s.gone(t)
	all, err = s.b.List(t.Context())
	s.ok(t, err, "List after Remove")
	if slices.ContainsFunc(all, func(c ports.ManagedContainer) bool { return c.ID == gone }) {
		t.Errorf("List: got removed container %s, want it absent", gone)
	}
}

func (s *containerSuite) writeRead(t *testing.T, id string) {
	t.Helper()
	src := ports.Source{Container: id}
	s.write(t, id, "/root/new.txt", "first\n")
	s.wantContent(t, src, "/root/new.txt", "first\n")
	s.write(t, id, "/root/new.txt", "second")
	s.wantContent(t, src, "/root/new.txt", "second")
	s.write(t, id, "/root/hello.txt", "")
	s.wantContent(t, src, "/root/hello.txt", "")
	bin := []byte{0, 1, 2, 0xff, 0xfe, '\n'}
	s.ok(t, s.b.WriteFile(t.Context(), id, "/root/sub/bin.dat", bin), "WriteFile binary")
	got, err := s.b.ReadFile(t.Context(), src, "/root/sub/bin.dat")
	s.ok(t, err, "ReadFile binary")
	if !bytes.Equal(got, bin) {
		t.Errorf("ReadFile binary: got %x, want %x", got, bin)
	}
	_, err = s.b.ReadFile(t.Context(), src, "/root/missing.txt")
	s.kind(t, err, domain.ErrNotFound, "ReadFile of a missing path")
}

func (s *containerSuite) writeReadCreated(t *testing.T) {
	id, _ := s.create(t)
	s.writeRead(t, id)
	s.wantRunning(t, id, false, "after writes on a created container")
}

func (s *containerSuite) writeReadRunning(t *testing.T) {
	id, _ := s.create(t)
	s.start(t, id)
	s.writeRead(t, id)
	s.wantRunning(t, id, true, "after writes on a running container")
}

func (s *containerSuite) makeDir(t *testing.T) {
	id, _ := s.create(t)
	s.mkdir(t, id, "/root/made")
	s.write(t, id, "/root/made/a.txt", "a")
	s.wantContent(t, ports.Source{Container: id}, "/root/made/a.txt", "a")
	entries, _, err := s.b.ReadTree(t.Context(), ports.Source{Container: id}, "/root", ports.TreeOptions{})
	s.ok(t, err, "ReadTree")
	i := slices.IndexFunc(entries, func(e ports.FSEntry) bool { return e.Path == "/root/made" })
	if i < 0 || !entries[i].Dir {
		t.Errorf("ReadTree after MakeDir: got %s, want /root/made as a directory", s.paths(entries))
	}
	s.wantRunning(t, id, false, "after MakeDir on a created container")
}

func (s *containerSuite) missingParent(t *testing.T) {
	id, _ := s.create(t)
	ctx := t.Context()
	s.kind(t, s.b.WriteFile(ctx, id, "/root/nodir/a.txt", []byte("a")), domain.ErrNotFound, "WriteFile under a missing parent")
	s.kind(t, s.b.MakeDir(ctx, id, "/root/nodir/sub"), domain.ErrNotFound, "MakeDir under a missing parent")
}

func (s *containerSuite) move(t *testing.T) {
	for _, running := range []bool{false, true} {
		t.Run(map[bool]string{false: "Created", true: "Running"}[running], func(t *testing.T) {
			id, _ := s.create(t)
			if running {
				s.start(t, id)
			}
			src := ports.Source{Container: id}
			s.mkdir(t, id, "/root/a")
			s.mkdir(t, id, "/root/a/b")
			s.write(t, id, "/root/a/x.txt", "x")
			s.write(t, id, "/root/a/b/y.txt", "y")
			s.ok(t, s.b.Move(t.Context(), id, "/root/a", "/root/sub/c"), "Move of a directory")
			s.wantContent(t, src, "/root/sub/c/x.txt", "x")
			s.wantContent(t, src, "/root/sub/c/b/y.txt", "y")
			s.wantGone(t, id, "/root/a/x.txt")
			s.ok(t, s.b.Move(t.Context(), id, "/root/sub/c/x.txt", "/root/renamed.txt"), "Move of a file")
			s.wantContent(t, src, "/root/renamed.txt", "x")
			s.wantGone(t, id, "/root/sub/c/x.txt")
			s.wantRunning(t, id, running, "after Move")
		})
	}
}

func (s *containerSuite) removePathStopped(t *testing.T) {
	id, _ := s.create(t)
	s.start(t, id)
	s.mkdir(t, id, "/root/tree")
	s.mkdir(t, id, "/root/tree/deep")
	s.write(t, id, "/root/tree/deep/f.txt", "f")
	s.write(t, id, "/root/tree/g.txt", "g")
	s.stop(t, id)
	s.ok(t, s.b.RemovePath(t.Context(), id, "/root/tree"), "RemovePath of a tree")
	s.wantGone(t, id, "/root/tree/deep/f.txt")
	entries, _, err := s.b.ReadTree(t.Context(), ports.Source{Container: id}, "/root", ports.TreeOptions{})
	s.ok(t, err, "ReadTree")
	if slices.ContainsFunc(entries, func(e ports.FSEntry) bool { return strings.HasPrefix(e.Path, "/root/tree") }) {
		t.Errorf("ReadTree after RemovePath: got %s, want nothing under /root/tree", s.paths(entries))
	}
	s.ok(t, s.b.RemovePath(t.Context(), id, "/root/hello.txt"), "RemovePath of a file")
	s.wantGone(t, id, "/root/hello.txt")
	s.wantRunning(t, id, false, "after RemovePath on a stopped container")
}

func (s *containerSuite) paths(entries []ports.FSEntry) string {
	p := make([]string, len(entries))
	for i, e := range entries {
		p[i] = e.Path
		if e.Dir {
			p[i] += "/"
		}
	}
	return "[" + strings.Join(p, " ") + "]"
}

func (s *containerSuite) readTree(t *testing.T) {
	id, _ := s.create(t)
	s.mkdir(t, id, "/root/t")
	s.mkdir(t, id, "/root/t/node_modules")
	s.mkdir(t, id, "/root/t/node_modules/dep")
	s.write(t, id, "/root/t/node_modules/dep/index.js", "x")
	s.mkdir(t, id, "/root/t/src")
	s.mkdir(t, id, "/root/t/src/node_modules") // ignored at any depth
	s.write(t, id, "/root/t/src/node_modules/z.js", "z")
	s.write(t, id, "/root/t/src/main.go", "package m\n")
	s.write(t, id, "/root/t/small.txt", "0123456789")
	s.write(t, id, "/root/t/big.txt", "0123456789A")
	s.write(t, id, "/root/t/empty.txt", "")
	src := ports.Source{Container: id}
	opt := ports.TreeOptions{MaxContent: 10, Ignore: []string{"node_modules"}}
	entries, truncated, err := s.b.ReadTree(t.Context(), src, "/root/t", opt)
	s.ok(t, err, "ReadTree")
	if truncated {
		t.Errorf("ReadTree: got truncated true, want false")
	}
	want := []string{
		"/root/t/big.txt", "/root/t/empty.txt", "/root/t/node_modules/", "/root/t/small.txt",
		"/root/t/src/", "/root/t/src/main.go", "/root/t/src/node_modules/",
	}
	if got := s.paths(entries); got != "["+strings.Join(want, " ")+"]" {
		t.Fatalf("ReadTree: got %s, want %v", got, want)
	}
	if !sort.SliceIsSorted(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path }) {
		t.Errorf("ReadTree: got %s, want sorted by path", s.paths(entries))
	}
	byPath := map[string]ports.FSEntry{}
	for _, e := range entries {
		byPath[e.Path] = e
	}
	for _, c := range []struct {
		path    string
		size    int64
		hasData bool
		content string
	}{
		{"/root/t/small.txt", 10, true, "0123456789"},
		{"/root/t/empty.txt", 0, true, ""},
		{"/root/t/big.txt", 11, false, ""},
		{"/root/t/src/main.go", 10, true, "package m\n"},
	} {
		e := byPath[c.path]
		if e.Dir || e.IsLink || e.Size != c.size || e.HasData != c.hasData || string(e.Content) != c.content {
			t.Errorf("ReadTree %s: got dir %v, link %v, size %d, has data %v, content %q; want a file of size %d, has data %v, content %q",
				c.path, e.Dir, e.IsLink, e.Size, e.HasData, e.Content, c.size, c.hasData, c.content)
		}
		if e.Modified.IsZero() {
			t.Errorf("ReadTree %s: got zero Modified, want the modification time", c.path)
		}
	}
	if e := byPath["/root/t/src"]; e.HasData || e.Content != nil {
		t.Errorf("ReadTree directory: got has data %v, content %q; want none", e.HasData, e.Content)
	}

	limited, truncated, err := s.b.ReadTree(t.Context(), src, "/root/t", ports.TreeOptions{MaxContent: 10, Ignore: opt.Ignore, MaxEntries: 3})
	s.ok(t, err, "ReadTree with MaxEntries")
	if !truncated {
		t.Errorf("ReadTree with MaxEntries 3 of 7: got truncated false, want true")
	}
	if got, want := s.paths(limited), s.paths(entries[:3]); got != want {
		t.Errorf("ReadTree with MaxEntries 3: got %s, want %s", got, want)
	}
	exact, truncated, err := s.b.ReadTree(t.Context(), src, "/root/t", ports.TreeOptions{Ignore: opt.Ignore, MaxEntries: len(entries)})
	s.ok(t, err, "ReadTree with MaxEntries equal to the count")
	if truncated || len(exact) != len(entries) {
		t.Errorf("ReadTree with MaxEntries %d of %d: got %d entries, truncated %v; want %d, false",
			len(entries), len(entries), len(exact), truncated, len(entries))
	}
	for _, e := range exact {
		if e.HasData || e.Content != nil {
			t.Errorf("ReadTree without MaxContent %s: got has data %v, content %q; want none", e.Path, e.HasData, e.Content)
		}
	}
}

func (s *containerSuite) readImage(t *testing.T) {
	src := ports.Source{Image: s.image}
	s.wantContent(t, src, "/root/hello.txt", "hello\n")
	_, err := s.b.ReadFile(t.Context(), src, "/root/missing.txt")
	s.kind(t, err, domain.ErrNotFound, "ReadFile of a missing path in an image")
	entries, truncated, err := s.b.ReadTree(t.Context(), src, "/root", ports.TreeOptions{MaxContent: 100})
	s.ok(t, err, "ReadTree of an image")
	if truncated {
		t.Errorf("ReadTree of an image: got truncated true, want false")
	}
	var hello, sub bool
	for _, e := range entries {
		switch e.Path {
		case "/root/hello.txt":
			hello = !e.Dir && e.HasData && string(e.Content) == "hello\n" && e.Size == 6
		case "/root/sub":
			sub = e.Dir
		}
	}
	if !hello || !sub {
		t.Errorf("ReadTree of an image: got %s (hello.txt ok %v, sub ok %v), want hello.txt with its content and sub/", s.paths(entries), hello, sub)
	}
	rc, err := s.b.Archive(t.Context(), src, "/root/hello.txt")
	s.ok(t, err, "Archive of an image")
	files := s.untar(t, rc)
	if got := files["hello.txt"]; got != "hello\n" {
		t.Errorf("Archive of an image: got hello.txt %q in %v, want %q", got, s.keys(files), "hello\n")
	}
}

// untar reads a whole tar into name -> content; directories map to "/".
func (s *containerSuite) untar(t *testing.T, rc io.ReadCloser) map[string]string {
	t.Helper()
	defer rc.Close()
	out := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		s.ok(t, err, "reading the archive")
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
		if h.Typeflag == tar.TypeDir {
			out[name] = "/"
			continue
		}
		b, err := io.ReadAll(tr)
		s.ok(t, err, "reading "+h.Name+" from the archive")
		out[name] = string(b)
	}
}

func (s *containerSuite) keys(m map[string]string) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

func (s *containerSuite) archive(t *testing.T) {
	id, _ := s.create(t)
	src := ports.Source{Container: id}
	s.mkdir(t, id, "/root/arch")
	s.mkdir(t, id, "/root/arch/in")
	s.write(t, id, "/root/arch/a.txt", "alpha")
	s.write(t, id, "/root/arch/in/b.txt", "beta")

	rc, err := s.b.Archive(t.Context(), src, "/root/arch")
	s.ok(t, err, "Archive of a directory")
	files := s.untar(t, rc)
	for name, want := range map[string]string{"arch": "/", "arch/in": "/", "arch/a.txt": "alpha", "arch/in/b.txt": "beta"} {
		if got, ok := files[name]; !ok || got != want {
			t.Errorf("Archive of a directory: entry %s: got %q (present %v) in %v, want %q", name, got, ok, s.keys(files), want)
		}
	}

	rc, err = s.b.Archive(t.Context(), src, "/root/arch/a.txt")
	s.ok(t, err, "Archive of a file")
	files = s.untar(t, rc)
	if got := files["a.txt"]; got != "alpha" || len(files) != 1 {
		t.Errorf("Archive of a file: got entries %v with a.txt %q, want only a.txt %q", s.keys(files), got, "alpha")
	}

	_, err = s.b.Archive(t.Context(), src, "/root/nothing")
	s.kind(t, err, domain.ErrNotFound, "Archive of a missing path")
	s.wantRunning(t, id, false, "after Archive of a created container")
}

func (s *containerSuite) commit(t *testing.T) {
	ctx := t.Context()
	id, _ := s.create(t)
	s.start(t, id)
	s.write(t, id, "/root/committed.txt", "saved\n")
	ref := domain.ImageRef(s.randomID(t), 1)
	t.Cleanup(func() {
		if err := s.b.RemoveImage(context.WithoutCancel(t.Context()), ref); err != nil {
			t.Errorf("cleanup RemoveImage %s: got error %v, want nil", ref, err)
		}
	})
	s.ok(t, s.b.Commit(ctx, id, ref), "Commit")
	s.wantRunning(t, id, true, "after Commit of a running container")

	exists, err := s.b.ImageExists(ctx, ref)
	s.ok(t, err, "ImageExists")
	if !exists {
		t.Errorf("ImageExists %s after Commit: got false, want true", ref)
	}
	refs, err := s.b.ListImages(ctx)
	s.ok(t, err, "ListImages")
	if !slices.Contains(refs, ref) {
		t.Errorf("ListImages: got %d refs without %s, want it listed", len(refs), ref)
	}
	s.wantContent(t, ports.Source{Image: ref}, "/root/committed.txt", "saved\n")

	child, _ := s.createFrom(t, ref)
	s.wantContent(t, ports.Source{Container: child}, "/root/committed.txt", "saved\n")
	s.wantContent(t, ports.Source{Container: child}, "/root/hello.txt", "hello\n")
	s.start(t, child)
	st := s.inspect(t, child, "container of the committed image")
	if !st.Running || !st.CmdDone || st.ExitCode != nil {
		t.Errorf("container of the committed image after Start: got %+v, want Running, CmdDone, nil ExitCode", st)
	}

	s.kind(t, s.b.RemoveImage(ctx, ref), domain.ErrConflict, "RemoveImage of an image in use")
	s.ok(t, s.b.Remove(ctx, child), "Remove of the child container")
	s.ok(t, s.b.RemoveImage(ctx, ref), "RemoveImage")
	exists, err = s.b.ImageExists(ctx, ref)
	s.ok(t, err, "ImageExists after RemoveImage")
	if exists {
		t.Errorf("ImageExists %s after RemoveImage: got true, want false", ref)
	}
	s.ok(t, s.b.RemoveImage(ctx, ref), "RemoveImage of a missing image")
}
