package httpapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/runnable/runnable/adapters/httpapi"
)

func TestConventions(t *testing.T) {
	ts := newTestServer(t)
	resp, body := ts.do(t, "GET", "/", "", nil)
	wantStatus(t, resp, body, 200)
	if got := obj(t, body)["message"]; got != "runnable api" {
		t.Fatalf("got %v, want runnable api", got)
	}
	resp, body = ts.do(t, "GET", "/nope", "", nil)
	wantError(t, resp, body, 404, "resource not found")
	resp, body = ts.do(t, "DELETE", "/", "", nil)
	wantError(t, resp, body, 405, "method not allowed")
	if resp.Header.Get("Allow") == "" {
		t.Fatal("got no Allow header on 405")
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("got no X-Request-Id")
	}
	resp, body = ts.do(t, "GET", "/users/me", "", nil)
	wantError(t, resp, body, 401, "access token required")
	resp, body = ts.do(t, "GET", "/users/me", "bad_token", nil)
	wantError(t, resp, body, 401, "must provide a valid access token")
	tok, id := ts.anon(t)
	resp, body = ts.do(t, "GET", "/users/me", "", nil, "Authorization", "Bearer "+tok)
	wantStatus(t, resp, body, 200)
	me := obj(t, body)
	if me["_id"] != id || me["permission_level"].(float64) != 0 || me["registered"] != false || me["username"] != nil {
		t.Fatalf("got %v, want the anonymous user", me)
	}
	if _, ok := me["access_token"]; ok {
		t.Fatal("got access_token on GET /users/me")
	}
	resp, body = ts.do(t, "POST", "/users", "", "x=1", "Content-Type", "application/x-www-form-urlencoded")
	wantError(t, resp, body, 415, "content type must be application/json")
	resp, body = ts.do(t, "POST", "/users", "", "{")
	wantError(t, resp, body, 400, "invalid json")
	resp, body = ts.do(t, "POST", "/users", "", `"x"`)
	wantError(t, resp, body, 400, "request body must be a json object")
	resp, body = ts.do(t, "POST", "/users", "", `{"a":"`+strings.Repeat("x", 2<<20)+`"}`)
	wantError(t, resp, body, 413, "request body too large")
	resp, body = ts.do(t, "GET", "/runnables?limit=101", tok, nil)
	wantError(t, resp, body, 400, "limit must be an integer between 1 and 100")
	resp, body = ts.do(t, "GET", "/runnables?page=-1", tok, nil)
	wantError(t, resp, body, 400, "page must be a non-negative integer")
	resp, body = ts.do(t, "GET", "/runnables?published=maybe", tok, nil)
	wantError(t, resp, body, 400, "published must be true or false")
	resp, body = ts.do(t, "GET", "/runnables?sort=bogus", tok, nil)
	wantError(t, resp, body, 400, "sort must be one of votes, -created, created, runs, views, trending")
}

func TestTokenRateLimit(t *testing.T) {
	ts := newTestServer(t, serverOpts{http: func(c *httpapi.Config) { c.RateToken = httpapi.Rate{Count: 3, Window: 60e9} }})
	tok, _ := ts.anon(t)
	for i := 0; i < 3; i++ {
		resp, body := ts.do(t, "GET", "/users/me", tok, nil)
		wantStatus(t, resp, body, 200)
	}
	resp, body := ts.do(t, "GET", "/users/me", tok, nil)
	wantError(t, resp, body, 429, "rate limit exceeded")
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("got headers %v, want Retry-After and RateLimit-Remaining 0", resp.Header)
	}
}

func TestRegistrationAndLogin(t *testing.T) {
	ts := newTestServer(t)
	resp, body := ts.do(t, "POST", "/users", "", map[string]string{"email": "R@Example.com", "username": "rita", "password": "testing"})
	wantStatus(t, resp, body, 201)
	r := obj(t, body)
	if r["permission_level"].(float64) != 1 || r["email"] != "r@example.com" || r["password"] != nil {
		t.Fatalf("got %v", r)
	}
	if resp.Header.Get("Location") != "/users/"+r["_id"].(string) {
		t.Fatalf("got Location %q", resp.Header.Get("Location"))
	}
	resp, body = ts.do(t, "POST", "/users", "", map[string]string{"email": "a@b.co"})
	wantError(t, resp, body, 400, "must provide a username to register with")
	rtok := r["access_token"].(string)
	resp, body = ts.do(t, "PATCH", "/users/me", rtok, map[string]string{"password": "newpass1"})
	wantError(t, resp, body, 400, "must provide current_password")
	resp, body = ts.do(t, "PATCH", "/users/me", rtok, map[string]string{"password": "newpass1", "current_password": "nope"})
	wantError(t, resp, body, 403, "invalid password")
	resp, body = ts.do(t, "PUT", "/users/me", rtok, map[string]any{"permission_level": 10})
	wantError(t, resp, body, 400, "must provide email, username or password to update")
	resp, body = ts.do(t, "POST", "/token", "", map[string]string{})
	wantError(t, resp, body, 400, "username or email required")
	resp, body = ts.do(t, "POST", "/token", "", map[string]string{"username": "rita"})
	wantError(t, resp, body, 400, "password required")
	resp, body = ts.do(t, "POST", "/token", "", map[string]string{"username": "nobody", "password": "x"})
	wantError(t, resp, body, 404, "user not found")
	resp, body = ts.do(t, "POST", "/token", "", map[string]string{"username": "r@example.com", "password": "testing"})
	wantStatus(t, resp, body, 200)
	login := obj(t, body)
	if login["_id"] != r["_id"] {
		t.Fatalf("got %v, want R's id", login)
	}
	resp, body = ts.do(t, "DELETE", "/token", login["access_token"].(string), nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/users/me", login["access_token"].(string), nil)
	wantError(t, resp, body, 401, "must provide a valid access token")

	stok, _ := ts.anon(t)
	resp, body = ts.do(t, "GET", "/users/"+r["_id"].(string), stok, nil)
	wantStatus(t, resp, body, 200)
	pub := obj(t, body)
	if _, ok := pub["email"]; ok {
		t.Fatalf("got email in the public view: %v", pub)
	}
	resp, body = ts.do(t, "GET", "/users/1235", stok, nil)
	wantError(t, resp, body, 404, "user not found")
}

// TestForkEditSaveLoop is issue 2's loop over HTTP with the memory backend.
func TestForkEditSaveLoop(t *testing.T) {
	ts := newTestServer(t)
	a, aid := ts.anon(t)
	b, _ := ts.anon(t)

	resp, body := ts.do(t, "POST", "/runnables", a, nil)
	wantStatus(t, resp, body, 201)
	first := obj(t, body)
	if first["name"] != "shell (1)" || first["parent"] != ts.template || first["owner"] != aid {
		t.Fatalf("got %v, want shell (1) from the template", first)
	}
	resp, body = ts.do(t, "POST", "/runnables", a, map[string]string{"template": "nope"})
	wantError(t, resp, body, 404, "template not found")

	resp, body = ts.do(t, "POST", "/users/me/runnables?from="+ts.template, a, nil)
	wantStatus(t, resp, body, 201)
	d := obj(t, body)
	did := d["_id"].(string)
	if len(did) != 16 || d["status"] != "not_created" || d["parent"] != ts.template || d["target"] != nil ||
		d["expires_at"] == nil || d["save"].(map[string]any)["status"] != "none" {
		t.Fatalf("got %v, want a fresh not_created fork", d)
	}
	resp, body = ts.do(t, "POST", "/users/me/runnables?from=SHELL", a, nil)
	wantStatus(t, resp, body, 201)
	resp, body = ts.do(t, "POST", "/users/me/runnables?from=nochannel", a, nil)
	wantError(t, resp, body, 404, "could not find channel by that name")
	resp, body = ts.do(t, "POST", "/users/me/runnables", a, nil)
	wantError(t, resp, body, 400, "must provide a runnable to fork from")
	resp, body = ts.do(t, "POST", "/users/me/runnables?from="+did, a, nil)
	wantError(t, resp, body, 400, "cannot fork a draft that was never saved")

	P := "/users/me/runnables/" + did
	resp, body = ts.do(t, "GET", P+"/files", a, nil)
	wantStatus(t, resp, body, 200)
	files := arr(t, body)
	if len(files) != 2 {
		t.Fatalf("got %d files, want 2", len(files))
	}
	var mainID string
	for _, f := range files {
		if f["name"] == "main.sh" {
			mainID = f["_id"].(string)
		}
	}
	resp, body = ts.do(t, "POST", P+"/files", a, map[string]string{"name": "hello.js", "path": "/", "content": "console.log(1)"})
	wantStatus(t, resp, body, 201)
	resp, body = ts.do(t, "POST", P+"/files", a, map[string]string{"name": "hello.js", "path": "/", "content": "x"})
	wantError(t, resp, body, 409, "resource already exists")
	resp, body = ts.do(t, "POST", P+"/files", a, map[string]string{"name": "x", "path": "/../etc", "content": ""})
	wantError(t, resp, body, 400, "path must stay inside the runnable root")
	resp, body = ts.do(t, "POST", P+"/files", a, map[string]string{"name": "x", "path": "/noexist", "content": ""})
	wantError(t, resp, body, 404, "path does not exist")
	resp, body = ts.do(t, "POST", P+"/files", a, map[string]string{"name": "a/b", "path": "/", "content": ""})
	wantError(t, resp, body, 400, "invalid file name")
	resp, body = ts.do(t, "POST", P+"/files", a, map[string]string{"path": "/", "content": ""})
	wantError(t, resp, body, 400, "file must include a name field")
	resp, body = ts.do(t, "PUT", P+"/files/"+mainID, a, map[string]string{"content": "echo edited\n"})
	wantStatus(t, resp, body, 200)
	if obj(t, body)["content"] != "echo edited\n" {
		t.Fatalf("got %s, want the new content", body)
	}
	resp, body = ts.do(t, "GET", P, a, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["status"] != "created" {
		t.Fatalf("got %s, want created after a write", body)
	}

	resp, body = ts.do(t, "POST", "/runnables?from="+did, a, nil)
	wantError(t, resp, body, 409, "runnable with name already exists")
	resp, body = ts.do(t, "POST", "/runnables?from="+did, a, map[string]string{"name": "my app"})
	wantStatus(t, resp, body, 201)
	img := obj(t, body)
	iid := img["_id"].(string)
	if img["name"] != "my app" || img["version"].(float64) != 1 || img["status"] != "ready" || img["root"] != ts.template {
		t.Fatalf("got %v", img)
	}
	resp, body = ts.do(t, "GET", P, a, nil)
	wantStatus(t, resp, body, 200)
	if dd := obj(t, body); dd["target"] != iid || dd["saved"] != true || dd["expires_at"] != nil {
		t.Fatalf("got %v, want saved into %s", dd, iid)
	}

	// B forks the saved image and reads the edit
	resp, body = ts.do(t, "POST", "/users/me/runnables?from="+img["id"].(string), b, nil)
	wantStatus(t, resp, body, 201)
	bd := obj(t, body)["_id"].(string)
	resp, body = ts.do(t, "GET", "/users/me/runnables/"+bd+"/files/"+mainID, b, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["content"] != "echo edited\n" {
		t.Fatalf("got %s in B's fork, want the edit", body)
	}
	// B may not read A's draft nor overwrite A's image
	resp, body = ts.do(t, "GET", P, b, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "PUT", "/runnables/"+iid+"?from="+bd, b, nil)
	wantError(t, resp, body, 403, "permission denied")

	// overwrite; a new fork reads the newest content
	resp, body = ts.do(t, "PUT", P+"/files/"+mainID, a, map[string]string{"content": "echo v2\n"})
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "PUT", "/images/"+iid+"?from="+did, a, nil)
	wantStatus(t, resp, body, 200)
	if v := obj(t, body)["version"].(float64); v != 2 {
		t.Fatalf("got version %v, want 2", v)
	}
	resp, body = ts.do(t, "POST", "/users/me/runnables?from="+iid, b, nil)
	wantStatus(t, resp, body, 201)
	b3 := obj(t, body)["_id"].(string)
	resp, body = ts.do(t, "GET", "/users/me/runnables/"+b3+"/files/"+mainID, b, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["content"] != "echo v2\n" {
		t.Fatalf("got %s, want the newest content", body)
	}

	// listing and paging
	resp, body = ts.do(t, "GET", "/runnables?limit=2", a, nil)
	wantStatus(t, resp, body, 200)
	if resp.Header.Get("X-Total-Count") != "3" || !strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
		t.Fatalf("got X-Total-Count %q Link %q", resp.Header.Get("X-Total-Count"), resp.Header.Get("Link"))
	}
	resp, body = ts.do(t, "GET", "/runnables?page=5&limit=2", a, nil)
	wantStatus(t, resp, body, 200)
	if len(arr(t, body)) != 0 {
		t.Fatalf("got %s, want []", body)
	}

	// delete image: the draft becomes unsaved
	resp, body = ts.do(t, "DELETE", "/runnables/"+iid, b, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "DELETE", "/runnables/"+iid, a, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", P, a, nil)
	wantStatus(t, resp, body, 200)
	if dd := obj(t, body); dd["target"] != nil || dd["saved"] != false {
		t.Fatalf("got %v, want unsaved after the image's deletion", dd)
	}
	resp, body = ts.do(t, "GET", "/runnables/12345", a, nil)
	wantError(t, resp, body, 404, "runnable not found")

	// delete the draft
	resp, body = ts.do(t, "DELETE", P, a, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", P, a, nil)
	wantError(t, resp, body, 404, "runnable not found")
}

func TestDraftUpdateValidation(t *testing.T) {
	ts := newTestServer(t)
	a, _ := ts.anon(t)
	resp, body := ts.do(t, "POST", "/users/me/runnables?from="+ts.template, a, nil)
	wantStatus(t, resp, body, 201)
	P := "/users/me/runnables/" + obj(t, body)["_id"].(string)
	resp, body = ts.do(t, "PUT", P, a, map[string]any{"running": "false"})
	wantError(t, resp, body, 400, "running must be a boolean")
	resp, body = ts.do(t, "PUT", P, a, map[string]any{})
	wantError(t, resp, body, 400, "must provide name, description, start_cmd, env or running")
	resp, body = ts.do(t, "PATCH", P, a, map[string]any{"env": map[string]string{"1X": "y"}})
	wantError(t, resp, body, 400, "invalid env name: 1X")
	for _, op := range []string{"start", "start"} {
		resp, body = ts.do(t, "POST", P+"/"+op, a, nil)
		wantStatus(t, resp, body, 200)
		if d := obj(t, body); d["running"] != true || d["started_at"] == nil {
			t.Fatalf("got %v after start", d)
		}
	}
	resp, body = ts.do(t, "POST", P+"/stop", a, nil)
	wantStatus(t, resp, body, 200)
	if d := obj(t, body); d["status"] != "stopped" || d["stopped_at"] == nil {
		t.Fatalf("got %v after stop", d)
	}
	resp, body = ts.do(t, "PUT", P, a, map[string]any{"running": true})
	wantStatus(t, resp, body, 200)
	if obj(t, body)["running"] != true {
		t.Fatalf("got %s, want running", body)
	}
}

var _ = http.StatusOK

func TestJSONCarriesCharset(t *testing.T) {
	ts := newTestServer(t)
	resp, body := ts.do(t, "GET", "/nope", "", nil)
	wantStatus(t, resp, body, 404)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("got Content-Type %q, want application/json; charset=utf-8", ct)
	}
}

// TestUnexpectedStoreError is scenario 8: a store failure is a bare 500
// and the server keeps serving.
func TestUnexpectedStoreError(t *testing.T) {
	ts := newTestServer(t)
	tok, _ := ts.anon(t)
	ts.users.FailNext("Get", errors.New("disk on fire at /var/lib/mongo"))
	resp, body := ts.do(t, "GET", "/users/me", tok, nil)
	wantError(t, resp, body, 500, "something bad happened :(")
	if strings.Contains(string(body), "fire") {
		t.Fatalf("got %s, want no cause in the body", body)
	}
	resp, body = ts.do(t, "GET", "/users/me", tok, nil)
	wantStatus(t, resp, body, 200)
}
