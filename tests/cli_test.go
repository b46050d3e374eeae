package tests

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
)

// TestCLIMigrateAndImport covers spec §9.5's `api-server migrate status|up`
// and `api-server import <dir>` on a stopped server's data directory: the
// migrations applied at start-up are reported, `up` is idempotent, an
// imported template is listed after the next start, and importing the same
// name again is refused with exit code 2.
func TestCLIMigrateAndImport(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	s := startServer(t, nil)
	s.Stop(t)

	out, code := runCLI(t, s, "migrate", "status")
	if code != 0 {
		t.Fatalf("migrate status: exit %d, want 0", code)
	}
	var states []struct {
		Version int    `json:"version"`
		Name    string `json:"name"`
		Applied bool   `json:"applied"`
	}
	if err := json.Unmarshal([]byte(out), &states); err != nil || len(states) == 0 {
		t.Fatalf("migrate status: got %q (%v), want a JSON list of migrations", out, err)
	}
	for _, m := range states {
		if !m.Applied {
			t.Errorf("migration %d %s: not applied, want every migration applied at start-up", m.Version, m.Name)
		}
	}
	if _, code := runCLI(t, s, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up on an up-to-date store: exit %d, want 0", code)
	}

	dir := filepath.Join(deployTemplatesDir, "hello")
	out, code = runCLI(t, s, "import", dir)
	if code != 0 {
		t.Fatalf("import %s: exit %d, want 0 (output %q)", dir, code, out)
	}
	var img map[string]any
	if err := json.Unmarshal([]byte(out), &img); err != nil || img["name"] != "hello" {
		t.Fatalf("import: got %q (%v), want the image named hello", out, err)
	}
	if _, code := runCLI(t, s, "import", dir); code != 2 {
		t.Fatalf("import of a taken name: exit %d, want 2", code)
	}

	s.Restart(t)
	a := anonymous(t, s)
	resp, body := s.Do(t, http.MethodGet, "/runnables?search=hello", a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	found := false
	for _, it := range jsonArray(t, body) {
		if it["_id"] == img["_id"] && it["published"] == true {
			found = true
		}
	}
	if !found {
		t.Fatalf("got %s, want the imported hello template listed and published", body)
	}
	d := fork(t, s, a, str(t, img, "_id"))
	resp, body = s.Do(t, http.MethodDelete, P(str(t, d, "_id")), a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
}
