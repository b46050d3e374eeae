package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/httpapi"
)

func TestRequestIDEchoedOrGenerated(t *testing.T) {
	ts := newTestServer(t)
	resp, body := ts.do(t, "GET", "/", "", nil, "X-Request-Id", "my-trace-1")
	wantStatus(t, resp, body, 200)
	if got := resp.Header.Get("X-Request-Id"); got != "my-trace-1" {
		t.Fatalf("got X-Request-Id %q, want the one sent", got)
	}
	resp, body = ts.do(t, "GET", "/", "", nil, "X-Request-Id", strings.Repeat("x", 200))
	wantStatus(t, resp, body, 200)
	if got := resp.Header.Get("X-Request-Id"); got == "" || len(got) > 128 {
		t.Fatalf("got X-Request-Id %q, want a generated one for an over-long value", got)
	}
}

func TestCORS(t *testing.T) {
	ts := newTestServer(t, serverOpts{http: func(c *httpapi.Config) { c.CORSOrigins = []string{"https://app.example"} }})
	resp, body := ts.do(t, "OPTIONS", "/users/me", "", nil,
		"Origin", "https://app.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "runnable-token")
	if resp.StatusCode >= 300 {
		t.Fatalf("preflight: got %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "runnable-token") {
		t.Fatalf("preflight: got headers %v", resp.Header)
	}
	resp, body = ts.do(t, "GET", "/", "", nil, "Origin", "https://app.example")
	wantStatus(t, resp, body, 200)
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Total-Count") {
		t.Fatalf("got exposed headers %q, want X-Total-Count among them", resp.Header.Get("Access-Control-Expose-Headers"))
	}
	resp, body = ts.do(t, "GET", "/", "", nil, "Origin", "https://evil.example")
	wantStatus(t, resp, body, 200)
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("got CORS headers for an origin not in CORS_ORIGINS")
	}
}

func TestMetricsToken(t *testing.T) {
	ts := newTestServer(t, serverOpts{http: func(c *httpapi.Config) { c.MetricsToken = "s3cret" }})
	resp, body := ts.do(t, "GET", "/metrics", "", nil)
	wantError(t, resp, body, 401, "access token required")
	resp, body = ts.do(t, "GET", "/metrics", "", nil, "Authorization", "Bearer nope")
	wantError(t, resp, body, 401, "must provide a valid access token")
	resp, body = ts.do(t, "GET", "/metrics", "", nil, "Authorization", "Bearer s3cret")
	wantStatus(t, resp, body, 200)
	if !strings.Contains(string(body), "runnable_http_requests_total") {
		t.Fatal("got metrics without runnable_http_requests_total")
	}
}

func TestSignupBucketAndTrustProxy(t *testing.T) {
	ts := newTestServer(t, serverOpts{http: func(c *httpapi.Config) {
		c.RateSignup = httpapi.Rate{Count: 2, Window: time.Hour}
		c.TrustProxy = true
	}})
	for i := 0; i < 2; i++ {
		resp, body := ts.do(t, "POST", "/users", "", nil, "X-Forwarded-For", "203.0.113.7, 10.0.0.1")
		wantStatus(t, resp, body, 201)
	}
	resp, body := ts.do(t, "POST", "/users", "", nil, "X-Forwarded-For", "203.0.113.7")
	wantError(t, resp, body, 429, "rate limit exceeded")
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("got no Retry-After on 429")
	}
	// another client address (first X-Forwarded-For entry) has its own bucket
	resp, body = ts.do(t, "POST", "/users", "", nil, "X-Forwarded-For", "198.51.100.9")
	wantStatus(t, resp, body, 201)
}

func TestLinkUsesPublicURL(t *testing.T) {
	ts := newTestServer(t, serverOpts{http: func(c *httpapi.Config) { c.PublicURL = "https://api.example.com" }})
	tok, _ := ts.anon(t)
	resp, body := ts.do(t, "GET", "/runnables?published=true&limit=1", tok, nil)
	wantStatus(t, resp, body, 200)
	link := resp.Header.Get("Link")
	if !strings.Contains(link, "<https://api.example.com/runnables?") || !strings.Contains(link, "published=true") ||
		!strings.Contains(link, `rel="first"`) || !strings.Contains(link, `rel="last"`) {
		t.Fatalf("got Link %q, want absolute PUBLIC_URL links keeping the other parameters", link)
	}
}

func TestPermissionLevel(t *testing.T) {
	ts := newTestServer(t)
	ctx := t.Context()
	admin, _, err := ts.app.EnsureAdmin(ctx, "x@example.com", "xavier", "adminpass", false)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := ts.do(t, "POST", "/token", "", map[string]string{"email": "x@example.com", "password": "adminpass"})
	wantStatus(t, resp, body, 200)
	xtok := obj(t, body)["access_token"].(string)
	resp, body = ts.do(t, "POST", "/users", "", map[string]string{"email": "r@example.com", "username": "rita", "password": "testing"})
	wantStatus(t, resp, body, 201)
	r := obj(t, body)
	rid, rtok := r["_id"].(string), r["access_token"].(string)
	_, aid := ts.anon(t)

	resp, body = ts.do(t, "PUT", "/users/"+rid+"/permission_level", rtok, map[string]int{"permission_level": 10})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "PUT", "/users/"+rid+"/permission_level", xtok, map[string]int{"permission_level": 3})
	wantError(t, resp, body, 400, "permission_level must be 1, 5 or 10")
	resp, body = ts.do(t, "PUT", "/users/"+admin.ID.Hex()+"/permission_level", xtok, map[string]int{"permission_level": 5})
	wantError(t, resp, body, 400, "cannot change your own permission level")
	resp, body = ts.do(t, "PUT", "/users/"+aid+"/permission_level", xtok, map[string]int{"permission_level": 5})
	wantError(t, resp, body, 400, "anonymous users cannot be promoted")
	resp, body = ts.do(t, "PUT", "/users/"+rid+"/permission_level", xtok, map[string]int{"permission_level": 5})
	wantStatus(t, resp, body, 200)
	if lvl := obj(t, body)["permission_level"].(float64); lvl != 5 {
		t.Fatalf("got level %v, want 5", lvl)
	}
	// the new moderator reads another user's self view
	resp, body = ts.do(t, "GET", "/users/"+aid, rtok, nil)
	wantStatus(t, resp, body, 200)
	if _, ok := obj(t, body)["permission_level"]; !ok {
		t.Fatalf("got %s, want the self view for a moderator", body)
	}
}
