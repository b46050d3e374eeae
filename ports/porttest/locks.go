package porttest

import (
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Locks runs the ports.Locks contract (spec §8.5). newLocks may return a
// shared service: every subtest uses fresh lock names. TTLs must run on the
// wall clock: two subtests wait for a 300 ms TTL to lapse.
func Locks(t *testing.T, newLocks func(t *testing.T) ports.Locks) {
	t.Run("Exclusive", func(t *testing.T) { locksExclusive(t, newLocks(t)) })
	t.Run("Release", func(t *testing.T) { locksRelease(t, newLocks(t)) })
	t.Run("Expiry", func(t *testing.T) { locksExpiry(t, newLocks(t)) })
	t.Run("RefreshSetsTTL", func(t *testing.T) { locksRefresh(t, newLocks(t)) })
	t.Run("Concurrent", func(t *testing.T) { locksConcurrent(t, newLocks(t)) })
}

// lockName returns a lock name no other subtest or run uses.
func lockName(name string) string { return "lock:test-" + name + "-" + newID().Hex() }

// locksAcquire acquires name and fails the test when it errors or when the
// outcome is not want. The lock is nil when not acquired.
func locksAcquire(t *testing.T, l ports.Locks, name string, ttl time.Duration, want bool, what string) ports.Lock {
	t.Helper()
	lk, ok, err := l.Acquire(t.Context(), name, ttl)
	must(t, err, what+": Acquire")
	if ok != want {
		t.Fatalf("%s: Acquire got ok %v, want %v", what, ok, want)
	}
	if ok && lk == nil {
		t.Fatalf("%s: Acquire got ok with a nil lock", what)
	}
	return lk
}

// locksWaitFree polls Acquire until name is free again (within 20 s) and
// returns the new lock.
func locksWaitFree(t *testing.T, l ports.Locks, name string, ttl time.Duration, what string) ports.Lock {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lk, ok, err := l.Acquire(t.Context(), name, ttl)
		must(t, err, what+": Acquire")
		if ok {
			return lk
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: lock still held after 20s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func locksExclusive(t *testing.T, l ports.Locks) {
	name := lockName("exclusive")
	lk := locksAcquire(t, l, name, time.Hour, true, "first holder")
	locksAcquire(t, l, name, time.Hour, false, "second holder")
	other := locksAcquire(t, l, lockName("other"), time.Hour, true, "another name")
	must(t, other.Release(t.Context()), "Release another name")
	// A failed Acquire does not disturb the holder.
	must(t, lk.Refresh(t.Context(), time.Hour), "Refresh by the holder")
	must(t, lk.Release(t.Context()), "Release")
}

func locksRelease(t *testing.T, l ports.Locks) {
	name := lockName("release")
	lk := locksAcquire(t, l, name, time.Hour, true, "first holder")
	must(t, lk.Release(t.Context()), "Release")
	must(t, lk.Release(t.Context()), "Release again")
	next := locksAcquire(t, l, name, time.Hour, true, "after Release")
	// The first holder's lock is gone: it can neither refresh nor free
	// the new holder's.
	wantKind(t, lk.Refresh(t.Context(), time.Hour), domain.ErrConflict, "Refresh after Release")
	must(t, lk.Release(t.Context()), "stale Release")
	locksAcquire(t, l, name, time.Hour, false, "after a stale Release")
	must(t, next.Release(t.Context()), "Release by the new holder")
}

func locksExpiry(t *testing.T, l ports.Locks) {
	name := lockName("expiry")
	old := locksAcquire(t, l, name, 300*time.Millisecond, true, "short holder")
	next := locksWaitFree(t, l, name, time.Hour, "after the TTL")
	wantKind(t, old.Refresh(t.Context(), time.Hour), domain.ErrConflict, "Refresh of an expired lock")
	must(t, old.Release(t.Context()), "Release of an expired lock")
	locksAcquire(t, l, name, time.Hour, false, "after the expired holder's Release")
	must(t, next.Refresh(t.Context(), time.Hour), "Refresh by the new holder")
	must(t, next.Release(t.Context()), "Release by the new holder")
	locksAcquire(t, l, name, time.Hour, true, "after the new holder's Release")
}

func locksRefresh(t *testing.T, l ports.Locks) {
	// Refresh sets the TTL from now: refreshing an hour-long lock to
	// 300 ms lets it lapse soon, which shows the new TTL took effect
	// without racing a short TTL against the Refresh call.
	name := lockName("refresh")
	lk := locksAcquire(t, l, name, time.Hour, true, "holder")
	must(t, lk.Refresh(t.Context(), 300*time.Millisecond), "Refresh")
	next := locksWaitFree(t, l, name, time.Hour, "after the refreshed TTL")
	wantKind(t, lk.Refresh(t.Context(), time.Hour), domain.ErrConflict, "Refresh of a lapsed lock")
	must(t, next.Release(t.Context()), "Release")
}

func locksConcurrent(t *testing.T, l ports.Locks) {
	const n = 16
	name := lockName("concurrent")
	oks := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, oks[i], errs[i] = l.Acquire(t.Context(), name, time.Hour) })
	}
	wg.Wait()
	got := 0
	for i := range n {
		must(t, errs[i], "concurrent Acquire")
		if oks[i] {
			got++
		}
	}
	if got != 1 {
		t.Errorf("%d concurrent Acquires: got %d holders, want 1", n, got)
	}
}
