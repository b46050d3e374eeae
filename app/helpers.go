package app

import (
	"context"
	"errors"
	"time"

	"github.com/runnable/runnable/domain"
)

func eqIntPtr(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func eqTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// findOrCreate returns what find finds, else what create makes. A create
// that loses a race to another caller (ErrConflict) is followed by another
// find, with a short backoff while the winner's record becomes visible
// (a store may claim a unique value before it writes the record).
// lost is returned when the race is lost every time.
func findOrCreate[T any](ctx context.Context, find func() (T, bool, error), create func() (T, error), lost error) (T, error) {
	var zero T
	for attempt := 0; attempt < 20; attempt++ {
		v, ok, err := find()
		if err != nil || ok {
			return v, err
		}
		v, err = create()
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, domain.ErrConflict) {
			return zero, err
		}
		backoff := time.Duration(attempt+1) * 5 * time.Millisecond
		select {
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-time.After(backoff):
		}
	}
	return zero, lost
}
