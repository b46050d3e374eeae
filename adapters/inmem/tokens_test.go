package inmem_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

// fakeNow is a clock the test moves by hand; the zero value starts at a
// fixed instant.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	}
	return c.t
}

func (c *fakeNow) Advance(d time.Duration) {
	now := c.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = now.Add(d)
}

// realNow is the wall clock, for the contract suites that wait on real
// time as they must for Redis.
type realNow struct{}

func (realNow) Now() time.Time { return time.Now().UTC() }

func TestTokensContract(t *testing.T) {
	t.Parallel()
	porttest.Tokens(t, func(*testing.T) ports.Tokens { return inmem.NewTokens(realNow{}) })
}

func TestTokensExpireOnClock(t *testing.T) {
	clock := &fakeNow{}
	s := inmem.NewTokens(clock)
	user := domain.ID{1}
	tok, err := s.Issue(t.Context(), user, time.Hour)
	if err != nil {
		t.Fatalf("Issue: got error %v, want nil", err)
	}
	clock.Advance(time.Hour - time.Millisecond)
	if got, err := s.Lookup(t.Context(), tok); err != nil || got != user {
		t.Fatalf("Lookup 1 ms before expiry: got (%s, %v), want (%s, nil)", got.Hex(), err, user.Hex())
	}
	clock.Advance(time.Millisecond)
	if _, err := s.Lookup(t.Context(), tok); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Lookup at expiry: got error %v, want ErrNotFound", err)
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len after the expired token was looked up: got %d, want 0", n)
	}
}

func TestTokensFailNext(t *testing.T) {
	s := inmem.NewTokens(&fakeNow{})
	boom := domain.Wrap(domain.ErrUnavailable, "service unavailable", errors.New("boom"))
	s.FailNext("lookup", boom)
	if _, err := s.Lookup(t.Context(), "x"); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Lookup after FailNext: got error %v, want ErrUnavailable", err)
	}
	if _, err := s.Lookup(t.Context(), "x"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second Lookup: got error %v, want ErrNotFound", err)
	}
}
