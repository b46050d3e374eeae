package porttest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Tokens runs the ports.Tokens contract (spec §1.2). newStore may return a
// shared store: every subtest uses fresh user ids. Expiry must run on the
// wall clock, as Redis TTLs do: one subtest waits for a 2 s token to lapse.
func Tokens(t *testing.T, newStore func(t *testing.T) ports.Tokens) {
	t.Run("IssueLookup", func(t *testing.T) { tokensIssueLookup(t, newStore(t)) })
	t.Run("Format", func(t *testing.T) { tokensFormat(t, newStore(t)) })
	t.Run("LookupUnknown", func(t *testing.T) { tokensLookupUnknown(t, newStore(t)) })
	t.Run("Revoke", func(t *testing.T) { tokensRevoke(t, newStore(t)) })
	t.Run("RevokeAllKeep", func(t *testing.T) { tokensRevokeAllKeep(t, newStore(t)) })
	t.Run("RevokeAllNone", func(t *testing.T) { tokensRevokeAllNone(t, newStore(t)) })
	t.Run("Expiry", func(t *testing.T) { tokensExpiry(t, newStore(t)) })
	t.Run("Concurrent", func(t *testing.T) { tokensConcurrent(t, newStore(t)) })
}

// tokensIssue issues a token or fails the test.
func tokensIssue(t *testing.T, s ports.Tokens, user domain.ID, ttl time.Duration) string {
	t.Helper()
	tok, err := s.Issue(t.Context(), user, ttl)
	must(t, err, "Issue")
	return tok
}

// tokensWantUser checks that tok resolves to user.
func tokensWantUser(t *testing.T, s ports.Tokens, tok string, user domain.ID, what string) {
	t.Helper()
	got, err := s.Lookup(t.Context(), tok)
	if err != nil {
		t.Errorf("%s: Lookup got error %v, want user %s", what, err, user.Hex())
		return
	}
	if got != user {
		t.Errorf("%s: Lookup got user %s, want %s", what, got.Hex(), user.Hex())
	}
}

// tokensWantGone checks that tok no longer resolves.
func tokensWantGone(t *testing.T, s ports.Tokens, tok, what string) {
	t.Helper()
	got, err := s.Lookup(t.Context(), tok)
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("%s: Lookup got (%s, %v), want ErrNotFound", what, got.Hex(), err)
	}
}

func tokensIssueLookup(t *testing.T, s ports.Tokens) {
	alice, bob := newID(), newID()
	a1 := tokensIssue(t, s, alice, time.Hour)
	a2 := tokensIssue(t, s, alice, time.Hour)
	b1 := tokensIssue(t, s, bob, time.Hour)
	tokensWantUser(t, s, a1, alice, "first token of alice")
	tokensWantUser(t, s, a2, alice, "second token of alice")
	tokensWantUser(t, s, b1, bob, "token of bob")
	// Use does not consume a token.
	tokensWantUser(t, s, a1, alice, "first token of alice, looked up again")
}

func tokensFormat(t *testing.T, s ports.Tokens) {
	user := newID()
	seen := map[string]bool{}
	for range 20 {
		tok := tokensIssue(t, s, user, time.Hour)
		if len(tok) != 43 {
			t.Fatalf("token %q: got length %d, want 43", tok, len(tok))
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q: got %d bytes (err %v) from base64url without padding, want 32", tok, len(raw), err)
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
}

func tokensLookupUnknown(t *testing.T, s ports.Tokens) {
	tok := tokensIssue(t, s, newID(), time.Hour)
	// Same shape as tok, one character changed.
	flip := []byte(tok)
	if flip[10] == 'A' {
		flip[10] = 'B'
	} else {
		flip[10] = 'A'
	}
	for _, bad := range []string{
		"",
		"garbage",
		string(flip),
		tok + "x",
		tok[:42],
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	} {
		tokensWantGone(t, s, bad, "unknown token "+bad)
	}
}

func tokensRevoke(t *testing.T, s ports.Tokens) {
	user := newID()
	t1 := tokensIssue(t, s, user, time.Hour)
	t2 := tokensIssue(t, s, user, time.Hour)
	must(t, s.Revoke(t.Context(), t1), "Revoke")
	tokensWantGone(t, s, t1, "revoked token")
	tokensWantUser(t, s, t2, user, "other token of the same user")
	must(t, s.Revoke(t.Context(), t1), "Revoke again")
	must(t, s.Revoke(t.Context(), "garbage"), "Revoke unknown")
	must(t, s.Revoke(t.Context(), ""), "Revoke empty")
	// RevokeAll after a Revoke still revokes the rest.
	must(t, s.RevokeAll(t.Context(), user, ""), "RevokeAll")
	tokensWantGone(t, s, t2, "token after RevokeAll")
}

func tokensRevokeAllKeep(t *testing.T, s ports.Tokens) {
	user, other := newID(), newID()
	var toks []string
	for range 4 {
		toks = append(toks, tokensIssue(t, s, user, time.Hour))
	}
	o := tokensIssue(t, s, other, time.Hour)
	keep := toks[2]
	must(t, s.RevokeAll(t.Context(), user, keep), "RevokeAll with keep")
	for i, tok := range toks {
		if tok == keep {
			tokensWantUser(t, s, tok, user, "kept token")
		} else {
			tokensWantGone(t, s, tok, fmt.Sprintf("token %d after RevokeAll", i))
		}
	}
	tokensWantUser(t, s, o, other, "other user's token")
	// New tokens issued after RevokeAll work, and a later RevokeAll keeping
	// nothing removes the kept one too.
	n := tokensIssue(t, s, user, time.Hour)
	tokensWantUser(t, s, n, user, "token issued after RevokeAll")
	must(t, s.RevokeAll(t.Context(), user, ""), "RevokeAll keeping none")
	tokensWantGone(t, s, keep, "formerly kept token")
	tokensWantGone(t, s, n, "new token")
	tokensWantUser(t, s, o, other, "other user's token after second RevokeAll")
}

func tokensRevokeAllNone(t *testing.T, s ports.Tokens) {
	user, other := newID(), newID()
	o := tokensIssue(t, s, other, time.Hour)
	must(t, s.RevokeAll(t.Context(), user, ""), "RevokeAll of a user without tokens")
	// keep naming another user's token does not touch it, nor protect it
	// from its own user's RevokeAll.
	must(t, s.RevokeAll(t.Context(), user, o), "RevokeAll keeping another user's token")
	tokensWantUser(t, s, o, other, "other user's token")
	must(t, s.RevokeAll(t.Context(), other, "garbage"), "RevokeAll keeping an unknown token")
	tokensWantGone(t, s, o, "token after its user's RevokeAll")
}

func tokensExpiry(t *testing.T, s ports.Tokens) {
	user := newID()
	long := tokensIssue(t, s, user, time.Hour)
	short := tokensIssue(t, s, user, 2*time.Second)
	tokensWantUser(t, s, short, user, "short token right after issue")
	// Looking it up every 50 ms must not extend it: the TTL is fixed at
	// issue.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := s.Lookup(t.Context(), short)
		if errors.Is(err, domain.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatalf("Lookup short token: got error %v, want a user or ErrNotFound", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("token issued with a 2s TTL still resolves after 20s of lookups")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tokensWantUser(t, s, long, user, "long token after the short one expired")
	must(t, s.Revoke(t.Context(), short), "Revoke expired token")
	must(t, s.RevokeAll(t.Context(), user, ""), "RevokeAll with an expired token")
	tokensWantGone(t, s, long, "long token after RevokeAll")
}

func tokensConcurrent(t *testing.T, s ports.Tokens) {
	const n = 16
	users := make([]domain.ID, n)
	toks := make([]string, n)
	errs := make([]error, n)
	for i := range users {
		users[i] = newID()
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			toks[i], errs[i] = s.Issue(t.Context(), users[i], time.Hour)
			if errs[i] == nil {
				_, errs[i] = s.Lookup(t.Context(), toks[i])
			}
		})
	}
	wg.Wait()
	for i := range n {
		must(t, errs[i], "concurrent Issue and Lookup")
		tokensWantUser(t, s, toks[i], users[i], "token issued concurrently")
	}
}
