package tests

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Spec §11, "Cleanup, admin, ops": scenarios 55-57.

// Scenarios 55-57 continue each other on one server per backend, with the
// bootstrap admin X, CLEANUP_MAX_AGE=1s, and a Redis of the test's own
// (REDIS_URL) in which the test takes lock:cleanup the way another replica's
// run would (spec §8.5 step 1). The periodic cleanup stays off
// (CLEANUP_ENABLED=false, the harness default); POST /cleanup does not
// depend on it.
func TestScenario55To57AdminAndOps(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario55To57AdminAndOps)
}

func scenario55To57AdminAndOps(t *testing.T, bk backend) {
	if bk.docker() {
		requireDocker(t) // before redis-server is started for nothing
	}
	rds := startRedis(t)
	s := bk.start(t, adminEnv(map[string]string{"CLEANUP_MAX_AGE": "1s", "REDIS_URL": rds.url()}))
	tID := str(t, waitTemplate(t, s, "shell"), "_id")
	x := login(t, s, adminEmail, adminPassword)
	r := registered(t, s, "rita")

	var imported map[string]any // scenario 56's image

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		// 55. An unsaved and a saved draft untouched for 2 s: X's cleanup
		// deletes the unsaved one only; R may not clean up; a run holding
		// the lock makes it 409; a dry run deletes nothing.
		{"55 cleanup", func(t *testing.T) {
			unsaved := fork(t, s, r, tID)
			uID, uHex := str(t, unsaved, "_id"), str(t, unsaved, "id")
			// A write gives the unsaved draft a container to remove.
			createFile(t, s, r, uID, "/", "scratch.txt", "soon gone")
			saved := str(t, fork(t, s, r, tID), "_id")
			img := saveNew(t, s, r, saved, "kept by cleanup")
			time.Sleep(2 * time.Second)

			resp, body := s.Do(t, http.MethodPost, "/cleanup", r.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodPost, "/cleanup", x.token, map[string]any{"max_age": "30s"})
			wantError(t, resp, body, http.StatusBadRequest, "max_age must be a duration of at least 1m")

			sum := cleanup(t, s, x, map[string]any{"dry_run": true})
			wantFields(t, "dry run", sum, map[string]any{"dry_run": true, "deleted_drafts": 1})
			wantFields(t, "unsaved draft after a dry run", getDraft(t, s, r, uID), map[string]any{"status": "created"})
			getDraft(t, s, r, saved)
			if bk.docker() {
				if n := len(draftContainers(t, uHex)); n != 1 {
					t.Errorf("after a dry run: %d containers labelled with the unsaved draft, want its 1", n)
				}
			}

			sum = cleanup(t, s, x, nil)
			wantFields(t, "cleanup", sum, map[string]any{"dry_run": false, "deleted_drafts": 1, "errors": []any{}})
			resp, body = s.Do(t, http.MethodGet, P(uID), r.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")
			wantFields(t, "saved draft after the cleanup", getDraft(t, s, r, saved), map[string]any{"saved": true, "target": img["_id"]})
			wantFields(t, "image after the cleanup", getImage(t, s, r, str(t, img, "_id")), map[string]any{"version": 1, "status": "ready"})
			if bk.docker() {
				if cs := draftContainers(t, uHex); len(cs) != 0 {
					t.Errorf("after the cleanup the unsaved draft's containers remain: %+v", cs)
				}
			}

			// Another run holds the lock: 409, the dry run as well, and the
			// CLI exits 3 (spec §9.5). The lock's owner alone releases it.
			if got := rds.do(t, "SET", "lock:cleanup", "another-replica-"+randHex(t, 8), "NX", "PX", "120000"); got != "OK" {
				t.Fatalf("taking lock:cleanup: got %q, want OK (is a cleanup still running?)", got)
			}
			resp, body = s.Do(t, http.MethodPost, "/cleanup", x.token, nil)
			wantError(t, resp, body, http.StatusConflict, "cleanup already running")
			resp, body = s.Do(t, http.MethodPost, "/cleanup", x.token, map[string]any{"dry_run": true})
			wantError(t, resp, body, http.StatusConflict, "cleanup already running")
			if out, code := cleanupCLI(t, rds); code != 3 {
				t.Errorf("api-server cleanup while the lock is held: got exit code %d, want 3; output:\n%s", code, out)
			}
			if got := rds.do(t, "GET", "lock:cleanup"); !strings.HasPrefix(got, "another-replica-") {
				t.Errorf("lock:cleanup after the refused runs: got %q, want the other holder's value", got)
			}
			rds.do(t, "DEL", "lock:cleanup")
			sum = cleanup(t, s, x, nil)
			wantFields(t, "cleanup after the lock was released", sum, map[string]any{"deleted_drafts": 0})
		}},

		// 56. X imports a build context as a published image with default
		// files from runnable.json; R may not; a context without
		// runnable.json → 400.
		{"56 import", func(t *testing.T) {
			ctx := demoContext(true)
			resp, body := importTar(t, s, r, "", ctx)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			req := s.NewRequest(t, http.MethodPost, "/runnables/import", bytes.NewReader(ctx))
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("runnable-token", x.token)
			resp, body = s.DoRequest(t, req)
			wantError(t, resp, body, http.StatusUnsupportedMediaType, "content type must be application/x-tar or application/gzip")
			resp, body = importTar(t, s, x, "?format=context", demoContext(false))
			wantError(t, resp, body, http.StatusBadRequest, "runnable.json required")

			resp, body = importTar(t, s, x, "", ctx)
			wantStatus(t, resp, body, http.StatusCreated)
			imported = jsonObject(t, body)
			id := str(t, imported, "_id")
			wantFields(t, "imported image", imported, map[string]any{
				"name": "imported demo", "owner": x.id, "parent": nil, "root": nil, "version": 1,
				"status": "ready", "published": true, "start_cmd": "sh hello.sh", "file_root": "/root",
			})
			wantDemoTags(t, "imported image", imported)
			wantDemoFiles(t, s, r, id)

			// Published under the channel demo: a fresh install forks it by
			// channel name.
			d := fork(t, s, r, "demo")
			wantFields(t, "fork by channel demo", d, map[string]any{"parent": id, "parent_version": 1})
			if got := fileContent(t, s, r, P(str(t, d, "_id")), "/", "hello.sh"); got != demoHello {
				t.Errorf("hello.sh of the fork: got %q, want %q", got, demoHello)
			}

			resp, body = importTar(t, s, x, "", ctx)
			wantError(t, resp, body, http.StatusConflict, "runnable with name already exists")
			if !bk.docker() {
				// Spec §10: the memory backend cannot load images.
				resp, body = importTar(t, s, x, "?name=loaded", tarOf(t, map[string]string{
					"manifest.json": `[{"Config":"c.json","RepoTags":["loaded:latest"],"Layers":[]}]`, "c.json": "{}",
				}))
				wantError(t, resp, body, http.StatusBadRequest, "docker-save archives need the docker backend")
			}
		}},

		// 56. [docker] The export is a docker-save tar with runnable.json;
		// it imports again as "copy", under a new id, with the same files.
		{"56 export and import again", func(t *testing.T) {
			bk.dockerOnly(t)
			id := str(t, imported, "_id")
			resp, body := s.Do(t, http.MethodGet, "/runnables/"+id+"/export", r.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodGet, "/runnables/"+id+"/export", x.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-tar" {
				t.Errorf("export: got Content-Type %q, want application/x-tar", ct)
			}
			if cd, want := resp.Header.Get("Content-Disposition"), `attachment; filename="imported-demo-v1.tar"`; cd != want {
				t.Errorf("export: got Content-Disposition %q, want %q", cd, want)
			}
			entries := tarEntries(t, body)
			if _, ok := entries["manifest.json"]; !ok {
				t.Fatalf("export: no manifest.json at the root; entries %v", keys(entries))
			}
			var meta map[string]any
			if err := json.Unmarshal([]byte(entries["runnable.json"]), &meta); err != nil {
				t.Fatalf("export: runnable.json: %v; entries %v", err, keys(entries))
			}
			wantFields(t, "exported runnable.json", meta, map[string]any{"name": "imported demo", "start_cmd": "sh hello.sh", "tags": []any{"demo"}})

			resp, b2 := importTar(t, s, x, "?name=copy", body)
			wantStatus(t, resp, b2, http.StatusCreated)
			cp := jsonObject(t, b2)
			cpID := str(t, cp, "_id")
			if cpID == id {
				t.Fatalf("the re-imported export has the original's id %s", id)
			}
			wantFields(t, "re-imported export", cp, map[string]any{
				"name": "copy", "owner": x.id, "parent": nil, "version": 1, "status": "ready",
				"published": true, "start_cmd": "sh hello.sh", "file_root": "/root",
			})
			wantDemoTags(t, "re-imported export", cp)
			wantDemoFiles(t, s, r, cpID)
			cd := str(t, fork(t, s, r, cpID), "_id")
			if got := fileContent(t, s, r, P(cd), "/", "hello.sh"); got != demoHello {
				t.Errorf("hello.sh of a fork of the copy: got %q, want %q", got, demoHello)
			}
			wantLogs(t, s, r, cd, "hello from the demo")
		}},

		// 57. healthz, readyz, metrics, the OpenAPI document and its page.
		// (Every response of this suite is validated against the document
		// by the harness; readyz with the backend down is
		// TestScenario57ReadyzWithContainersDown.)
		{"57 ops", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodGet, "/healthz", "", nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantJSON(t, resp, body)
			if !jsonEqual(jsonObject(t, body), map[string]any{"status": "ok"}) {
				t.Errorf(`healthz: got %s, want {"status":"ok"}`, body)
			}
			resp, body = s.Do(t, http.MethodGet, "/readyz", "", nil)
			wantStatus(t, resp, body, http.StatusOK)
			want := map[string]any{"status": "ready", "checks": map[string]any{"store": "ok", "token_store": "ok", "containers": "ok"}}
			if !jsonEqual(jsonObject(t, body), want) {
				t.Errorf("readyz: got %s, want %v", body, want)
			}

			resp, body = s.Do(t, http.MethodGet, "/metrics", "", nil)
			wantStatus(t, resp, body, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("metrics: got Content-Type %q, want text/plain", ct)
			}
			text := string(body)
			for _, m := range []string{
				`runnable_http_requests_total{method="POST",route="/cleanup",status="200"}`,
				"runnable_http_request_duration_seconds_bucket{",
				"runnable_cleanup_deleted_drafts_total 1\n",
				"runnable_containers_running ",
				"go_goroutines ",
			} {
				if !strings.Contains(text, m) {
					t.Errorf("metrics: no %q in:\n%s", m, tailString(text, 60))
				}
			}
			// route is the pattern, never the raw path (spec §9.4).
			if id := str(t, imported, "_id"); strings.Contains(text, id) {
				t.Errorf("metrics: a raw path with the image id %s is a label", id)
			}

			resp, body = s.Do(t, http.MethodGet, "/openapi.json", "", nil)
			wantStatus(t, resp, body, http.StatusOK)
			doc := jsonObject(t, body)
			if doc["openapi"] != "3.0.3" {
				t.Errorf("openapi.json: got openapi %v, want 3.0.3", doc["openapi"])
			}
			paths, _ := doc["paths"].(map[string]any)
			for _, p := range []string{"/cleanup", "/runnables/import", "/runnables/{id}/export", "/healthz", "/readyz", "/metrics"} {
				if _, ok := paths[p]; !ok {
					t.Errorf("openapi.json: no path %s", p)
				}
			}

			resp, body = s.Do(t, http.MethodGet, "/docs", "", nil)
			wantStatus(t, resp, body, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("docs: got Content-Type %q, want text/html", ct)
			}
			page := string(body)
			if !strings.Contains(strings.ToLower(page), "<html") || !strings.Contains(page, "/runnables/import") {
				t.Errorf("docs: got a page without <html> or the routes: %.300s", page)
			}
			if m := externalAsset.FindString(page); m != "" {
				t.Errorf("docs: the page loads %q; it must be self-contained (spec §9.4)", m)
			}
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}
}

// Scenario 57, the part that needs the container backend down: a server on
// the docker backend whose DOCKER_HOST is a socket that does not exist is
// alive (healthz) but not ready. It needs no Docker Engine.
func TestScenario57ReadyzWithContainersDown(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{
		"CONTAINER_BACKEND": "docker",
		"DOCKER_HOST":       "unix://" + filepath.Join(t.TempDir(), "no-docker.sock"),
		"TEMPLATES_DIR":     "",
	})
	resp, body := s.Do(t, http.MethodGet, "/readyz", "", nil)
	wantStatus(t, resp, body, http.StatusServiceUnavailable)
	wantJSON(t, resp, body)
	want := map[string]any{
		"code": 503, "message": "not ready: containers",
		"checks": map[string]any{"store": "ok", "token_store": "ok", "containers": "unreachable"},
	}
	if !jsonEqual(jsonObject(t, body), want) {
		t.Errorf("readyz with the backend down: got %s, want %v", body, want)
	}
	resp, body = s.Do(t, http.MethodGet, "/healthz", "", nil)
	wantStatus(t, resp, body, http.StatusOK)
	// What needs no container keeps working.
	token, _ := newAnonymous(t, s)
	resp, body = s.Do(t, http.MethodGet, "/users/me", token, nil)
	wantStatus(t, resp, body, http.StatusOK)
}

// externalAsset matches a script, style sheet or font loaded from elsewhere.
var externalAsset = regexp.MustCompile(`(?i)<script[^>]*\ssrc=|<link[^>]*\shref=["']?(https?:)?//|url\(["']?(https?:)?//|@import`)

// cleanup is POST /cleanup by u with body (nil for none), wanting 200; it
// returns the summary after checking its times.
func cleanup(t *testing.T, s *Server, u user, body any) map[string]any {
	t.Helper()
	resp, b := s.Do(t, http.MethodPost, "/cleanup", u.token, body)
	wantStatus(t, resp, b, http.StatusOK)
	sum := jsonObject(t, b)
	for _, k := range []string{"started_at", "finished_at"} {
		if v, _ := sum[k].(string); !timeMillis.MatchString(v) {
			t.Errorf("cleanup summary: got %s %v, want an RFC 3339 UTC time with milliseconds", k, sum[k])
		}
	}
	return sum
}

// cleanupCLI runs `api-server cleanup` as another replica would: its own
// data directory and the memory backend, the server's Redis. It returns
// the output and the exit code.
func cleanupCLI(t *testing.T, rds *redisServer) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, "cleanup")
	cmd.Env = []string{
		"RUNNABLE_DATA_DIR=" + t.TempDir(), "REDIS_URL=" + rds.url(), "CONTAINER_BACKEND=memory",
		"LOG_LEVEL=warn", "BCRYPT_COST=4",
	}
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("api-server cleanup: %v", err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// The build context of scenario 56: hello.sh (default) and notes.txt under
// /root, built FROM the local base image, so no registry is needed.
const (
	demoHello      = "echo hello from the demo\n"
	demoNotes      = "some notes\n"
	demoDockerfile = "FROM runnable/busybox\nCOPY hello.sh notes.txt /root/\nWORKDIR /root\n"
	demoManifest   = `{"name": "imported demo", "start_cmd": "sh hello.sh", "tags": ["demo"],
  "files": [{"path": "/hello.sh", "default": true}, {"path": "/notes.txt", "default": false}, {"path": "/missing.txt", "default": true}]}`
)

// demoContext returns the tar of the demo build context, with or without
// its runnable.json.
func demoContext(withManifest bool) []byte {
	files := map[string]string{"Dockerfile": demoDockerfile, "hello.sh": demoHello, "notes.txt": demoNotes}
	if withManifest {
		files["runnable.json"] = demoManifest
	}
	b, err := tarBytes(files)
	if err != nil {
		panic(err) // writing to memory does not fail
	}
	return b
}

// tarOf returns a tar of the files (name → content).
func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	b, err := tarBytes(files)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tarBytes(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// importTar is POST /runnables/import<query> with an application/x-tar body.
func importTar(t *testing.T, s *Server, u user, query string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req := s.NewRequest(t, http.MethodPost, "/runnables/import"+query, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-tar")
	req.Header.Set("runnable-token", u.token)
	return s.DoRequest(t, req)
}

// wantDemoTags wants the image's tags to be exactly [demo].
func wantDemoTags(t *testing.T, what string, img map[string]any) {
	t.Helper()
	tags, _ := img["tags"].([]any)
	var got []string
	for _, tg := range tags {
		m, _ := tg.(map[string]any)
		n, _ := m["name"].(string)
		got = append(got, n)
	}
	if !slices.Equal(got, []string{"demo"}) {
		t.Errorf("%s: got tags %v, want [demo]", what, img["tags"])
	}
}

// wantDemoFiles wants the image's file index to hold the demo's files with
// the default flags of its runnable.json (/missing.txt, listed there but
// not in the image, is ignored).
func wantDemoFiles(t *testing.T, s *Server, u user, id string) {
	t.Helper()
	base := "/runnables/" + id
	list := listFiles(t, s, u, base, "")
	for _, c := range []struct {
		name string
		def  bool
	}{{"hello.sh", true}, {"notes.txt", false}} {
		f := findFile(list, "/", c.name)
		if f == nil {
			t.Errorf("image %s: no /%s in %v", id, c.name, names(list))
			continue
		}
		wantFields(t, "image file /"+c.name, f, map[string]any{"default": c.def})
	}
	if f := findFile(list, "/", "missing.txt"); f != nil {
		t.Errorf("image %s: lists /missing.txt, which is not in the image: %v", id, f)
	}
	defs := listFiles(t, s, u, base, "default=true")
	if got := names(defs); !slices.Equal(got, []string{"hello.sh"}) {
		t.Errorf("image %s: ?default=true lists %v, want [hello.sh]", id, got)
	}
	if got := fileContent(t, s, u, base, "/", "notes.txt"); got != demoNotes {
		t.Errorf("image %s: notes.txt is %q, want %q", id, got, demoNotes)
	}
}
