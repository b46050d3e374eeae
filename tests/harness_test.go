package tests

// The black-box harness: TestMain builds cmd/api-server once; startServer runs
// it on a free port with its own data directory; Server.Do talks to it.
//
//	func TestSomething(t *testing.T) {
//		requireDocker(t)
//		s := startServer(t, map[string]string{"TOKEN_TTL": "1s"})
//		token, _ := newAnonymous(t, s)
//		resp, body := s.Do(t, "GET", "/users/me", token, nil)
//		wantStatus(t, resp, body, http.StatusOK)
//		me := jsonObject(t, body)
//		...
//	}
//
// Only the standard library is used here, and api/apitest, which validates
// every response against the OpenAPI document.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runnable/runnable/api/apitest"
)

var (
	// serverBin is the api-server binary built by TestMain.
	serverBin string
	// buildErr is set when cmd/api-server did not build; every startServer
	// then fails with it.
	buildErr error
	// moduleDir is the repository root (where go.mod is).
	moduleDir string
	// deployTemplatesDir is deploy/templates, every built-in template.
	deployTemplatesDir string
	// fixtureTemplatesDir holds a copy of deploy/templates/shell only: the
	// fixture "T" of spec §11, so listing counts stay as the spec writes them.
	// It is the default TEMPLATES_DIR of startServer.
	fixtureTemplatesDir string
	// shortMode: `go test -short` does not build or start servers.
	shortMode bool
)

// Timeouts of the harness, generous for 2 cores and -race.
const (
	healthTimeout   = 60 * time.Second
	stopTimeout     = 45 * time.Second
	templateTimeout = 4 * time.Minute
	clientTimeout   = 2 * time.Minute
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	shortMode = testing.Short()
	dir, err := os.MkdirTemp("", "runnable-blackbox-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	if moduleDir, err = findModuleDir(); err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	deployTemplatesDir = filepath.Join(moduleDir, "deploy", "templates")
	fixtureTemplatesDir = filepath.Join(dir, "templates")
	if err := copyDir(filepath.Join(deployTemplatesDir, "shell"), filepath.Join(fixtureTemplatesDir, "shell")); err != nil {
		fmt.Fprintln(os.Stderr, "tests: copying the shell template:", err)
		return 1
	}

	if bin := os.Getenv("RUNNABLE_TEST_SERVER_BIN"); bin != "" && !shortMode {
		// Test a binary built elsewhere (a release build, a bisect).
		serverBin = bin
	} else if !shortMode {
		serverBin = filepath.Join(dir, "api-server")
		args := []string{"build", "-o", serverBin}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/api-server")
		cmd := exec.CommandContext(context.Background(), "go", args...)
		cmd.Dir = moduleDir
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
			fmt.Fprintln(os.Stderr, "tests: cmd/api-server does not build; every black-box test will fail and show why")
		}
	}
	return m.Run()
}

func findModuleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

// requireService skips the test, or fails it under RUNNABLE_REQUIRE_SERVICES=1
// (CI), when a service it needs is missing.
func requireService(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("RUNNABLE_REQUIRE_SERVICES") == "1" {
		t.Fatalf("required service missing (RUNNABLE_REQUIRE_SERVICES=1): %s", reason)
	}
	t.Skip(reason)
}

// Server is one api-server process started by startServer.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234 (no trailing slash).
	URL string
	// Addr is host:port.
	Addr string
	// DataDir is RUNNABLE_DATA_DIR; it survives Restart and Kill.
	DataDir string
	// LogPath is the server's stdout and stderr, across restarts.
	LogPath string

	env    []string
	client *http.Client

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
	exitErr error
	starts  int
	anon    string          // cached anonymous token (anonToken)
	seenIDs map[string]bool // hex ids seen in responses (dockerSweep)
}

// startServer runs the built api-server on a free port with its own data
// directory and waits until GET /healthz answers. env adds to or overrides
// the harness defaults; an empty value removes a variable (e.g.
// "TEMPLATES_DIR": "" for a server without templates).
//
// Defaults: PORT (free), LISTEN_ADDR=127.0.0.1, RUNNABLE_DATA_DIR (a temp
// dir), TEMPLATES_DIR (the shell template only, the §11 fixture T),
// LOG_LEVEL=debug, BCRYPT_COST=4, SHUTDOWN_TIMEOUT=10s, and
// CLEANUP_ENABLED=false (a cleanup run would also sweep the Docker objects of
// every other server sharing the engine; tests of cleanup turn it on). The
// environment is not inherited except PATH, HOME, TMPDIR and the DOCKER_*
// variables, so MONGO_URL or REDIS_URL of the caller do not leak in.
//
// The server is stopped with SIGTERM when the test ends; its log is printed
// when the test failed (or always with RUNNABLE_TEST_LOGS=1), and the Docker
// containers and images of the runnables it answered about are removed.
func startServer(t *testing.T, env map[string]string) *Server {
	t.Helper()
	if shortMode {
		t.Skip("black-box tests do not run with -short")
	}
	if buildErr != nil {
		t.Fatalf("cmd/api-server does not build, so this black-box test cannot run:\n%v", buildErr)
	}
	base := t.TempDir()
	port := freePort(t)
	s := &Server{
		Addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		DataDir: filepath.Join(base, "data"),
		LogPath: filepath.Join(base, "server.log"),
		seenIDs: map[string]bool{},
	}
	s.URL = "http://" + s.Addr
	if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}

	vars := map[string]string{
		"PORT":              strconv.Itoa(port),
		"LISTEN_ADDR":       "127.0.0.1",
		"RUNNABLE_DATA_DIR": s.DataDir,
		"TEMPLATES_DIR":     fixtureTemplatesDir,
		"LOG_LEVEL":         "debug",
		"BCRYPT_COST":       "4",
		"SHUTDOWN_TIMEOUT":  "10s",
		"CLEANUP_ENABLED":   "false",
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	for k, v := range env {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	for k, v := range vars {
		s.env = append(s.env, k+"="+v)
	}
	s.client = &http.Client{
		Timeout:   clientTimeout,
		Transport: wrapTransport(t, http.DefaultTransport),
		// Redirects are part of what the tests check.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	t.Cleanup(func() {
		if vars["TEMPLATES_DIR"] != "" {
			s.learnImages()
		}
		s.stop(syscall.SIGTERM)
		s.dockerSweep(t)
		if t.Failed() || os.Getenv("RUNNABLE_TEST_LOGS") == "1" {
			t.Logf("api-server log (%s):\n%s", s.LogPath, tailFile(s.LogPath, 400))
		}
	})
	s.start(t)
	return s
}

// freePort asks the kernel for a free port and releases it for the server
// (the spec does not allow PORT=0).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := new(net.ListenConfig).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func (s *Server) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.starts++
	fmt.Fprintf(logf, "--- harness: start %d at %s ---\n", s.starts, time.Now().UTC().Format(time.RFC3339Nano))
	// Not t.Context(): it ends before the cleanup that stops the server
	// gracefully.
	cmd := exec.CommandContext(context.Background(), serverBin)
	cmd.Env = s.env
	cmd.Dir = s.DataDir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = serverSysProcAttr()
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		logf.Close()
		t.Fatalf("starting api-server: %v", err)
	}
	done := make(chan struct{})
	s.cmd, s.done, s.exitErr = cmd, done, nil
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		s.mu.Lock()
		s.exitErr = err
		s.mu.Unlock()
		close(done)
	}()

	raw := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(healthTimeout)
	for {
		select {
		case <-done:
			t.Fatalf("api-server exited before it was healthy (%v); log:\n%s", s.exitError(), tailFile(s.LogPath, 200))
		default:
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := raw.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.stop(syscall.SIGKILL)
			t.Fatalf("api-server did not answer GET /healthz with 200 within %s; log:\n%s", healthTimeout, tailFile(s.LogPath, 200))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) exitError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitErr
}

// stop signals the process and waits for it (SIGKILL after stopTimeout).
// It reports the exit code, or -1 when the process was killed by a signal
// or was not running.
func (s *Server) stop(sig syscall.Signal) int {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return -1
	}
	select {
	case <-done:
	default:
		_ = cmd.Process.Signal(sig)
		select {
		case <-done:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	s.mu.Lock()
	s.cmd = nil
	s.mu.Unlock()
	return cmd.ProcessState.ExitCode()
}

// Stop sends SIGTERM, waits for a graceful exit and returns the exit code.
func (s *Server) Stop(t *testing.T) int {
	t.Helper()
	return s.stop(syscall.SIGTERM)
}

// Kill ends the server with SIGKILL (a crash), leaving its data dir as is.
func (s *Server) Kill(t *testing.T) {
	t.Helper()
	s.stop(syscall.SIGKILL)
}

// Restart stops the server gracefully if it runs, then starts it again on
// the same port and data directory, and waits until it is healthy.
func (s *Server) Restart(t *testing.T) {
	t.Helper()
	s.stop(syscall.SIGTERM)
	s.start(t)
}

// NewRequest makes a request to path (e.g. "/users/me?x=1") bound to the
// test's context.
func (s *Server) NewRequest(t *testing.T, method, path string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, body)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, path, err)
	}
	return req
}

// Do sends a request with the token (if not "") in the runnable-token header
// and returns the response with its body read (resp.Body can be read again).
// body is nil for none; []byte, string or json.RawMessage are sent as they
// are with Content-Type application/json; anything else is marshalled to
// JSON.
func (s *Server) Do(t *testing.T, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case json.RawMessage:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal request body: %v", err)
		}
		r = bytes.NewReader(j)
	}
	req := s.NewRequest(t, method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("runnable-token", token)
	}
	return s.DoRequest(t, req)
}

// DoRequest sends req as it is and returns the response with its body read.
func (s *Server) DoRequest(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.RequestURI(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.RequestURI(), err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	s.noteIDs(b)
	if loc := resp.Header.Get("Location"); loc != "" {
		s.noteIDs([]byte(strconv.Quote(loc)))
	}
	return resp, b
}

// validator is shared by every server of the test binary, so its coverage
// (Covered, Uncovered) spans the whole package.
var (
	validatorOnce sync.Once
	validator     *apitest.Validator
)

// wrapTransport validates every response the test receives against the
// OpenAPI document (spec §9.4): a response that does not match fails the test.
func wrapTransport(t *testing.T, rt http.RoundTripper) http.RoundTripper {
	t.Helper()
	validatorOnce.Do(func() { validator = apitest.New(t) })
	if validator == nil {
		t.Fatal("apitest: the OpenAPI document did not load (see the first test that failed)")
	}
	return validator.RoundTripper(t, rt)
}

// describe names a response in failure messages.
func describe(resp *http.Response, body []byte) string {
	const maxBody = 2000
	b := string(body)
	if len(b) > maxBody {
		b = b[:maxBody] + "…"
	}
	return fmt.Sprintf("%s %s → %d; body: %s", resp.Request.Method, resp.Request.URL.RequestURI(), resp.StatusCode, b)
}

// wantStatus fails the test unless the response has the status.
func wantStatus(t *testing.T, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("got status %d, want %d: %s", resp.StatusCode, want, describe(resp, body))
	}
}

// wantError fails the test unless the response is exactly the error
// {"code": status, "message": message} (spec §1.5) as JSON.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, message string) {
	t.Helper()
	wantStatus(t, resp, body, status)
	wantJSON(t, resp, body)
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("error body is not a JSON object: %v: %s", err, describe(resp, body))
	}
	want := map[string]any{"code": float64(status), "message": message}
	if len(got) != 2 || got["code"] != want["code"] || got["message"] != want["message"] {
		t.Fatalf("got error body %s, want {\"code\":%d,\"message\":%q}: %s", body, status, message, describe(resp, body))
	}
}

// wantJSON fails the test unless the response is application/json; charset=utf-8.
func wantJSON(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	ct := strings.ToLower(strings.ReplaceAll(resp.Header.Get("Content-Type"), " ", ""))
	if ct != "application/json;charset=utf-8" {
		t.Fatalf("got Content-Type %q, want application/json; charset=utf-8: %s", resp.Header.Get("Content-Type"), describe(resp, body))
	}
}

// decodeJSON decodes body into a T or fails the test.
func decodeJSON[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decoding %T: %v; body: %s", v, err, body)
	}
	return v
}

// jsonObject decodes a JSON object.
func jsonObject(t *testing.T, body []byte) map[string]any {
	t.Helper()
	return decodeJSON[map[string]any](t, body)
}

// jsonArray decodes a JSON array of objects.
func jsonArray(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	return decodeJSON[[]map[string]any](t, body)
}

// str returns obj[key] as a string, failing the test if it is not one.
func str(t *testing.T, obj map[string]any, key string) string {
	t.Helper()
	v, ok := obj[key].(string)
	if !ok {
		t.Fatalf("field %q is %#v, want a string; object: %v", key, obj[key], obj)
	}
	return v
}

// newAnonymous creates an anonymous user (POST /users, no body) and returns
// its token and id.
func newAnonymous(t *testing.T, s *Server) (token, id string) {
	t.Helper()
	resp, body := s.Do(t, http.MethodPost, "/users", "", nil)
	wantStatus(t, resp, body, http.StatusCreated)
	u := jsonObject(t, body)
	return str(t, u, "access_token"), str(t, u, "_id")
}

// newRegistered creates a registered user and returns its token and id.
//
//nolint:unused // for the scenario tests that follow §11's fixtures.
func newRegistered(t *testing.T, s *Server, email, username, password string) (token, id string) {
	t.Helper()
	resp, body := s.Do(t, http.MethodPost, "/users", "", map[string]string{
		"email": email, "username": username, "password": password,
	})
	wantStatus(t, resp, body, http.StatusCreated)
	u := jsonObject(t, body)
	return str(t, u, "access_token"), str(t, u, "_id")
}

// anonToken returns an anonymous token made once per server, for reads that
// need any valid token.
func (s *Server) anonToken(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	tok := s.anon
	s.mu.Unlock()
	if tok != "" {
		return tok
	}
	tok, _ = newAnonymous(t, s)
	s.mu.Lock()
	s.anon = tok
	s.mu.Unlock()
	return tok
}

// waitTemplate polls GET /runnables?search=<name> until the image named name
// (case-insensitive) is listed, and returns it. Templates are imported in the
// background at start-up (spec §9.3), so a fresh server lists them late.
func waitTemplate(t *testing.T, s *Server, name string) map[string]any {
	t.Helper()
	token := s.anonToken(t)
	path := "/runnables?search=" + url.QueryEscape(name) + "&limit=100"
	deadline := time.Now().Add(templateTimeout)
	for {
		resp, body := s.Do(t, http.MethodGet, path, token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		for _, img := range jsonArray(t, body) {
			if n, _ := img["name"].(string); strings.EqualFold(n, name) {
				return img
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("template %q was not listed within %s (is it in TEMPLATES_DIR, and did its import fail? see the server log)", name, templateTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// learnImages lists every image once more before the server stops, so that
// dockerSweep also removes images the test never asked about (templates).
// It waits a little for template imports still running. Best effort.
func (s *Server) learnImages() {
	s.mu.Lock()
	running, tok := s.cmd != nil, s.anon
	s.mu.Unlock()
	if !running {
		return
	}
	raw := &http.Client{Timeout: 10 * time.Second}
	get := func(method, path, token string) ([]byte, bool) {
		req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, nil)
		if err != nil {
			return nil, false
		}
		if token != "" {
			req.Header.Set("runnable-token", token)
		}
		resp, err := raw.Do(req)
		if err != nil {
			return nil, false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, err == nil && resp.StatusCode/100 == 2
	}
	if tok == "" {
		b, ok := get(http.MethodPost, "/users", "")
		if !ok {
			return
		}
		var u struct {
			Token string `json:"access_token"`
		}
		if json.Unmarshal(b, &u) != nil || u.Token == "" {
			return
		}
		tok = u.Token
	}
	want := templateNames()
	deadline := time.Now().Add(20 * time.Second)
	for {
		found := 0
		for page := 0; page < 20; page++ {
			b, ok := get(http.MethodGet, fmt.Sprintf("/runnables?limit=100&page=%d", page), tok)
			if !ok {
				return
			}
			s.noteIDs(b)
			var imgs []struct {
				Name string `json:"name"`
			}
			if json.Unmarshal(b, &imgs) != nil || len(imgs) == 0 {
				break
			}
			for _, img := range imgs {
				if want[strings.ToLower(img.Name)] {
					found++
				}
			}
		}
		if found >= len(want) || time.Now().After(deadline) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// templateNames lists the names of the fixture templates.
func templateNames() map[string]bool {
	names := map[string]bool{}
	entries, _ := os.ReadDir(fixtureTemplatesDir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(fixtureTemplatesDir, e.Name(), "runnable.json"))
		if err != nil {
			continue
		}
		var m struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(b, &m) == nil && m.Name != "" {
			names[strings.ToLower(m.Name)] = true
		}
	}
	return names
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… (%d earlier lines in %s)\n", len(lines)-n, path)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "")
}
