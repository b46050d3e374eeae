package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// slowStarts makes every container start take a while, as on Docker, so
// that concurrent starts overlap between the capacity check and the start.
type slowStarts struct {
	ports.Containers
}

func (s slowStarts) Start(ctx context.Context, id string, run ports.RunSpec) error {
	time.Sleep(50 * time.Millisecond)
	return s.Containers.Start(ctx, id, run)
}

func TestConcurrentStartsNeverOvershootCapacity(t *testing.T) {
	e := newEnvWith(t, func(d *app.Deps) { d.Containers = slowStarts{d.Containers} }, func(c *app.Config) {
		c.MaxRunningTotal = 3
		c.MaxRunningPerUser = 0
		c.RateLimitEnabled = false
	})
	ctx := t.Context()
	const n = 10
	var drafts []*domain.Draft
	var users []*domain.User
	for i := 0; i < n; i++ {
		u, _ := e.anon(t)
		d, err := e.app.Fork(ctx, u, e.template.ID.Short(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		users, drafts = append(users, u), append(drafts, d)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range drafts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.app.Start(ctx, users[i], drafts[i].ID.Short())
		}()
	}
	wg.Wait()
	started, refused := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			started++
		case errors.Is(err, domain.ErrTooMany):
			refused++
		default:
			t.Fatalf("got %v, want a start or a 429", err)
		}
	}
	if started != 3 || refused != n-3 {
		t.Fatalf("got %d started and %d refused, want exactly 3 started (MAX_RUNNING_TOTAL)", started, refused)
	}
}
