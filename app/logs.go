package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// defaultLogTail is the tail of a log read that names none (spec §4.8).
const defaultLogTail = 100

// LogEnd is the last event of a followed log: the container stopped (or
// was not up), with the exit status of start_cmd when it ran.
type LogEnd struct {
	Status   string // "stopped"
	ExitCode *int
}

// LogStream is a draft's container log, opened once the permission and
// input checks passed. Reading it does not count as access (spec §8.5).
type LogStream struct {
	a         *App
	draft     domain.ID
	container string
	running   bool
	exitCode  *int
	tail      int
}

// OpenLogs checks that the caller may read the draft's logs (owner or
// moderator) and that tail, when given, is 1..LOGS_MAX_TAIL. tail nil
// means the default of 100 lines.
func (a *App) OpenLogs(ctx context.Context, caller *domain.User, id string, tail *int) (*LogStream, error) {
	d, err := a.readableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	max := a.cfg.LogsMaxTail
	if max <= 0 {
		max = DefaultConfig().LogsMaxTail
	}
	n := min(defaultLogTail, max)
	if tail != nil {
		if *tail < 1 || *tail > max {
			return nil, domain.Ef(domain.ErrInvalid, "tail must be an integer between 1 and %d", max)
		}
		n = *tail
	}
	unlock := a.locks.lock(d.ID)
	d, err = a.refreshState(ctx, d.ID)
	unlock()
	if err != nil {
		return nil, err
	}
	return &LogStream{a: a, draft: d.ID, container: d.ContainerID, running: d.Running(), exitCode: d.ExitCode, tail: n}, nil
}

// Lines returns the last tail lines of stdout and stderr in order; none
// when the draft has no container.
func (s *LogStream) Lines(ctx context.Context) ([]ports.LogLine, error) {
	if s.container == "" {
		return nil, nil
	}
	lines, err := s.a.Containers.Logs(ctx, s.container, s.tail)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	return lines, err
}

// Follow calls fn with the tail lines, then with every new line while the
// container is up. It returns the end event once the container stopped,
// at once (after the tail) when it was not up, or ctx's error when the
// client left or the server is shutting down (CloseTerminals). Nothing it
// started outlives the call.
func (s *LogStream) Follow(ctx context.Context, fn func(ports.LogLine) error) (LogEnd, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer s.a.register(cancel)()

	if !s.running {
		lines, err := s.Lines(ctx)
		if err != nil {
			return LogEnd{}, err
		}
		for _, l := range lines {
			if err := fn(l); err != nil {
				return LogEnd{}, err
			}
		}
		return LogEnd{Status: "stopped", ExitCode: s.exitCode}, nil
	}
	err := s.a.Containers.FollowLogs(ctx, s.container, s.tail, fn)
	if ctx.Err() != nil {
		return LogEnd{}, ctx.Err()
	}
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return LogEnd{}, fmt.Errorf("follow logs of %s: %w", s.draft.Short(), err)
	}
	return s.end(ctx), nil
}

// end reads the draft's state after the container stopped. A stop in
// progress holds the draft's lock, so the state read is the final one.
func (s *LogStream) end(ctx context.Context) LogEnd {
	unlock := s.a.locks.lock(s.draft)
	defer unlock()
	d, err := s.a.refreshState(ctx, s.draft)
	if err != nil {
		return LogEnd{Status: "stopped"}
	}
	return LogEnd{Status: "stopped", ExitCode: d.ExitCode}
}
