package tests

// Fixtures and small helpers shared by the §11 scenario tests: the users the
// spec names (X the admin, M a moderator, R, S, Q registered, A, B
// anonymous), forking, files, saving, polling a draft, and looking at the
// Docker objects behind a draft.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Credentials of the bootstrap admin X (spec §2.6) in servers started with
// adminEnv.
const (
	adminEmail    = "x@example.com"
	adminPassword = "admin-pass"
)

// pollTimeout bounds every wait for a container or a save (2 cores, -race).
const pollTimeout = 90 * time.Second

// adminEnv returns env (a copy) plus the bootstrap admin's variables.
func adminEnv(env map[string]string) map[string]string {
	out := map[string]string{
		"RUNNABLE_ADMIN_EMAIL":    adminEmail,
		"RUNNABLE_ADMIN_PASSWORD": adminPassword,
	}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// user is a caller of the scenarios.
type user struct {
	token, id string
}

// login is POST /token with an identity (username or email) and a password.
func login(t *testing.T, s *Server, ident, password string) user {
	t.Helper()
	field := "username"
	if strings.Contains(ident, "@") {
		field = "email"
	}
	resp, body := s.Do(t, http.MethodPost, "/token", "", map[string]string{field: ident, "password": password})
	wantStatus(t, resp, body, http.StatusOK)
	o := jsonObject(t, body)
	return user{token: str(t, o, "access_token"), id: str(t, o, "_id")}
}

// anonymous makes a new anonymous user.
func anonymous(t *testing.T, s *Server) user {
	t.Helper()
	tok, id := newAnonymous(t, s)
	return user{token: tok, id: id}
}

// registered makes a new registered user with password "password1".
func registered(t *testing.T, s *Server, username string) user {
	t.Helper()
	tok, id := newRegistered(t, s, username+"@example.com", username, "password1")
	return user{token: tok, id: id}
}

// moderator registers a user and has the admin X raise it to level 5.
func moderator(t *testing.T, s *Server, username string) user {
	t.Helper()
	m := registered(t, s, username)
	x := login(t, s, adminEmail, adminPassword)
	resp, body := s.Do(t, http.MethodPut, "/users/"+m.id+"/permission_level", x.token, map[string]int{"permission_level": 5})
	wantStatus(t, resp, body, http.StatusOK)
	if lvl := jsonObject(t, body)["permission_level"]; lvl != float64(5) {
		t.Fatalf("promoting %s: got permission_level %v, want 5", username, lvl)
	}
	return m
}

// P is the drafts path of spec §4 ("P" in §11) for one draft.
func P(id string) string { return "/users/me/runnables/" + id }

// fork forks from (an image id in either form, a draft id or a channel name)
// and returns the new draft.
func fork(t *testing.T, s *Server, u user, from string) map[string]any {
	t.Helper()
	resp, body := s.Do(t, http.MethodPost, "/users/me/runnables?from="+url.QueryEscape(from), u.token, nil)
	wantStatus(t, resp, body, http.StatusCreated)
	return jsonObject(t, body)
}

// getDraft is GET P/:id, wanting 200.
func getDraft(t *testing.T, s *Server, u user, id string) map[string]any {
	t.Helper()
	resp, body := s.Do(t, http.MethodGet, P(id), u.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	return jsonObject(t, body)
}

// getImage is GET /runnables/:id, wanting 200.
func getImage(t *testing.T, s *Server, u user, id string) map[string]any {
	t.Helper()
	resp, body := s.Do(t, http.MethodGet, "/runnables/"+id, u.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	return jsonObject(t, body)
}

// createFile writes a new file through the JSON API and returns its entry.
func createFile(t *testing.T, s *Server, u user, draft, path, name, content string) map[string]any {
	t.Helper()
	resp, body := s.Do(t, http.MethodPost, P(draft)+"/files", u.token,
		map[string]any{"name": name, "path": path, "content": content})
	wantStatus(t, resp, body, http.StatusCreated)
	return jsonObject(t, body)
}

// createDir makes a directory through the JSON API and returns its entry.
func createDir(t *testing.T, s *Server, u user, draft, path, name string) map[string]any {
	t.Helper()
	resp, body := s.Do(t, http.MethodPost, P(draft)+"/files", u.token,
		map[string]any{"name": name, "path": path, "dir": true})
	wantStatus(t, resp, body, http.StatusCreated)
	return jsonObject(t, body)
}

// findFile returns the entry at path/name in a listing, or nil.
func findFile(files []map[string]any, path, name string) map[string]any {
	for _, f := range files {
		if f["path"] == path && f["name"] == name {
			return f
		}
	}
	return nil
}

// listFiles lists the files of a runnable: base is P(id) or "/runnables/"+id.
func listFiles(t *testing.T, s *Server, u user, base, query string) []map[string]any {
	t.Helper()
	p := base + "/files"
	if query != "" {
		p += "?" + query
	}
	resp, body := s.Do(t, http.MethodGet, p, u.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	return jsonArray(t, body)
}

// readFile finds path/name in a runnable's listing and reads it by id
// (GET base/files/:fileId), returning the entry with its content.
func readFile(t *testing.T, s *Server, u user, base, path, name string) map[string]any {
	t.Helper()
	f := findFile(listFiles(t, s, u, base, ""), path, name)
	if f == nil {
		t.Fatalf("%s/files: no entry %s%s", base, path, name)
	}
	resp, body := s.Do(t, http.MethodGet, base+"/files/"+str(t, f, "_id"), u.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	return jsonObject(t, body)
}

// fileContent reads path/name of a runnable and returns its utf8 content.
func fileContent(t *testing.T, s *Server, u user, base, path, name string) string {
	t.Helper()
	f := readFile(t, s, u, base, path, name)
	if f["encoding"] != "utf8" {
		t.Fatalf("%s/files %s%s: got encoding %v, want utf8", base, path, name, f["encoding"])
	}
	return str(t, f, "content")
}

// setContent replaces the content of path/name in a draft.
func setContent(t *testing.T, s *Server, u user, draft, path, name, content string) {
	t.Helper()
	f := findFile(listFiles(t, s, u, P(draft), ""), path, name)
	if f == nil {
		t.Fatalf("draft %s: no file %s%s to edit", draft, path, name)
	}
	resp, body := s.Do(t, http.MethodPut, P(draft)+"/files/"+str(t, f, "_id"), u.token, map[string]string{"content": content})
	wantStatus(t, resp, body, http.StatusOK)
}

// saveNew saves a draft as a new image named name, wanting 201.
func saveNew(t *testing.T, s *Server, u user, draft, name string) map[string]any {
	t.Helper()
	resp, body := s.Do(t, http.MethodPost, "/runnables?from="+draft, u.token, map[string]string{"name": name})
	wantStatus(t, resp, body, http.StatusCreated)
	return jsonObject(t, body)
}

// saveOver overwrites image with draft (PUT /runnables/:id?from=), wanting 200.
func saveOver(t *testing.T, s *Server, u user, image, draft string) map[string]any {
	t.Helper()
	resp, body := s.Do(t, http.MethodPut, "/runnables/"+image+"?from="+draft, u.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	return jsonObject(t, body)
}

// waitDraft polls GET P/:id until cond holds and returns the draft.
func waitDraft(t *testing.T, s *Server, u user, id, what string, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for {
		d := getDraft(t, s, u, id)
		if cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("draft %s: %s did not happen within %s; last state: %v", id, what, pollTimeout, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// saveStatus returns draft.save.status.
func saveStatus(d map[string]any) string {
	sv, _ := d["save"].(map[string]any)
	st, _ := sv["status"].(string)
	return st
}

// ids returns the _id of every item.
func ids(items []map[string]any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		id, _ := it["_id"].(string)
		out = append(out, id)
	}
	return out
}

// names returns the name of every item.
func names(items []map[string]any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		n, _ := it["name"].(string)
		out = append(out, n)
	}
	return out
}

// wantFields fails the test for every field of want that obj does not hold
// with that exact (JSON-decoded) value.
func wantFields(t *testing.T, what string, obj map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		got, ok := obj[k]
		if !ok || !jsonEqual(got, v) {
			t.Errorf("%s: got %s = %#v (present: %v), want %#v", what, k, got, ok, v)
		}
	}
}

func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// dockerContainer is one container as GET /containers/json lists it.
type dockerContainer struct {
	ID     string            `json:"Id"`
	State  string            `json:"State"`
	Labels map[string]string `json:"Labels"`
}

// draftContainers lists every container (running or not) labelled
// com.runnable.draft=<hex> (spec §4.7), like
// `docker ps -a --filter label=com.runnable.draft=<hex>`.
func draftContainers(t *testing.T, draftHex string) []dockerContainer {
	t.Helper()
	d, err := docker()
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.call(t.Context(), http.MethodGet, "/containers/json", mergeValues(url.Values{"all": {"1"}},
		filters(map[string][]string{"label": {"com.runnable.draft=" + draftHex}})))
	if err != nil {
		t.Fatalf("docker: listing containers of draft %s: %v", draftHex, err)
	}
	var cs []dockerContainer
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatalf("docker: containers: %v", err)
	}
	return cs
}

// removeDraftContainers force-removes the containers of a draft behind the
// server's back, and returns how many there were.
func removeDraftContainers(t *testing.T, draftHex string) int {
	t.Helper()
	d, _ := docker()
	cs := draftContainers(t, draftHex)
	for _, c := range cs {
		if _, err := d.call(t.Context(), http.MethodDelete, "/containers/"+c.ID, url.Values{"force": {"1"}, "v": {"1"}}); err != nil && !errors.Is(err, errDockerNotFound) {
			t.Fatalf("docker: removing container %.12s: %v", c.ID, err)
		}
	}
	return len(cs)
}

// dockerImageTags lists the tags of the container image versions of one
// image (runnable/<hex>:v<version>, spec §8.3).
func dockerImageTags(t *testing.T, imageHex string) []string {
	t.Helper()
	d, err := docker()
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.call(t.Context(), http.MethodGet, "/images/json", filters(map[string][]string{"reference": {"runnable/" + imageHex}}))
	if err != nil {
		t.Fatalf("docker: listing images of %s: %v", imageHex, err)
	}
	var imgs []struct {
		RepoTags []string `json:"RepoTags"`
	}
	if err := json.Unmarshal(b, &imgs); err != nil {
		t.Fatalf("docker: images: %v", err)
	}
	var tags []string
	for _, img := range imgs {
		tags = append(tags, img.RepoTags...)
	}
	return tags
}

// waitNoContainers polls Docker until the draft has no container, for at
// most within.
func waitNoContainers(t *testing.T, draftHex string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	for {
		cs := draftContainers(t, draftHex)
		if len(cs) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("draft %s: after %s the backend still has %d container(s) labelled with it: %+v", draftHex, within, len(cs), cs)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// clearOfWindowEdge waits, if needed, until the current fixed rate-limit
// window (aligned on the Unix epoch, spec §1.7 and redisstore) has at least
// need left, so that a test counting hits does not straddle two windows.
func clearOfWindowEdge(t *testing.T, window, need time.Duration) {
	t.Helper()
	left := window - time.Duration(time.Now().UnixNano()%int64(window))
	if left < need {
		t.Logf("waiting %s for a fresh %s rate-limit window", left.Round(time.Millisecond), window)
		time.Sleep(left + 100*time.Millisecond)
	}
}
