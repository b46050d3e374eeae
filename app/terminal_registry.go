package app

import (
	"context"

	"github.com/runnable/runnable/domain"
)

// openTerminals is the number of open terminals on a draft in this
// process.
func (a *App) openTerminals(id domain.ID) int {
	a.termMu.Lock()
	defer a.termMu.Unlock()
	return a.terminals[id]
}

// CloseTerminals ends every open terminal ("server shutting down").
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
