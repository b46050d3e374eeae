package tests

import (
	"net/http"
	"strings"
	"testing"
)

// Spec §11, "Conventions and auth", scenarios 1-3.

// conventionsServer starts a server without templates: these scenarios do not
// fork anything.
func conventionsServer(t *testing.T, bk backend) *Server {
	t.Helper()
	return bk.start(t, map[string]string{"TEMPLATES_DIR": ""})
}

// Scenario 1: no token: GET / → 200 {"message":"runnable api"}; GET /nope → 404
// {"code":404,"message":"resource not found"}; DELETE / → 405 "method not
// allowed" with Allow.
func TestScenario01PublicRootAndUnknownRoutes(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario01PublicRootAndUnknownRoutes)
}

func scenario01PublicRootAndUnknownRoutes(t *testing.T, bk backend) {
	s := conventionsServer(t, bk)

	resp, body := s.Do(t, http.MethodGet, "/", "", nil)
	wantStatus(t, resp, body, http.StatusOK)
	wantJSON(t, resp, body)
	root := jsonObject(t, body)
	if len(root) != 1 || root["message"] != "runnable api" {
		t.Errorf(`GET /: got %s, want {"message":"runnable api"}`, body)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("GET /: no X-Request-Id header (spec §1.1)")
	}

	resp, body = s.Do(t, http.MethodGet, "/nope", "", nil)
	wantError(t, resp, body, http.StatusNotFound, "resource not found")

	// With a token the answer is the same (spec §1.2).
	token, _ := newAnonymous(t, s)
	resp, body = s.Do(t, http.MethodGet, "/nope", token, nil)
	wantError(t, resp, body, http.StatusNotFound, "resource not found")

	resp, body = s.Do(t, http.MethodDelete, "/", "", nil)
	wantError(t, resp, body, http.StatusMethodNotAllowed, "method not allowed")
	allow := resp.Header.Get("Allow")
	if allow == "" {
		t.Fatalf("DELETE /: no Allow header")
	}
	if !strings.Contains(allow, http.MethodGet) {
		t.Errorf("DELETE /: got Allow %q, want it to list GET", allow)
	}
}

// Scenario 2: GET /users/me with no token → 401 "access token required"; with
// runnable-token: bad_token → 401 "must provide a valid access token"; with
// Authorization: Bearer <valid> → 200.
func TestScenario02TokenGate(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario02TokenGate)
}

func scenario02TokenGate(t *testing.T, bk backend) {
	s := conventionsServer(t, bk)

	resp, body := s.Do(t, http.MethodGet, "/users/me", "", nil)
	wantError(t, resp, body, http.StatusUnauthorized, "access token required")

	resp, body = s.Do(t, http.MethodGet, "/users/me", "bad_token", nil)
	wantError(t, resp, body, http.StatusUnauthorized, "must provide a valid access token")

	token, id := newAnonymous(t, s)
	req := s.NewRequest(t, http.MethodGet, "/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, body = s.DoRequest(t, req)
	wantStatus(t, resp, body, http.StatusOK)
	if got := str(t, jsonObject(t, body), "_id"); got != id {
		t.Errorf("GET /users/me with a bearer token: got _id %s, want %s", got, id)
	}

	// runnable-token wins over Authorization when both are sent (spec §1.2).
	req = s.NewRequest(t, http.MethodGet, "/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("runnable-token", "bad_token")
	resp, body = s.DoRequest(t, req)
	wantError(t, resp, body, http.StatusUnauthorized, "must provide a valid access token")
}

// Scenario 3: POST /users (no body) → 201 with _id (24 hex), access_token,
// permission_level 0, registered false, username null, no password;
// GET /users/me with it → 200, same _id, no access_token.
func TestScenario03AnonymousUser(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario03AnonymousUser)
}

func scenario03AnonymousUser(t *testing.T, bk backend) {
	s := conventionsServer(t, bk)

	resp, body := s.Do(t, http.MethodPost, "/users", "", nil)
	wantStatus(t, resp, body, http.StatusCreated)
	wantJSON(t, resp, body)
	u := jsonObject(t, body)
	id := str(t, u, "_id")
	if !hex24.MatchString(id) {
		t.Errorf("got _id %q, want 24 lowercase hex", id)
	}
	token := str(t, u, "access_token")
	if len(token) != 43 || strings.ContainsAny(token, "+/=") {
		t.Errorf("got access_token %q, want 43 characters of unpadded base64url (spec §1.2)", token)
	}
	if loc := resp.Header.Get("Location"); loc != "/users/"+id {
		t.Errorf("got Location %q, want /users/%s", loc, id)
	}
	want := map[string]any{
		"permission_level": float64(0),
		"registered":       false,
		"username":         nil,
		"email":            nil,
		"gravatar":         nil,
	}
	for k, v := range want {
		got, ok := u[k]
		if !ok || got != v {
			t.Errorf("POST /users: got %s = %#v (present: %v), want %#v", k, got, ok, v)
		}
	}
	if strings.Contains(string(body), "password") {
		t.Errorf("POST /users: the body mentions a password: %s", body)
	}

	resp, body = s.Do(t, http.MethodGet, "/users/me", token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	me := jsonObject(t, body)
	if got := str(t, me, "_id"); got != id {
		t.Errorf("GET /users/me: got _id %s, want %s", got, id)
	}
	if _, ok := me["access_token"]; ok {
		t.Errorf("GET /users/me: the body has access_token: %s", body)
	}
	if strings.Contains(string(body), "password") {
		t.Errorf("GET /users/me: the body mentions a password: %s", body)
	}
}
