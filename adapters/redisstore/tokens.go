package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// tokenLen is the length of a token: 32 random bytes in base64url without
// padding (spec §1.2).
const tokenLen = 43

// Tokens stores access tokens as SHA-256 hashes: token:<hash> holds the
// user's hex id with the TTL fixed at issue, and user_tokens:<user> is the
// set of the user's hashes. In embedded mode every issue and revocation is
// written to the token journal before Redis is changed, and the journal's
// in-memory copy of the live tokens answers Lookup, Revoke and RevokeAll:
// this process owns the embedded server, so the journal holds every token
// Redis does (issued here or replayed from it at start), and a lookup costs
// a map read instead of a round trip over loopback TCP. Expiry is then the
// expiry time recorded at issue, on the store's clock. With a remote Redis
// (shared by several replicas) every call goes to Redis.
type Tokens struct {
	rdb     *redis.Client
	journal *journal // nil unless embedded
	clock   ports.Clock
}

var _ ports.Tokens = (*Tokens)(nil)

// issueScript stores one token and keeps the user's set alive at least as
// long as the token. KEYS: token key, set key. ARGV: user hex, hash, ttl ms.
var issueScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return 1
`)

func tokenKey(hash string) string      { return "token:" + hash }
func userTokensKey(user string) string { return "user_tokens:" + user }

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Issue makes a new token for user that expires after ttl (at least 1 ms).
// ErrUnavailable when Redis cannot be reached.
func (t *Tokens) Issue(ctx context.Context, user domain.ID, ttl time.Duration) (string, error) {
	if ttl < time.Millisecond {
		return "", fmt.Errorf("redisstore: token ttl %v is too short", ttl)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("redisstore: token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	hash, uid := hashToken(token), user.Hex()
	if t.journal != nil {
		now := t.clock.Now()
		if err := t.journal.issued(hash, uid, now.Add(ttl), now); err != nil {
			return "", err
		}
	}
	err := issueScript.Run(ctx, t.rdb, []string{tokenKey(hash), userTokensKey(uid)}, uid, hash, ttl.Milliseconds()).Err()
	if err != nil {
		return "", fmt.Errorf("issue token: %w", translate(ctx, err))
	}
	return token, nil
}

// Lookup returns the token's user. ErrNotFound when the token is unknown,
// expired or revoked; ErrUnavailable when Redis cannot be reached.
func (t *Tokens) Lookup(ctx context.Context, token string) (domain.ID, error) {
	if len(token) != tokenLen {
		return domain.NilID, domain.ErrNotFound
	}
	if t.journal != nil {
		return t.lookupJournal(ctx, hashToken(token))
	}
	v, err := t.rdb.Get(ctx, tokenKey(hashToken(token))).Result()
	if err != nil {
		if errors.Is(err, redis.Nil) {
			return domain.NilID, domain.ErrNotFound
		}
		return domain.NilID, fmt.Errorf("look up token: %w", translate(ctx, err))
	}
	id, ok := domain.ParseHex(v)
	if !ok {
		return domain.NilID, fmt.Errorf("redisstore: token maps to malformed user id %q", v)
	}
	return id, nil
}

// lookupJournal answers Lookup from the journal's live tokens (embedded
// mode).
func (t *Tokens) lookupJournal(ctx context.Context, hash string) (domain.ID, error) {
	if err := ctx.Err(); err != nil {
		return domain.NilID, fmt.Errorf("look up token: redis: %w", err)
	}
	v, ok, closed := t.journal.lookup(hash, t.clock.Now())
	if closed {
		return domain.NilID, errClosed("look up token")
	}
	if !ok {
		return domain.NilID, domain.ErrNotFound
	}
	id, ok := domain.ParseHex(v)
	if !ok {
		return domain.NilID, fmt.Errorf("redisstore: token maps to malformed user id %q", v)
	}
	return id, nil
}

// errClosed is the error of a call on a closed embedded store, as a closed
// client gives it.
func errClosed(op string) error {
	return fmt.Errorf("%s: %w", op, domain.Wrap(domain.ErrUnavailable, "service unavailable", redis.ErrClosed))
}

// Revoke deletes one token; unknown tokens are not an error.
// ErrUnavailable when Redis cannot be reached.
func (t *Tokens) Revoke(ctx context.Context, token string) error {
	if len(token) != tokenLen {
		return nil
	}
	hash := hashToken(token)
	if t.journal != nil {
		user, ok, closed := t.journal.lookup(hash, t.clock.Now())
		if closed {
			return errClosed("revoke token")
		}
		if !ok {
			return nil
		}
		return t.revoke(ctx, user, hash)
	}
	user, err := t.rdb.Get(ctx, tokenKey(hash)).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("revoke token: %w", translate(ctx, err))
	}
	return t.revoke(ctx, user, hash)
}

// RevokeAll deletes every token of user except keep ("" keeps none).
// ErrUnavailable when Redis cannot be reached.
func (t *Tokens) RevokeAll(ctx context.Context, user domain.ID, keep string) error {
	uid := user.Hex()
	kept := ""
	if keep != "" {
		kept = hashToken(keep)
	}
	if t.journal != nil {
		hashes, closed := t.journal.tokensOf(uid, kept, t.clock.Now())
		if closed {
			return errClosed("revoke tokens")
		}
		return t.revoke(ctx, uid, hashes...)
	}
	hashes, err := t.rdb.SMembers(ctx, userTokensKey(uid)).Result()
	if err != nil {
		return fmt.Errorf("revoke tokens: %w", translate(ctx, err))
	}
	drop := hashes[:0]
	for _, h := range hashes {
		if h != kept {
			drop = append(drop, h)
		}
	}
	return t.revoke(ctx, uid, drop...)
}

// revoke journals the revocations, then deletes the tokens and their set
// members in one transaction.
func (t *Tokens) revoke(ctx context.Context, user string, hashes ...string) error {
	if len(hashes) == 0 {
		return nil
	}
	if t.journal != nil {
		if err := t.journal.revoked(t.clock.Now(), hashes...); err != nil {
			return err
		}
	}
	keys := make([]string, len(hashes))
	members := make([]any, len(hashes))
	for i, h := range hashes {
		keys[i], members[i] = tokenKey(h), h
	}
	_, err := t.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, keys...)
		p.SRem(ctx, userTokensKey(user), members...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke token: %w", translate(ctx, err))
	}
	return nil
}
