package app

import (
	"context"
	"errors"

	"github.com/runnable/runnable/domain"
)

// Causes of a terminal's end that are not the shell's own doing.
var (
	errTermShutdown = errors.New("server shutting down")
	errTermIdle     = errors.New("idle timeout")
	errTermClosed   = errors.New("closed by the client")
)

// errTooManyTerminals asks to come back in 30 s, as the capacity caps do.
var errTooManyTerminals = &domain.Error{Kind: domain.ErrTooMany, Message: "too many terminals", RetryAfter: 30}

// openTerminals is the number of open terminals on a draft in this
// process.
func (a *App) openTerminals(id domain.ID) int {
	a.termMu.Lock()
	defer a.termMu.Unlock()
	return a.terminals[id]
}

// reserveTerminal counts one more terminal on the draft, unless it already
// has TERMINAL_MAX_CONNECTIONS (429 "too many terminals").
func (a *App) reserveTerminal(id domain.ID) error {
	a.termMu.Lock()
	defer a.termMu.Unlock()
	if a.cfg.TerminalMaxConns > 0 && a.terminals[id] >= a.cfg.TerminalMaxConns {
		return errTooManyTerminals
	}
	a.terminals[id]++
	return nil
}

// unreserveTerminal gives back a reservation whose terminal never opened.
func (a *App) unreserveTerminal(id domain.ID) {
	a.termMu.Lock()
	defer a.termMu.Unlock()
	a.decTerminal(id)
}

// decTerminal lowers the count; termMu is held. It reports whether that
// was the draft's last terminal.
func (a *App) decTerminal(id domain.ID) bool {
	a.terminals[id]--
	if a.terminals[id] <= 0 {
		delete(a.terminals, id)
		return true
	}
	return false
}

// register records a stream's cancel so that CloseTerminals can end it;
// the returned func forgets it.
func (a *App) register(cancel context.CancelFunc) func() {
	key := new(int)
	a.termMu.Lock()
	a.termCancels[key] = cancel
	a.termMu.Unlock()
	return func() {
		a.termMu.Lock()
		delete(a.termCancels, key)
		a.termMu.Unlock()
	}
}

// releaseTerminal forgets an open terminal; when it was the draft's last
// one the file index is synced in the background (spec §5.5).
func (a *App) releaseTerminal(id domain.ID, forget func()) {
	forget()
	a.termMu.Lock()
	last := a.decTerminal(id)
	a.termMu.Unlock()
	if last && a.baseCtx.Err() == nil {
		// Not a.background: its WaitGroup may already be waited on by
		// Shutdown, and a sync is not worth holding shutdown for; it
		// stops with the app's context.
		go a.syncAfterTerminals(a.baseCtx, id)
	}
}

// syncAfterTerminals re-reads the draft's tree after its last terminal
// closed, so edits made in the shell appear in the index. A draft that is
// gone, has no container or is being saved (the save syncs) is left alone.
func (a *App) syncAfterTerminals(ctx context.Context, id domain.ID) {
	unlock := a.locks.lock(id)
	defer unlock()
	if a.openTerminals(id) > 0 {
		return // a new terminal opened meanwhile; its close syncs
	}
	d, err := a.Drafts.Get(ctx, id)
	if err != nil || d.ContainerID == "" || d.Saving() {
		return
	}
	if _, err := a.syncFrom(ctx, d); err != nil && ctx.Err() == nil {
		a.Logger.Warn("sync after terminal", "draft", id.Hex(), "err", err)
	}
}

// CloseTerminals ends every open terminal ("server shutting down", close
// 1001) and every followed log stream. The server calls it before it
// stops accepting requests.
func (a *App) CloseTerminals() {
	a.termMu.Lock()
	cancels := make([]context.CancelFunc, 0, len(a.termCancels))
	for _, c := range a.termCancels {
		cancels = append(cancels, c)
	}
	a.termMu.Unlock()
	for _, c := range cancels {
		c()
	}
}
