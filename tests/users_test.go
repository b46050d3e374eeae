package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Spec §11, scenarios 4-7 (conventions that need their own configuration)
// and 9-18 ("Users and tokens").

// Scenario 4: with TOKEN_TTL=1s, GET /users/me → 200; 1.5 s later → 401
// "must provide a valid access token".
func TestScenario04TokenTTL(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario04TokenTTL)
}

func scenario04TokenTTL(t *testing.T, bk backend) {
	s := bk.start(t, map[string]string{"TEMPLATES_DIR": "", "TOKEN_TTL": "1s"})
	// The TTL runs from the issue; do the first call right away.
	resp, body := s.Do(t, http.MethodPost, "/users", "", nil)
	wantStatus(t, resp, body, http.StatusCreated)
	issued := time.Now()
	token := str(t, jsonObject(t, body), "access_token")

	resp, body = s.Do(t, http.MethodGet, "/users/me", token, nil)
	if time.Since(issued) < time.Second {
		wantStatus(t, resp, body, http.StatusOK)
	} else {
		t.Logf("the first GET /users/me came %s after the token was issued; not checking its 200", time.Since(issued))
	}

	time.Sleep(time.Until(issued.Add(1500 * time.Millisecond)))
	resp, body = s.Do(t, http.MethodGet, "/users/me", token, nil)
	wantError(t, resp, body, http.StatusUnauthorized, "must provide a valid access token")
}

// Scenarios 5-8 share one server with RATE_LIMIT_TOKEN=3/1m; each uses its
// own user, since the token bucket is per user.
func TestScenario05To08BodiesQueriesLimitsAndStoreErrors(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario05To08BodiesQueriesLimitsAndStoreErrors)
}

func scenario05To08BodiesQueriesLimitsAndStoreErrors(t *testing.T, bk backend) {
	s := bk.start(t, map[string]string{"TEMPLATES_DIR": "", "RATE_LIMIT_TOKEN": "3/1m"})

	// Scenario 5: POST /users with body x=1 as a form → 415; "{" as JSON →
	// 400 "invalid json"; a 2 MiB JSON body → 413 "request body too large".
	t.Run("05 request bodies", func(t *testing.T) {
		req := s.NewRequest(t, http.MethodPost, "/users", strings.NewReader("x=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, body := s.DoRequest(t, req)
		wantError(t, resp, body, http.StatusUnsupportedMediaType, "content type must be application/json")

		resp, body = s.Do(t, http.MethodPost, "/users", "", "{")
		wantError(t, resp, body, http.StatusBadRequest, "invalid json")

		resp, body = s.Do(t, http.MethodPost, "/users", "", "[1,2]")
		wantError(t, resp, body, http.StatusBadRequest, "request body must be a json object")

		big := `{"email":"` + strings.Repeat("a", 2<<20) + `"}`
		resp, body = s.Do(t, http.MethodPost, "/users", "", big)
		wantError(t, resp, body, http.StatusRequestEntityTooLarge, "request body too large")

		// A parameter on the JSON type is allowed (spec §1.1).
		req = s.NewRequest(t, http.MethodPost, "/users", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, body = s.DoRequest(t, req)
		wantStatus(t, resp, body, http.StatusCreated)
	})

	// Scenario 6: GET /runnables?limit=101, ?page=-1, ?published=maybe → 400.
	t.Run("06 query parameters", func(t *testing.T) {
		u := anonymous(t, s)
		for _, c := range []struct{ query, msg string }{
			{"limit=101", "limit must be an integer between 1 and 100"},
			{"page=-1", "page must be a non-negative integer"},
			{"published=maybe", "published must be true or false"},
		} {
			resp, body := s.Do(t, http.MethodGet, "/runnables?"+c.query, u.token, nil)
			wantError(t, resp, body, http.StatusBadRequest, c.msg)
		}
	})

	// Scenario 7: with RATE_LIMIT_TOKEN=3/1m the fourth GET /users/me within
	// a minute → 429 "rate limit exceeded", Retry-After, RateLimit-Remaining 0.
	t.Run("07 token rate limit", func(t *testing.T) {
		u := anonymous(t, s)
		clearOfWindowEdge(t, time.Minute, 5*time.Second)
		for i := 1; i <= 3; i++ {
			resp, body := s.Do(t, http.MethodGet, "/users/me", u.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if resp.Header.Get("RateLimit-Limit") == "" {
				t.Errorf("request %d: no RateLimit-Limit header", i)
			}
		}
		resp, body := s.Do(t, http.MethodGet, "/users/me", u.token, nil)
		wantError(t, resp, body, http.StatusTooManyRequests, "rate limit exceeded")
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("429: no Retry-After header")
		}
		if got := resp.Header.Get("RateLimit-Remaining"); got != "0" {
			t.Errorf("429: got RateLimit-Remaining %q, want 0", got)
		}
		// Another user's bucket is untouched.
		other := anonymous(t, s)
		resp, body = s.Do(t, http.MethodGet, "/users/me", other.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
	})

	// Scenario 8: an unexpected store error → 500 {"code":500,"message":
	// "something bad happened :("}, nothing more; the server keeps serving.
	// The error is made by corrupting one draft's file index in the
	// embedded store (FerretDB over SQLite) with the sqlite3 tool while the
	// server runs: decoding it fails on every listing of that draft. (Users,
	// images and drafts are served from the in-memory mirror of the
	// embedded store, which does not see edits behind its back; the file
	// index is read from the store on every request.)
	t.Run("08 unexpected store error", func(t *testing.T) {
		// its own server: the draft needs the template, and this group's
		// server has neither templates nor room in its 3/1m token bucket
		s := bk.start(t, nil)
		tpl := waitTemplate(t, s, "shell")
		victim := anonymous(t, s)
		resp, body := s.Do(t, http.MethodPost, "/users/me/runnables?from="+str(t, tpl, "_id"), victim.token, nil)
		wantStatus(t, resp, body, http.StatusCreated)
		draft := jsonObject(t, body)
		corruptDocument(t, s, "files", str(t, draft, "id"), "entries", "garbage")
		resp, body = s.Do(t, http.MethodGet, "/users/me/runnables/"+str(t, draft, "_id")+"/files", victim.token, nil)
		wantError(t, resp, body, http.StatusInternalServerError, "something bad happened :(")
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("500: no X-Request-Id to find the logged error by")
		}
		resp, body = s.Do(t, http.MethodGet, "/users/me", victim.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		resp, body = s.Do(t, http.MethodGet, "/", "", nil)
		wantStatus(t, resp, body, http.StatusOK)
	})
}

// Scenarios 9-18 continue each other on one server (with the bootstrap
// admin, for 18, and the shell template, for the drafts of 11 and 14).
func TestScenario09To18UsersAndTokens(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario09To18UsersAndTokens)
}

func scenario09To18UsersAndTokens(t *testing.T, bk backend) {
	s := bk.start(t, adminEnv(nil))
	tpl := waitTemplate(t, s, "shell")
	tplID := str(t, tpl, "_id")

	const rPass = "testing"
	var r user // R, "rita"

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		// 9. POST /users {email:"R@Example.com", username:"rita",
		// password:"testing"} → 201, level 1, email lower-cased, no
		// password; GET /users/me → registered true.
		{"09 register", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/users", "", map[string]string{
				"email": "R@Example.com", "username": "rita", "password": rPass,
			})
			wantStatus(t, resp, body, http.StatusCreated)
			u := jsonObject(t, body)
			wantFields(t, "POST /users", u, map[string]any{
				"permission_level": 1, "registered": true, "email": "r@example.com", "username": "rita",
			})
			if strings.Contains(string(body), "password") {
				t.Errorf("POST /users: the body mentions a password: %s", body)
			}
			r = user{token: str(t, u, "access_token"), id: str(t, u, "_id")}
			resp, body = s.Do(t, http.MethodGet, "/users/me", r.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "GET /users/me", jsonObject(t, body), map[string]any{"registered": true, "_id": r.id})
		}},

		// 10. POST /users {email:"a@b.co"} → 400 "must provide a username
		// to register with", and no user is created.
		{"10 incomplete registration", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/users", "", map[string]string{"email": "a@b.co"})
			wantError(t, resp, body, http.StatusBadRequest, "must provide a username to register with")
			// Nothing was made: the email is still free.
			newRegistered(t, s, "a@b.co", "ab-user", "password1")
		}},

		// 11. A, holding a draft, registers in place → 200, same _id,
		// level 1, the draft is still listed. Another anonymous user
		// registering RITA → 409 username; R's email in other case → 409
		// email.
		{"11 register in place", func(t *testing.T) {
			a := anonymous(t, s)
			d := fork(t, s, a, tplID)
			resp, body := s.Do(t, http.MethodPut, "/users/me", a.token, map[string]string{
				"email": "anna@example.com", "username": "anna", "password": "password1",
			})
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "PUT /users/me", jsonObject(t, body), map[string]any{
				"_id": a.id, "permission_level": 1, "registered": true, "username": "anna",
			})
			resp, body = s.Do(t, http.MethodGet, "/users/me/runnables", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if got := ids(jsonArray(t, body)); len(got) != 1 || got[0] != d["_id"] {
				t.Errorf("drafts after registering: got %v, want [%v]", got, d["_id"])
			}

			b := anonymous(t, s)
			resp, body = s.Do(t, http.MethodPut, "/users/me", b.token, map[string]string{
				"email": "other@example.com", "username": "RITA", "password": "password1",
			})
			wantError(t, resp, body, http.StatusConflict, "user with username already exists")
			resp, body = s.Do(t, http.MethodPut, "/users/me", b.token, map[string]string{
				"email": "r@EXAMPLE.com", "username": "other", "password": "password1",
			})
			wantError(t, resp, body, http.StatusConflict, "user with email already exists")
			// Nothing changed for B.
			resp, body = s.Do(t, http.MethodGet, "/users/me", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "B after failed registrations", jsonObject(t, body), map[string]any{
				"permission_level": 0, "username": nil, "email": nil,
			})
		}},

		// 12. R changes the password: without current_password → 400;
		// wrong → 403; right → 200 and R's other tokens get 401.
		// {permission_level:10} alone → 400.
		{"12 password change", func(t *testing.T) {
			other := login(t, s, "rita", rPass)
			resp, body := s.Do(t, http.MethodPatch, "/users/me", r.token, map[string]string{"password": "newpass1"})
			wantError(t, resp, body, http.StatusBadRequest, "must provide current_password")
			resp, body = s.Do(t, http.MethodPatch, "/users/me", r.token, map[string]string{
				"password": "newpass1", "current_password": "wrong-one",
			})
			wantError(t, resp, body, http.StatusForbidden, "invalid password")
			resp, body = s.Do(t, http.MethodPatch, "/users/me", r.token, map[string]string{
				"password": "newpass1", "current_password": rPass,
			})
			wantStatus(t, resp, body, http.StatusOK)
			resp, body = s.Do(t, http.MethodGet, "/users/me", other.token, nil)
			wantError(t, resp, body, http.StatusUnauthorized, "must provide a valid access token")
			resp, body = s.Do(t, http.MethodGet, "/users/me", r.token, nil)
			wantStatus(t, resp, body, http.StatusOK)

			resp, body = s.Do(t, http.MethodPut, "/users/me", r.token, map[string]int{"permission_level": 10})
			wantError(t, resp, body, http.StatusBadRequest, "must provide email, username or password to update")
		}},

		// 13. Login errors, then a login by email given as username.
		{"13 login", func(t *testing.T) {
			for _, c := range []struct {
				body   map[string]string
				status int
				msg    string
			}{
				{map[string]string{}, http.StatusBadRequest, "username or email required"},
				{map[string]string{"username": "rita"}, http.StatusBadRequest, "password required"},
				{map[string]string{"username": "nobody", "password": "x"}, http.StatusNotFound, "user not found"},
				{map[string]string{"username": "rita", "password": "wrong-one"}, http.StatusForbidden, "invalid password"},
			} {
				resp, body := s.Do(t, http.MethodPost, "/token", "", c.body)
				wantError(t, resp, body, c.status, c.msg)
			}
			resp, body := s.Do(t, http.MethodPost, "/token", "", map[string]string{"username": "r@example.com", "password": "newpass1"})
			wantStatus(t, resp, body, http.StatusOK)
			tok := str(t, jsonObject(t, body), "access_token")
			resp, body = s.Do(t, http.MethodGet, "/users/me", tok, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if got := jsonObject(t, body)["_id"]; got != r.id {
				t.Errorf("the new token maps to %v, want R %s", got, r.id)
			}
		}},

		// 14. B forks two drafts, then logs in as R with B's token →
		// transferred {drafts:2, images:0}; R lists both; B's token → 404.
		{"14 login moves an anonymous caller's drafts", func(t *testing.T) {
			b := anonymous(t, s)
			d1, d2 := fork(t, s, b, tplID), fork(t, s, b, tplID)
			resp, body := s.Do(t, http.MethodPost, "/token", b.token, map[string]string{"username": "rita", "password": "newpass1"})
			wantStatus(t, resp, body, http.StatusOK)
			o := jsonObject(t, body)
			wantFields(t, "POST /token", o, map[string]any{"_id": r.id, "transferred": map[string]any{"drafts": 2, "images": 0}})
			r.token = str(t, o, "access_token")
			resp, body = s.Do(t, http.MethodGet, "/users/me/runnables", r.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			got := map[string]bool{}
			for _, d := range jsonArray(t, body) {
				got[str(t, d, "_id")] = true
				if d["owner"] != r.id {
					t.Errorf("transferred draft %v: got owner %v, want %s", d["_id"], d["owner"], r.id)
				}
			}
			if len(got) != 2 || !got[str(t, d1, "_id")] || !got[str(t, d2, "_id")] {
				t.Errorf("R's drafts: got %v, want %v and %v", got, d1["_id"], d2["_id"])
			}
			resp, body = s.Do(t, http.MethodGet, "/users/me", b.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "user doesnt exist")
		}},

		// 15. DELETE /token → 200; the same token → 401.
		{"15 logout", func(t *testing.T) {
			u := login(t, s, "rita", "newpass1")
			resp, body := s.Do(t, http.MethodDelete, "/token", u.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if o := jsonObject(t, body); len(o) != 1 || o["message"] != "token revoked" {
				t.Errorf(`DELETE /token: got %s, want {"message":"token revoked"}`, body)
			}
			resp, body = s.Do(t, http.MethodGet, "/users/me", u.token, nil)
			wantError(t, resp, body, http.StatusUnauthorized, "must provide a valid access token")
			// R's other token still works.
			resp, body = s.Do(t, http.MethodGet, "/users/me", r.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}

	// 16. Q deletes itself; its token → 404 "user doesnt exist"; S reads Q
	// → 404 "user not found".
	q := registered(t, s, "quentin")
	sUser := registered(t, s, "sam")
	if !t.Run("16 delete a user", func(t *testing.T) {
		// Q holds a running draft and an image (spec §2.5).
		qDraft := fork(t, s, q, tplID)
		resp, body := s.Do(t, http.MethodPost, P(str(t, qDraft, "_id"))+"/start", q.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		qImage := saveNew(t, s, q, str(t, qDraft, "_id"), "Q's image")
		wantFields(t, "Q's image", qImage, map[string]any{"owner_username": "quentin"})

		resp, body = s.Do(t, http.MethodDelete, "/users/me", q.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if o := jsonObject(t, body); len(o) != 1 || o["message"] != "user deleted" {
			t.Errorf(`DELETE /users/me: got %s, want {"message":"user deleted"}`, body)
		}
		resp, body = s.Do(t, http.MethodGet, "/users/me", q.token, nil)
		wantError(t, resp, body, http.StatusNotFound, "user doesnt exist")
		resp, body = s.Do(t, http.MethodGet, "/users/"+q.id, sUser.token, nil)
		wantError(t, resp, body, http.StatusNotFound, "user not found")
		// The name stays reserved (spec §2.5).
		resp, body = s.Do(t, http.MethodPost, "/users", "", map[string]string{
			"email": "q2@example.com", "username": "QUENTIN", "password": "password1",
		})
		wantError(t, resp, body, http.StatusConflict, "user with username already exists")
		// Q's drafts go with their containers, within a minute; Q's
		// image stays, with no owner name.
		if bk.docker() {
			waitNoContainers(t, str(t, qDraft, "id"), time.Minute)
		}
		wantFields(t, "Q's image after Q's deletion", getImage(t, s, sUser, str(t, qImage, "_id")),
			map[string]any{"owner_username": nil, "owner": q.id})
	}) {
		return
	}

	// 17. Unknown and malformed ids, the public view, GET /users?ids=.
	if !t.Run("17 reading users", func(t *testing.T) {
		resp, body := s.Do(t, http.MethodGet, "/users/1235", sUser.token, nil)
		wantError(t, resp, body, http.StatusNotFound, "user not found")
		resp, body = s.Do(t, http.MethodGet, "/users/"+r.id, sUser.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		pub := jsonObject(t, body)
		for _, k := range []string{"email", "permission_level", "registered", "access_token"} {
			if _, ok := pub[k]; ok {
				t.Errorf("public view of R has %q: %s", k, body)
			}
		}
		if g, _ := pub["gravatar"].(string); !strings.HasPrefix(g, "https://www.gravatar.com/avatar/") {
			t.Errorf("public view of R: got gravatar %v, want a gravatar URL", pub["gravatar"])
		}
		wantFields(t, "public view of R", pub, map[string]any{"_id": r.id, "username": "rita"})

		resp, body = s.Do(t, http.MethodGet, "/users?ids="+r.id+"&ids="+sUser.id+"&ids="+q.id+"&ids=zzz", sUser.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		got := ids(jsonArray(t, body))
		if len(got) != 2 || !slices.Contains(got, r.id) || !slices.Contains(got, sUser.id) {
			t.Errorf("GET /users?ids=R,S,Q(deleted),zzz: got %v, want R %s and S %s", got, r.id, sUser.id)
		}
		if tc := resp.Header.Get("X-Total-Count"); tc != "2" {
			t.Errorf("GET /users?ids=…: got X-Total-Count %q, want 2", tc)
		}
	}) {
		return
	}

	// 18. The bootstrap admin logs in with level 10; a restart makes no
	// second admin; `api-server admin ensure` with the same email prints
	// "created":false and exits 0.
	t.Run("18 bootstrap admin", func(t *testing.T) {
		x := login(t, s, adminEmail, adminPassword)
		resp, body := s.Do(t, http.MethodGet, "/users/me", x.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		wantFields(t, "the admin", jsonObject(t, body), map[string]any{"permission_level": 10, "username": "admin"})

		s.Restart(t)
		again := login(t, s, adminEmail, adminPassword)
		if again.id != x.id {
			t.Errorf("after a restart the admin is %s, want the same user %s", again.id, x.id)
		}
		resp, body = s.Do(t, http.MethodGet, "/users?username=admin", again.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := ids(jsonArray(t, body)); len(got) != 1 || got[0] != x.id {
			t.Errorf("users named admin after a restart: got %v, want [%s]", got, x.id)
		}

		// The CLI opens the same data directory, so the server stops first.
		if code := s.Stop(t); code != 0 {
			t.Errorf("graceful stop: got exit code %d, want 0", code)
		}
		out, code := runCLI(t, s, "admin", "ensure", "--email", adminEmail)
		if code != 0 {
			t.Fatalf("api-server admin ensure: got exit code %d, want 0; output:\n%s", code, out)
		}
		var res struct {
			ID      string `json:"_id"`
			Created *bool  `json:"created"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || res.Created == nil {
			t.Fatalf("api-server admin ensure: want {\"_id\",\"created\"} on stdout; output:\n%s", out)
		}
		if *res.Created || res.ID != x.id {
			t.Errorf("api-server admin ensure: got %s, want {\"_id\":%q,\"created\":false}", out, x.id)
		}
	})
}

// runCLI runs the server binary with args, in the server's environment and
// data directory (stdout only), and returns its output and exit code.
func runCLI(t *testing.T, s *Server, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, args...)
	cmd.Env = s.env
	cmd.Dir = s.DataDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("api-server %s: %v", strings.Join(args, " "), err)
	}
	if stderr.Len() > 0 {
		t.Logf("api-server %s stderr:\n%s", strings.Join(args, " "), tailString(stderr.String(), 40))
	}
	return stdout.String(), cmd.ProcessState.ExitCode()
}

func tailString(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// corruptDocument sets field of the document with _id hex in a collection
// of the embedded store to a JSON string value, behind the server's back,
// with the sqlite3 tool (the store is FerretDB over SQLite in
// RUNNABLE_DATA_DIR/store, one table per collection named
// <collection>_<hash>, documents as JSON in _ferretdb_sjson). deploy/setup.sh
// installs sqlite3; without it the test fails in CI and skips elsewhere.
func corruptDocument(t *testing.T, s *Server, collection, hex, field, value string) {
	t.Helper()
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		requireService(t, "sqlite3 is not installed (apt-get install sqlite3); it is needed to corrupt a stored document")
	}
	db := filepath.Join(s.DataDir, "store", "runnable.sqlite")
	sql := func(q string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "-cmd", ".timeout 10000", db, q).CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3 %s %q: %v\n%s", db, q, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	table := sql(`SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '` + collection + `\_%' ESCAPE '\'`)
	if table == "" || strings.Contains(table, "\n") {
		t.Fatalf("the embedded store has no single table for %s (got %q); its layout changed", collection, table)
	}
	n := sql(`UPDATE "` + table + `" SET _ferretdb_sjson = json_set(_ferretdb_sjson, '$.` + field + `', '` + value +
		`') WHERE _ferretdb_sjson->>'_id' = '` + hex + `'; SELECT changes();`)
	if n != "1" {
		t.Fatalf("corrupting %s %s: %s rows changed, want 1", collection, hex, n)
	}
}
