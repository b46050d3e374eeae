package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/runnable/runnable/adapters/mirror"
	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/adapters/mongostore/mongotest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFxGraphIsValid(t *testing.T) {
	cfg, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.ValidateApp(serverModule(cfg, newLogger(cfg, io.Discard)), fx.NopLogger); err != nil {
		t.Fatalf("got %v, want a valid fx graph", err)
	}
}

// TestMirrorOnlyOnEmbeddedStore: the image and draft stores are mirrored in
// memory on the embedded store, which this process owns, and used directly
// with MONGO_URL, which replicas may share.
func TestMirrorOnlyOnEmbeddedStore(t *testing.T) {
	open := func(t *testing.T, vars map[string]string) *infra {
		t.Helper()
		vars["RUNNABLE_DATA_DIR"] = t.TempDir()
		vars["CONTAINER_BACKEND"] = "memory"
		cfg, err := loadConfig(env(vars))
		if err != nil {
			t.Fatal(err)
		}
		inf, err := openInfra(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inf.close(context.Background()) })
		if err := prepareStore(t.Context(), inf, cfg, newLogger(cfg, io.Discard)); err != nil {
			t.Fatalf("prepareStore: %v", err)
		}
		return inf
	}
	t.Run("embedded", func(t *testing.T) {
		inf := open(t, map[string]string{})
		if _, ok := inf.images.(*mirror.Images); !ok {
			t.Errorf("images: got %T, want *mirror.Images", inf.images)
		}
		if _, ok := inf.drafts.(*mirror.Drafts); !ok {
			t.Errorf("drafts: got %T, want *mirror.Drafts", inf.drafts)
		}
	})
	t.Run("MONGO_URL", func(t *testing.T) {
		uri, db := mongotest.URI(t)
		inf := open(t, map[string]string{"MONGO_URL": uri, "MONGO_DB": db})
		if _, ok := inf.images.(*mongostore.Images); !ok {
			t.Errorf("images: got %T, want *mongostore.Images", inf.images)
		}
		if _, ok := inf.drafts.(*mongostore.Drafts); !ok {
			t.Errorf("drafts: got %T, want *mongostore.Drafts", inf.drafts)
		}
	})
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 3030 || cfg.DataDir != "./data" || cfg.ContainerBackend != "docker" || cfg.PageMaxLimit != 100 ||
		cfg.RateLimitToken.Count != 600 || cfg.FileMaxBytes != 10<<20 || cfg.TokenTTL.Hours() != 720 {
		t.Fatalf("got %+v, want the spec's defaults", cfg)
	}
}

func TestLoadConfigRejectsBadValues(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"duration", map[string]string{"TOKEN_TTL": "soon"}, "TOKEN_TTL"},
		{"size", map[string]string{"MAX_BODY_BYTES": "1 potato"}, "MAX_BODY_BYTES"},
		{"rate", map[string]string{"RATE_LIMIT_TOKEN": "3 per minute"}, "RATE_LIMIT_TOKEN"},
		{"backend", map[string]string{"CONTAINER_BACKEND": "podman"}, "CONTAINER_BACKEND"},
		{"admin half set", map[string]string{"RUNNABLE_ADMIN_EMAIL": "x@y.z"}, "RUNNABLE_ADMIN_PASSWORD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestParseSizeAndRate(t *testing.T) {
	sizes := map[string]int64{"1024": 1024, "1KiB": 1024, "10MiB": 10 << 20, "4GiB": 4 << 30}
	for in, want := range sizes {
		if got, err := parseSize(in); err != nil || got != want {
			t.Fatalf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	r, err := parseRate("3/1m")
	if err != nil || r.Count != 3 || r.Window.Minutes() != 1 {
		t.Fatalf("got %+v, %v; want 3 per minute", r, err)
	}
	if r, err := parseRate("30/h"); err != nil || r.Window.Hours() != 1 {
		t.Fatalf("got %+v, %v; want 30 per hour", r, err)
	}
}

func TestRunUnknownCommand(t *testing.T) {
	var out, errb strings.Builder
	if code := run([]string{"frobnicate"}, env(nil), strings.NewReader(""), &out, &errb); code != exitBadInput {
		t.Fatalf("got exit %d, want %d", code, exitBadInput)
	}
	if code := run([]string{"openapi"}, env(nil), strings.NewReader(""), &out, &errb); code != exitOK || !strings.Contains(out.String(), `"openapi"`) {
		t.Fatalf("got exit %d and %.80q, want the OpenAPI document", code, out.String())
	}
}
