package mongostore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/adapters/mongostore/internal/embedded"
	"github.com/runnable/runnable/domain"
)

// Config selects the store (spec §10).
type Config struct {
	// URL is a mongodb:// connection string (MONGO_URL). "" runs the
	// embedded store: FerretDB in-process over SQLite under DataDir.
	URL string
	// DB is the database name (MONGO_DB); "" means "runnable".
	DB string
	// DataDir is RUNNABLE_DATA_DIR; "" means "./data". The embedded store
	// keeps its SQLite files in DataDir/store.
	DataDir string
	// ServerSelectionTimeout bounds how long an operation waits for an
	// unreachable server before failing with ErrUnavailable; 0 means 5s.
	ServerSelectionTimeout time.Duration
	// Logger receives the embedded FerretDB's warnings; nil discards them.
	Logger *slog.Logger
}

// Store is an open MongoDB (or embedded FerretDB) database with the store
// adapters over it.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	server *embedded.Server // nil with a URL

	users  *Users
	images *Images
	drafts *Drafts
	files  *Files
	pub    publishing // channels, categories, votes, comments
}

// Open connects to cfg.URL, or starts the embedded FerretDB under
// cfg.DataDir on a loopback port when cfg.URL is "". It does not wait for
// a remote server: an unreachable one makes Ping and every operation fail
// with ErrUnavailable until it answers. Close releases everything.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.DB == "" {
		cfg.DB = "runnable"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "./data"
	}
	if cfg.ServerSelectionTimeout == 0 {
		cfg.ServerSelectionTimeout = 5 * time.Second
	}
	s := &Store{}
	uri := cfg.URL
	if uri == "" {
		var log *slog.Logger
		if cfg.Logger != nil {
			log = slog.New(minLevel{cfg.Logger.Handler(), slog.LevelWarn})
		}
		srv, err := embedded.Start(filepath.Join(cfg.DataDir, "store"), log)
		if err != nil {
			return nil, err
		}
		s.server, uri = srv, srv.URI()
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(cfg.ServerSelectionTimeout).
		SetAppName("runnable"))
	if err != nil {
		if s.server != nil {
			_ = s.server.Close(ctx)
		}
		return nil, fmt.Errorf("mongostore: connect: %w", err)
	}
	s.client = client
	s.db = client.Database(cfg.DB)
	if s.server != nil {
		// Collections exist before their _id lookups are indexed (see
		// embedded.Server.IndexIDs); creating them is idempotent.
		err := createCollections(ctx, s.db)
		if err == nil {
			err = s.server.IndexIDs(ctx, cfg.DB)
		}
		if err != nil {
			_ = s.Close(ctx)
			return nil, fmt.Errorf("mongostore: prepare the embedded store: %w", err)
		}
	}
	s.users, s.images, s.drafts, s.files = NewUsers(s.db), NewImages(s.db), NewDrafts(s.db), NewFiles(s.db)
	// The embedded store's flock makes this process its only writer.
	s.images.exclusive, s.drafts.exclusive = s.server != nil, s.server != nil
	s.pub = newPublishing(s.db)
	return s, nil
}

// Embedded reports whether the store runs in-process.
func (s *Store) Embedded() bool { return s.server != nil }

// DB is the database, for migrations and tools.
func (s *Store) DB() *mongo.Database { return s.db }

// Users is the ports.Users of the store.
func (s *Store) Users() *Users { return s.users }

// Images is the ports.Images of the store.
func (s *Store) Images() *Images { return s.images }

// Drafts is the ports.Drafts of the store.
func (s *Store) Drafts() *Drafts { return s.drafts }

// Files is the ports.Files of the store.
func (s *Store) Files() *Files { return s.files }

// Ping checks the server answers (readiness). ErrUnavailable "service
// unavailable" when it does not.
func (s *Store) Ping(ctx context.Context) error {
	err := s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return domain.Wrap(domain.ErrUnavailable, msgUnavailable, fmt.Errorf("mongostore: ping: %w", err))
}

// Close disconnects and stops the embedded server, if any.
func (s *Store) Close(ctx context.Context) error {
	err := s.client.Disconnect(ctx)
	if s.server != nil {
		err = errors.Join(err, s.server.Close(ctx))
	}
	return err
}

// minLevel drops records below a level (FerretDB logs a lot at info).
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
