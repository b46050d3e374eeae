package mongostore_test

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/adapters/mongostore/mongotest"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

// migrated returns a fresh database with the schema migrations applied.
func migrated(t testing.TB) *mongo.Database {
	t.Helper()
	db := mongotest.DB(t)
	if err := mongostore.Migrate(t.Context(), db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func TestUsersContract(t *testing.T) {
	porttest.Users(t, func(t *testing.T) ports.Users { return mongostore.NewUsers(migrated(t)) })
}

func TestImagesContract(t *testing.T) {
	porttest.Images(t, func(t *testing.T) ports.Images { return mongostore.NewImages(migrated(t)) })
}

func TestDraftsContract(t *testing.T) {
	porttest.Drafts(t, func(t *testing.T) ports.Drafts { return mongostore.NewDrafts(migrated(t)) })
}

func TestFilesContract(t *testing.T) {
	porttest.Files(t, func(t *testing.T) ports.Files { return mongostore.NewFiles(migrated(t)) })
}
