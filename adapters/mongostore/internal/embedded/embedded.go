package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// FerretDB's New writes package-level state; starts are serialized.
var startMu sync.Mutex

// Server is a running in-process FerretDB.
type Server struct {
	dir    string // the SQLite files, one per database
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs FerretDB with its SQLite files under dir (created if missing)
// on 127.0.0.1 and a free port. log receives FerretDB's own messages; nil
// discards them.
func Start(dir string, log *slog.Logger) (*Server, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	lock, err := lockDir(abs)
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	startMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    log,
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.ToSlash(abs) + "/",
	})
	startMu.Unlock()
	if err != nil {
		unlock(lock)
		return nil, fmt.Errorf("embedded store: start FerretDB in %s: %w", abs, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{dir: abs, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer unlock(lock)
		_ = f.Run(ctx) // returns nil when ctx ends, files closed
	}()
	s.uri = f.MongoDBURI()
	return s, nil
}

func unlock(f *os.File) {
	if f != nil {
		_ = f.Close()
	}
}

// URI is the mongodb:// connection string of the server.
func (s *Server) URI() string { return s.uri }

// Close stops the listener, closes connections and the SQLite files, and
// waits for them, or for ctx.
func (s *Server) Close(ctx context.Context) error {
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("embedded store: stop: %w", ctx.Err())
	}
}
