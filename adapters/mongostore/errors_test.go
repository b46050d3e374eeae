package mongostore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/adapters/mongostore/mongotest"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	s, err := mongostore.Open(t.Context(), mongostore.Config{
		URL:                    "mongodb://" + closedPort(t) + "/?connectTimeoutMS=200",
		ServerSelectionTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Open: got error %v, want nil (connecting is lazy)", err)
	}
	t.Cleanup(func() { _ = s.Close(t.Context()) })

	ops := []struct {
		name string
		run  func() error
	}{
		{"Ping", func() error { return s.Ping(t.Context()) }},
		{"Users.Get", func() error { _, err := s.Users().Get(t.Context(), domain.ID{1}); return err }},
		{"Users.Create", func() error { return s.Users().Create(t.Context(), &domain.User{ID: domain.ID{1}, Email: "a@b.c"}) }},
		{"Images.List", func() error { _, _, err := s.Images().List(t.Context(), ports.ImageQuery{}); return err }},
		{"Drafts.Update", func() error { return s.Drafts().Update(t.Context(), &domain.Draft{ID: domain.ID{1}}) }},
		{"Files.List", func() error { _, err := s.Files().List(t.Context(), domain.ID{1}); return err }},
		{"Migrate", func() error { return mongostore.Migrate(t.Context(), s.DB()) }},
	}
	for _, op := range ops {
		start := time.Now()
		err := op.run()
		took := time.Since(start)
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Errorf("%s: got error %v, want ErrUnavailable", op.name, err)
			continue
		}
		if msg, _ := domain.PublicMessage(err); msg != "service unavailable" {
			t.Errorf("%s: got message %q, want %q", op.name, msg, "service unavailable")
		}
		if took > 3*time.Second {
			t.Errorf("%s: took %v, want about the 300ms server selection timeout", op.name, took)
		}
	}
}

func TestUnreachableServerRecovers(t *testing.T) {
	// The store is down when the server starts, then comes up on the same
	// address: operations succeed without reopening. A TCP proxy to a
	// FerretDB stands in for the MongoDB that comes back.
	addr := closedPort(t)
	s, err := mongostore.Open(t.Context(), mongostore.Config{
		URL:                    "mongodb://" + addr + "/?connectTimeoutMS=200",
		DB:                     "recover",
		ServerSelectionTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := s.Ping(ctx); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Ping while down: got error %v, want ErrUnavailable", err)
	}

	target, _ := mongotest.URI(t)
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy(t, addr, u.Host)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping once the server is up: got error %v, want nil", err)
	}
	if err := s.Users().Create(t.Context(), &domain.User{ID: domain.ID{1}, Email: "back@example.com", Level: 1}); err != nil {
		t.Errorf("Create once the server is up: got error %v, want nil", err)
	}
}

// proxy forwards connections on addr to target until the test ends.
func proxy(t *testing.T, addr, target string) {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", addr)
	if err != nil {
		t.Skipf("cannot listen again on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var d net.Dialer
				b, err := d.DialContext(t.Context(), "tcp", target)
				if err != nil {
					return
				}
				defer b.Close()
				go func() { _, _ = io.Copy(b, c) }()
				_, _ = io.Copy(c, b)
			}()
		}
	}()
}

func TestDuplicateKeysNameTheField(t *testing.T) {
	ctx := t.Context()
	db := migrated(t)
	users := mongostore.NewUsers(db)
	// A user written around the adapter (no unique key claimed): the
	// unique index is the backstop and the error still names the field.
	_, err := db.Collection("users").InsertOne(ctx, bson.D{
		{Key: "_id", Value: bson.NewObjectID()}, {Key: "email", Value: "x@example.com"}, {Key: "email_lc", Value: "x@example.com"},
		{Key: "username", Value: "x"}, {Key: "username_lc", Value: "x"}, {Key: "level", Value: 1}, {Key: "deleted", Value: false},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		give *domain.User
		want string
	}{
		{"email", &domain.User{ID: domain.ID{1}, Email: "X@example.com", Username: "other", Level: 1}, "user with email already exists"},
		{"username", &domain.User{ID: domain.ID{2}, Email: "y@example.com", Username: "X", Level: 1}, "user with username already exists"},
	}
	for _, tt := range tests {
		err := users.Create(ctx, tt.give)
		if !errors.Is(err, domain.ErrConflict) {
			t.Errorf("Create with taken %s: got error %v, want ErrConflict", tt.name, err)
			continue
		}
		if msg, _ := domain.PublicMessage(err); msg != tt.want {
			t.Errorf("Create with taken %s: got message %q, want %q", tt.name, msg, tt.want)
		}
		if _, err := users.FindByEmail(ctx, tt.give.Email); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("refused Create %s: its email is findable (err %v); its keys must be released", tt.name, err)
		}
	}
	// The released keys are free again for a legitimate user.
	if err := users.Create(ctx, &domain.User{ID: domain.ID{3}, Email: "y@example.com", Username: "other", Level: 1}); err != nil {
		t.Errorf("Create with the released values: got error %v, want nil", err)
	}
	// Same id twice.
	err = users.Create(ctx, &domain.User{ID: domain.ID{3}, Email: "z@example.com", Username: "zed", Level: 1})
	if !errors.Is(err, domain.ErrConflict) {
		t.Errorf("Create with a taken id: got error %v, want ErrConflict", err)
	}
	if u, err := users.FindByEmail(ctx, "y@example.com"); err != nil || u.ID != (domain.ID{3}) {
		t.Errorf("the first user after a refused Create with its id: got %v, %v, want it intact", u, err)
	}
}

func TestStaleClaimsAreTakenOver(t *testing.T) {
	ctx := t.Context()
	db := migrated(t)
	users := mongostore.NewUsers(db)
	images := mongostore.NewImages(db)
	keys := db.Collection("unique_keys")
	ghost := bson.NewObjectID() // a record that never got written (a crash)
	old := bson.NewDateTimeFromTime(time.Now().Add(-time.Hour))
	fresh := bson.NewDateTimeFromTime(time.Now())
	_, err := keys.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "user.email:old@example.com"}, {Key: "ref", Value: ghost}, {Key: "at", Value: old}},
		bson.D{{Key: "_id", Value: "user.email:fresh@example.com"}, {Key: "ref", Value: ghost}, {Key: "at", Value: fresh}},
		bson.D{{Key: "_id", Value: "image.name:old"}, {Key: "ref", Value: ghost}, {Key: "at", Value: old}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Create(ctx, &domain.User{ID: domain.ID{1}, Email: "old@example.com", Username: "a", Level: 1}); err != nil {
		t.Errorf("Create over an old claim of a missing user: got error %v, want nil", err)
	}
	err = users.Create(ctx, &domain.User{ID: domain.ID{2}, Email: "fresh@example.com", Username: "b", Level: 1})
	if !errors.Is(err, domain.ErrConflict) {
		t.Errorf("Create over a fresh claim (a create in flight): got error %v, want ErrConflict", err)
	}
	if _, err := users.FindByEmail(ctx, "fresh@example.com"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("FindByEmail of a claim whose user is missing: got error %v, want ErrNotFound", err)
	}
	if err := images.Create(ctx, &domain.Image{ID: domain.ID{3}, Name: "Old", Version: 1}); err != nil {
		t.Errorf("image Create over an old claim: got error %v, want nil", err)
	}
	if img, err := images.FindByName(ctx, "OLD"); err != nil || img.ID != (domain.ID{3}) {
		t.Errorf("FindByName after the takeover: got %v, %v", img, err)
	}
}
