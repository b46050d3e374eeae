package app

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Exit reasons of a terminal (spec §4.9).
const (
	ExitShell    = "shell exited"
	ExitStopped  = "runnable stopped"
	ExitDeleted  = "runnable deleted"
	ExitIdle     = "idle timeout"
	ExitShutdown = "server shutting down"
	// ExitClosed ends a terminal the client closed; nothing is sent.
	ExitClosed = "closed"
)

// Default and bounds of the TTY size.
const (
	DefaultCols = 80
	DefaultRows = 24
	maxTermSize = 1000
)

var errTermSize = domain.E(domain.ErrInvalid, "cols and rows must be integers between 1 and 1000")

// ValidateTermSize checks a TTY size (1..1000 each).
func ValidateTermSize(cols, rows int) error {
	if cols < 1 || cols > maxTermSize || rows < 1 || rows > maxTermSize {
		return errTermSize
	}
	return nil
}

// TerminalExit is how a terminal ended: Code is the shell's exit status
// when the shell exited by itself, else nil.
type TerminalExit struct {
	Code   *int
	Reason string
}

// Terminal is an interactive shell with a TTY in a draft's container
// (spec §4.9). Read gives the TTY output; Input, Resize feed it; Done is
// closed when it ended for a reason of the server's or the shell's, after
// which Exit says why. Close must always be called.
type Terminal struct {
	Shell      string
	Cols, Rows int

	a       *App
	draftID domain.ID
	sess    ports.ExecSession
	ctx     context.Context
	cancel  context.CancelCauseFunc
	forget  func()
	idle    *time.Timer
	timeout time.Duration

	mu    sync.Mutex
	draft domain.Draft // last known access, for the throttled writes

	done      chan struct{}
	exit      TerminalExit
	closeOnce sync.Once
}

// CanOpenTerminal checks only that the draft exists and the caller owns
// it, so that a transport can run its own checks (upgrade headers, origin)
// in the contract's order before OpenTerminal does any work.
func (a *App) CanOpenTerminal(ctx context.Context, caller *domain.User, id string) error {
	_, err := a.writableDraft(ctx, caller, id)
	return err
}

// OpenTerminal checks the request (owner only; size; no save running; at
// most TERMINAL_MAX_CONNECTIONS on the draft), starts the container
// through the start path (creating it when needed, with the container
// bucket and capacity caps), then runs the first shell of TERMINAL_SHELL
// that exists. Opening counts as access.
func (a *App) OpenTerminal(ctx context.Context, caller *domain.User, id string, cols, rows int) (*Terminal, error) {
	d, err := a.writableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if err := ValidateTermSize(cols, rows); err != nil {
		return nil, err
	}
	d, err = a.startForTerminal(ctx, caller, d.ID)
	if err != nil {
		return nil, err
	}
	t, err := a.execShell(d, cols, rows)
	if err != nil {
		a.unreserveTerminal(d.ID)
		return nil, err
	}
	return t, nil
}

// startForTerminal runs the checks that need the draft's lock, reserves a
// terminal slot and starts the container; on failure the slot is freed.
func (a *App) startForTerminal(ctx context.Context, caller *domain.User, id domain.ID) (*domain.Draft, error) {
	unlock := a.locks.lock(id)
	defer unlock()
	d, err := a.Drafts.Get(ctx, id)
	if err != nil {
		return nil, notFound(err, domain.ErrRunnableNotFound)
	}
	if err := d.CheckMutable(); err != nil {
		return nil, err
	}
	if err := a.reserveTerminal(id); err != nil {
		return nil, err
	}
	d, err = a.startLocked(ctx, caller, d, false)
	if err != nil {
		a.unreserveTerminal(id)
		return nil, err
	}
	return d, nil
}

// execShell runs the first shell that exists. Its context is the app's,
// not the request's: the session outlives the upgrade.
func (a *App) execShell(d *domain.Draft, cols, rows int) (*Terminal, error) {
	ctx, cancel := context.WithCancelCause(a.baseCtx)
	env := maps.Clone(d.Env)
	if env == nil {
		env = map[string]string{}
	}
	env["TERM"] = "xterm-256color"
	shells := a.cfg.TerminalShells
	if len(shells) == 0 {
		shells = DefaultConfig().TerminalShells
	}
	var sess ports.ExecSession
	var shell string
	for _, sh := range shells {
		s, err := a.Containers.Exec(ctx, d.ContainerID, ports.ExecSpec{
			Cmd: []string{sh}, Env: env, WorkDir: d.FileRoot, Cols: cols, Rows: rows,
		})
		if errors.Is(err, domain.ErrNotFound) {
			continue
		}
		if err != nil {
			cancel(err)
			return nil, err
		}
		sess, shell = s, sh
		break
	}
	if sess == nil {
		cancel(errors.New("no shell"))
		return nil, domain.Wrap(domain.ErrBackend, "container backend error", errors.New("none of TERMINAL_SHELL exists in the container"))
	}
	t := &Terminal{
		Shell: shell, Cols: cols, Rows: rows,
		a: a, draftID: d.ID, sess: sess, ctx: ctx, cancel: cancel,
		timeout: a.cfg.TerminalIdleTimeout, draft: *d, done: make(chan struct{}),
	}
	t.forget = a.register(func() { cancel(errTermShutdown) })
	if t.timeout > 0 {
		t.idle = time.AfterFunc(t.timeout, func() { cancel(errTermIdle) })
	}
	a.metrics().TerminalConnections(1)
	stop := context.AfterFunc(ctx, func() { _ = sess.Close() })
	go func() {
		code, err := sess.Wait(ctx)
		if stop() && ctx.Err() != nil {
			// Wait saw the cancellation before the AfterFunc ran, and
			// stop() kept it from running: close here, or a reader of
			// the session would wait forever
			_ = sess.Close()
		}
		t.exit = t.classify(code, err)
		close(t.done)
	}()
	return t, nil
}

// Read reads TTY output; it fails once the terminal ended.
func (t *Terminal) Read(p []byte) (int, error) { return t.sess.Read(p) }

// Input writes to the TTY. It resets the idle timer and counts as access
// (written at most once per ACCESS_WRITE_INTERVAL).
func (t *Terminal) Input(p []byte) error {
	if t.ctx.Err() != nil {
		return context.Cause(t.ctx)
	}
	if t.idle != nil {
		t.idle.Reset(t.timeout)
	}
	if _, err := t.sess.Write(p); err != nil {
		return err
	}
	t.mu.Lock()
	d := t.draft
	write := t.a.touch(&d)
	t.draft = d
	t.mu.Unlock()
	if write {
		t.a.storeAccess(t.ctx, d.ID, d.LastAccess)
	}
	return nil
}

// Resize changes the TTY size (1..1000 each).
func (t *Terminal) Resize(ctx context.Context, cols, rows int) error {
	if err := ValidateTermSize(cols, rows); err != nil {
		return err
	}
	return t.sess.Resize(ctx, cols, rows)
}

// Done is closed when the terminal has ended.
func (t *Terminal) Done() <-chan struct{} { return t.done }

// Exit says how the terminal ended; valid once Done is closed.
func (t *Terminal) Exit() TerminalExit {
	<-t.done
	return t.exit
}

// Close ends the terminal if it still runs and frees its slot. When it
// was the draft's last terminal the file index is synced in the
// background.
func (t *Terminal) Close() {
	t.closeOnce.Do(func() {
		t.cancel(errTermClosed)
		select {
		case <-t.done:
		case <-time.After(10 * time.Second):
			t.a.Logger.Warn("terminal session did not end", "draft", t.draftID.Hex())
		}
		if t.idle != nil {
			t.idle.Stop()
		}
		t.a.metrics().TerminalConnections(-1)
		t.a.releaseTerminal(t.draftID, t.forget)
	})
}

// classify names the end of a terminal. A cancellation says why on its
// own; otherwise the shell's process ended, and the draft's state tells a
// stop or a deletion from the shell exiting by itself. A stop or delete
// through the API holds the draft's lock while it works, so reading the
// state under the lock sees its outcome; a shell killed by a signal (a
// container stopped outside the server) is given a moment for the
// container to go down.
func (t *Terminal) classify(code int, err error) TerminalExit {
	switch cause := context.Cause(t.ctx); {
	case errors.Is(cause, errTermClosed):
		return TerminalExit{Reason: ExitClosed}
	case errors.Is(cause, errTermIdle):
		return TerminalExit{Reason: ExitIdle}
	case errors.Is(cause, errTermShutdown), t.a.baseCtx.Err() != nil:
		return TerminalExit{Reason: ExitShutdown}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), 15*time.Second)
	defer cancel()
	wait := time.Duration(0)
	if err != nil || code >= 128 {
		wait = 2 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		if exit, ok := t.a.terminalEnd(ctx, t.draftID); ok {
			return exit
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return TerminalExit{Reason: ExitShell}
	}
	return TerminalExit{Code: &code, Reason: ExitShell}
}

// terminalEnd reports a deleted draft or a container that is no longer
// up; ok is false while it still runs.
func (a *App) terminalEnd(ctx context.Context, id domain.ID) (TerminalExit, bool) {
	unlock := a.locks.lock(id)
	defer unlock()
	d, err := a.refreshState(ctx, id)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return TerminalExit{Reason: ExitDeleted}, true
	case err != nil:
		return TerminalExit{}, false
	case !d.Running():
		return TerminalExit{Reason: ExitStopped}, true
	}
	return TerminalExit{}, false
}

// storeAccess writes a draft's last access without touching the rest.
func (a *App) storeAccess(ctx context.Context, id domain.ID, at time.Time) {
	unlock := a.locks.lock(id)
	defer unlock()
	cur, err := a.Drafts.Get(ctx, id)
	if err != nil {
		return
	}
	if !cur.LastAccess.Before(at) {
		return
	}
	cur.LastAccess = at
	if err := a.Drafts.Update(ctx, cur); err != nil {
		a.Logger.Warn("record terminal access", "draft", id.Hex(), "err", err)
	}
}
