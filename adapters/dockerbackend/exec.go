package dockerbackend

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	docker "github.com/fsouza/go-dockerclient"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// defaultPath is the PATH searched for a command without a slash when the
// container sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Exec starts an interactive process with a TTY in a running container.
// ErrNotFound when Cmd[0] does not exist (a name without "/" is looked up
// in the container's PATH); ErrConflict when the container is not
// running. The session is not bound to ctx: it lives until Close or the
// process exits.
func (b *Backend) Exec(ctx context.Context, id string, spec ports.ExecSpec) (ports.ExecSession, error) {
	if err := b.init(ctx); err != nil {
		return nil, err
	}
	if len(spec.Cmd) == 0 || spec.Cmd[0] == "" {
		return nil, domain.E(domain.ErrInvalid, "command required")
	}
	c, err := b.inspect(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.State.Running {
		return nil, domain.E(domain.ErrConflict, "runnable is not running")
	}
	if err := b.lookCmd(ctx, id, c, spec.WorkDir, spec.Cmd[0]); err != nil {
		return nil, err
	}
	env := make([]string, 0, len(spec.Env))
	for k, v := range spec.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	// The process records its pid so that Close can hang it up: closing
	// the connection of a TTY exec does not end the process.
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	pidFile := stateDir + "/exec-" + hex.EncodeToString(nonce[:]) + ".pid"
	cmd := append([]string{"/bin/sh", "-c", `{ echo $$ > "$0"; } 2>/dev/null; exec "$@"`, pidFile}, spec.Cmd...)
	ex, err := b.client.CreateExec(docker.CreateExecOptions{
		Container:    id,
		Cmd:          cmd,
		Env:          env,
		WorkingDir:   spec.WorkDir,
		Tty:          true,
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
		Context:      ctx,
	})
	if err != nil {
		if statusOf(err) == http.StatusConflict {
			return nil, domain.E(domain.ErrConflict, "runnable is not running")
		}
		return nil, b.fail(err, msgContainerNotFound)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	cw, err := b.client.StartExecNonBlocking(ex.ID, docker.StartExecOptions{
		InputStream:  inR,
		OutputStream: outW,
		Tty:          true,
		RawTerminal:  true,
		Context:      ctx,
	})
	if err != nil {
		inW.Close()
		return nil, b.fail(err, msgContainerNotFound)
	}
	s := &execSession{b: b, id: ex.ID, container: id, pidFile: pidFile, in: inW, out: outR, cw: cw, done: make(chan struct{})}
	go func() {
		err := cw.Wait()
		if err == nil {
			err = io.EOF
		}
		outW.CloseWithError(err)
		inR.Close()
		close(s.done)
	}()
	if spec.Cols > 0 && spec.Rows > 0 {
		// The exec may not be running yet right after the start.
		var rerr error
		for i := range 10 {
			if rerr = s.Resize(ctx, spec.Cols, spec.Rows); rerr == nil {
				break
			}
			select {
			case <-time.After(time.Duration(i+1) * 10 * time.Millisecond):
			case <-ctx.Done():
				s.Close()
				return nil, ctx.Err()
			}
		}
		if rerr != nil {
			s.Close()
			return nil, rerr
		}
	}
	return s, nil
}

// lookCmd checks that the command exists in the container: a name with a
// slash relative to the working directory, else in the PATH.
func (b *Backend) lookCmd(ctx context.Context, id string, c *docker.Container, workDir, name string) error {
	var candidates []string
	if strings.Contains(name, "/") {
		if workDir == "" {
			workDir = c.Config.WorkingDir
		}
		candidates = []string{path.Join("/", workDir, name)}
		if path.IsAbs(name) {
			candidates = []string{path.Clean(name)}
		}
	} else {
		p := defaultPath
		for _, e := range c.Config.Env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				p = v
			}
		}
		for _, dir := range strings.Split(p, ":") {
			if path.IsAbs(dir) {
				candidates = append(candidates, path.Join(dir, name))
			}
		}
	}
	for _, cand := range candidates {
		found, err := b.exists(ctx, id, cand)
		if err != nil {
			return err
		}
		if found {
			return nil
		}
	}
	return domain.Ef(domain.ErrNotFound, "command not found: %s", name)
}

// execSession is an interactive exec on a hijacked connection.
type execSession struct {
	b         *Backend
	id        string
	container string
	pidFile   string
	in        *io.PipeWriter
	out       *io.PipeReader
	cw        docker.CloseWaiter
	done      chan struct{} // the hijacked stream ended
	closeOnce sync.Once
}

func (s *execSession) Read(p []byte) (int, error) { return s.out.Read(p) }

func (s *execSession) Write(p []byte) (int, error) {
	n, err := s.in.Write(p)
	if err != nil {
		return n, io.ErrClosedPipe
	}
	return n, nil
}

// Resize changes the TTY size.
func (s *execSession) Resize(ctx context.Context, cols, rows int) error {
	if cols < 1 || rows < 1 {
		return domain.E(domain.ErrInvalid, "cols and rows must be positive")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.b.fail(s.b.client.ResizeExecTTY(s.id, rows, cols), "exec not found")
}

// Close ends the session: the connection is closed and the process, if it
// still runs, is hung up.
func (s *execSession) Close() error {
	s.closeOnce.Do(func() {
		s.in.Close()
		s.cw.Close()
		s.out.Close()
		<-s.done
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		s.hangUp(ctx)
	})
	return nil
}

// closeTimeout bounds the hang-up of Close.
const closeTimeout = 5 * time.Second

// hangUpScript sends $2 to the pid recorded in $1 and removes the file.
const hangUpScript = `read p < "$1" 2>/dev/null && kill -$2 "$p" 2>/dev/null; [ "$2" = KILL ] && rm -f "$1"; exit 0`

// hangUp ends the process if it still runs: SIGHUP (as a closed terminal
// would), then SIGKILL after a grace period.
func (s *execSession) hangUp(ctx context.Context) {
	for _, sig := range []string{"HUP", "KILL"} {
		if in, err := s.b.client.InspectExec(s.id); err != nil || !in.Running {
			_, _, _ = s.b.runExec(ctx, s.container, []string{"/bin/sh", "-c", `rm -f "$1"`, "sh", s.pidFile})
			return
		}
		if _, _, err := s.b.runExec(ctx, s.container, []string{"/bin/sh", "-c", hangUpScript, "sh", s.pidFile, sig}); err != nil {
			return
		}
		for i := 0; i < 20; i++ {
			if in, err := s.b.client.InspectExec(s.id); err != nil || !in.Running {
				break
			}
			select {
			case <-time.After(25 * time.Millisecond):
			case <-ctx.Done():
				return
			}
		}
	}
}

// Wait waits for the process and returns its exit code.
func (s *execSession) Wait(ctx context.Context) (int, error) {
	select {
	case <-s.done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return s.b.execExitCode(ctx, s.id)
}
