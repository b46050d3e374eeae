package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/runnable/runnable/adapters/mongostore/internal/embedded"
)

// URI returns a connection string for t and a database name that no other
// test uses. With MONGO_URL set it is that server (the database is dropped
// at the end of t); else a new in-process FerretDB whose files live in
// t.TempDir() and which stops at the end of t.
func URI(t testing.TB) (uri, db string) {
	t.Helper()
	db = "rt_" + randomHex(6)
	if u := os.Getenv("MONGO_URL"); u != "" {
		c := connect(t, u)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.Database(db).Drop(ctx)
		})
		return u, db
	}
	dir := t.TempDir() // registered first, so removed after the server stops
	s, err := embedded.Start(dir, nil)
	if err != nil {
		missing(t, "in-process FerretDB did not start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("stop FerretDB: %v", err)
		}
	})
	return s.URI(), db
}

// DB returns a fresh, empty database for t (see URI). The client is
// disconnected at the end of t.
func DB(t testing.TB) *mongo.Database {
	t.Helper()
	uri, name := URI(t)
	return connect(t, uri).Database(name)
}

// unreachable remembers servers that did not answer, so that the other
// tests of the process give up at once instead of waiting again.
var unreachable sync.Map // uri -> error

// connect opens a client on uri, checks the server answers, and
// disconnects at the end of t.
func connect(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	if err, ok := unreachable.Load(uri); ok {
		missing(t, "MongoDB at %s does not answer: %v", uri, err)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		missing(t, "MongoDB client for %s: %v", uri, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx, nil); err != nil {
		unreachable.Store(uri, err)
		missing(t, "MongoDB at %s does not answer: %v", uri, err)
	}
	return c
}

// missing fails the test under RUNNABLE_REQUIRE_SERVICES=1 (CI) and skips
// it with the reason otherwise.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("RUNNABLE_REQUIRE_SERVICES") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf("store service missing: "+format, args...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
