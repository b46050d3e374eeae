package app

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Recorder receives the runtime's measurements (spec §9.4). Deps.Metrics
// may be nil; the app then records nothing. Implementations must be safe
// for concurrent use and must not block.
type Recorder interface {
	// ContainerOp records one call to the container backend: op is the
	// port method in lower case ("start", "exec", ...), result "ok",
	// "not_found", "unavailable" or "error".
	ContainerOp(op, result string, d time.Duration)
	// Save records a finished save job: result "ok" or "failed".
	Save(result string, d time.Duration)
	// CleanupDeletedDrafts adds drafts deleted by a cleanup run.
	CleanupDeletedDrafts(n int)
	// TerminalConnections adds delta (+1 or -1) to the open terminals.
	TerminalConnections(delta int)
}

type noRecorder struct{}

func (noRecorder) ContainerOp(string, string, time.Duration) {}
func (noRecorder) Save(string, time.Duration)                {}
func (noRecorder) CleanupDeletedDrafts(int)                  {}
func (noRecorder) TerminalConnections(int)                   {}

// metrics returns the recorder, never nil.
func (a *App) metrics() Recorder {
	if a.Metrics == nil {
		return noRecorder{}
	}
	return a.Metrics
}

// RunningContainers counts the managed containers that are up, for the
// runnable_containers_running gauge.
func (a *App) RunningContainers(ctx context.Context) (int, error) {
	list, err := a.Containers.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range list {
		if c.Running {
			n++
		}
	}
	return n, nil
}

// opResult names the outcome of a backend call for metrics.
func opResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, domain.ErrNotFound):
		return "not_found"
	case errors.Is(err, domain.ErrUnavailable):
		return "unavailable"
	default:
		return "error"
	}
}

// instrumented is ports.Containers that reports every call to a Recorder.
// Streaming calls (FollowLogs, Exec, Archive, Export) are timed until they
// return, which for FollowLogs is the end of the stream.
type instrumented struct {
	next ports.Containers
	rec  Recorder
}

var _ ports.Containers = instrumented{}

// instrument wraps c so that rec sees every backend call.
func instrument(c ports.Containers, rec Recorder) ports.Containers {
	if c == nil || rec == nil {
		return c
	}
	return instrumented{next: c, rec: rec}
}

func (m instrumented) done(op string, start time.Time, err error) {
	m.rec.ContainerOp(op, opResult(err), time.Since(start))
}

func (m instrumented) Ping(ctx context.Context) (err error) {
	start := time.Now()
	defer func() { m.done("ping", start, err) }()
	return m.next.Ping(ctx)
}

func (m instrumented) Create(ctx context.Context, spec ports.ContainerSpec) (id string, err error) {
	start := time.Now()
	defer func() { m.done("create", start, err) }()
	return m.next.Create(ctx, spec)
}

func (m instrumented) Start(ctx context.Context, id string, run ports.RunSpec) (err error) {
	start := time.Now()
	defer func() { m.done("start", start, err) }()
	return m.next.Start(ctx, id, run)
}

func (m instrumented) Stop(ctx context.Context, id string, timeout time.Duration) (err error) {
	start := time.Now()
	defer func() { m.done("stop", start, err) }()
	return m.next.Stop(ctx, id, timeout)
}

func (m instrumented) Remove(ctx context.Context, id string) (err error) {
	start := time.Now()
	defer func() { m.done("remove", start, err) }()
	return m.next.Remove(ctx, id)
}

func (m instrumented) Inspect(ctx context.Context, id string) (st ports.ContainerState, err error) {
	start := time.Now()
	defer func() { m.done("inspect", start, err) }()
	return m.next.Inspect(ctx, id)
}

func (m instrumented) List(ctx context.Context) (l []ports.ManagedContainer, err error) {
	start := time.Now()
	defer func() { m.done("list", start, err) }()
	return m.next.List(ctx)
}

func (m instrumented) ReadTree(ctx context.Context, src ports.Source, root string, opt ports.TreeOptions) (e []ports.FSEntry, truncated bool, err error) {
	start := time.Now()
	defer func() { m.done("read_tree", start, err) }()
	return m.next.ReadTree(ctx, src, root, opt)
}

func (m instrumented) ReadFile(ctx context.Context, src ports.Source, abs string) (b []byte, err error) {
	start := time.Now()
	defer func() { m.done("read_file", start, err) }()
	return m.next.ReadFile(ctx, src, abs)
}

func (m instrumented) WriteFile(ctx context.Context, id, abs string, data []byte) (err error) {
	start := time.Now()
	defer func() { m.done("write_file", start, err) }()
	return m.next.WriteFile(ctx, id, abs, data)
}

func (m instrumented) MakeDir(ctx context.Context, id, abs string) (err error) {
	start := time.Now()
	defer func() { m.done("make_dir", start, err) }()
	return m.next.MakeDir(ctx, id, abs)
}

func (m instrumented) Move(ctx context.Context, id, from, to string) (err error) {
	start := time.Now()
	defer func() { m.done("move", start, err) }()
	return m.next.Move(ctx, id, from, to)
}

func (m instrumented) RemovePath(ctx context.Context, id, abs string) (err error) {
	start := time.Now()
	defer func() { m.done("remove_path", start, err) }()
	return m.next.RemovePath(ctx, id, abs)
}

func (m instrumented) Archive(ctx context.Context, src ports.Source, abs string) (rc io.ReadCloser, err error) {
	start := time.Now()
	defer func() { m.done("archive", start, err) }()
	return m.next.Archive(ctx, src, abs)
}

func (m instrumented) Logs(ctx context.Context, id string, tail int) (l []ports.LogLine, err error) {
	start := time.Now()
	defer func() { m.done("logs", start, err) }()
	return m.next.Logs(ctx, id, tail)
}

func (m instrumented) FollowLogs(ctx context.Context, id string, tail int, fn func(ports.LogLine) error) (err error) {
	start := time.Now()
	defer func() { m.done("follow_logs", start, err) }()
	return m.next.FollowLogs(ctx, id, tail, fn)
}

func (m instrumented) Exec(ctx context.Context, id string, spec ports.ExecSpec) (s ports.ExecSession, err error) {
	start := time.Now()
	defer func() { m.done("exec", start, err) }()
	return m.next.Exec(ctx, id, spec)
}

func (m instrumented) Commit(ctx context.Context, id, ref string) (err error) {
	start := time.Now()
	defer func() { m.done("commit", start, err) }()
	return m.next.Commit(ctx, id, ref)
}

func (m instrumented) ImageExists(ctx context.Context, ref string) (ok bool, err error) {
	start := time.Now()
	defer func() { m.done("image_exists", start, err) }()
	return m.next.ImageExists(ctx, ref)
}

func (m instrumented) RemoveImage(ctx context.Context, ref string) (err error) {
	start := time.Now()
	defer func() { m.done("remove_image", start, err) }()
	return m.next.RemoveImage(ctx, ref)
}

func (m instrumented) ListImages(ctx context.Context) (l []string, err error) {
	start := time.Now()
	defer func() { m.done("list_images", start, err) }()
	return m.next.ListImages(ctx)
}

func (m instrumented) Build(ctx context.Context, contextTar io.Reader, ref string, progress func(string)) (err error) {
	start := time.Now()
	defer func() { m.done("build", start, err) }()
	return m.next.Build(ctx, contextTar, ref, progress)
}

func (m instrumented) Load(ctx context.Context, tar io.Reader, ref string) (err error) {
	start := time.Now()
	defer func() { m.done("load", start, err) }()
	return m.next.Load(ctx, tar, ref)
}

func (m instrumented) Export(ctx context.Context, ref string, w io.Writer) (err error) {
	start := time.Now()
	defer func() { m.done("export", start, err) }()
	return m.next.Export(ctx, ref, w)
}

func (m instrumented) ImageCommand(ctx context.Context, ref string) (cmd string, err error) {
	start := time.Now()
	defer func() { m.done("image_command", start, err) }()
	return m.next.ImageCommand(ctx, ref)
}

// recordSave reports a finished save job.
func (a *App) recordSave(err error, d time.Duration) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	a.metrics().Save(result, d)
}
