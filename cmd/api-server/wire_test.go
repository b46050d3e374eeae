package main

import (
	"io"
	"strings"
	"testing"

	"go.uber.org/fx"
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
