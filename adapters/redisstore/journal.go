package redisstore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The token journal makes the embedded server's tokens durable
// (docs/adr/0003-embedded-redis-persistence.md). It is a text file of
// records, one per line, each ending in the CRC-32 of the rest of the line:
//
//	T <token hash> <user hex> <expiry unix ms> <crc>   a token was issued
//	R <token hash> <crc>                               a token was revoked
//
// Every write is fsync'd before the caller touches Redis. At open the file
// is replayed, expired and revoked tokens are dropped and the result is
// written back compacted. A torn tail (a crash mid-write) is dropped; a bad
// record followed by good ones is corruption and fails the open.
const (
	journalFile   = "tokens.journal"
	journalLock   = "tokens.lock"
	journalHeader = "# runnable token journal v1"
	// defaultCompactAfter is the fewest records a running journal is
	// compacted at. Past it, a write compacts the journal once it holds
	// twice the records it had after the last compaction, so the file stays
	// within about twice the live tokens and each record is rewritten
	// O(1) times on average.
	defaultCompactAfter = 4096
)

type journalEntry struct {
	user string // hex id
	exp  time.Time
}

type journal struct {
	mu     sync.Mutex
	dir    string
	f      *os.File // append-only handle, nil once closed
	unlock func() error
	// live is every token issued and not revoked (token hash -> entry),
	// expired ones until the next compaction. It is also the embedded
	// store's token cache: Lookup reads it instead of asking Redis. Its
	// writers hold mu and lmu; lookups hold only lmu, so that they do not
	// wait for a write's fsync.
	lmu     sync.RWMutex
	live    map[string]journalEntry
	closed  bool // under lmu
	records int  // records in the file
	// compactAfter is defaultCompactAfter; tests lower it.
	compactAfter int
	next         int // records at which the next write compacts
}

// openJournal locks dir against other processes, replays and compacts the
// journal and opens it for appending.
func openJournal(dir string, now time.Time) (*journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("redisstore: token journal: %w", err)
	}
	unlock, err := lockDir(filepath.Join(dir, journalLock))
	if err != nil {
		return nil, fmt.Errorf("redisstore: token journal in %s: %w", dir, err)
	}
	j := &journal{dir: dir, unlock: unlock, live: map[string]journalEntry{}, compactAfter: defaultCompactAfter}
	if err := j.load(); err != nil {
		_ = unlock()
		return nil, err
	}
	if err := j.compactLocked(now); err != nil {
		_ = unlock()
		return nil, err
	}
	return j, nil
}

func (j *journal) path() string { return filepath.Join(j.dir, journalFile) }

// load reads the journal into j.live.
func (j *journal) load() error {
	data, err := os.ReadFile(j.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("redisstore: read token journal: %w", err)
	}
	lines := bytes.Split(data, []byte{'\n'})
	// The segment after the last newline is empty, or a torn write.
	lines = lines[:len(lines)-1]
	bad := -1 // first line that did not parse
	for i, line := range lines {
		if i == 0 && string(line) == journalHeader {
			continue
		}
		if i == 0 && strings.HasPrefix(string(line), "# ") {
			return fmt.Errorf("redisstore: token journal %s: unknown format %q", j.path(), line)
		}
		rec, ok := parseRecord(string(line))
		if !ok {
			if bad < 0 {
				bad = i
			}
			continue
		}
		if bad >= 0 {
			return fmt.Errorf("redisstore: token journal %s is corrupt at line %d", j.path(), bad+1)
		}
		j.records++
		if rec.op == 'T' {
			j.live[rec.hash] = journalEntry{user: rec.user, exp: rec.exp}
		} else {
			delete(j.live, rec.hash)
		}
	}
	return nil
}

type record struct {
	op   byte // 'T' or 'R'
	hash string
	user string
	exp  time.Time
}

func (r record) String() string {
	var body string
	if r.op == 'T' {
		body = fmt.Sprintf("T %s %s %d", r.hash, r.user, r.exp.UnixMilli())
	} else {
		body = "R " + r.hash
	}
	return fmt.Sprintf("%s %08x\n", body, crc32.ChecksumIEEE([]byte(body)))
}

func parseRecord(line string) (record, bool) {
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		return record{}, false
	}
	body, sum := line[:i], line[i+1:]
	if len(sum) != 8 || fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body))) != sum {
		return record{}, false
	}
	f := strings.Split(body, " ")
	switch {
	case len(f) == 4 && f[0] == "T" && isHex(f[1], 64) && isHex(f[2], 24):
		ms, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return record{}, false
		}
		return record{op: 'T', hash: f[1], user: f[2], exp: time.UnixMilli(ms)}, true
	case len(f) == 2 && f[0] == "R" && isHex(f[1], 64):
		return record{op: 'R', hash: f[1]}, true
	}
	return record{}, false
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// issued records a new token. It returns once the record is on disk.
func (j *journal) issued(hash, user string, exp, now time.Time) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.appendLocked(record{op: 'T', hash: hash, user: user, exp: exp}); err != nil {
		return err
	}
	j.lmu.Lock()
	j.live[hash] = journalEntry{user: user, exp: exp}
	j.lmu.Unlock()
	return j.maybeCompactLocked(now)
}

// revoked records revocations. It returns once they are on disk.
func (j *journal) revoked(now time.Time, hashes ...string) error {
	if len(hashes) == 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	recs := make([]record, len(hashes))
	for i, h := range hashes {
		recs[i] = record{op: 'R', hash: h}
	}
	if err := j.appendLocked(recs...); err != nil {
		return err
	}
	j.lmu.Lock()
	for _, h := range hashes {
		delete(j.live, h)
	}
	j.lmu.Unlock()
	return j.maybeCompactLocked(now)
}

func (j *journal) appendLocked(recs ...record) error {
	if j.f == nil {
		return errors.New("redisstore: token journal is closed")
	}
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.String())
	}
	if _, err := j.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("redisstore: write token journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("redisstore: sync token journal: %w", err)
	}
	j.records += len(recs)
	return nil
}

func (j *journal) maybeCompactLocked(now time.Time) error {
	if j.records < j.next {
		return nil
	}
	return j.compactLocked(now)
}

// compactLocked drops expired tokens and rewrites the file with one record
// per live token: write a temporary file, sync it, rename it over the
// journal and sync the directory, then reopen for appending.
func (j *journal) compactLocked(now time.Time) error {
	j.lmu.Lock()
	for h, e := range j.live {
		if !e.exp.After(now) {
			delete(j.live, h)
		}
	}
	j.lmu.Unlock()
	var b strings.Builder
	b.WriteString(journalHeader + "\n")
	for h, e := range j.live {
		b.WriteString(record{op: 'T', hash: h, user: e.user, exp: e.exp}.String())
	}
	tmp := j.path() + ".tmp"
	if err := writeFileSync(tmp, []byte(b.String())); err != nil {
		return fmt.Errorf("redisstore: compact token journal: %w", err)
	}
	if err := os.Rename(tmp, j.path()); err != nil {
		return fmt.Errorf("redisstore: compact token journal: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		return fmt.Errorf("redisstore: compact token journal: %w", err)
	}
	f, err := os.OpenFile(j.path(), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("redisstore: open token journal: %w", err)
	}
	if j.f != nil {
		_ = j.f.Close()
	}
	j.f, j.records = f, len(j.live)
	j.next = max(j.compactAfter, 2*len(j.live))
	return nil
}

// snapshot returns a copy of the live tokens.
func (j *journal) snapshot() map[string]journalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	m := make(map[string]journalEntry, len(j.live))
	for h, e := range j.live {
		m[h] = e
	}
	return m
}

// lookup returns the user of a live token that has not expired at now.
// closed reports a closed journal, whose tokens are no longer served.
func (j *journal) lookup(hash string, now time.Time) (user string, ok, closed bool) {
	j.lmu.RLock()
	defer j.lmu.RUnlock()
	if j.closed {
		return "", false, true
	}
	e, ok := j.live[hash]
	if !ok || !e.exp.After(now) {
		return "", false, false
	}
	return e.user, true, false
}

// tokensOf lists the hashes of user's live tokens that have not expired
// at now, except keep.
func (j *journal) tokensOf(user, keep string, now time.Time) (hashes []string, closed bool) {
	j.lmu.RLock()
	defer j.lmu.RUnlock()
	if j.closed {
		return nil, true
	}
	for h, e := range j.live {
		if e.user == user && h != keep && e.exp.After(now) {
			hashes = append(hashes, h)
		}
	}
	return hashes, false
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lmu.Lock()
	j.closed = true
	j.lmu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return errors.Join(err, j.unlock())
}

func writeFileSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
