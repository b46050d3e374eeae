package apitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/runnable/runnable/api/apitest"
)

// recorder is a testing.TB that keeps failures instead of reporting them.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.FailNow()
}

// The draft of scenario 19: a fresh fork of template T.
const draft19 = `{
  "_id": "Xx16Lpw7SgASNFZ4", "id": "5f1d7a2e9c3b4a0012345678",
  "name": "shell", "description": "A busybox shell.", "owner": "51cf6ae257ee61f13f000002",
  "parent": "Uc9q4lfuYfE_AAA-", "parent_version": 1, "root": "Uc9q4lfuYfE_AAA-", "target": null,
  "tags": [], "start_cmd": "sh main.sh", "env": {}, "file_root": "/root",
  "status": "not_created", "running": false, "started_at": null, "stopped_at": null, "exit_code": null,
  "last_access": "2013-08-22T17:03:11.412Z", "saved": false, "expires_at": "2013-08-29T17:03:11.412Z",
  "save": {"status": "none", "mode": null, "image": null, "started_at": null, "finished_at": null, "error": null},
  "created": "2013-08-22T17:03:11.412Z"
}`

const image = `{
  "_id": "Uc9q4lfuYfE_AAA-", "id": "51cf6ae257ee61f13f00003e", "name": "my app", "description": "",
  "owner": "51cf6ae257ee61f13f000002", "owner_username": null, "parent": "Uc9q4lfuYfE_AAA-",
  "root": "Uc9q4lfuYfE_AAA-", "version": 1, "status": "ready", "published": false, "tags": [],
  "start_cmd": "sh main.sh", "env": {"A": "b"}, "file_root": "/root", "votes": 0, "runs": 0, "views": 0,
  "copies": 0, "cuts": 0, "pastes": 0,
  "created": "2013-08-22T17:03:11.412Z", "updated": "2013-08-22T17:03:11.412Z"
}`

const selfView = `{"_id": "51cf6ae257ee61f13f00003f", "username": null, "email": null, "permission_level": 0,
  "registered": false, "gravatar": null, "created": "2013-08-22T17:03:11.412Z", "runs": 0, "views": 0,
  "copies": 0, "cuts": 0, "pastes": 0, "images_count": 0, "published_count": 0`

const publicView = `{"_id": "51cf6ae257ee61f13f00003f", "username": "rita",
  "gravatar": "https://www.gravatar.com/avatar/b59a8b17f8d2d17bcccb45c7607e289d",
  "created": "2013-08-22T17:03:11.412Z", "runs": 0, "views": 0, "copies": 0, "cuts": 0, "pastes": 0,
  "images_count": 1, "published_count": 0}`

func hdr(kv ...string) http.Header {
	h := http.Header{"X-Request-Id": {"req-1"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func jsonHdr(kv ...string) http.Header {
	return hdr(append([]string{"Content-Type", "application/json; charset=utf-8"}, kv...)...)
}

func TestCheck(t *testing.T) {
	paged := []string{"X-Total-Count", "3", "Link", `<http://x/runnables?page=0&limit=2>; rel="first", <http://x/runnables?page=1&limit=2>; rel="last"`}
	tests := []struct {
		name    string
		method  string
		target  string
		status  int
		header  http.Header
		body    string
		wantErr string // substring of the failure; "" for none
	}{
		{"scenario 19 draft", "POST", "/users/me/runnables?from=Uc9q4lfuYfE_AAA-", 201,
			jsonHdr("Location", "/users/51cf6ae257ee61f13f000002/runnables/Xx16Lpw7SgASNFZ4"), draft19, ""},
		{"fork without Location", "POST", "/users/me/runnables?from=x", 201, jsonHdr(), draft19, `"Location" missing`},
		{"draft by user id", "GET", "/users/51cf6ae257ee61f13f000002/runnables/Xx16Lpw7SgASNFZ4", 200, jsonHdr(), draft19, ""},
		{"draft with an extra field", "GET", "/users/me/runnables/Xx16Lpw7SgASNFZ4", 200, jsonHdr(),
			strings.Replace(draft19, `"name"`, `"password": "x", "name"`, 1), `property "password" is unsupported`},
		{"draft missing a field", "GET", "/users/me/runnables/Xx16Lpw7SgASNFZ4", 200, jsonHdr(),
			strings.Replace(draft19, `"exit_code": null,`, "", 1), `property "exit_code" is missing`},
		{"time without milliseconds", "GET", "/users/me/runnables/Xx16Lpw7SgASNFZ4", 200, jsonHdr(),
			strings.Replace(draft19, `"created": "2013-08-22T17:03:11.412Z"`, `"created": "2013-08-22T17:03:11Z"`, 1), "at /created"},
		{"long id where a short one belongs", "GET", "/users/me/runnables/x", 200, jsonHdr(),
			strings.Replace(draft19, `"parent": "Uc9q4lfuYfE_AAA-"`, `"parent": "51cf6ae257ee61f13f00003e"`, 1), "at /parent"},
		{"error body", "GET", "/runnables/12345", 404, jsonHdr(), `{"code":404,"message":"runnable not found"}`, ""},
		{"error body with an extra field", "GET", "/runnables/12345", 500, jsonHdr(),
			`{"code":500,"message":"something bad happened :(","stack":"main.go:1"}`, `property "stack" is unsupported`},
		{"error without X-Request-Id", "GET", "/runnables/12345", 404, http.Header{"Content-Type": {"application/json"}},
			`{"code":404,"message":"runnable not found"}`, `"X-Request-Id" missing`},
		{"undocumented status", "GET", "/runnables/12345", 418, jsonHdr(), `{"code":418,"message":"teapot"}`, "status is not supported"},
		{"image at the alias", "GET", "/images/Uc9q4lfuYfE_AAA-", 200, jsonHdr(), image, ""},
		{"paged list", "GET", "/runnables?limit=2", 200, jsonHdr(paged...), "[" + image + "]", ""},
		{"paged list without X-Total-Count", "GET", "/runnables?limit=2", 200, jsonHdr("Link", `<x>; rel="first"`), "[" + image + "]",
			`"X-Total-Count" missing`},
		{"anonymous sign-up", "POST", "/users", 201, jsonHdr("Location", "/users/51cf6ae257ee61f13f00003f"),
			selfView + `, "access_token": "3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, ""},
		{"self view with a token outside POST /users", "GET", "/users/me", 200, jsonHdr(),
			selfView + `, "access_token": "3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, `property "access_token" is unsupported`},
		{"public view of another user", "GET", "/users/51cf6ae257ee61f13f00003f", 200, jsonHdr(), publicView, ""},
		{"public view where the self view belongs", "GET", "/users/me", 200, jsonHdr(), publicView, `property "email" is missing`},
		{"rate limited", "GET", "/users/me", 429, jsonHdr("Retry-After", "12", "RateLimit-Remaining", "0"),
			`{"code":429,"message":"rate limit exceeded"}`, ""},
		{"rate limited without Retry-After", "GET", "/users/me", 429, jsonHdr(), `{"code":429,"message":"rate limit exceeded"}`,
			`"Retry-After" missing`},
		{"readyz failing", "GET", "/readyz", 503, jsonHdr(),
			`{"code":503,"message":"not ready: containers","checks":{"store":"ok","token_store":"ok","containers":"unreachable"}}`, ""},
		{"log text", "GET", "/users/me/runnables/x/logs?tail=10", 200, hdr("Content-Type", "text/plain; charset=utf-8"), "hi\n", ""},
		{"log stream", "GET", "/users/me/runnables/x/logs?follow=true", 200, hdr("Content-Type", "text/event-stream"), "", ""},
		{"log as html", "GET", "/users/me/runnables/x/logs", 200, hdr("Content-Type", "text/html"), "<p>hi</p>", "is not documented"},
		{"archive", "GET", "/users/me/runnables/x/files/archive", 200,
			hdr("Content-Type", "application/x-tar", "Content-Disposition", `attachment; filename="files.tar"`), "", ""},
		{"terminal upgrade", "GET", "/users/me/runnables/x/terminal?access_token=t", 101,
			hdr("Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "", ""},
		{"terminal without upgrade", "GET", "/users/me/runnables/x/terminal", 400, jsonHdr(),
			`{"code":400,"message":"websocket upgrade required"}`, ""},
		{"docs page", "GET", "/docs", 200, hdr("Content-Type", "text/html; charset=utf-8"), "<!DOCTYPE html>", ""},
		{"metrics", "GET", "/metrics", 200, hdr("Content-Type", "text/plain; version=0.0.4; charset=utf-8"), "# HELP", ""},
		{"unknown route", "GET", "/nope", 404, jsonHdr(), `{"code":404,"message":"resource not found"}`, ""},
		{"unknown route answered", "GET", "/nope", 200, jsonHdr(), `{}`, "no operation in the OpenAPI document matches GET /nope"},
		{"unknown route with a bad body", "GET", "/nope", 404, jsonHdr(), `{"message":"resource not found"}`, `property "code" is missing`},
		{"wrong method", "DELETE", "/", 405, jsonHdr("Allow", "GET"), `{"code":405,"message":"method not allowed"}`, ""},
		{"wrong method without Allow", "DELETE", "/", 405, jsonHdr(), `{"code":405,"message":"method not allowed"}`, "Allow"},
		{"undocumented method answered", "DELETE", "/", 200, jsonHdr(), `{"message":"ok"}`, "no DELETE operation"},
		{"documented route missing from the server", "GET", "/feeds/images", 404, jsonHdr(),
			`{"code":404,"message":"resource not found"}`, "is the route registered?"},
		{"import path taken as an id", "GET", "/runnables/import", 404, jsonHdr(), `{"code":404,"message":"runnable not found"}`, ""},
		{"CORS preflight", "OPTIONS", "/runnables", 204, hdr(), "", ""},
		{"HEAD of a documented GET", "HEAD", "/runnables", 405, hdr(), "", ""},
		{"HEAD of an unknown path", "HEAD", "/nope", 404, hdr(), "", "HEAD of an undocumented GET /nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := apitest.New(t)
			rec := &recorder{TB: t}
			req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.target, nil)
			if tt.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "GET")
			}
			v.Check(rec, req, tt.status, tt.header, []byte(tt.body))
			switch {
			case tt.wantErr == "" && len(rec.errs) > 0:
				t.Errorf("unexpected failure: %s", rec.errs[0])
			case tt.wantErr != "" && len(rec.errs) == 0:
				t.Errorf("passed, want a failure containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(rec.errs[0], tt.wantErr):
				t.Errorf("failure %q does not contain %q", rec.errs[0], tt.wantErr)
			}
			if len(rec.errs) > 0 && !strings.Contains(rec.errs[0], tt.method+" "+strings.Split(tt.target, "?")[0]) {
				t.Errorf("failure does not name the request: %s", rec.errs[0])
			}
		})
	}
}

func TestCovered(t *testing.T) {
	v := apitest.New(t)
	for _, target := range []string{
		"/users/me/runnables/x/files/archive", "/users/me/runnables/x/files/abc",
		"/users/51cf6ae257ee61f13f000002/runnables/x/files/archive", "/images/x/votes",
	} {
		v.Check(t, httptest.NewRequestWithContext(t.Context(), "GET", target, nil), 404, jsonHdr(), []byte(`{"code":404,"message":"runnable not found"}`))
	}
	want := []string{
		"GET /images/{id}/votes",
		"GET /users/me/runnables/{id}/files/archive",
		"GET /users/me/runnables/{id}/files/{fileId}",
		"GET /users/{userId}/runnables/{id}/files/archive",
	}
	if got := v.Covered(); !slices.Equal(got, want) {
		t.Errorf("Covered() = %v, want %v", got, want)
	}
	un := v.Uncovered()
	if slices.Contains(un, "GET /images/{id}/votes") || !slices.Contains(un, "GET /runnables/{id}/votes") {
		t.Errorf("Uncovered() = %v", un)
	}
}

func TestConcurrentChecks(t *testing.T) {
	v := apitest.New(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			req := httptest.NewRequestWithContext(t.Context(), "GET", fmt.Sprintf("/users/me/runnables/d%d", i), nil)
			v.Check(t, req, 200, jsonHdr(), []byte(draft19))
		})
	}
	wg.Wait()
	if got := v.Covered(); !slices.Equal(got, []string{"GET /users/me/runnables/{id}"}) {
		t.Errorf("Covered() = %v", got)
	}
}

func TestRoundTripper(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /runnables/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "r1")
		w.Header().Set("Content-Type", "application/json")
		if r.PathValue("id") == "bad" {
			_, _ = io.WriteString(w, strings.Replace(image, `"votes": 0,`, "", 1))
			return
		}
		_, _ = io.WriteString(w, image)
	})
	mux.HandleFunc("GET /users/me/runnables/{id}/logs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "r2")
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: stdout\ndata: hi\n\n")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	v := apitest.New(t)
	rec := &recorder{TB: t}
	client := &http.Client{Transport: v.RoundTripper(rec, nil)}
	get := func(path string) string {
		req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if body := get("/runnables/Uc9q4lfuYfE_AAA-"); body != image {
		t.Errorf("body after the check = %q, want the server's", body)
	}
	if body := get("/users/me/runnables/x/logs?follow=1"); !strings.Contains(body, "data: hi") {
		t.Errorf("stream body = %q", body)
	}
	if len(rec.errs) > 0 {
		t.Fatalf("unexpected failures: %v", rec.errs)
	}
	get("/runnables/bad")
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], `property "votes" is missing`) {
		t.Errorf("failures = %v, want one about votes", rec.errs)
	}
}

func TestRoundTripperKeepsWebSocketsWorking(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "r3")
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }() // after Close it only frees the connection
		_ = wsjson.Write(r.Context(), c, map[string]any{"type": "ready", "shell": "/bin/sh", "cols": 80, "rows": 24})
		_ = c.Close(websocket.StatusNormalClosure, "")
	}))
	defer srv.Close()

	v := apitest.New(t)
	client := &http.Client{Transport: v.RoundTripper(t, nil)}
	//nolint:bodyclose // coder/websocket owns the handshake body: "You never need to close resp.Body yourself"
	c, _, err := websocket.Dial(t.Context(), srv.URL+"/users/me/runnables/x/terminal?access_token=t",
		&websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }() // the test's end; nothing to report
	var msg map[string]any
	if err := wsjson.Read(t.Context(), c, &msg); err != nil {
		t.Fatal(err)
	}
	if msg["type"] != "ready" {
		t.Errorf("first message = %v", msg)
	}
	if got := v.Covered(); !slices.Equal(got, []string{"GET /users/me/runnables/{id}/terminal"}) {
		t.Errorf("Covered() = %v", got)
	}
}
