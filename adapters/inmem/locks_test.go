package inmem_test

import (
	"errors"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

func TestLocksContract(t *testing.T) {
	t.Parallel()
	porttest.Locks(t, func(*testing.T) ports.Locks { return inmem.NewLocks(realNow{}) })
}

func TestLocksExpireOnClock(t *testing.T) {
	clock := &fakeNow{}
	l := inmem.NewLocks(clock)
	lk, ok, err := l.Acquire(t.Context(), "cleanup", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire: got (ok %v, %v), want (true, nil)", ok, err)
	}
	clock.Advance(59 * time.Second)
	if err := lk.Refresh(t.Context(), time.Minute); err != nil {
		t.Fatalf("Refresh before expiry: got error %v, want nil", err)
	}
	clock.Advance(59 * time.Second)
	if !l.Held("cleanup") {
		t.Fatal("Held 59 s after a one-minute Refresh: got false, want true")
	}
	clock.Advance(time.Second)
	if l.Held("cleanup") {
		t.Fatal("Held at expiry: got true, want false")
	}
	if err := lk.Refresh(t.Context(), time.Minute); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("Refresh after expiry: got error %v, want ErrConflict", err)
	}
	if _, ok, err := l.Acquire(t.Context(), "cleanup", time.Minute); err != nil || !ok {
		t.Fatalf("Acquire after expiry: got (ok %v, %v), want (true, nil)", ok, err)
	}
}
