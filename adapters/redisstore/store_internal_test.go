package redisstore

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
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
