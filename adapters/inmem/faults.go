package inmem

import (
	"strings"
	"sync"
	"time"
)

// faults queues scripted errors per method name (case-insensitive).
type faults struct {
	mu   sync.Mutex
	next map[string][]error
}

// add queues err for the next call of method.
func (f *faults) add(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next == nil {
		f.next = map[string][]error{}
	}
	k := strings.ToLower(method)
	f.next[k] = append(f.next[k], err)
}

// take pops the error queued for method, or returns nil.
func (f *faults) take(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := strings.ToLower(method)
	q := f.next[k]
	if len(q) == 0 {
		return nil
	}
	err := q[0]
	if len(q) == 1 {
		delete(f.next, k)
	} else {
		f.next[k] = q[1:]
	}
	return err
}

// ms truncates t to milliseconds in UTC, as a BSON datetime stores it.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Millisecond).UTC()
}

// msPtr copies a time pointer, truncated.
func msPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ms(*t)
	return &v
}

// page cuts one page out of n items; limit <= 0 means no limit.
func page(n, pg, limit int) (start, end int) {
	if limit <= 0 {
		return 0, n
	}
	start = pg * limit
	if pg < 0 || start > n {
		start = n
	}
	end = start + limit
	if end > n {
		end = n
	}
	return start, end
}
