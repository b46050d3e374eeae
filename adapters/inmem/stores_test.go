package inmem_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

func TestUsers(t *testing.T) {
	porttest.Users(t, func(*testing.T) ports.Users { return inmem.NewUsers() })
}

func TestImages(t *testing.T) {
	porttest.Images(t, func(*testing.T) ports.Images { return inmem.NewImages() })
}

func TestDrafts(t *testing.T) {
	porttest.Drafts(t, func(*testing.T) ports.Drafts { return inmem.NewDrafts() })
}

func TestFiles(t *testing.T) {
	porttest.Files(t, func(*testing.T) ports.Files { return inmem.NewFiles() })
}

func TestFailNext(t *testing.T) {
	boom := errors.New("boom")
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	users, images, drafts, files := inmem.NewUsers(), inmem.NewImages(), inmem.NewDrafts(), inmem.NewFiles()
	tests := []struct {
		name string
		arm  func(method string, err error)
		// method is given as app tests would, in any case.
		method string
		call   func(ctx context.Context) error
	}{
		{"users Create", users.FailNext, "Create", func(ctx context.Context) error {
			return users.Create(ctx, domain.NewAnonymousUser(domain.ID{1}, now))
		}},
		{"users AddStat", users.FailNext, "addstat", func(ctx context.Context) error {
			_, err := users.AddStat(ctx, domain.ID{1}, "runs", 1)
			return err
		}},
		{"images Update", images.FailNext, "Update", func(ctx context.Context) error {
			return images.Create(ctx, &domain.Image{ID: domain.ID{2}, Name: "x", Created: now})
		}},
		{"drafts Expired", drafts.FailNext, "Expired", func(ctx context.Context) error {
			_, err := drafts.Expired(ctx, now, 10)
			return err
		}},
		{"files Replace", files.FailNext, "Replace", func(ctx context.Context) error {
			return files.Replace(ctx, domain.ID{3}, []domain.File{{ID: domain.ID{4}, Runnable: domain.ID{3}, Path: "/", Name: "a"}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.arm(tt.method, boom)
			err := tt.call(t.Context())
			if tt.name == "images Update" {
				// Arming Update does not affect Create.
				if err != nil {
					t.Fatalf("Create with Update armed: got error %v, want nil", err)
				}
				img, gerr := images.Get(t.Context(), domain.ID{2})
				if gerr != nil {
					t.Fatalf("Get: got error %v, want nil", gerr)
				}
				err = images.Update(t.Context(), img)
			}
			if !errors.Is(err, boom) {
				t.Fatalf("first call: got error %v, want %v", err, boom)
			}
			if err := tt.call(t.Context()); errors.Is(err, boom) {
				t.Errorf("second call: got error %v, want the failure used up", err)
			}
		})
	}
}

func TestFailNextQueues(t *testing.T) {
	ctx := t.Context()
	s := inmem.NewFiles()
	first, second := errors.New("first"), errors.New("second")
	s.FailNext("List", first)
	s.FailNext("list", second)
	for _, want := range []error{first, second, nil} {
		if _, err := s.List(ctx, domain.ID{1}); !errors.Is(err, want) {
			t.Errorf("List: got error %v, want %v", err, want)
		}
	}
}

func TestTimesTruncatedToMilliseconds(t *testing.T) {
	ctx := t.Context()
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 123_456_789, time.FixedZone("X", 3600))
	want := time.Date(2024, 1, 1, 11, 0, 0, 123_000_000, time.UTC)
	id := domain.ID{1}
	read := map[string]func() ([]time.Time, error){
		"users": func() ([]time.Time, error) {
			s := inmem.NewUsers()
			if err := s.Create(ctx, &domain.User{ID: id, Created: t0}); err != nil {
				return nil, err
			}
			u, err := s.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			return []time.Time{u.Created}, nil
		},
		"images": func() ([]time.Time, error) {
			s := inmem.NewImages()
			if err := s.Create(ctx, &domain.Image{ID: id, Name: "x", Created: t0, Updated: t0}); err != nil {
				return nil, err
			}
			img, err := s.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			return []time.Time{img.Created, img.Updated}, nil
		},
		"drafts": func() ([]time.Time, error) {
			s := inmem.NewDrafts()
			d := &domain.Draft{ID: id, Created: t0, LastAccess: t0, StartedAt: &t0, StoppedAt: &t0,
				Save: domain.SaveState{StartedAt: &t0, FinishedAt: &t0}}
			if err := s.Create(ctx, d); err != nil {
				return nil, err
			}
			got, err := s.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			return []time.Time{got.Created, got.LastAccess, *got.StartedAt, *got.StoppedAt, *got.Save.StartedAt, *got.Save.FinishedAt}, nil
		},
		"files": func() ([]time.Time, error) {
			s := inmem.NewFiles()
			if err := s.Put(ctx, domain.File{ID: id, Runnable: id, Path: "/", Name: "a", Modified: t0}); err != nil {
				return nil, err
			}
			f, err := s.Get(ctx, id, id)
			if err != nil {
				return nil, err
			}
			return []time.Time{f.Modified}, nil
		},
	}
	for name, fn := range read {
		got, err := fn()
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", name, err)
		}
		for i, v := range got {
			if v != want {
				t.Errorf("%s time %d: got %v, want %v", name, i, v, want)
			}
		}
	}
}
