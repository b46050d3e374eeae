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
