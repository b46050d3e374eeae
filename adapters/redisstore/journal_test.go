package redisstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/redisstore"
	"github.com/runnable/runnable/domain"
)

func journalPath(dataDir string) string {
	return filepath.Join(dataDir, "redis", "tokens.journal")
}

func wantUser(t *testing.T, s *redisstore.Store, tok string, user domain.ID, what string) {
	t.Helper()
	got, err := s.Tokens().Lookup(t.Context(), tok)
	if err != nil || got != user {
		t.Errorf("%s: Lookup got (%s, %v), want (%s, nil)", what, got.Hex(), err, user.Hex())
	}
}

func wantGone(t *testing.T, s *redisstore.Store, tok, what string) {
	t.Helper()
	if got, err := s.Tokens().Lookup(t.Context(), tok); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("%s: Lookup got (%s, %v), want ErrNotFound", what, got.Hex(), err)
	}
}

func issue(t *testing.T, s *redisstore.Store, user domain.ID, ttl time.Duration) string {
	t.Helper()
	tok, err := s.Tokens().Issue(t.Context(), user, ttl)
	if err != nil {
		t.Fatalf("Issue: got error %v, want nil", err)
	}
	return tok
}

func openEmbedded(t *testing.T, dir string, clock *fakeNow) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(t.Context(), redisstore.Config{DataDir: dir}, redisstore.WithClock(clock))
	if err != nil {
		t.Fatalf("Open embedded in %s: got error %v, want nil", dir, err)
	}
	return s
}

func closeStore(t *testing.T, s *redisstore.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
}

// TestJournalRestart issues and revokes tokens, closes the embedded store
// and opens a new one on the same data directory, as a server restart does.
func TestJournalRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := newFakeNow(time.Now().UTC())
	alice, bob := domain.ID{0xa}, domain.ID{0xb}

	s := openEmbedded(t, dir, clock)
	kept := issue(t, s, alice, time.Hour)
	revoked := issue(t, s, alice, time.Hour)
	revokedAll := issue(t, s, alice, time.Hour)
	dropped := issue(t, s, alice, time.Hour)
	bobs := issue(t, s, bob, time.Hour)
	if err := s.Tokens().Revoke(t.Context(), revoked); err != nil {
		t.Fatal(err)
	}
	// RevokeAll keeping kept drops revokedAll and dropped.
	if err := s.Tokens().RevokeAll(t.Context(), alice, kept); err != nil {
		t.Fatal(err)
	}
	short := issue(t, s, alice, time.Minute)
	closeStore(t, s)

	// Two minutes later (on the journal's clock) the short token has
	// expired; the others survive the restart.
	clock.Advance(2 * time.Minute)
	s = openEmbedded(t, dir, clock)
	wantUser(t, s, kept, alice, "kept token after restart")
	wantUser(t, s, bobs, bob, "bob's token after restart")
	wantGone(t, s, revoked, "revoked token after restart")
	wantGone(t, s, revokedAll, "token revoked by RevokeAll after restart")
	wantGone(t, s, dropped, "second token revoked by RevokeAll after restart")
	wantGone(t, s, short, "expired token after restart")

	// The user's token set was rebuilt: RevokeAll still finds kept.
	if err := s.Tokens().RevokeAll(t.Context(), alice, ""); err != nil {
		t.Fatal(err)
	}
	wantGone(t, s, kept, "kept token after RevokeAll on the restarted store")
	again := issue(t, s, bob, time.Hour)
	closeStore(t, s)

	s = openEmbedded(t, dir, clock)
	defer closeStore(t, s)
	wantGone(t, s, kept, "token revoked after the first restart, after the second")
	wantUser(t, s, bobs, bob, "bob's first token after the second restart")
	wantUser(t, s, again, bob, "bob's token issued after the first restart")

	// The start compacted the journal: a header and the two live tokens.
	data, err := os.ReadFile(journalPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); len(lines) != 3 {
		t.Errorf("journal after start: got %d lines, want 3 (header and two tokens):\n%s", len(lines), data)
	}
	for _, tok := range []string{kept, bobs, again} {
		if strings.Contains(string(data), tok) {
			t.Errorf("journal holds a token in clear: %s", tok)
		}
	}
}

// TestJournalCrash copies the data directory of a store that is still
// running, which is what a crash leaves on disk since every write is
// fsync'd before it returns, then appends a torn record.
func TestJournalCrash(t *testing.T) {
	t.Parallel()
	dir, crashed := t.TempDir(), t.TempDir()
	clock := newFakeNow(time.Now().UTC())
	user := domain.ID{0xc}

	s := openEmbedded(t, dir, clock)
	defer closeStore(t, s)
	tok := issue(t, s, user, time.Hour)
	gone := issue(t, s, user, time.Hour)
	if err := s.Tokens().Revoke(t.Context(), gone); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(journalPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	// The process died while writing one more record.
	data = append(data, "T 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a"...)
	if err := os.MkdirAll(filepath.Dir(journalPath(crashed)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journalPath(crashed), data, 0o600); err != nil {
		t.Fatal(err)
	}

	r := openEmbedded(t, crashed, clock)
	wantUser(t, r, tok, user, "token after a crash")
	wantGone(t, r, gone, "revoked token after a crash")
	// New records go on a fresh line, not after the torn one.
	tok2 := issue(t, r, user, time.Hour)
	closeStore(t, r)
	r = openEmbedded(t, crashed, clock)
	defer closeStore(t, r)
	wantUser(t, r, tok, user, "first token after the next restart")
	wantUser(t, r, tok2, user, "token issued after the crash, after the next restart")
}

// TestJournalCorrupt refuses a journal with a damaged record followed by
// good ones: that is not a torn write, and skipping a revocation would
// bring a revoked token back.
func TestJournalCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := newFakeNow(time.Now().UTC())
	s := openEmbedded(t, dir, clock)
	issue(t, s, domain.ID{1}, time.Hour)
	issue(t, s, domain.ID{2}, time.Hour)
	closeStore(t, s)

	data, err := os.ReadFile(journalPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n") // header, two records, ""
	lines[1] = strings.Replace(lines[1], "T ", "T 0", 1)
	if err := os.WriteFile(journalPath(dir), []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = redisstore.Open(t.Context(), redisstore.Config{DataDir: dir})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open with a corrupt record mid-journal: got nil error, want one")
	}
	if !strings.Contains(err.Error(), "corrupt at line 2") {
		t.Errorf("Open with a corrupt record: got error %q, want it to name line 2", err)
	}
}

// TestJournalLocked refuses a second store on the same data directory.
func TestJournalLocked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, redisstore.Config{DataDir: dir})
	s2, err := redisstore.Open(t.Context(), redisstore.Config{DataDir: dir})
	if err == nil {
		_ = s2.Close()
		t.Fatal("second Open on one data directory: got nil error, want one")
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("first store after the refused Open: Ping got %v, want nil", err)
	}
}

// TestEmbeddedExpiresByWallClock checks that the embedded server expires
// keys by itself, as a real server does (miniredis does not by default).
func TestEmbeddedExpiresByWallClock(t *testing.T) {
	t.Parallel()
	s := open(t, redisstore.Config{DataDir: t.TempDir()})
	if !s.Embedded() {
		t.Fatal("Embedded: got false with an empty URL, want true")
	}
	tok := issue(t, s, domain.ID{3}, 100*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.Tokens().Lookup(t.Context(), tok)
		if errors.Is(err, domain.ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("token with a 100ms TTL: Lookup still got %v after 10s, want ErrNotFound", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
