package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// DefaultDataDir is where the embedded server keeps its token journal when
// Config.DataDir is empty (spec §10, RUNNABLE_DATA_DIR).
const DefaultDataDir = "./data"

// Config selects the Redis server.
type Config struct {
	// URL is a redis:// or rediss:// URL. Empty starts an embedded
	// miniredis in this process.
	URL string
	// DataDir is RUNNABLE_DATA_DIR; the embedded server keeps its token
	// journal in DataDir/redis. Unused when URL is set. Empty means
	// DefaultDataDir.
	DataDir string
}

// Option changes how Open builds the store.
type Option func(*Store)

// WithClock makes the store read time from c instead of the wall clock. It
// sets rate-limit windows and the expiry recorded in the token journal;
// Redis itself still expires keys by its own clock.
func WithClock(c ports.Clock) Option {
	return func(s *Store) { s.clock = c }
}

// Store is a connection to Redis, or to the embedded miniredis, and the
// owner of the token journal in embedded mode. Its Tokens, RateLimiter and
// Locks share the connection. Close it when done.
type Store struct {
	rdb     *redis.Client
	mini    *miniredis.Miniredis // nil with Config.URL
	journal *journal             // nil with Config.URL
	clock   ports.Clock

	closeOnce sync.Once
	closeErr  error
}

// Open connects to cfg.URL, or starts the embedded server when cfg.URL is
// empty. Open does not wait for a remote server to answer (use Ping for
// readiness); in embedded mode it replays the token journal first and fails
// when the journal cannot be read or is locked by another process.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	s := &Store{clock: wallClock{}}
	for _, o := range opts {
		o(s)
	}
	if cfg.URL != "" {
		o, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("redisstore: parse REDIS_URL: %w", err)
		}
		o.DisableIdentity = true
		s.rdb = redis.NewClient(o)
		return s, nil
	}
	if err := s.openEmbedded(ctx, cfg.DataDir); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) openEmbedded(ctx context.Context, dataDir string) error {
	if dataDir == "" {
		dataDir = DefaultDataDir
	}
	j, err := openJournal(filepath.Join(dataDir, "redis"), s.clock.Now())
	if err != nil {
		return err
	}
	// The server listens on loopback TCP; a random password keeps other
	// local users from reading hashes or planting tokens.
	var pw [16]byte
	if _, err := rand.Read(pw[:]); err != nil {
		_ = j.close()
		return fmt.Errorf("redisstore: embedded redis password: %w", err)
	}
	password := hex.EncodeToString(pw[:])
	m := miniredis.NewMiniRedis()
	m.RequireAuth(password)
	// Expire keys by the wall clock, as a real server does; by default
	// miniredis only expires them when told to.
	m.ClockTTL(true)
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		_ = j.close()
		return fmt.Errorf("redisstore: start embedded redis: %w", err)
	}
	s.mini, s.journal = m, j
	s.rdb = redis.NewClient(&redis.Options{Addr: m.Addr(), Password: password, DisableIdentity: true})
	if err := s.replay(ctx); err != nil {
		_ = s.Close()
		return err
	}
	return nil
}

// replay loads the journal's live tokens into the fresh embedded server.
func (s *Store) replay(ctx context.Context) error {
	now := s.clock.Now()
	pipe := s.rdb.Pipeline()
	expiry := map[string]time.Time{} // user hex -> latest token expiry
	for hash, e := range s.journal.snapshot() {
		ttl := e.exp.Sub(now)
		if ttl < time.Millisecond {
			continue
		}
		pipe.Set(ctx, tokenKey(hash), e.user, ttl)
		pipe.SAdd(ctx, userTokensKey(e.user), hash)
		if e.exp.After(expiry[e.user]) {
			expiry[e.user] = e.exp
		}
	}
	for user, exp := range expiry {
		pipe.PExpire(ctx, userTokensKey(user), exp.Sub(now))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redisstore: replay token journal: %w", translate(ctx, err))
	}
	return nil
}

// Close closes the connection, stops the embedded server and closes the
// journal. Later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.rdb.Close()
		if s.mini != nil {
			s.mini.Close()
		}
		if s.journal != nil {
			s.closeErr = errors.Join(s.closeErr, s.journal.close())
		}
	})
	return s.closeErr
}

// Ping checks that Redis answers: nil, or ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	return translate(ctx, s.rdb.Ping(ctx).Err())
}

// Embedded reports whether the store runs the in-process miniredis.
func (s *Store) Embedded() bool { return s.mini != nil }

// Tokens returns the token store.
func (s *Store) Tokens() *Tokens { return &Tokens{rdb: s.rdb, journal: s.journal, clock: s.clock} }

// RateLimiter returns the fixed-window rate limiter.
func (s *Store) RateLimiter() *RateLimiter { return &RateLimiter{rdb: s.rdb, clock: s.clock} }

// Locks returns the lock service.
func (s *Store) Locks() *Locks { return &Locks{rdb: s.rdb} }

// translate turns a go-redis error into the domain's kinds: redis.Nil into
// ErrNotFound, the caller's own cancellation into ctx.Err(), an unreachable
// or temporarily unusable server into ErrUnavailable. Other server replies
// (a bug, such as WRONGTYPE) are returned wrapped, as internal errors.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		return domain.ErrNotFound
	}
	if ctx.Err() != nil {
		return fmt.Errorf("redis: %w", ctx.Err())
	}
	var reply redis.Error
	if errors.As(err, &reply) && !unavailableReply(reply.Error()) {
		return fmt.Errorf("redis: %w", err)
	}
	// Refused or reset connections, timeouts, a closed client or an
	// exhausted pool: the service is not usable right now.
	return domain.Wrap(domain.ErrUnavailable, "service unavailable", err)
}

// unavailableReply reports server replies that mean "try again later".
func unavailableReply(msg string) bool {
	for _, p := range []string{"LOADING", "BUSY", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "OOM", "ERR max number of clients"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now().UTC() }
