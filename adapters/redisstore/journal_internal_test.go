package redisstore

import (
	"fmt"
	"hash/crc32"
	"os"
	"strings"
	"testing"
	"time"
)

func TestJournalCompactsWhileRunning(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	j, err := openJournal(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	j.compactAfter, j.next = 10, 10
	hash := func(i int) string {
		return strings.Repeat("0", 62) + string(rune('a'+i/16)) + string("0123456789abcdef"[i%16])
	}
	for i := range 8 {
		if err := j.issued(hash(i), strings.Repeat("1", 24), now.Add(time.Hour), now); err != nil {
			t.Fatal(err)
		}
	}
	// 8 records, 8 live. Revoking 6 makes 14 records for 2 live tokens:
	// past 10, so the journal is rewritten with 2.
	if err := j.revoked(now, hash(0), hash(1), hash(2), hash(3), hash(4), hash(5)); err != nil {
		t.Fatal(err)
	}
	if j.records != 2 {
		t.Errorf("records after compaction: got %d, want 2", j.records)
	}
	data, err := os.ReadFile(j.path())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "\n"); got != 3 {
		t.Errorf("journal lines after compaction: got %d, want 3:\n%s", got, data)
	}
	// Appends after a compaction go to the new file.
	if err := j.issued(hash(9), strings.Repeat("1", 24), now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(j.path())
	if !strings.Contains(string(data), hash(9)) {
		t.Errorf("journal after an append following compaction lacks the new record:\n%s", data)
	}
}

func TestParseRecord(t *testing.T) {
	h := strings.Repeat("ab", 32)
	u := strings.Repeat("cd", 12)
	exp := time.UnixMilli(1709294400123)
	tests := []struct {
		name string
		give string
		ok   bool
	}{
		{"issue", strings.TrimSuffix(record{op: 'T', hash: h, user: u, exp: exp}.String(), "\n"), true},
		{"revoke", strings.TrimSuffix(record{op: 'R', hash: h}.String(), "\n"), true},
		{"bad crc", "R " + h + " 00000000", false},
		{"torn", "T " + h[:20], false},
		{"empty", "", false},
		{"short hash", strings.TrimSuffix(record{op: 'R', hash: h[:10]}.String(), "\n"), false},
		{"unknown op", withCRC("X " + h), false},
		{"extra field", withCRC("R " + h + " x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, ok := parseRecord(tt.give)
			if ok != tt.ok {
				t.Fatalf("parseRecord(%q): got ok %v, want %v", tt.give, ok, tt.ok)
			}
			if ok && (rec.hash != h || (rec.op == 'T' && (rec.user != u || !rec.exp.Equal(exp)))) {
				t.Errorf("parseRecord(%q): got %+v, want hash %s user %s exp %v", tt.give, rec, h, u, exp)
			}
		})
	}
}

func withCRC(body string) string {
	return body + " " + fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body)))
}

func TestJournalCompactionDropsExpired(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	j, err := openJournal(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	j.compactAfter, j.next = 4, 4
	user := strings.Repeat("1", 24)
	hash := func(i int) string { return fmt.Sprintf("%064x", i) }
	// Four tokens that expire in a minute: the fourth write compacts, all
	// four live, next compaction at 8 records.
	for i := range 4 {
		if err := j.issued(hash(i), user, now.Add(time.Minute), now); err != nil {
			t.Fatal(err)
		}
	}
	if j.records != 4 || j.next != 8 {
		t.Fatalf("after 4 live tokens: got records %d, next %d; want 4, 8", j.records, j.next)
	}
	// An hour later, four more: the eighth record compacts and drops the
	// expired four, although no token was revoked.
	later := now.Add(time.Hour)
	for i := 4; i < 8; i++ {
		if err := j.issued(hash(i), user, later.Add(time.Minute), later); err != nil {
			t.Fatal(err)
		}
	}
	if j.records != 4 || len(j.live) != 4 {
		t.Errorf("after expiry and compaction: got records %d, live %d; want 4, 4", j.records, len(j.live))
	}
	for i := range 4 {
		if _, ok := j.live[hash(i)]; ok {
			t.Errorf("expired token %d still live after compaction", i)
		}
	}
}
