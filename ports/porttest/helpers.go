package porttest

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runnable/runnable/domain"
)

// base is a millisecond-aligned reference time; odd adds sub-millisecond
// noise that a store may drop.
var (
	base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	odd  = 123_456_789 * time.Nanosecond
)

var (
	idSeq    atomic.Uint32
	idRandom = func() (b [5]byte) {
		_, _ = rand.Read(b[:])
		return b
	}()
)

// newID returns an ObjectId-shaped id; successive ids compare greater.
func newID() domain.ID {
	var id domain.ID
	binary.BigEndian.PutUint32(id[0:4], uint32(time.Now().Unix()))
	copy(id[4:9], idRandom[:])
	c := idSeq.Add(1)
	id[9], id[10], id[11] = byte(c>>16), byte(c>>8), byte(c)
	return id
}

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

func ptr[T any](v T) *T { return &v }

// msTime normalises a time for comparison: millisecond precision, UTC.
func msTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Millisecond).UTC()
}

func msTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := msTime(*t)
	return &v
}

func normTags(tags []domain.Tag) []domain.Tag {
	if len(tags) == 0 {
		return nil
	}
	return slices.Clone(tags)
}

func normEnv(env map[string]string) map[string]string {
	if len(env) == 0 {
		return nil
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

func normUser(u *domain.User) domain.User {
	c := *u
	c.Created = msTime(c.Created)
	return c
}

func normImage(img *domain.Image) domain.Image {
	c := *img
	c.Tags = normTags(c.Tags)
	c.Env = normEnv(c.Env)
	c.Created = msTime(c.Created)
	c.Updated = msTime(c.Updated)
	return c
}

func normDraft(d *domain.Draft) domain.Draft {
	c := *d
	c.Tags = normTags(c.Tags)
	c.Env = normEnv(c.Env)
	c.StartedAt = msTimePtr(c.StartedAt)
	c.StoppedAt = msTimePtr(c.StoppedAt)
	if c.ExitCode != nil {
		c.ExitCode = ptr(*c.ExitCode)
	}
	c.LastAccess = msTime(c.LastAccess)
	c.Created = msTime(c.Created)
	c.Save.StartedAt = msTimePtr(c.Save.StartedAt)
	c.Save.FinishedAt = msTimePtr(c.Save.FinishedAt)
	return c
}

func normFile(f domain.File) domain.File {
	f.Modified = msTime(f.Modified)
	if len(f.Content) == 0 {
		f.Content = nil
	} else {
		f.Content = slices.Clone(f.Content)
	}
	return f
}

// show prints a value with pointers followed and ids in hex.
func show(v any) string { return fmt.Sprintf("%+v", deref(v)) }

func deref(v any) any {
	switch x := v.(type) {
	case domain.Draft:
		type flat struct {
			domain.Draft
			StartedAt, StoppedAt, SaveStartedAt, SaveFinishedAt string
			ExitCode                                            string
		}
		return flat{Draft: x, StartedAt: tp(x.StartedAt), StoppedAt: tp(x.StoppedAt),
			SaveStartedAt: tp(x.Save.StartedAt), SaveFinishedAt: tp(x.Save.FinishedAt), ExitCode: ip(x.ExitCode)}
	}
	return v
}

func tp(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.Format(time.RFC3339Nano)
}

func ip(i *int) string {
	if i == nil {
		return "nil"
	}
	return fmt.Sprint(*i)
}

// must fails the test now when err is not nil.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", what, err)
	}
}

// wantKind checks that err matches kind with errors.Is.
func wantKind(t *testing.T, err, kind error, what string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %v, want kind %q", what, err, kind)
	}
}

// wantConflict checks for ErrConflict with a public message.
func wantConflict(t *testing.T, err error, msg, what string) {
	t.Helper()
	if !errors.Is(err, domain.ErrConflict) {
		t.Errorf("%s: got error %v, want ErrConflict %q", what, err, msg)
		return
	}
	if got, _ := domain.PublicMessage(err); got != msg {
		t.Errorf("%s: got message %q, want %q", what, got, msg)
	}
}

func hexes(ids []domain.ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.Hex()
	}
	return "[" + strings.Join(s, " ") + "]"
}

// sameIDs checks got against want in order.
func sameIDs(t *testing.T, got, want []domain.ID, what string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got ids %s, want %s", what, hexes(got), hexes(want))
	}
}

// sameIDSet checks got against want in any order.
func sameIDSet(t *testing.T, got, want []domain.ID, what string) {
	t.Helper()
	cmp := func(a, b domain.ID) int { return strings.Compare(string(a[:]), string(b[:])) }
	g, w := slices.SortedFunc(slices.Values(got), cmp), slices.SortedFunc(slices.Values(want), cmp)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got ids %s (any order), want %s", what, hexes(g), hexes(w))
	}
}

// sameStringSet checks that got holds exactly the distinct values of want
// (duplicates in got are tolerated, order is not checked).
func sameStringSet(t *testing.T, got, want []string, what string) {
	t.Helper()
	g := slices.Compact(slices.Sorted(slices.Values(got)))
	w := slices.Compact(slices.Sorted(slices.Values(want)))
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %q (distinct, sorted), want %q", what, g, w)
	}
}

func idsOf[T any](items []T, id func(T) domain.ID) []domain.ID {
	out := make([]domain.ID, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func isKind(err, kind error) bool { return errors.Is(err, kind) }
