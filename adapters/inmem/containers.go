package inmem

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Containers = (*Containers)(nil)

// Containers is the memory container backend (CONTAINER_BACKEND=memory, spec
// §10): container and image filesystems live in memory with the path
// semantics of a Linux container, nothing is ever executed.
//
//   - A start goes straight to "idle": start_cmd is recorded, not run
//     (CmdDone, ExitCode 0, or nil when start_cmd is empty) and logs stay
//     empty unless a test adds lines with AddLog.
//   - Commit copies the container's filesystem into a new image.
//   - Exec gives a session that echoes its input back as output.
//   - Build copies the context's files, except the root Dockerfile and
//     runnable.json, into the file_root its runnable.json names (default
//     /root), on top of the FROM image when the backend has it, else a
//     small base layout with /bin/sh.
//   - Load and Export need the Docker backend (ErrInvalid); ImageCommand
//     is "".
//
// Containers is scriptable for tests (FailNext, SetDown, Lose, BlockCommit,
// SetState, AddLog, Symlink, AddImage) and safe for concurrent use.
type Containers struct {
	mu         sync.Mutex
	now        func() time.Time
	down       atomic.Bool
	faults     faults
	images     map[string]*ctrImage // by normalized reference
	containers map[string]*ctrContainer
	commitGate chan struct{} // non-nil while BlockCommit holds commits
	// commitDelay simulates how long a real commit takes (0 = instant).
	commitDelay time.Duration
}

type ctrImage struct {
	id      string // "sha256:<hex>"
	root    *fsNode
	created time.Time
}

type ctrContainer struct {
	id       string
	spec     ports.ContainerSpec
	run      ports.RunSpec
	image    *ctrImage
	root     *fsNode
	created  time.Time
	state    ports.ContainerState
	logs     []ports.LogLine
	changed  chan struct{} // closed and replaced on new logs and state changes
	gone     bool
	sessions []*EchoSession
}

func (k *ctrContainer) notify() {
	close(k.changed)
	k.changed = make(chan struct{})
}

// endSessions ends the open exec sessions, as stopping the container
// kills their processes.
func (k *ctrContainer) endSessions(code int) {
	for _, s := range k.sessions {
		s.end(code)
	}
}

// NewContainers returns a memory backend with no images and no containers.
func NewContainers() *Containers {
	return &Containers{
		now:        time.Now,
		images:     map[string]*ctrImage{},
		containers: map[string]*ctrContainer{},
	}
}

// ContainerInfo is what the memory backend knows of one container.
type ContainerInfo struct {
	ID      string
	Spec    ports.ContainerSpec
	Run     ports.RunSpec // the last Start's
	Created time.Time
	State   ports.ContainerState
}

// FailNext makes the next call of method (a ports.Containers method name,
// case-insensitive, e.g. "Commit") return err. Calls queue.
func (c *Containers) FailNext(method string, err error) { c.faults.add(method, err) }

// SetDown makes every ports.Containers call return ErrUnavailable
// "container backend unavailable" while down is true.
func (c *Containers) SetDown(down bool) { c.down.Store(down) }

// SetClock replaces the time source (time.Now by default).
func (c *Containers) SetClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

// BlockCommit makes Commit calls wait, before they snapshot anything, until
// UnblockCommit or the end of their context.
func (c *Containers) BlockCommit() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.commitGate == nil {
		c.commitGate = make(chan struct{})
	}
}

// SetCommitDelay makes every commit take d, as a real engine's does, so a
// save stays observable ("saving") for a while; the server's memory backend
// uses it, unit tests keep commits instant.
func (c *Containers) SetCommitDelay(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commitDelay = d
}

// UnblockCommit releases the commits held by BlockCommit.
func (c *Containers) UnblockCommit() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.commitGate != nil {
		close(c.commitGate)
		c.commitGate = nil
	}
}

// AddImage stores an image as ref: the base layout (/bin/sh, /etc, /root,
// /tmp, ...) plus files (absolute paths, mode 0644, parents made as
// needed) and the directories dirs. An existing ref is replaced. It panics
// on a malformed ref.
func (c *Containers) AddImage(ref string, files map[string][]byte, dirs ...string) {
	ref, err := normalizeRef(ref)
	if err != nil {
		panic(fmt.Sprintf("inmem.Containers.AddImage: %v", err))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.fsTime()
	root := fsBaseLayout(t)
	for _, d := range dirs {
		if _, err := fsMkdirAll(root, path.Join("/", d), t); err != nil {
			panic(fmt.Sprintf("inmem.Containers.AddImage: dir %s: %v", d, err))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if err := fsPut(root, path.Join("/", p), fsFile(0o644, bytes.Clone(files[p]), t), t); err != nil {
			panic(fmt.Sprintf("inmem.Containers.AddImage: file %s: %v", p, err))
		}
	}
	c.images[ref] = &ctrImage{id: "sha256:" + randomHex(), root: root, created: c.now().UTC()}
}

// Symlink creates a symlink at abs pointing at target in container id (the
// API cannot make one). The parent must exist; an existing abs is
// ErrConflict.
func (c *Containers) Symlink(id, abs, target string) error {
	if target == "" {
		return domain.E(domain.ErrInvalid, "symlink target required")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return err
	}
	if err := fsSymlinkAt(k.root, abs, target, c.fsTime()); err != nil {
		return fsPathErr("symlink", abs, err)
	}
	return nil
}

// Lose deletes container id behind the app's back, as if the engine lost
// it: its sessions and log streams end.
func (c *Containers) Lose(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.containers[id]; ok {
		c.drop(k)
	}
}

// SetState overwrites container id's live state (e.g. Dead, or a start_cmd
// still running), waking log followers. ErrNotFound when gone.
func (c *Containers) SetState(id string, st ports.ContainerState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return err
	}
	if k.state.Running && !st.Running {
		k.endSessions(137)
	}
	k.state = copyState(st)
	k.notify()
	return nil
}

// AddLog appends lines to container id's log, as if start_cmd printed
// them. A zero Time is now, an empty Stream "stdout". ErrNotFound when
// gone.
func (c *Containers) AddLog(id string, lines ...ports.LogLine) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if l.Time.IsZero() {
			l.Time = c.now().UTC()
		}
		if l.Stream == "" {
			l.Stream = "stdout"
		}
		k.logs = append(k.logs, l)
	}
	k.notify()
	return nil
}

// Info returns what the backend knows of container id.
func (c *Containers) Info(id string) (ContainerInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.containers[id]
	if !ok {
		return ContainerInfo{}, false
	}
	return ContainerInfo{ID: k.id, Spec: copySpec(k.spec), Run: copyRun(k.run), Created: k.created, State: copyState(k.state)}, true
}

// Sessions returns the exec sessions opened in container id, oldest first.
func (c *Containers) Sessions(id string) []*EchoSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.containers[id]; ok {
		return slices.Clone(k.sessions)
	}
	return nil
}

// enter runs the checks every port call starts with: the context, SetDown
// and FailNext.
func (c *Containers) enter(ctx context.Context, method string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.down.Load() {
		return domain.E(domain.ErrUnavailable, "container backend unavailable")
	}
	return c.faults.take(method)
}

// fsTime is a filesystem timestamp: whole seconds, as in a tar header.
func (c *Containers) fsTime() time.Time { return c.now().UTC().Truncate(time.Second) }

func (c *Containers) container(id string) (*ctrContainer, error) {
	k, ok := c.containers[id]
	if !ok {
		return nil, domain.Wrap(domain.ErrNotFound, "container not found", fmt.Errorf("no such container: %s", id))
	}
	return k, nil
}

func (c *Containers) image(ref string) (*ctrImage, error) {
	r, err := normalizeRef(ref)
	if err != nil {
		return nil, err
	}
	img, ok := c.images[r]
	if !ok {
		return nil, domain.Wrap(domain.ErrNotFound, "image not found", fmt.Errorf("no such image: %s", ref))
	}
	return img, nil
}

// source returns the root of the filesystem src names.
func (c *Containers) source(src ports.Source) (*fsNode, error) {
	switch {
	case src.Container != "":
		k, err := c.container(src.Container)
		if err != nil {
			return nil, err
		}
		return k.root, nil
	case src.Image != "":
		img, err := c.image(src.Image)
		if err != nil {
			return nil, err
		}
		return img.root, nil
	}
	return nil, domain.E(domain.ErrInvalid, "container or image required")
}

// drop removes k from the backend: its processes die, followers stop.
func (c *Containers) drop(k *ctrContainer) {
	delete(c.containers, k.id)
	k.gone = true
	k.state.Running = false
	k.endSessions(137)
	k.notify()
}

// Ping checks the backend answers.
func (c *Containers) Ping(ctx context.Context) error { return c.enter(ctx, "Ping") }

// Create makes a stopped container from spec.Image, with spec.WorkDir made
// when missing. A missing image is ErrNotFound "image not found" wrapping
// an ErrBackend "container backend error" cause, as the Docker backend
// reports the engine's 404.
func (c *Containers) Create(ctx context.Context, spec ports.ContainerSpec) (string, error) {
	if err := c.enter(ctx, "Create"); err != nil {
		return "", err
	}
	if spec.WorkDir != "" && !strings.HasPrefix(spec.WorkDir, "/") {
		return "", domain.E(domain.ErrInvalid, "working directory must be absolute")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	img, err := c.image(spec.Image)
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			// As with Docker: 404 "image not found", from the engine.
			return "", domain.Wrap(domain.ErrNotFound, "image not found",
				domain.Wrap(domain.ErrBackend, "container backend error", fmt.Errorf("no such image: %s", spec.Image)))
		}
		return "", err
	}
	k := &ctrContainer{
		id: randomHex(), spec: copySpec(spec), image: img, root: img.root.clone(),
		created: c.now().UTC(), changed: make(chan struct{}),
	}
	if spec.WorkDir != "" {
		if _, err := fsMkdirAll(k.root, spec.WorkDir, c.fsTime()); err != nil {
			return "", domain.Wrap(domain.ErrBackend, "container backend error", fsPathErr("mkdir", spec.WorkDir, err))
		}
	}
	c.containers[k.id] = k
	return k.id, nil
}

// Start "runs" run.StartCmd: the container is up and idle at once. A
// running container is left as it is.
func (c *Containers) Start(ctx context.Context, id string, run ports.RunSpec) error {
	if err := c.enter(ctx, "Start"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return err
	}
	if k.state.Running {
		return nil
	}
	if k.state.Dead {
		return domain.Wrap(domain.ErrBackend, "container backend error",
			fmt.Errorf("container %s is marked for removal and cannot be started", id))
	}
	k.run = copyRun(run)
	k.state.Running, k.state.StartedAt, k.state.CmdDone, k.state.ExitCode = true, c.now().UTC(), true, nil
	if run.StartCmd != "" {
		code := 0
		k.state.ExitCode = &code
	}
	k.notify()
	return nil
}

// Stop stops a running container at once; open exec sessions end with
// status 137.
func (c *Containers) Stop(ctx context.Context, id string, _ time.Duration) error {
	if err := c.enter(ctx, "Stop"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return err
	}
	if !k.state.Running {
		return nil
	}
	k.state.Running, k.state.FinishedAt = false, c.now().UTC()
	k.endSessions(137)
	k.notify()
	return nil
}

// Remove force-removes the container; a missing one is not an error.
func (c *Containers) Remove(ctx context.Context, id string) error {
	if err := c.enter(ctx, "Remove"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.containers[id]; ok {
		c.drop(k)
	}
	return nil
}

// Inspect returns the live state. ErrNotFound when gone.
func (c *Containers) Inspect(ctx context.Context, id string) (ports.ContainerState, error) {
	if err := c.enter(ctx, "Inspect"); err != nil {
		return ports.ContainerState{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return ports.ContainerState{}, err
	}
	return copyState(k.state), nil
}

// List returns every container, oldest first.
func (c *Containers) List(ctx context.Context) ([]ports.ManagedContainer, error) {
	if err := c.enter(ctx, "List"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ports.ManagedContainer, 0, len(c.containers))
	for _, k := range c.containers {
		out = append(out, ports.ManagedContainer{ID: k.id, Draft: k.spec.Draft, Created: k.created, Running: k.state.Running})
	}
	slices.SortFunc(out, func(a, b ports.ManagedContainer) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ReadTree lists the tree under root (symlinks followed to reach it),
// root excluded, sorted by path; see ports.TreeOptions. ErrNotFound when
// root is missing, ErrInvalid when it is not a directory.
func (c *Containers) ReadTree(ctx context.Context, src ports.Source, root string, opt ports.TreeOptions) ([]ports.FSEntry, bool, error) {
	var entries []ports.FSEntry
	var truncated bool
	err := c.onSource(ctx, "ReadTree", src, func(fsRoot *fsNode) (err error) {
		if entries, truncated, err = fsTree(fsRoot, root, opt); err != nil {
			return fsPathErr("read tree", root, err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return entries, truncated, nil
}

// ReadFile returns a regular file's content, following symlinks.
// ErrNotFound; ErrInvalid for a directory.
func (c *Containers) ReadFile(ctx context.Context, src ports.Source, abs string) ([]byte, error) {
	var data []byte
	err := c.onSource(ctx, "ReadFile", src, func(fsRoot *fsNode) (err error) {
		if data, err = fsReadFile(fsRoot, abs); err != nil {
			return fsPathErr("read", abs, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// WriteFile creates or replaces a regular file (through a symlink at abs,
// as open(2) does) in any container state. ErrNotFound when the parent is
// missing; ErrInvalid when abs is a directory or a parent is not one.
func (c *Containers) WriteFile(ctx context.Context, id, abs string, data []byte) error {
	return c.onFS(ctx, "WriteFile", id, func(root *fsNode, now time.Time) error {
		if err := fsWriteFile(root, abs, data, now); err != nil {
			return fsPathErr("write", abs, err)
		}
		return nil
	})
}

// MakeDir creates one directory. ErrNotFound when the parent is missing,
// ErrConflict when abs exists.
func (c *Containers) MakeDir(ctx context.Context, id, abs string) error {
	return c.onFS(ctx, "MakeDir", id, func(root *fsNode, now time.Time) error {
		if err := fsMakeDir(root, abs, now); err != nil {
			return fsPathErr("mkdir", abs, err)
		}
		return nil
	})
}

// Move renames from to to (symlinks themselves, not their targets).
// ErrNotFound "path does not exist" or "destination does not exist",
// ErrConflict "destination resource already exists", ErrInvalid "cannot
// move path into itself".
func (c *Containers) Move(ctx context.Context, id, from, to string) error {
	return c.onFS(ctx, "Move", id, func(root *fsNode, now time.Time) error {
		if err := fsMove(root, from, to, now); err != nil {
			return fmt.Errorf("move %s to %s: %w", from, to, err)
		}
		return nil
	})
}

// RemovePath deletes a file, a symlink or a whole directory tree, like
// rm -rf: a missing abs is not an error.
func (c *Containers) RemovePath(ctx context.Context, id, abs string) error {
	return c.onFS(ctx, "RemovePath", id, func(root *fsNode, now time.Time) error {
		if err := fsRemove(root, abs, now); err != nil {
			return fsPathErr("remove", abs, err)
		}
		return nil
	})
}

// onSource runs a read of src's filesystem under the lock, after the
// scripted faults and the down switch.
func (c *Containers) onSource(ctx context.Context, method string, src ports.Source, read func(root *fsNode) error) error {
	if err := c.enter(ctx, method); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fsRoot, err := c.source(src)
	if err != nil {
		return err
	}
	return read(fsRoot)
}

// onFS runs a change on a container's filesystem under the lock, after
// the scripted faults and the down switch.
func (c *Containers) onFS(ctx context.Context, method, id string, change func(root *fsNode, now time.Time) error) error {
	if err := c.enter(ctx, method); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return err
	}
	return change(k.root, c.fsTime())
}

// Archive returns a tar of abs named like Docker's archive API: abs's base
// name, then its children ("dir/", "dir/a.txt"). ErrNotFound.
func (c *Containers) Archive(ctx context.Context, src ports.Source, abs string) (io.ReadCloser, error) {
	var b []byte
	err := c.onSource(ctx, "Archive", src, func(fsRoot *fsNode) (err error) {
		if b, err = fsArchive(fsRoot, abs); err != nil {
			return fsPathErr("archive", abs, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func tailLogs(lines []ports.LogLine, tail int) []ports.LogLine {
	if tail >= 0 && tail < len(lines) {
		lines = lines[len(lines)-tail:]
	}
	return slices.Clone(lines)
}

// Logs returns the last tail lines (all of them when tail < 0): none
// unless a test added some with AddLog.
func (c *Containers) Logs(ctx context.Context, id string, tail int) ([]ports.LogLine, error) {
	if err := c.enter(ctx, "Logs"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return nil, err
	}
	return tailLogs(k.logs, tail), nil
}

// FollowLogs calls fn with the last tail lines, then with every line added
// until the container stops or goes (nil) or ctx ends (ctx.Err()).
func (c *Containers) FollowLogs(ctx context.Context, id string, tail int, fn func(ports.LogLine) error) error {
	if err := c.enter(ctx, "FollowLogs"); err != nil {
		return err
	}
	c.mu.Lock()
	k, err := c.container(id)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	lines, next := tailLogs(k.logs, tail), len(k.logs)
	c.mu.Unlock()
	for {
		for _, l := range lines {
			if err := fn(l); err != nil {
				return err
			}
		}
		c.mu.Lock()
		lines, next = slices.Clone(k.logs[next:]), len(k.logs)
		up, changed := k.state.Running && !k.gone, k.changed
		c.mu.Unlock()
		if len(lines) > 0 {
			continue
		}
		if !up {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// Exec opens a session that echoes its input in a running container.
// ErrNotFound when Cmd[0] is not a file of the container (names are
// searched in PATH), ErrConflict when the container is not running.
func (c *Containers) Exec(ctx context.Context, id string, spec ports.ExecSpec) (ports.ExecSession, error) {
	if err := c.enter(ctx, "Exec"); err != nil {
		return nil, err
	}
	if len(spec.Cmd) == 0 || spec.Cmd[0] == "" {
		return nil, domain.E(domain.ErrInvalid, "command required")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return nil, err
	}
	if !k.state.Running {
		return nil, domain.E(domain.ErrConflict, "runnable is not running")
	}
	dir := cmp.Or(spec.WorkDir, k.spec.WorkDir, "/")
	if !fsIsDir(k.root, dir) {
		return nil, domain.Wrap(domain.ErrBackend, "container backend error",
			fmt.Errorf("exec: chdir to cwd (%q): no such file or directory", dir))
	}
	pathEnv := cmp.Or(spec.Env["PATH"], k.run.Env["PATH"], k.spec.Env["PATH"],
		"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	if !fsFindExecutable(k.root, spec.Cmd[0], dir, pathEnv) {
		return nil, domain.Ef(domain.ErrNotFound, "command not found: %s", spec.Cmd[0])
	}
	s := newEchoSession(spec)
	k.sessions = append(k.sessions, s)
	return s, nil
}

// Commit copies the container's filesystem into the image ref (an
// existing ref is re-tagged). BlockCommit holds it first.
func (c *Containers) Commit(ctx context.Context, id, ref string) error {
	if err := c.enter(ctx, "Commit"); err != nil {
		return err
	}
	r, err := normalizeRef(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	gate, delay := c.commitGate, c.commitDelay
	c.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, err := c.container(id)
	if err != nil {
		return err
	}
	c.images[r] = &ctrImage{id: "sha256:" + randomHex(), root: k.root.clone(), created: c.now().UTC()}
	return nil
}

// ImageExists reports whether ref is present.
func (c *Containers) ImageExists(ctx context.Context, ref string) (bool, error) {
	if err := c.enter(ctx, "ImageExists"); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.image(ref)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, domain.ErrNotFound):
		return false, nil
	}
	return false, err
}

// RemoveImage deletes ref; a missing one is not an error. Like Docker, it
// only untags an image that has other references, and the last reference
// of an image a container (in any state) was created from is ErrConflict.
func (c *Containers) RemoveImage(ctx context.Context, ref string) error {
	if err := c.enter(ctx, "RemoveImage"); err != nil {
		return err
	}
	r, err := normalizeRef(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	img, ok := c.images[r]
	if !ok {
		return nil
	}
	for other, o := range c.images {
		if o == img && other != r {
			delete(c.images, r)
			return nil
		}
	}
	for _, k := range c.containers {
		if k.image == img {
			return domain.Wrap(domain.ErrConflict, "image is in use", fmt.Errorf(
				"unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
				ref, k.id[:12], img.id[7:19]))
		}
	}
	delete(c.images, r)
	return nil
}

// ImageRepository is the repository namespace ListImages lists, the one of
// domain.ImageRef.
const ImageRepository = "runnable/"

// ListImages lists the references under ImageRepository, sorted.
func (c *Containers) ListImages(ctx context.Context) ([]string, error) {
	if err := c.enter(ctx, "ListImages"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []string{}
	for r := range c.images {
		if strings.HasPrefix(r, ImageRepository) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out, nil
}

// errNeedsDocker is the answer to docker-save imports and exports.
func errNeedsDocker() error {
	return domain.E(domain.ErrInvalid, "docker-save archives need the docker backend")
}

// Load refuses: docker-save archives need the Docker backend (ErrInvalid).
func (c *Containers) Load(ctx context.Context, _ io.Reader, ref string) error {
	if err := c.enter(ctx, "Load"); err != nil {
		return err
	}
	if _, err := normalizeRef(ref); err != nil {
		return err
	}
	return errNeedsDocker()
}

// Export refuses: docker-save archives need the Docker backend
// (ErrInvalid; ErrNotFound first when ref is missing).
func (c *Containers) Export(ctx context.Context, ref string, _ io.Writer) error {
	if err := c.enter(ctx, "Export"); err != nil {
		return err
	}
	c.mu.Lock()
	_, err := c.image(ref)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return errNeedsDocker()
}

// ImageCommand returns "": memory images have no entrypoint or command.
// ErrNotFound when ref is missing.
func (c *Containers) ImageCommand(ctx context.Context, ref string) (string, error) {
	if err := c.enter(ctx, "ImageCommand"); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.image(ref); err != nil {
		return "", err
	}
	return "", nil
}

// normalizeRef checks an image reference and gives a bare name its
// ":latest" tag, as Docker does.
func normalizeRef(ref string) (string, error) {
	bad := func(why string) error {
		return domain.Wrap(domain.ErrInvalid, fmt.Sprintf("invalid image reference: %q", ref), errors.New(why))
	}
	if ref == "" || strings.ContainsAny(ref, " \t\r\n") {
		return "", bad("empty or contains spaces")
	}
	if strings.Contains(ref, "@") {
		return ref, nil
	}
	name := ref
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		name = ref[:i]
		if i == len(ref)-1 {
			return "", bad("empty tag")
		}
	} else {
		ref += ":latest"
	}
	if name != strings.ToLower(name) {
		return "", bad("repository name must be lowercase")
	}
	return ref, nil
}

func randomHex() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func copyEnvMap(env map[string]string) map[string]string {
	if env == nil {
		return nil
	}
	return maps.Clone(env)
}

func copySpec(s ports.ContainerSpec) ports.ContainerSpec {
	s.Env = copyEnvMap(s.Env)
	return s
}

func copyRun(r ports.RunSpec) ports.RunSpec {
	r.Env = copyEnvMap(r.Env)
	return r
}

func copyState(st ports.ContainerState) ports.ContainerState {
	if st.ExitCode != nil {
		code := *st.ExitCode
		st.ExitCode = &code
	}
	return st
}

// EchoSession is the memory backend's interactive exec: a TTY whose
// output is its input. Read blocks until input arrives or the session
// ends; after Close, Read drains what is left then returns io.EOF and Wait
// returns 0. A session whose container stops ends with status 137.
type EchoSession struct {
	spec ports.ExecSpec

	mu         sync.Mutex
	out        bytes.Buffer
	wake       chan struct{} // closed and replaced on output and on end
	done       chan struct{} // closed at the end
	closed     bool
	code       int
	cols, rows int
}

var _ ports.ExecSession = (*EchoSession)(nil)

func newEchoSession(spec ports.ExecSpec) *EchoSession {
	spec.Cmd = slices.Clone(spec.Cmd)
	spec.Env = copyEnvMap(spec.Env)
	return &EchoSession{
		spec: spec, cols: spec.Cols, rows: spec.Rows,
		wake: make(chan struct{}), done: make(chan struct{}),
	}
}

func (s *EchoSession) signal() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// Read returns echoed input.
func (s *EchoSession) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		s.mu.Lock()
		if s.out.Len() > 0 {
			n, _ := s.out.Read(p)
			s.mu.Unlock()
			return n, nil
		}
		if s.closed {
			s.mu.Unlock()
			return 0, io.EOF
		}
		wake := s.wake
		s.mu.Unlock()
		<-wake
	}
}

// Write echoes p. io.ErrClosedPipe after the end.
func (s *EchoSession) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, io.ErrClosedPipe
	}
	s.out.Write(p)
	s.signal()
	return len(p), nil
}

// Resize records the TTY size; each must be at least 1 (else ErrInvalid).
func (s *EchoSession) Resize(_ context.Context, cols, rows int) error {
	if cols < 1 || rows < 1 {
		return domain.E(domain.ErrInvalid, "cols and rows must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cols, s.rows = cols, rows
	return nil
}

// Close ends the session with status 0; closing again does nothing.
func (s *EchoSession) Close() error {
	s.end(0)
	return nil
}

func (s *EchoSession) end(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed, s.code = true, code
	close(s.done)
	s.signal()
}

// Wait waits for the end and returns the exit status, or ctx's error.
func (s *EchoSession) Wait(ctx context.Context) (int, error) {
	select {
	case <-s.done:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.code, nil
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}

// Spec returns the ExecSpec the session was opened with.
func (s *EchoSession) Spec() ports.ExecSpec {
	spec := s.spec
	spec.Cmd = slices.Clone(spec.Cmd)
	spec.Env = copyEnvMap(spec.Env)
	return spec
}

// Size returns the TTY size: the spec's, then the last Resize.
func (s *EchoSession) Size() (cols, rows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cols, s.rows
}

// Closed reports whether the session ended.
func (s *EchoSession) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
