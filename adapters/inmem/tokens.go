package inmem

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var _ ports.Tokens = (*Tokens)(nil)

// Tokens is an in-memory ports.Tokens. Like the Redis adapter it keeps only
// SHA-256 hashes of the tokens it issues, and a token expires when its
// clock reaches the expiry fixed at issue.
type Tokens struct {
	mu     sync.Mutex
	clock  ports.Clock
	byHash map[string]tokenEntry
	faults faults
}

type tokenEntry struct {
	user domain.ID
	exp  time.Time
}

// NewTokens returns an empty token store that reads time from clock.
func NewTokens(clock ports.Clock) *Tokens {
	return &Tokens{clock: clock, byHash: map[string]tokenEntry{}}
}

// FailNext makes the next call of method (e.g. "Lookup") return err.
func (s *Tokens) FailNext(method string, err error) { s.faults.add(method, err) }

// Len counts the tokens stored, expired ones that were not yet looked up
// included.
func (s *Tokens) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Issue makes a new 43-character token for user that expires after ttl.
func (s *Tokens) Issue(_ context.Context, user domain.ID, ttl time.Duration) (string, error) {
	if err := s.faults.take("Issue"); err != nil {
		return "", err
	}
	if ttl < time.Millisecond {
		return "", fmt.Errorf("inmem: token ttl %v is too short", ttl)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byHash[tokenHash(token)] = tokenEntry{user: user, exp: s.clock.Now().Add(ttl)}
	return token, nil
}

// Lookup returns the token's user. ErrNotFound when unknown, expired or
// revoked.
func (s *Tokens) Lookup(_ context.Context, token string) (domain.ID, error) {
	if err := s.faults.take("Lookup"); err != nil {
		return domain.NilID, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := tokenHash(token)
	e, ok := s.byHash[h]
	if !ok {
		return domain.NilID, domain.ErrNotFound
	}
	if !s.clock.Now().Before(e.exp) {
		delete(s.byHash, h)
		return domain.NilID, domain.ErrNotFound
	}
	return e.user, nil
}

// Revoke deletes one token; unknown tokens are not an error.
func (s *Tokens) Revoke(_ context.Context, token string) error {
	if err := s.faults.take("Revoke"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byHash, tokenHash(token))
	return nil
}

// RevokeAll deletes every token of user except keep ("" keeps none).
func (s *Tokens) RevokeAll(_ context.Context, user domain.ID, keep string) error {
	if err := s.faults.take("RevokeAll"); err != nil {
		return err
	}
	kept := ""
	if keep != "" {
		kept = tokenHash(keep)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, e := range s.byHash {
		if e.user == user && h != kept {
			delete(s.byHash, h)
		}
	}
	return nil
}
