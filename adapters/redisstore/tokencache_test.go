package redisstore_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/redisstore"
	"github.com/runnable/runnable/domain"
)

// TestEmbeddedTokenCache: in embedded mode lookups are answered from the
// journal's live tokens. Revocations are visible at once, expiry follows
// the expiry recorded at issue (on the store's clock), and a restart
// serves the replayed tokens.
func TestEmbeddedTokenCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := newFakeNow(time.Now().UTC())
	alice, bob := domain.ID{0xa}, domain.ID{0xb}
	s := openEmbedded(t, dir, clock)
	tokens := s.Tokens()

	one, two, three := issue(t, s, alice, time.Hour), issue(t, s, alice, time.Hour), issue(t, s, alice, time.Hour)
	bobs := issue(t, s, bob, time.Hour)
	wantUser(t, s, one, alice, "issued token")

	// Revoke: gone for every Tokens value of the store, at once.
	if err := tokens.Revoke(t.Context(), one); err != nil {
		t.Fatal(err)
	}
	wantGone(t, s, one, "revoked token")
	if err := tokens.Revoke(t.Context(), one); err != nil {
		t.Errorf("Revoke of a revoked token: got %v, want nil", err)
	}
	// RevokeAll keeping two.
	if err := tokens.RevokeAll(t.Context(), alice, two); err != nil {
		t.Fatal(err)
	}
	wantUser(t, s, two, alice, "token kept by RevokeAll")
	wantGone(t, s, three, "token revoked by RevokeAll")
	wantUser(t, s, bobs, bob, "another user's token after RevokeAll")

	// Expiry by the recorded time: a one-minute token is gone once the
	// store's clock passes it, although Redis (wall clock) still holds it.
	short := issue(t, s, bob, time.Minute)
	wantUser(t, s, short, bob, "short token before expiry")
	clock.Advance(59 * time.Second)
	wantUser(t, s, short, bob, "short token a second before expiry")
	clock.Advance(time.Second)
	wantGone(t, s, short, "short token at its expiry")
	if err := tokens.Revoke(t.Context(), short); err != nil {
		t.Errorf("Revoke of an expired token: got %v, want nil", err)
	}

	// Restart: the journal is replayed; the cache serves what survived.
	closeStore(t, s)
	if _, err := tokens.Lookup(t.Context(), two); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("Lookup on a closed store: got %v, want ErrUnavailable", err)
	}
	s = openEmbedded(t, dir, clock)
	defer closeStore(t, s)
	wantUser(t, s, two, alice, "kept token after restart")
	wantUser(t, s, bobs, bob, "bob's token after restart")
	for _, tok := range []string{one, three, short} {
		wantGone(t, s, tok, "revoked or expired token after restart")
	}
	clock.Advance(time.Hour)
	wantGone(t, s, two, "replayed token past its expiry")
}

// TestEmbeddedTokenCacheConcurrent: lookups running while tokens are
// issued and revoked see each token as issued until its revocation
// returns, and never after.
func TestEmbeddedTokenCacheConcurrent(t *testing.T) {
	t.Parallel()
	s := open(t, redisstore.Config{DataDir: t.TempDir()})
	user := domain.ID{0xd}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				tok := issue(t, s, user, time.Hour)
				wantUser(t, s, tok, user, "fresh token")
				if err := s.Tokens().Revoke(t.Context(), tok); err != nil {
					t.Error(err)
					return
				}
				wantGone(t, s, tok, "token after its revocation returned")
			}
		})
	}
	wg.Wait()
	if _, err := s.Tokens().Lookup(t.Context(), strings.Repeat("A", 43)); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Lookup of an unknown token: got %v, want ErrNotFound", err)
	}
}
