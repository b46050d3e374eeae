package tests

import (
	"net/http"
	"regexp"
	"testing"
)

var hex24 = regexp.MustCompile(`^[0-9a-f]{24}$`)

// TestGettingStarted walks the seed README's getting-started steps exactly as
// it writes them (spec §3.6):
//
//	curl -X POST localhost:3030/users
//	curl -X POST -H "runnable-token:<token>" http://localhost:3030/runnables
func TestGettingStarted(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	s := startServer(t, nil)
	tpl := waitTemplate(t, s, "shell")

	// curl -X POST localhost:3030/users: no body, no content type.
	req := s.NewRequest(t, http.MethodPost, "/users", nil)
	curlHeaders(req)
	resp, body := s.DoRequest(t, req)
	wantStatus(t, resp, body, http.StatusCreated)
	wantJSON(t, resp, body)
	user := jsonObject(t, body)
	token := str(t, user, "access_token")
	userID := str(t, user, "_id")

	// curl -X POST -H "runnable-token:<token>" http://localhost:3030/runnables
	req = s.NewRequest(t, http.MethodPost, "/runnables", nil)
	curlHeaders(req)
	req.Header.Set("runnable-token", token)
	resp, body = s.DoRequest(t, req)
	wantStatus(t, resp, body, http.StatusCreated)
	wantJSON(t, resp, body)
	img := jsonObject(t, body)

	checks := []struct {
		field string
		want  any
	}{
		{"owner", userID},
		{"parent", tpl["_id"]},
		{"version", float64(1)},
		{"status", "ready"},
		{"published", false},
		{"name", "shell (1)"},
		{"start_cmd", "sh main.sh"},
		{"file_root", "/root"},
	}
	for _, c := range checks {
		if img[c.field] != c.want {
			t.Errorf("new runnable: got %s %#v, want %#v", c.field, img[c.field], c.want)
		}
	}
	if tags, _ := img["tags"].([]any); len(tags) != 0 {
		t.Errorf("new runnable: got tags %v, want none", img["tags"])
	}
	if !hex24.MatchString(str(t, img, "id")) || len(str(t, img, "_id")) != 16 {
		t.Errorf("new runnable: got _id %v and id %v, want a 16-character short id and 24 hex", img["_id"], img["id"])
	}

	// The caller can fork it and sees the template's files.
	resp, body = s.Do(t, http.MethodPost, "/users/me/runnables?from="+str(t, img, "_id"), token, nil)
	wantStatus(t, resp, body, http.StatusCreated)
	draft := jsonObject(t, body)
	resp, body = s.Do(t, http.MethodGet, "/users/me/runnables/"+str(t, draft, "_id")+"/files", token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	names := map[string]bool{}
	for _, f := range jsonArray(t, body) {
		names[str(t, f, "path")+str(t, f, "name")] = true
	}
	for _, want := range []string{"/main.sh", "/README.md"} {
		if !names[want] {
			t.Errorf("files of the fork: %s missing; got %v", want, names)
		}
	}
}

// curlHeaders makes a request look like the one curl sends.
func curlHeaders(req *http.Request) {
	req.Header.Set("User-Agent", "curl/7.88.1")
	req.Header.Set("Accept", "*/*")
}
