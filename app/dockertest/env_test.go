package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/runnable/runnable/adapters/dockerbackend"
	"github.com/runnable/runnable/adapters/httpapi"
	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/api/apitest"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// testLabels mark everything the tests make.
var testLabels = map[string]string{"com.runnable.test": "1"}

// Limits of the test containers: small, so that hostile programs hit them
// fast and cheaply.
const (
	testMemory    = 64 << 20
	testPids      = 64
	testLogBytes  = 1 << 20
	testFileBytes = 32 << 20 // the file-size ulimit; above FILE_MAX_BYTES (10 MiB) so reads get 413
	testCPUs      = 0.5
	testStopAfter = 2 * time.Second
)

// requireDocker returns a backend on the local engine. Without one the test
// fails when RUNNABLE_REQUIRE_SERVICES=1 and is skipped otherwise.
func requireDocker(t *testing.T) *dockerbackend.Backend {
	t.Helper()
	cfg := dockerbackend.DefaultConfig()
	cfg.ExtraLabels = testLabels
	cfg.Memory, cfg.PidsLimit, cfg.LogMaxBytes, cfg.CPUs = testMemory, testPids, testLogBytes, testCPUs
	cfg.FileMaxBytes = testFileBytes
	b, err := dockerbackend.New(cfg)
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err = b.Ping(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("RUNNABLE_REQUIRE_SERVICES") == "1" {
			t.Fatalf("Docker Engine required (RUNNABLE_REQUIRE_SERVICES=1): %v", err)
		}
		t.Skipf("Docker Engine not reachable: %v", err)
	}
	return b
}

// env is the app over Docker and memory stores, served in-process.
type env struct {
	app      *app.App
	backend  *dockerbackend.Backend
	drafts   *inmem.Drafts
	users    *inmem.Users
	srv      *httptest.Server
	client   *http.Client
	template *domain.Image
	sys      *domain.User
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func tarOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range files {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Now()}
		if name == "busybox" {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// baseImage builds a labelled FROM scratch image with the host's static
// busybox (Debian's busybox-static) and removes it at cleanup.
func baseImage(t *testing.T, b *dockerbackend.Backend) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("reading /bin/busybox (Debian's busybox-static): %v", err)
	}
	ref := "runnable-test/runtime-busybox:" + randomHex(t, 6)
	dockerfile := "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"--install\",\"-s\",\"/bin\"]\n"
	t.Cleanup(func() { removeImage(t, b, ref) })
	if err := b.Build(t.Context(), bytes.NewReader(tarOf(t, map[string][]byte{"Dockerfile": []byte(dockerfile), "busybox": bb})), ref, nil); err != nil {
		t.Fatalf("building the base image: %v", err)
	}
	return ref
}

func removeImage(t *testing.T, b *dockerbackend.Backend, ref string) {
	t.Helper()
	if err := b.RemoveImage(context.Background(), ref); err != nil {
		t.Errorf("cleanup: remove image %s: %v", ref, err)
	}
}

func newEnv(t *testing.T, mutate ...func(*app.Config)) *env {
	t.Helper()
	b := requireDocker(t)
	base := baseImage(t, b)
	clock := system.Clock{}
	e := &env{backend: b, drafts: inmem.NewDrafts(), users: inmem.NewUsers()}
	cfg := app.DefaultConfig()
	cfg.BcryptCost = 4
	cfg.StopTimeout = testStopAfter
	cfg.RateLimitEnabled = false
	cfg.MaxRunningPerUser = 10
	cfg.SaveWait = time.Minute
	for _, m := range mutate {
		m(&cfg)
	}
	reg := prometheus.NewRegistry()
	rm, err := httpapi.NewRuntimeMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	images := inmem.NewImages()
	limiter := inmem.NewRateLimiter(clock)
	e.app = app.New(app.Deps{
		Users: e.users, Images: images, Drafts: e.drafts, Files: inmem.NewFiles(), Channels: inmem.NewChannels(),
		Tokens: inmem.NewTokens(clock), Limiter: limiter, Locks: inmem.NewLocks(clock),
		Containers: b, Clock: clock, IDs: system.NewIDs(), Metrics: rm,
	}, cfg)
	// Cleanups run last-in first-out: containers go before the images
	// they use, and the app stops first.
	t.Cleanup(func() { e.removeContainers(t) })
	t.Cleanup(func() {
		e.app.CloseTerminals()
		_ = e.app.Shutdown(context.Background())
	})
	hcfg := httpapi.DefaultConfig()
	hcfg.RateLimitEnabled = false
	srv, err := httpapi.New(e.app, limiter, nil, hcfg, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(e.srv.Close)
	e.client = &http.Client{Transport: apitest.New(t).RoundTripper(t, http.DefaultTransport)}

	if e.sys, err = e.app.SystemUser(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	manifest := `{"name":"shell","start_cmd":"sh main.sh","tags":["shell"],"file_root":"/root","files":[{"path":"/main.sh","default":true}]}`
	ctxTar := tarOf(t, map[string][]byte{
		"Dockerfile":    []byte("FROM " + base + "\nCOPY main.sh README.md /root/\n"),
		"runnable.json": []byte(manifest),
		"main.sh":       []byte("echo hello\n"),
		"README.md":     []byte("# shell\n"),
	})
	if e.template, err = e.app.ImportContext(t.Context(), ctxTar, app.ImportOptions{Owner: e.sys, Template: true}); err != nil {
		t.Fatalf("import template: %v", err)
	}
	e.removeImageAtCleanup(t, e.template.Ref)
	return e
}

// removeImageAtCleanup removes ref after the containers made from it
// (t.Cleanup order is last-in first-out, and removeContainers was
// registered first).
func (e *env) removeImageAtCleanup(t *testing.T, ref string) {
	t.Helper()
	t.Cleanup(func() { e.removeContainers(t); removeImage(t, e.backend, ref) })
}

// removeContainers removes the containers of this env's drafts (other
// tests' containers carry the same label and are left alone).
func (e *env) removeContainers(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mine := map[domain.ID]bool{}
	drafts, _, err := e.drafts.List(ctx, ports.DraftQuery{})
	if err != nil {
		t.Errorf("cleanup: list drafts: %v", err)
		return
	}
	for _, d := range drafts {
		mine[d.ID] = true
	}
	list, err := e.backend.List(ctx)
	if err != nil {
		t.Errorf("cleanup: list containers: %v", err)
		return
	}
	for _, c := range list {
		if mine[c.Draft] {
			if err := e.backend.Remove(ctx, c.ID); err != nil {
				t.Errorf("cleanup: remove container %s: %v", c.ID, err)
			}
		}
	}
}

func (e *env) anon(t *testing.T) (*domain.User, string) {
	t.Helper()
	u, tok, err := e.app.CreateUser(t.Context(), app.UserInput{})
	if err != nil {
		t.Fatal(err)
	}
	return u.User, tok
}

// draft forks the template with a start_cmd.
func (e *env) draft(t *testing.T, u *domain.User, startCmd string) *domain.Draft {
	t.Helper()
	d, err := e.app.Fork(t.Context(), u, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, err = e.app.UpdateDraft(t.Context(), u, d.ID.Short(), app.DraftInput{StartCmd: &startCmd}); err != nil {
		t.Fatal(err)
	}
	return d
}

// waitStatus polls the draft until cond holds, for up to limit.
func (e *env) waitStatus(t *testing.T, u *domain.User, id domain.ID, limit time.Duration, what string, cond func(*domain.Draft) bool) *domain.Draft {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		d, err := e.app.GetDraft(t.Context(), u, id.Short())
		if err != nil {
			t.Fatal(err)
		}
		if cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("got status %s exit %v, want %s within %v", d.Status, ptr(d.ExitCode), what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ptr(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// get sends an HTTP request to the in-process server.
func (e *env) get(t *testing.T, ctx context.Context, path, token string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("runnable-token", token)
	}
	return e.client.Do(req)
}

// answersQuickly checks the server still answers a read of the draft and
// /healthz within 2 s each.
func (e *env) answersQuickly(t *testing.T, token string, d *domain.Draft) {
	t.Helper()
	for _, p := range []string{"/healthz", "/users/me/runnables/" + d.ID.Short(), "/runnables?limit=1"} {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		start := time.Now()
		resp, err := e.get(t, ctx, p, token)
		if err != nil {
			cancel()
			t.Fatalf("GET %s: %v after %v, want an answer within 2s", p, err, time.Since(start))
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		cancel()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: got %d, want 200", p, resp.StatusCode)
		}
	}
}

// engineStats reads one stats sample of a container from the engine API
// (the standard library over the local socket; no driver in this package).
func engineStats(t *testing.T, containerID string) (pids, pidsLimit, memLimit int64) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", "/var/run/docker.sock")
	}}, Timeout: 20 * time.Second}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://docker/containers/"+containerID+"/stats?stream=false", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("engine stats: %v", err)
	}
	defer resp.Body.Close()
	var s struct {
		PidsStats struct {
			Current int64 `json:"current"`
			Limit   int64 `json:"limit"`
		} `json:"pids_stats"`
		MemoryStats struct {
			Limit int64 `json:"limit"`
		} `json:"memory_stats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("engine stats: %v", err)
	}
	return s.PidsStats.Current, s.PidsStats.Limit, s.MemoryStats.Limit
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}
