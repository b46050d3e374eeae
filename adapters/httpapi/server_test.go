package httpapi_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/runnable/runnable/adapters/httpapi"
	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/api/apitest"
	"github.com/runnable/runnable/app"
)

// testServer is the HTTP API over the real app with in-memory fakes and
// the memory container backend; every response is validated against the
// OpenAPI document.
type testServer struct {
	*httptest.Server
	app        *app.App
	client     *http.Client
	containers *inmem.Containers
	users      *inmem.Users
	template   string // short id of the "shell" template
}

type serverOpts struct {
	app  func(*app.Config)
	http func(*httpapi.Config)
}

func newTestServer(t *testing.T, opts ...serverOpts) *testServer {
	t.Helper()
	clock := system.Clock{}
	ts := &testServer{containers: inmem.NewContainers(), users: inmem.NewUsers()}
	acfg := app.DefaultConfig()
	acfg.BcryptCost = 4
	acfg.SaveWait = 5 * time.Second
	hcfg := httpapi.DefaultConfig()
	for _, o := range opts {
		if o.app != nil {
			o.app(&acfg)
		}
		if o.http != nil {
			o.http(&hcfg)
		}
	}
	limiter := inmem.NewRateLimiter(clock)
	images, drafts := inmem.NewImages(), inmem.NewDrafts()
	ts.app = app.New(app.Deps{
		Users: ts.users, Images: images, Drafts: drafts, Files: inmem.NewFiles(),
		Channels: inmem.NewChannels(), Tokens: inmem.NewTokens(clock), Limiter: limiter, Locks: inmem.NewLocks(clock),
		Containers: ts.containers, Clock: clock, IDs: system.NewIDs(),
		ImageTags: images, DraftTags: drafts, Categories: inmem.NewCategories(), Votes: inmem.NewVotes(),
		Comments: inmem.NewComments(),
	}, acfg)
	srv, err := httpapi.New(ts.app, limiter, []httpapi.Check{
		{Name: "store", Ping: func(ctx2 context.Context) error { return nil }},
		{Name: "token_store", Ping: func(ctx2 context.Context) error { return nil }},
		{Name: "containers", Ping: ts.containers.Ping},
	}, hcfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	ts.client = &http.Client{Transport: apitest.New(t).RoundTripper(t, http.DefaultTransport)}
	sys, err := ts.app.SystemUser(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	img, err := ts.app.ImportContext(t.Context(), shellContext(t), app.ImportOptions{Owner: sys, Template: true})
	if err != nil {
		t.Fatal(err)
	}
	ts.template = img.ID.Short()
	return ts
}

func shellContext(t *testing.T) []byte {
	t.Helper()
	files := map[string]string{
		"Dockerfile":    "FROM runnable/busybox\nCOPY . /root/\n",
		"runnable.json": `{"name":"shell","start_cmd":"sh main.sh","tags":["shell"],"files":[{"path":"/main.sh","default":true}]}`,
		"main.sh":       "echo hello\n",
		"README.md":     "# shell\n",
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, c := range files {
		_ = tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(c))
	}
	_ = tw.Close()
	return buf.Bytes()
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON).
func (ts *testServer) do(t *testing.T, method, path, token string, body any, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		r, ct = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r, ct = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("runnable-token", token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

func wantStatus(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: got %d %s, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body, status)
	}
}

func wantError(t *testing.T, resp *http.Response, body []byte, status int, msg string) {
	t.Helper()
	wantStatus(t, resp, body, status)
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("got body %s, want an error object", body)
	}
	if e.Code != status || e.Message != msg {
		t.Fatalf("got {%d %q}, want {%d %q}", e.Code, e.Message, status, msg)
	}
}

func obj(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("got %s, want a JSON object: %v", body, err)
	}
	return m
}

func arr(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var m []map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("got %s, want a JSON array: %v", body, err)
	}
	return m
}

func (ts *testServer) anon(t *testing.T) (token, id string) {
	t.Helper()
	resp, body := ts.do(t, "POST", "/users", "", nil)
	wantStatus(t, resp, body, 201)
	m := obj(t, body)
	return m["access_token"].(string), m["_id"].(string)
}
