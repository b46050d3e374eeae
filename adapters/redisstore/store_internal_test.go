package redisstore

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnable/runnable/domain"
)

// TestEmbeddedRequiresPassword checks that another local process cannot
// use the embedded server's loopback port without the store's password.
func TestEmbeddedRequiresPassword(t *testing.T) {
	s, err := Open(t.Context(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := redis.NewClient(&redis.Options{Addr: s.mini.Addr(), DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	err = c.Set(t.Context(), "token:planted", "000000000000000000000000", 0).Err()
	if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("SET without the password: got error %v, want NOAUTH", err)
	}
}

// TestEmbeddedLookupSkipsRedis: in embedded mode a lookup is answered from
// the journal without a round trip, so it still works with the embedded
// server stopped; a remote store (several replicas) always asks Redis.
func TestEmbeddedLookupSkipsRedis(t *testing.T) {
	s, err := Open(t.Context(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user := domain.ID{0xe}
	tok, err := s.Tokens().Issue(t.Context(), user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s.mini.Close()
	if got, err := s.Tokens().Lookup(t.Context(), tok); err != nil || got != user {
		t.Errorf("Lookup with the embedded server stopped: got (%s, %v), want (%s, nil)", got.Hex(), err, user.Hex())
	}
}
