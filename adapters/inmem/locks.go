package inmem

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Locks = (*Locks)(nil)

// Locks is an in-memory ports.Locks whose TTLs run on its clock.
type Locks struct {
	mu     sync.Mutex
	clock  ports.Clock
	held   map[string]heldLock
	seq    uint64
	faults faults
}

type heldLock struct {
	holder uint64
	exp    time.Time
}

// NewLocks returns a lock service with no locks held that reads time from
// clock.
func NewLocks(clock ports.Clock) *Locks {
	return &Locks{clock: clock, held: map[string]heldLock{}}
}

// FailNext makes the next call of method ("Acquire", "Refresh" or
// "Release") return err.
func (l *Locks) FailNext(method string, err error) { l.faults.add(method, err) }

// Held reports whether name is held by anyone now.
func (l *Locks) Held(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.held[name]
	return ok && l.clock.Now().Before(h.exp)
}

// Acquire takes name for ttl. ok is false when another holder has it.
func (l *Locks) Acquire(_ context.Context, name string, ttl time.Duration) (ports.Lock, bool, error) {
	if err := l.faults.take("Acquire"); err != nil {
		return nil, false, err
	}
	if ttl < time.Millisecond {
		return nil, false, fmt.Errorf("inmem: lock ttl %v is too short", ttl)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if h, ok := l.held[name]; ok && now.Before(h.exp) {
		return nil, false, nil
	}
	l.seq++
	l.held[name] = heldLock{holder: l.seq, exp: now.Add(ttl)}
	return &memLock{locks: l, name: name, holder: l.seq}, true, nil
}

// memLock is a lock held in a Locks.
type memLock struct {
	locks  *Locks
	name   string
	holder uint64
}

// Refresh sets the lock's TTL to ttl if still held; ErrConflict if lost.
func (m *memLock) Refresh(_ context.Context, ttl time.Duration) error {
	l := m.locks
	if err := l.faults.take("Refresh"); err != nil {
		return err
	}
	if ttl < time.Millisecond {
		return fmt.Errorf("inmem: lock ttl %v is too short", ttl)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	h, ok := l.held[m.name]
	if !ok || h.holder != m.holder || !now.Before(h.exp) {
		return domain.Ef(domain.ErrConflict, "lock %s was lost", m.name)
	}
	l.held[m.name] = heldLock{holder: m.holder, exp: now.Add(ttl)}
	return nil
}

// Release frees the lock if this holder still has it.
func (m *memLock) Release(_ context.Context) error {
	l := m.locks
	if err := l.faults.take("Release"); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.held[m.name]; ok && h.holder == m.holder {
		delete(l.held, m.name)
	}
	return nil
}
