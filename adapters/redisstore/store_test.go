package redisstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnable/runnable/adapters/redisstore"
	"github.com/runnable/runnable/adapters/redisstore/redistest"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

// fakeNow is a clock the test moves by hand.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeNow(t time.Time) *fakeNow { return &fakeNow{t: t} }

func (c *fakeNow) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeNow) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// open opens a store and closes it in t.Cleanup.
func open(t *testing.T, cfg redisstore.Config, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(t.Context(), cfg, opts...)
	if err != nil {
		t.Fatalf("Open(%+v): got error %v, want nil", cfg, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: got error %v, want nil", err)
		}
	})
	return s
}

// backends returns the stores the contract suites run against: the
// embedded miniredis and a real redis-server.
func backends(t *testing.T) map[string]func(t *testing.T) *redisstore.Store {
	return map[string]func(t *testing.T) *redisstore.Store{
		"embedded": func(t *testing.T) *redisstore.Store {
			return open(t, redisstore.Config{DataDir: t.TempDir()})
		},
		"redis-server": func(t *testing.T) *redisstore.Store {
			return open(t, redisstore.Config{URL: redistest.URL(t)})
		},
	}
}

func TestContract(t *testing.T) {
	for name, newStore := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: got error %v, want nil", err)
			}
			t.Run("Tokens", func(t *testing.T) {
				porttest.Tokens(t, func(*testing.T) ports.Tokens { return s.Tokens() })
			})
			t.Run("RateLimiter", func(t *testing.T) {
				porttest.RateLimiter(t, func(*testing.T) ports.RateLimiter { return s.RateLimiter() })
			})
			t.Run("Locks", func(t *testing.T) {
				porttest.Locks(t, func(*testing.T) ports.Locks { return s.Locks() })
			})
		})
	}
}

// unique returns name with a random suffix, so that runs sharing one
// server (REDIS_URL) do not see each other's keys.
func unique(name string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return name + "-" + hex.EncodeToString(b[:])
}

// rawClient connects to the same server as a store opened on url.
func rawClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	o.DisableIdentity = true
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestKeys checks the key layout of spec §9.4 on a real server.
func TestKeys(t *testing.T) {
	t.Parallel()
	url := redistest.URL(t)
	clock := newFakeNow(time.Date(2024, 3, 1, 12, 0, 30, 0, time.UTC))
	s := open(t, redisstore.Config{URL: url}, redisstore.WithClock(clock))
	raw := rawClient(t, url)
	ctx := t.Context()
	var user domain.ID
	_, _ = rand.Read(user[:])

	tok, err := s.Tokens().Issue(ctx, user, time.Hour)
	if err != nil {
		t.Fatalf("Issue: got error %v, want nil", err)
	}
	sum := sha256.Sum256([]byte(tok))
	hash := hex.EncodeToString(sum[:])
	if got, err := raw.Get(ctx, "token:"+hash).Result(); err != nil || got != user.Hex() {
		t.Errorf("GET token:<hash>: got (%q, %v), want %q", got, err, user.Hex())
	}
	if ttl := raw.PTTL(ctx, "token:"+hash).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("PTTL token:<hash>: got %v, want about 1h", ttl)
	}
	if ok := raw.SIsMember(ctx, "user_tokens:"+user.Hex(), hash).Val(); !ok {
		t.Errorf("SISMEMBER user_tokens:<user> <hash>: got false, want true")
	}
	if ttl := raw.PTTL(ctx, "user_tokens:"+user.Hex()).Val(); ttl <= 59*time.Minute {
		t.Errorf("PTTL user_tokens:<user>: got %v, want about 1h", ttl)
	}
	// The token itself is stored nowhere.
	keys := raw.Keys(ctx, "*").Val()
	for _, k := range keys {
		if strings.Contains(k, tok) {
			t.Errorf("key %q contains the token", k)
		}
		if raw.Type(ctx, k).Val() == "string" && raw.Get(ctx, k).Val() == tok {
			t.Errorf("key %q holds the token", k)
		}
	}

	ip := unique("::1")
	if _, err := s.RateLimiter().Hit(ctx, "ip", ip, 10, time.Minute); err != nil {
		t.Fatalf("Hit: got error %v, want nil", err)
	}
	start := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).Unix()
	rl := "rl:ip:" + ip + ":" + strconv.FormatInt(start, 10)
	if got := raw.Get(ctx, rl).Val(); got != "1" {
		t.Errorf("GET %s: got %q, want \"1\"", rl, got)
	}
	if ttl := raw.PTTL(ctx, rl).Val(); ttl <= 29*time.Second || ttl > 30*time.Second {
		t.Errorf("PTTL %s: got %v, want just under 30s (the rest of the window)", rl, ttl)
	}

	name := unique("lock:keys-test")
	lk, ok, err := s.Locks().Acquire(ctx, name, time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire: got (ok %v, %v), want (true, nil)", ok, err)
	}
	if n := raw.Exists(ctx, name).Val(); n != 1 {
		t.Errorf("EXISTS lock:<name>: got %d, want 1", n)
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if n := raw.Exists(ctx, name).Val(); n != 0 {
		t.Errorf("EXISTS lock:<name> after Release: got %d, want 0", n)
	}
}

// TestRateLimiterWindowsOnClock moves the store's clock over a real server:
// a new window is a new key, counted from zero.
func TestRateLimiterWindowsOnClock(t *testing.T) {
	t.Parallel()
	clock := newFakeNow(time.Date(2024, 3, 1, 12, 0, 20, 0, time.UTC))
	s := open(t, redisstore.Config{URL: redistest.URL(t)}, redisstore.WithClock(clock))
	r := s.RateLimiter()
	ip := unique("1.2.3.4")
	hit := func() ports.RateResult {
		t.Helper()
		res, err := r.Hit(t.Context(), "login", ip, 2, time.Minute)
		if err != nil {
			t.Fatalf("Hit: got error %v, want nil", err)
		}
		return res
	}
	tests := []struct {
		name    string
		advance time.Duration
		want    ports.RateResult
	}{
		{"first", 0, ports.RateResult{Allowed: true, Limit: 2, Remaining: 1, Reset: 40 * time.Second}},
		{"second", 10 * time.Second, ports.RateResult{Allowed: true, Limit: 2, Remaining: 0, Reset: 30 * time.Second}},
		{"third", 0, ports.RateResult{Allowed: false, Limit: 2, Remaining: 0, Reset: 30 * time.Second}},
		{"last ms of the window", 29*time.Second + 999*time.Millisecond, ports.RateResult{Allowed: false, Limit: 2, Remaining: 0, Reset: time.Millisecond}},
		{"next window", time.Millisecond, ports.RateResult{Allowed: true, Limit: 2, Remaining: 1, Reset: time.Minute}},
	}
	for _, tt := range tests {
		clock.Advance(tt.advance)
		if got := hit(); got != tt.want {
			t.Errorf("%s hit: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestUnavailable checks that a server that cannot be reached gives
// ErrUnavailable from every operation, and Ping.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now: connections are refused
	s := open(t, redisstore.Config{URL: "redis://" + addr + "/0?max_retries=-1&dial_timeout=1s"})
	ctx := t.Context()
	user := domain.ID{1}
	checks := map[string]error{
		"Ping": s.Ping(ctx),
		"Issue": func() error {
			_, err := s.Tokens().Issue(ctx, user, time.Hour)
			return err
		}(),
		"Lookup": func() error {
			_, err := s.Tokens().Lookup(ctx, strings.Repeat("A", 43))
			return err
		}(),
		"Revoke":    s.Tokens().Revoke(ctx, strings.Repeat("A", 43)),
		"RevokeAll": s.Tokens().RevokeAll(ctx, user, ""),
		"Hit": func() error {
			_, err := s.RateLimiter().Hit(ctx, "ip", "x", 1, time.Minute)
			return err
		}(),
		"Acquire": func() error {
			_, _, err := s.Locks().Acquire(ctx, "x", time.Minute)
			return err
		}(),
	}
	for op, err := range checks {
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Errorf("%s on a refused connection: got error %v, want ErrUnavailable", op, err)
			continue
		}
		if msg, _ := domain.PublicMessage(err); msg != "service unavailable" {
			t.Errorf("%s: got public message %q, want \"service unavailable\"", op, msg)
		}
	}
}

// TestCanceled checks that the caller's own cancellation is reported as
// such, not as an unavailable server.
func TestCanceled(t *testing.T) {
	t.Parallel()
	s := open(t, redisstore.Config{DataDir: t.TempDir()})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Tokens().Lookup(ctx, strings.Repeat("A", 43))
	if !errors.Is(err, context.Canceled) || errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("Lookup with a canceled context: got error %v, want context.Canceled", err)
	}
}

// TestLocksAcrossStores checks that two stores on one server (two
// replicas) exclude each other.
func TestLocksAcrossStores(t *testing.T) {
	t.Parallel()
	url := redistest.URL(t)
	a, b := open(t, redisstore.Config{URL: url}), open(t, redisstore.Config{URL: url})
	name := unique("replicas")
	lk, ok, err := a.Locks().Acquire(t.Context(), name, time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire on replica a: got (ok %v, %v), want (true, nil)", ok, err)
	}
	if _, ok, err := b.Locks().Acquire(t.Context(), name, time.Minute); err != nil || ok {
		t.Fatalf("Acquire on replica b: got (ok %v, %v), want (false, nil)", ok, err)
	}
	if err := lk.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.Locks().Acquire(t.Context(), name, time.Minute); err != nil || !ok {
		t.Fatalf("Acquire on replica b after a's Release: got (ok %v, %v), want (true, nil)", ok, err)
	}
}
