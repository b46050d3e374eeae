package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Locks are Redis locks: the key named by the lock (spec §9.4 uses
// lock:cleanup, lock:templates, lock:feed) holds the holder's random token,
// set only if absent and with a TTL. Only the holder, compared by token
// inside a Lua script, can refresh or release it.
type Locks struct {
	rdb *redis.Client
}

var _ ports.Locks = (*Locks)(nil)

// Lock is a held Redis lock.
type Lock struct {
	rdb   *redis.Client
	key   string
	token string
}

var _ ports.Lock = (*Lock)(nil)

var (
	refreshScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)
)

// Acquire takes the lock name, which is its Redis key ("lock:cleanup"), for
// ttl (at least 1 ms).
// ok is false when another holder has it. ErrUnavailable when Redis cannot
// be reached.
func (l *Locks) Acquire(ctx context.Context, name string, ttl time.Duration) (ports.Lock, bool, error) {
	if ttl < time.Millisecond {
		return nil, false, fmt.Errorf("redisstore: lock ttl %v is too short", ttl)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, false, fmt.Errorf("redisstore: lock token: %w", err)
	}
	lk := &Lock{rdb: l.rdb, key: name, token: hex.EncodeToString(raw[:])}
	err := l.rdb.SetArgs(ctx, lk.key, lk.token, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("acquire %s: %w", lk.key, translate(ctx, err))
	}
	return lk, true, nil
}

// Refresh sets the lock's TTL to ttl if it is still held by this holder.
// ErrConflict when it was lost (expired or taken by another);
// ErrUnavailable when Redis cannot be reached.
func (l *Lock) Refresh(ctx context.Context, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("redisstore: lock ttl %v is too short", ttl)
	}
	n, err := refreshScript.Run(ctx, l.rdb, []string{l.key}, l.token, ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("refresh %s: %w", l.key, translate(ctx, err))
	}
	if n == 0 {
		return domain.Ef(domain.ErrConflict, "lock %s was lost", l.key)
	}
	return nil
}

// Release frees the lock if this holder still has it; a lost lock is not
// an error. ErrUnavailable when Redis cannot be reached.
func (l *Lock) Release(ctx context.Context) error {
	if err := releaseScript.Run(ctx, l.rdb, []string{l.key}, l.token).Err(); err != nil {
		return fmt.Errorf("release %s: %w", l.key, translate(ctx, err))
	}
	return nil
}
