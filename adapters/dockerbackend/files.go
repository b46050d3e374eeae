package dockerbackend

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	docker "github.com/fsouza/go-dockerclient"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// maxLinkHops bounds symlink resolution, as the kernel does.
const maxLinkHops = 40

// errStop ends a download early.
var errStop = errors.New("dockerbackend: download stopped")

// cleanAbs checks and cleans an absolute container path.
func cleanAbs(p string) (string, error) {
	if !path.IsAbs(p) || strings.ContainsRune(p, 0) {
		return "", domain.E(domain.ErrInvalid, "invalid path")
	}
	return path.Clean(p), nil
}

// contents is the archive path that lists the inside of directory dir,
// following dir itself if it is a symlink; entries come as "./name".
func contents(dir string) string { return strings.TrimSuffix(dir, "/") + "/." }

// joinAbs joins an absolute directory and a relative path.
func joinAbs(dir, rel string) string {
	if dir == "/" {
		return "/" + rel
	}
	return dir + "/" + rel
}

// tarEntry is one entry of a download being read.
type tarEntry struct {
	*tar.Header
	tr *tar.Reader
}

func (e *tarEntry) regular() bool {
	return e.Typeflag == tar.TypeReg || e.Typeflag == '\x00'
}

func (e *tarEntry) read() ([]byte, error) { return io.ReadAll(e.tr) }

// walk downloads the archive of p from the container and calls fn with
// each entry and its name without "./" and trailing "/" ("" for the
// archive's root "./"). fn returns false to stop early; the rest of the
// archive is then not transferred.
func (b *Backend) walk(ctx context.Context, id, p string, fn func(name string, e *tarEntry) (bool, error)) error {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := b.client.DownloadFromContainer(id, docker.DownloadFromContainerOptions{OutputStream: pw, Path: p, Context: dctx})
		pw.CloseWithError(err)
		done <- err
	}()
	ferr := func() error {
		tr := tar.NewReader(pr)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
			if name == "." {
				name = ""
			}
			more, err := fn(name, &tarEntry{Header: h, tr: tr})
			if err != nil || !more {
				return err
			}
		}
	}()
	pr.CloseWithError(errStop)
	cancel()
	derr := <-done
	if err := ctx.Err(); err != nil {
		return err
	}
	if derr != nil && !errors.Is(derr, errStop) && !errors.Is(derr, context.Canceled) {
		return b.fail(derr, msgContainerNotFound)
	}
	return b.fail(ferr, "")
}

// stat returns the header of p itself (a symlink is not followed).
func (b *Backend) stat(ctx context.Context, id, p string) (*tar.Header, error) {
	var hdr *tar.Header
	err := b.walk(ctx, id, p, func(_ string, e *tarEntry) (bool, error) {
		hdr = e.Header
		return false, nil
	})
	if err == nil && hdr == nil {
		err = domain.Wrap(domain.ErrBackend, msgBackend, errors.New("empty archive of "+p))
	}
	return hdr, err
}

// follow resolves symlinks at the end of abs and returns the final path
// and its header.
func (b *Backend) follow(ctx context.Context, id, abs string) (string, *tar.Header, error) {
	for range maxLinkHops {
		h, err := b.stat(ctx, id, abs)
		if err != nil {
			return abs, nil, err
		}
		if h.Typeflag != tar.TypeSymlink {
			return abs, h, nil
		}
		abs = resolveLink(abs, h.Linkname)
	}
	return abs, nil, domain.E(domain.ErrInvalid, "too many levels of symbolic links")
}

// lookup returns the path a write to abs lands on (a final symlink
// followed) and its header, owner included; ErrNotFound when that path does
// not exist. The engine's HEAD stat resolves the symlink and tells a
// missing path or a directory in about a millisecond; the owner of an
// existing file is only in its archive, which one download then gives.
func (b *Backend) lookup(ctx context.Context, id, abs string) (string, *tar.Header, error) {
	st, err := b.headStat(ctx, id, abs)
	target := abs
	if err == nil && st.Mode&fs.ModeSymlink != 0 {
		if st.LinkTarget == "" || !path.IsAbs(st.LinkTarget) {
			return b.follow(ctx, id, abs)
		}
		target = path.Clean(st.LinkTarget)
		st, err = b.headStat(ctx, id, target)
	}
	switch {
	case errors.Is(err, errNoHead):
		return b.follow(ctx, id, abs)
	case err != nil:
		return target, nil, err
	case st.Mode&fs.ModeSymlink != 0:
		return b.follow(ctx, id, abs)
	case st.Mode.IsDir():
		return target, &tar.Header{Name: st.Name, Typeflag: tar.TypeDir, Mode: int64(st.Mode.Perm()), ModTime: st.Mtime}, nil
	}
	h, err := b.stat(ctx, id, target)
	if err == nil && h.Typeflag == tar.TypeSymlink { // replaced meanwhile
		return b.follow(ctx, id, abs)
	}
	return target, h, err
}

// exists reports whether p exists (a final symlink is not followed).
func (b *Backend) exists(ctx context.Context, id, p string) (bool, error) {
	_, err := b.headStat(ctx, id, p)
	if errors.Is(err, errNoHead) {
		_, err = b.stat(ctx, id, p)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, domain.ErrNotFound):
		return false, nil
	}
	return false, err
}

func resolveLink(at, target string) string {
	if path.IsAbs(target) {
		return path.Clean(target)
	}
	return path.Join(path.Dir(at), target)
}

// withSource runs fn with a container holding src's filesystem: the
// container itself, or a temporary one made (never started) from the
// image and removed afterwards.
func (b *Backend) withSource(ctx context.Context, src ports.Source, fn func(id string) error) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	if src.Container != "" {
		return fn(src.Container)
	}
	id, err := b.tempContainer(ctx, src.Image)
	if err != nil {
		return err
	}
	defer b.removeTemp(ctx, id)
	return fn(id)
}

func (b *Backend) tempContainer(ctx context.Context, image string) (string, error) {
	if image == "" {
		return "", domain.E(domain.ErrInvalid, "container or image required")
	}
	labels := b.labels()
	labels[LabelTemp] = "true"
	c, err := b.client.CreateContainer(docker.CreateContainerOptions{
		Config: &docker.Config{
			Image:           image,
			Entrypoint:      []string{"/bin/sh"},
			Labels:          labels,
			NetworkDisabled: true,
		},
		HostConfig: &docker.HostConfig{NetworkMode: "none", CapDrop: []string{"ALL"}, SecurityOpt: []string{"no-new-privileges"}},
		Context:    ctx,
	})
	if err != nil {
		return "", b.fail(err, msgImageNotFound)
	}
	return c.ID, nil
}

func (b *Backend) removeTemp(ctx context.Context, id string) {
	_ = b.client.RemoveContainer(docker.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true, Context: context.WithoutCancel(ctx)})
}

// ReadTree lists the tree under root from one archive download, sorted
// by path; see the porttest contract for the options.
func (b *Backend) ReadTree(ctx context.Context, src ports.Source, root string, opt ports.TreeOptions) ([]ports.FSEntry, bool, error) {
	root, err := cleanAbs(root)
	if err != nil {
		return nil, false, err
	}
	ignore := map[string]bool{}
	for _, n := range opt.Ignore {
		ignore[n] = true
	}
	var entries []ports.FSEntry
	byName := map[string]int{}
	err = b.withSource(ctx, src, func(id string) error {
		return b.walk(ctx, id, contents(root), func(rel string, e *tarEntry) (bool, error) {
			if rel == "" {
				return true, nil
			}
			parts := strings.Split(rel, "/")
			for _, p := range parts[:len(parts)-1] {
				if ignore[p] {
					return true, nil
				}
			}
			fe := ports.FSEntry{Path: joinAbs(root, rel), Modified: e.ModTime}
			switch {
			case e.Typeflag == tar.TypeDir:
				fe.Dir = true
			case e.Typeflag == tar.TypeSymlink:
				fe.IsLink, fe.Link = true, e.Linkname
			case e.Typeflag == tar.TypeLink: // a hard link to an earlier entry
				target := strings.TrimSuffix(strings.TrimPrefix(e.Linkname, "./"), "/")
				if i, ok := byName[target]; ok {
					t := entries[i]
					fe.Size, fe.Content, fe.HasData = t.Size, t.Content, t.HasData
				}
			case e.regular():
				fe.Size = e.Size
				if opt.MaxContent > 0 && e.Size <= opt.MaxContent {
					data, err := e.read()
					if err != nil {
						return false, err
					}
					fe.Content, fe.HasData = data, true
				}
			}
			byName[rel] = len(entries)
			entries = append(entries, fe)
			return true, nil
		})
	})
	if err != nil {
		return nil, false, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	if opt.MaxEntries > 0 && len(entries) > opt.MaxEntries {
		return entries[:opt.MaxEntries:opt.MaxEntries], true, nil
	}
	return entries, false, nil
}

// ReadFile returns a regular file's content, following symlinks.
func (b *Backend) ReadFile(ctx context.Context, src ports.Source, abs string) ([]byte, error) {
	abs, err := cleanAbs(abs)
	if err != nil {
		return nil, err
	}
	var data []byte
	err = b.withSource(ctx, src, func(id string) error {
		for range maxLinkHops {
			var hdr *tar.Header
			err := b.walk(ctx, id, abs, func(_ string, e *tarEntry) (bool, error) {
				hdr = e.Header
				if e.regular() {
					d, err := e.read()
					data = d
					return false, err
				}
				return false, nil
			})
			switch {
			case err != nil:
				return err
			case hdr == nil:
				return domain.Wrap(domain.ErrBackend, msgBackend, errors.New("empty archive of "+abs))
			case hdr.Typeflag == tar.TypeSymlink:
				abs = resolveLink(abs, hdr.Linkname)
			case data != nil:
				return nil
			default:
				return domain.E(domain.ErrInvalid, "not a regular file")
			}
		}
		return domain.E(domain.ErrInvalid, "too many levels of symbolic links")
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// WriteFile creates or replaces a regular file through a symlink if abs
// is one. A replaced file keeps its mode and owner; a new one gets mode
// 0644 and its directory's owner.
func (b *Backend) WriteFile(ctx context.Context, id, abs string, data []byte) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	abs, err := cleanAbs(abs)
	if err != nil {
		return err
	}
	if abs == "/" {
		return domain.E(domain.ErrInvalid, "not a regular file")
	}
	target, h, err := b.lookup(ctx, id, abs)
	hdr := &tar.Header{Name: path.Base(target), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: time.Now()}
	switch {
	case err == nil && h.Typeflag == tar.TypeDir:
		return domain.E(domain.ErrInvalid, "not a regular file")
	case err == nil:
		hdr.Mode, hdr.Uid, hdr.Gid = h.Mode&0o7777, h.Uid, h.Gid
	case errors.Is(err, domain.ErrNotFound):
		ph, err := b.stat(ctx, id, contents(path.Dir(target)))
		if err != nil {
			return err
		}
		hdr.Uid, hdr.Gid = ph.Uid, ph.Gid
	default:
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(hdr); err != nil {
		return domain.Wrap(domain.ErrBackend, msgBackend, err)
	}
	_, _ = tw.Write(data)
	_ = tw.Close()
	return b.upload(ctx, id, path.Dir(target), buf.Bytes())
}

// MakeDir creates one directory (mode 0755, its parent's owner).
// ErrConflict when abs exists.
func (b *Backend) MakeDir(ctx context.Context, id, abs string) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	abs, err := cleanAbs(abs)
	if err != nil {
		return err
	}
	if found, err := b.exists(ctx, id, abs); err != nil {
		return err
	} else if found {
		return domain.E(domain.ErrConflict, "resource already exists")
	}
	parent := path.Dir(abs)
	ph, err := b.stat(ctx, id, contents(parent))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: path.Base(abs) + "/", Typeflag: tar.TypeDir, Mode: 0o755, Uid: ph.Uid, Gid: ph.Gid, ModTime: time.Now()})
	_ = tw.Close()
	return b.upload(ctx, id, parent, buf.Bytes())
}

// Exit codes of the file-operation scripts.
const (
	exitNoSource = 44
	exitExists   = 45
	exitNoDest   = 46
)

// moveScript renames $1 to $2 without ever moving into an existing
// directory; $3 is $2's parent.
const moveScript = `[ -e "$1" ] || [ -L "$1" ] || exit 44
[ -d "$3" ] || exit 46
if [ -e "$2" ] || [ -L "$2" ]; then exit 45; fi
exec mv -f "$1" "$2"`

// Move renames from to to with mv, holding a stopped container up for
// it. ErrNotFound when from or to's parent is missing, ErrConflict when to
// exists.
func (b *Backend) Move(ctx context.Context, id, from, to string) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	from, err := cleanAbs(from)
	if err != nil {
		return err
	}
	to, err = cleanAbs(to)
	if err != nil {
		return err
	}
	if from == "/" || to == "/" {
		return domain.E(domain.ErrInvalid, "invalid path")
	}
	code, out, err := b.execHeld(ctx, id, []string{"/bin/sh", "-c", moveScript, "sh", from, to, path.Dir(to)})
	switch {
	case err != nil:
		return err
	case code == exitNoSource:
		return domain.E(domain.ErrNotFound, msgPathNotFound)
	case code == exitNoDest:
		return domain.E(domain.ErrNotFound, "destination does not exist")
	case code == exitExists:
		return domain.E(domain.ErrConflict, "destination resource already exists")
	case code != 0:
		return execFailed("mv", code, out)
	}
	return nil
}

// RemovePath deletes a file or a tree with rm -rf, holding a stopped
// container up for it. A missing path is not an error.
func (b *Backend) RemovePath(ctx context.Context, id, abs string) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	abs, err := cleanAbs(abs)
	if err != nil {
		return err
	}
	if abs == "/" {
		return domain.E(domain.ErrInvalid, "invalid path")
	}
	code, out, err := b.execHeld(ctx, id, []string{"/bin/sh", "-c", `[ -e "$1" ] || [ -L "$1" ] || exit 0; exec rm -rf "$1"`, "sh", abs})
	if err != nil {
		return err
	}
	if code != 0 {
		return execFailed("rm", code, out)
	}
	return nil
}

func execFailed(what string, code int, out []byte) error {
	msg := strings.TrimSpace(string(out))
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return domain.Wrap(domain.ErrBackend, msgBackend, fmt.Errorf("%s exited with %d: %s", what, code, msg))
}

// execHeld runs cmd as root in the container, holding it up if stopped,
// and returns the exit code and the combined output.
func (b *Backend) execHeld(ctx context.Context, id string, cmd []string) (int, []byte, error) {
	release, err := b.hold(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	defer release()
	return b.runExec(ctx, id, cmd)
}

// runExec runs a non-interactive exec as root and waits for it.
func (b *Backend) runExec(ctx context.Context, id string, cmd []string) (int, []byte, error) {
	ex, err := b.client.CreateExec(docker.CreateExecOptions{
		Container:    id,
		Cmd:          cmd,
		User:         "0",
		AttachStdout: true,
		AttachStderr: true,
		Context:      ctx,
	})
	if err != nil {
		return 0, nil, b.fail(err, msgContainerNotFound)
	}
	var out lockedBuffer
	cw, err := b.client.StartExecNonBlocking(ex.ID, docker.StartExecOptions{OutputStream: &out, ErrorStream: &out, Context: ctx})
	if err != nil {
		return 0, nil, b.fail(err, msgContainerNotFound)
	}
	waited := make(chan error, 1)
	go func() { waited <- cw.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = cw.Close()
		// Only wait for the goroutine: its error is the one Close caused.
		<-waited //nolint:errcheck // deliberate discard; `_ = <-waited` trips staticcheck S1005
		return 0, nil, ctx.Err()
	}
	if err != nil {
		return 0, nil, b.fail(err, "")
	}
	code, err := b.execExitCode(ctx, ex.ID)
	return code, out.Bytes(), err
}

// execExitCode polls an exec until it is no longer running.
func (b *Backend) execExitCode(ctx context.Context, execID string) (int, error) {
	delay := 5 * time.Millisecond
	for {
		in, err := b.client.InspectExec(execID)
		if err != nil {
			return 0, b.fail(err, "exec not found")
		}
		if !in.Running {
			return in.ExitCode, nil
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writers of an
// exec's stdout and stderr.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() < 64<<10 {
		l.buf.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.buf.Bytes())
}

// Archive streams a tar of abs, entries named relative to abs's parent.
// The stream is bound to ctx; Close ends it early.
func (b *Backend) Archive(ctx context.Context, src ports.Source, abs string) (io.ReadCloser, error) {
	if err := b.init(ctx); err != nil {
		return nil, err
	}
	abs, err := cleanAbs(abs)
	if err != nil {
		return nil, err
	}
	id, cleanup := src.Container, func() {}
	if id == "" {
		if id, err = b.tempContainer(ctx, src.Image); err != nil {
			return nil, err
		}
		tmp := id
		cleanup = func() { b.removeTemp(ctx, tmp) }
	}
	actx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		err := b.client.DownloadFromContainer(id, docker.DownloadFromContainerOptions{
			OutputStream: &firstWrite{w: pw, started: started},
			Path:         abs,
			Context:      actx,
		})
		err = b.fail(err, msgContainerNotFound)
		pw.CloseWithError(err)
		cleanup()
		done <- err
	}()
	select {
	case <-started:
		return &archiveStream{PipeReader: pr, cancel: cancel, done: done}, nil
	case err := <-done:
		if err != nil {
			cancel()
			return nil, err
		}
		done <- nil
		return &archiveStream{PipeReader: pr, cancel: cancel, done: done}, nil
	}
}

// firstWrite signals its first write.
type firstWrite struct {
	w       io.Writer
	started chan struct{}
	once    sync.Once
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.once.Do(func() { close(f.started) })
	return f.w.Write(p)
}

// archiveStream is Archive's reader; Close stops the download and waits
// for it.
type archiveStream struct {
	*io.PipeReader
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func (a *archiveStream) Close() error {
	a.once.Do(func() {
		a.cancel()
		_ = a.CloseWithError(io.ErrClosedPipe)
		// Only wait for the download to stop: readers got its error through the pipe.
		<-a.done //nolint:errcheck // deliberate discard; `_ = <-a.done` trips staticcheck S1005
	})
	return nil
}
