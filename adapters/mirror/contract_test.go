package mirror_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/mirror"
	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/adapters/mongostore/mongotest"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

// imageBackend is a backing image store the tests can also write behind
// the mirror's back: inmem.Images or mongostore.Images.
type imageBackend interface {
	porttest.ImageTagStore
	All(ctx context.Context) ([]*domain.Image, error)
}

// draftBackend is a backing draft store: inmem.Drafts or mongostore.Drafts.
type draftBackend interface {
	porttest.DraftTagStore
	All(ctx context.Context) ([]*domain.Draft, error)
}

// backend makes empty backing stores of one kind.
type backend struct {
	name   string
	images func(t *testing.T) imageBackend
	drafts func(t *testing.T) draftBackend
}

// backends are the in-memory fake and the real adapter on FerretDB (or
// MONGO_URL, see mongotest).
var backends = []backend{
	{"inmem",
		func(*testing.T) imageBackend { return inmem.NewImages() },
		func(*testing.T) draftBackend { return inmem.NewDrafts() }},
	{"mongostore",
		func(t *testing.T) imageBackend { return mongostore.NewImages(migrated(t)) },
		func(t *testing.T) draftBackend { return mongostore.NewDrafts(migrated(t)) }},
}

func migrated(t *testing.T) *mongo.Database {
	t.Helper()
	db := mongotest.DB(t)
	if err := mongostore.Migrate(t.Context(), db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

// logs collects a test's log lines.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogger(t *testing.T) (*slog.Logger, *logs) {
	l := &logs{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mirror logs:\n%s", l)
		}
	})
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

func mirrorImages(t *testing.T, b imageBackend) *mirror.Images {
	t.Helper()
	log, _ := newLogger(t)
	m, err := mirror.NewImages(t.Context(), b, b, b.All, log)
	if err != nil {
		t.Fatalf("NewImages: %v", err)
	}
	return m
}

func mirrorDrafts(t *testing.T, b draftBackend) *mirror.Drafts {
	t.Helper()
	log, _ := newLogger(t)
	m, err := mirror.NewDrafts(t.Context(), b, b, b.All, log)
	if err != nil {
		t.Fatalf("NewDrafts: %v", err)
	}
	return m
}

func TestImagesContract(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			porttest.Images(t, func(t *testing.T) ports.Images { return mirrorImages(t, be.images(t)) })
		})
	}
}

func TestImageTagsContract(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			porttest.ImageTags(t, func(t *testing.T) porttest.ImageTagStore { return mirrorImages(t, be.images(t)) })
		})
	}
}

func TestDraftsContract(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			porttest.Drafts(t, func(t *testing.T) ports.Drafts { return mirrorDrafts(t, be.drafts(t)) })
		})
	}
}

func TestDraftTagsContract(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			porttest.DraftTags(t, func(t *testing.T) porttest.DraftTagStore { return mirrorDrafts(t, be.drafts(t)) })
		})
	}
}
