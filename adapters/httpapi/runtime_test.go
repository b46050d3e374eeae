package httpapi_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/runnable/runnable/adapters/httpapi"
	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/api/apitest"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// rtServer is testServer with the fakes the runtime tests script, and the
// runtime metrics wired as the lead wires them.
type rtServer struct {
	*testServer
	locks  *inmem.Locks
	images *inmem.Images
	drafts *inmem.Drafts
}

func newRuntimeServer(t *testing.T, opts ...serverOpts) *rtServer {
	t.Helper()
	clock := system.Clock{}
	ts := &testServer{containers: inmem.NewContainers(), users: inmem.NewUsers()}
	rs := &rtServer{testServer: ts, locks: inmem.NewLocks(clock), images: inmem.NewImages(), drafts: inmem.NewDrafts()}
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
	reg := prometheus.NewRegistry()
	rm, err := httpapi.NewRuntimeMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	limiter := inmem.NewRateLimiter(clock)
	ts.app = app.New(app.Deps{
		Users: ts.users, Images: rs.images, Drafts: rs.drafts, Files: inmem.NewFiles(),
		Channels: inmem.NewChannels(), Tokens: inmem.NewTokens(clock), Limiter: limiter, Locks: rs.locks,
		Containers: ts.containers, Clock: clock, IDs: system.NewIDs(), Metrics: rm,
	}, acfg)
	t.Cleanup(func() { _ = ts.app.Shutdown(context.Background()) })
	srv, err := httpapi.New(ts.app, limiter, nil, hcfg, nil, reg)
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
	return rs
}

// user makes a user of the given level and returns its token and id.
func (rs *rtServer) user(t *testing.T, level domain.Level) (string, string) {
	t.Helper()
	tok, id := rs.anon(t)
	uid, _ := domain.ParseHex(id)
	u, err := rs.users.Get(t.Context(), uid)
	if err != nil {
		t.Fatal(err)
	}
	u.Level = level
	if err := rs.users.Update(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return tok, id
}

// draft forks the template for tok and returns the draft's short id.
func (rs *rtServer) draft(t *testing.T, tok string) string {
	t.Helper()
	resp, body := rs.do(t, "POST", "/users/me/runnables?from="+rs.template, tok, nil)
	wantStatus(t, resp, body, 201)
	return obj(t, body)["_id"].(string)
}

func (rs *rtServer) start(t *testing.T, tok, id string) string {
	t.Helper()
	resp, body := rs.do(t, "POST", "/users/me/runnables/"+id+"/start", tok, nil)
	wantStatus(t, resp, body, 200)
	did, _ := domain.ParseRunnableID(id)
	d, err := rs.drafts.Get(t.Context(), did)
	if err != nil {
		t.Fatal(err)
	}
	return d.ContainerID
}

func TestLogsText(t *testing.T) {
	rs := newRuntimeServer(t, serverOpts{app: func(c *app.Config) { c.LogsMaxTail = 500 }})
	tok, _ := rs.anon(t)
	id := rs.draft(t, tok)
	p := "/users/me/runnables/" + id + "/logs"

	resp, body := rs.do(t, "GET", p, tok, nil)
	wantStatus(t, resp, body, 200)
	if len(body) != 0 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("got %q as %s, want an empty text body without a container", body, resp.Header.Get("Content-Type"))
	}
	cid := rs.start(t, tok, id)
	at := time.Date(2026, 11, 28, 12, 0, 0, 412e6, time.UTC)
	_ = rs.containers.AddLog(cid,
		ports.LogLine{Text: "one", Time: at}, ports.LogLine{Stream: "stderr", Text: "two", Time: at},
		ports.LogLine{Text: "bad \xff byte", Time: at})
	resp, body = rs.do(t, "GET", p+"?tail=2", tok, nil)
	wantStatus(t, resp, body, 200)
	if string(body) != "two\nbad \uFFFD byte\n" {
		t.Fatalf("got %q, want the last two lines, valid UTF-8", body)
	}
	resp, body = rs.do(t, "GET", p+"?tail=1&timestamps", tok, nil)
	wantStatus(t, resp, body, 200)
	if string(body) != "2026-11-28T12:00:00.412Z bad \uFFFD byte\n" {
		t.Fatalf("got %q, want the line with its time", body)
	}
	for _, q := range []string{"?tail=0", "?tail=501", "?tail=abc", "?tail="} {
		resp, body = rs.do(t, "GET", p+q, tok, nil)
		wantError(t, resp, body, 400, "tail must be an integer between 1 and 500")
	}
	resp, body = rs.do(t, "GET", p+"?timestamps=maybe", tok, nil)
	wantError(t, resp, body, 400, "timestamps must be true or false")
	stranger, _ := rs.anon(t)
	resp, body = rs.do(t, "GET", p+"?tail=abc", stranger, nil)
	wantError(t, resp, body, 403, "permission denied")
	mod, _ := rs.user(t, domain.LevelModerator)
	resp, body = rs.do(t, "GET", p, mod, nil)
	wantStatus(t, resp, body, 200)
	resp, body = rs.do(t, "GET", p+"?access_token="+tok, "", nil)
	wantStatus(t, resp, body, 200)
	resp, body = rs.do(t, "GET", "/users/me/runnables/AAAAAAAAAAAAAAAA/logs", tok, nil)
	wantError(t, resp, body, 404, "runnable not found")
}

// sse is a reader of a Server-Sent Events stream.
type sse struct {
	t    *testing.T
	resp *http.Response
	r    *bufio.Reader
}

type sseEvent struct{ name, data, comment string }

func (rs *rtServer) follow(t *testing.T, ctx context.Context, path string) *sse {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", rs.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rs.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("got %d %s %s, want an event stream", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return &sse{t: t, resp: resp, r: bufio.NewReader(resp.Body)}
}

// next reads one event or comment; io.EOF at the end of the stream.
func (s *sse) next() (sseEvent, error) {
	var ev sseEvent
	var data []string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			ev.data = strings.Join(data, "\n")
			return ev, nil
		case strings.HasPrefix(line, ":"):
			ev.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[6:])
		}
	}
}

func (s *sse) want(name, data string) {
	s.t.Helper()
	ev, err := s.next()
	if err != nil {
		s.t.Fatalf("got %v, want event %s %q", err, name, data)
	}
	if ev.comment == "keepalive" {
		s.want(name, data)
		return
	}
	if ev.name != name || ev.data != data {
		s.t.Fatalf("got event %q data %q, want %q %q", ev.name, ev.data, name, data)
	}
}

func TestLogFollowStreamsUntilStop(t *testing.T) {
	defer httpapi.SetSSEKeepalive(50 * time.Millisecond)()
	rs := newRuntimeServer(t)
	tok, _ := rs.anon(t)
	id := rs.draft(t, tok)
	p := "/users/me/runnables/" + id + "/logs?follow=true&access_token=" + tok

	// not up: an end at once
	s := rs.follow(t, t.Context(), p)
	s.want("end", `{"status":"stopped","exit_code":null}`)
	if _, err := s.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want the stream closed after end", err)
	}

	cid := rs.start(t, tok, id)
	_ = rs.containers.AddLog(cid, ports.LogLine{Text: "old"})
	s = rs.follow(t, t.Context(), p)
	s.want("stdout", "old")
	_ = rs.containers.AddLog(cid, ports.LogLine{Stream: "stderr", Text: "a\rb"})
	s.want("stderr", "a\nb")
	ev, err := s.next()
	if err != nil || ev.comment != "keepalive" {
		t.Fatalf("got %+v, %v; want a keepalive comment", ev, err)
	}
	resp, body := rs.do(t, "POST", "/users/me/runnables/"+id+"/stop", tok, nil)
	wantStatus(t, resp, body, 200)
	s.want("end", `{"status":"stopped","exit_code":0}`)
	for {
		ev, err := s.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || ev.comment != "keepalive" {
			t.Fatalf("got %+v, %v after end, want the stream closed", ev, err)
		}
	}
}

func TestLogFollowClientLeavingLeavesNothing(t *testing.T) {
	defer httpapi.SetSSEKeepalive(10 * time.Millisecond)()
	rs := newRuntimeServer(t)
	tok, _ := rs.anon(t)
	id := rs.draft(t, tok)
	cid := rs.start(t, tok, id)
	p := "/users/me/runnables/" + id + "/logs?follow=1&access_token=" + tok
	_ = rs.containers.AddLog(cid, ports.LogLine{Text: "x"})
	warm, cancelWarm := context.WithCancel(t.Context())
	rs.follow(t, warm, p).want("stdout", "x")
	cancelWarm()
	rs.client.CloseIdleConnections()
	time.Sleep(50 * time.Millisecond)
	base := runtime.NumGoroutine()
	for range 10 {
		ctx, cancel := context.WithCancel(t.Context())
		s := rs.follow(t, ctx, p)
		s.want("stdout", "x")
		cancel()
		_ = s.resp.Body.Close()
	}
	rs.client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("got %d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}

	// graceful shutdown ends open streams
	s := rs.follow(t, t.Context(), p)
	s.want("stdout", "x")
	rs.app.CloseTerminals()
	for {
		if _, err := s.next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("got %v, want the stream closed", err)
			}
			break
		}
	}
}

// wsConn is a terminal client.
type wsConn struct {
	t *testing.T
	c *websocket.Conn
}

type termMsg struct {
	Type     string `json:"type"`
	Shell    string `json:"shell"`
	Cols     int    `json:"cols"`
	Rows     int    `json:"rows"`
	Data     string `json:"data"`
	Message  string `json:"message"`
	ExitCode *int   `json:"exit_code"`
	Reason   string `json:"reason"`
}

func (rs *rtServer) dial(t *testing.T, path string, hdr http.Header) (*wsConn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, strings.Replace(rs.URL, "http", "ws", 1)+path,
		&websocket.DialOptions{HTTPClient: rs.client, HTTPHeader: hdr})
	if err != nil {
		return nil, resp, err
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &wsConn{t: t, c: c}, resp, nil
}

func (w *wsConn) send(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	if err := w.c.Write(w.t.Context(), websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsConn) read() termMsg {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.t.Context(), 5*time.Second)
	defer cancel()
	typ, b, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		w.t.Fatalf("got a %v frame, want text", typ)
	}
	var m termMsg
	if err := json.Unmarshal(b, &m); err != nil {
		w.t.Fatalf("got %q, want a JSON message", b)
	}
	return m
}

// output reads output messages until they contain want.
func (w *wsConn) output(want string) string {
	w.t.Helper()
	var got strings.Builder
	for !strings.Contains(got.String(), want) {
		m := w.read()
		if m.Type != "output" {
			w.t.Fatalf("got %+v after output %q, want output containing %q", m, got.String(), want)
		}
		got.WriteString(m.Data)
	}
	return got.String()
}

// closed waits for the server's close and returns its status.
func (w *wsConn) closed() websocket.StatusCode {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.t.Context(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := w.c.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err)
		}
		w.t.Logf("ignored %s before the close", b)
	}
}

func (w *wsConn) wantExit(code *int, reason string, status websocket.StatusCode) {
	w.t.Helper()
	m := w.read()
	for m.Type == "output" {
		m = w.read()
	}
	if m.Type != "exit" || m.Reason != reason || (code == nil) != (m.ExitCode == nil) || code != nil && *code != *m.ExitCode {
		w.t.Fatalf("got %+v, want exit %v %q", m, code, reason)
	}
	if got := w.closed(); got != status {
		w.t.Fatalf("got close %d, want %d", got, status)
	}
}

func TestTerminalSession(t *testing.T) {
	rs := newRuntimeServer(t)
	tok, _ := rs.anon(t)
	id := rs.draft(t, tok)
	w, resp, err := rs.dial(t, "/users/me/runnables/"+id+"/terminal?cols=100&rows=30&access_token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("got %d, want 101", resp.StatusCode)
	}
	if m := w.read(); m.Type != "ready" || m.Shell != "/bin/sh" || m.Cols != 100 || m.Rows != 30 {
		t.Fatalf("got %+v, want ready with /bin/sh 100x30 first", m)
	}
	w.send(map[string]any{"type": "input", "data": "echo $((6*7))\r"})
	w.output("echo $((6*7))\r")
	w.send(map[string]any{"type": "ping"})
	if m := w.read(); m.Type != "pong" {
		t.Fatalf("got %+v, want pong", m)
	}
	for _, bad := range []string{`{`, `{"type":"dance"}`, `{"type":"input"}`, `{"type":"resize","cols":0,"rows":5}`, `[1]`} {
		if err := w.c.Write(t.Context(), websocket.MessageText, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		if m := w.read(); m.Type != "error" || m.Message != "invalid message" {
			t.Fatalf("got %+v for %s, want error invalid message", m, bad)
		}
	}
	w.send(map[string]any{"type": "resize", "cols": 120, "rows": 40})
	did, _ := domain.ParseRunnableID(id)
	d, _ := rs.drafts.Get(t.Context(), did)
	sess := rs.containers.Sessions(d.ContainerID)[0]
	deadline := time.Now().Add(5 * time.Second)
	for c, r := sess.Size(); c != 120 || r != 40; c, r = sess.Size() {
		if time.Now().After(deadline) {
			t.Fatalf("got %dx%d, want the resize applied", c, r)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// binary frames are raw input; a character split across frames comes
	// back whole, invalid bytes as U+FFFD
	euro := []byte("€")
	_ = w.c.Write(t.Context(), websocket.MessageBinary, append([]byte("a"), euro[:1]...))
	time.Sleep(20 * time.Millisecond)
	_ = w.c.Write(t.Context(), websocket.MessageBinary, append(euro[1:], 0xff, 'z'))
	if got := w.output("z"); got != "a€\uFFFDz" {
		t.Fatalf("got %q, want a€\uFFFDz", got)
	}
	// the shell exits by itself
	_ = sess.Close()
	zero := 0
	w.wantExit(&zero, "shell exited", websocket.StatusNormalClosure)
}

func TestTerminalEndings(t *testing.T) {
	rs := newRuntimeServer(t, serverOpts{app: func(c *app.Config) { c.TerminalIdleTimeout = 300 * time.Millisecond }})
	tok, _ := rs.anon(t)
	id := rs.draft(t, tok)
	p := "/users/me/runnables/" + id + "/terminal?access_token=" + tok
	open := func() *wsConn {
		t.Helper()
		w, _, err := rs.dial(t, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m := w.read(); m.Type != "ready" {
			t.Fatalf("got %+v, want ready", m)
		}
		return w
	}

	w := open()
	w.wantExit(nil, "idle timeout", websocket.StatusNormalClosure)

	w = open()
	resp, body := rs.do(t, "POST", "/users/me/runnables/"+id+"/stop", tok, nil)
	wantStatus(t, resp, body, 200)
	w.wantExit(nil, "runnable stopped", websocket.StatusNormalClosure)

	w = open()
	rs.app.CloseTerminals()
	w.wantExit(nil, "server shutting down", websocket.StatusGoingAway)

	w = open()
	// a frame over 64 KiB closes with 1009
	if err := w.c.Write(t.Context(), websocket.MessageText, bytes.Repeat([]byte("x"), 64<<10+1)); err != nil {
		t.Fatal(err)
	}
	if got := w.closed(); got != websocket.StatusMessageTooBig {
		t.Fatalf("got close %d, want 1009", got)
	}

	w = open()
	resp, body = rs.do(t, "DELETE", "/users/me/runnables/"+id, tok, nil)
	wantStatus(t, resp, body, 200)
	w.wantExit(nil, "runnable deleted", websocket.StatusNormalClosure)
}

func TestTerminalChecksBeforeUpgrade(t *testing.T) {
	rs := newRuntimeServer(t, serverOpts{
		app:  func(c *app.Config) { c.TerminalMaxConns = 1 },
		http: func(c *httpapi.Config) { c.CORSOrigins = []string{"https://ok.example"} },
	})
	tok, _ := rs.anon(t)
	id := rs.draft(t, tok)
	p := "/users/me/runnables/" + id + "/terminal"

	resp, body := rs.do(t, "GET", p, tok, nil)
	wantError(t, resp, body, 400, "websocket upgrade required")
	mod, _ := rs.user(t, domain.LevelModerator)
	_, resp, err := rs.dial(t, p+"?access_token="+mod, nil)
	wantDialError(t, err, resp, 403, "permission denied")
	_, resp, err = rs.dial(t, p+"?cols=0&access_token="+tok, nil)
	wantDialError(t, err, resp, 400, "cols and rows must be integers between 1 and 1000")
	_, resp, err = rs.dial(t, p+"?rows=x&access_token="+tok, nil)
	wantDialError(t, err, resp, 400, "cols and rows must be integers between 1 and 1000")
	_, resp, err = rs.dial(t, p+"?access_token="+tok, http.Header{"Origin": {"https://evil.example"}})
	wantDialError(t, err, resp, 403, "origin not allowed")
	_, resp, err = rs.dial(t, p, nil)
	wantDialError(t, err, resp, 401, "access token required")

	w, _, err := rs.dial(t, p+"?access_token="+tok, http.Header{"Origin": {"https://ok.example"}})
	if err != nil {
		t.Fatal(err)
	}
	w.read()
	_, resp, err = rs.dial(t, p+"?access_token="+tok, nil)
	wantDialError(t, err, resp, 429, "too many terminals")
	resp, body = rs.do(t, "GET", "/metrics", "", nil)
	wantStatus(t, resp, body, 200)
	for _, want := range []string{"runnable_terminal_connections 1", "runnable_containers_running 1",
		`runnable_container_ops_total{op="start",result="ok"} 1`, "runnable_container_op_duration_seconds_bucket"} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("got metrics without %q:\n%s", want, body)
		}
	}
}

func wantDialError(t *testing.T, err error, resp *http.Response, status int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got an open terminal, want %d %q", status, msg)
	}
	if resp == nil {
		t.Fatalf("got %v without a response, want %d", err, status)
	}
	b, _ := io.ReadAll(resp.Body)
	wantError(t, resp, b, status, msg)
}

func TestCleanupRoute(t *testing.T) {
	rs := newRuntimeServer(t, serverOpts{app: func(c *app.Config) { c.CleanupMaxAge = time.Second }})
	admin, _ := rs.user(t, domain.LevelAdmin)
	reg, _ := rs.user(t, domain.LevelRegistered)
	resp, body := rs.do(t, "POST", "/cleanup", reg, nil)
	wantError(t, resp, body, 403, "permission denied")
	for _, b := range []string{`{"max_age":"30s"}`, `{"max_age":"soon"}`, `{"max_age":60}`} {
		resp, body = rs.do(t, "POST", "/cleanup", admin, b)
		wantError(t, resp, body, 400, "max_age must be a duration of at least 1m")
	}
	resp, body = rs.do(t, "POST", "/cleanup", admin, `{"dry_run":"yes"}`)
	wantError(t, resp, body, 400, "dry_run must be a boolean")

	owner, _ := rs.anon(t)
	rs.draft(t, owner)
	time.Sleep(1100 * time.Millisecond)
	resp, body = rs.do(t, "POST", "/cleanup", admin, `{"dry_run":true}`)
	wantStatus(t, resp, body, 200)
	if m := obj(t, body); m["dry_run"] != true || m["deleted_drafts"].(float64) != 1 {
		t.Fatalf("got %v, want a dry run that would delete 1", m)
	}
	resp, body = rs.do(t, "POST", "/cleanup", admin, nil)
	wantStatus(t, resp, body, 200)
	m := obj(t, body)
	ms := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	if m["deleted_drafts"].(float64) != 1 || !ms.MatchString(m["started_at"].(string)) || !ms.MatchString(m["finished_at"].(string)) {
		t.Fatalf("got %v, want 1 deleted and millisecond times", m)
	}
	resp, body = rs.do(t, "GET", "/users/me/runnables", owner, nil)
	wantStatus(t, resp, body, 200)
	if len(arr(t, body)) != 0 {
		t.Fatalf("got %s, want the expired draft gone", body)
	}

	lock, ok, err := rs.locks.Acquire(t.Context(), "lock:cleanup", time.Minute)
	if err != nil || !ok {
		t.Fatal(err)
	}
	resp, body = rs.do(t, "POST", "/cleanup", admin, `{"max_age":"1m"}`)
	wantError(t, resp, body, 409, "cleanup already running")
	_ = lock.Release(t.Context())
	_, body = rs.do(t, "GET", "/metrics", "", nil)
	if !strings.Contains(string(body), "runnable_cleanup_deleted_drafts_total 1") {
		t.Fatalf("got metrics without the deleted draft:\n%s", body)
	}
}

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, c := range files {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(c))
	}
	_ = tw.Close()
	return buf.Bytes()
}

func (rs *rtServer) post(t *testing.T, path, tok, ct string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", rs.URL+path, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("runnable-token", tok)
	resp, err := rs.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestImportRoute(t *testing.T) {
	rs := newRuntimeServer(t, serverOpts{http: func(c *httpapi.Config) { c.ImportMaxBytes = 64 << 10 }})
	admin, adminID := rs.user(t, domain.LevelAdmin)
	reg, regID := rs.user(t, domain.LevelRegistered)
	ctx := tarOf(t, map[string]string{
		"Dockerfile": "FROM runnable/busybox\n", "main.sh": "echo hi\n",
		"runnable.json": `{"name":"demo","start_cmd":"sh main.sh","tags":["demo"],"files":[{"path":"/main.sh","default":true}]}`,
	})
	var gzBuf bytes.Buffer
	zw := gzip.NewWriter(&gzBuf)
	_, _ = zw.Write(ctx)
	_ = zw.Close()

	resp, body := rs.post(t, "/runnables/import", admin, "application/json", []byte("{}"))
	wantError(t, resp, body, 415, "content type must be application/x-tar or application/gzip")
	resp, body = rs.post(t, "/runnables/import", reg, "application/x-tar", ctx)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = rs.post(t, "/runnables/import", admin, "application/x-tar", make([]byte, 65<<10))
	wantError(t, resp, body, 413, "request body too large")

	// gzip found by its magic bytes even when sent as x-tar
	resp, body = rs.post(t, "/runnables/import?owner="+regID, admin, "application/x-tar", gzBuf.Bytes())
	wantStatus(t, resp, body, 201)
	img := obj(t, body)
	if img["name"] != "demo" || img["published"] != true || img["version"].(float64) != 1 || img["owner"] != regID || img["parent"] != nil {
		t.Fatalf("got %v, want demo v1 published, owned by the owner param", img)
	}
	resp, body = rs.do(t, "GET", "/runnables/"+img["_id"].(string)+"/files?default=true", admin, nil)
	wantStatus(t, resp, body, 200)
	if files := arr(t, body); len(files) != 1 || files[0]["name"] != "main.sh" {
		t.Fatalf("got %s, want main.sh as the default file", body)
	}
	resp, body = rs.post(t, "/images/import?name=again&description=d", admin, "application/gzip", gzBuf.Bytes())
	wantStatus(t, resp, body, 201)
	resp, body = rs.post(t, "/runnables/import", admin, "application/gzip", gzBuf.Bytes())
	wantError(t, resp, body, 409, "runnable with name already exists")
	resp, body = rs.post(t, "/runnables/import?format=context", admin, "application/x-tar",
		tarOf(t, map[string]string{"Dockerfile": "FROM runnable/busybox\n"}))
	wantError(t, resp, body, 400, "runnable.json required")
	resp, body = rs.post(t, "/runnables/import", admin, "application/x-tar", tarOf(t, map[string]string{"x": "y"}))
	wantError(t, resp, body, 400, "archive is not a docker image or build context")
	resp, body = rs.post(t, "/runnables/import?name=n", admin, "application/x-tar",
		tarOf(t, map[string]string{"manifest.json": `[{"Config":"c","RepoTags":[],"Layers":[]}]`}))
	wantError(t, resp, body, 400, "docker-save archives need the docker backend")
	resp, body = rs.post(t, "/runnables/import?format=tarball", admin, "application/x-tar", ctx)
	wantError(t, resp, body, 400, "format must be one of auto, docker-save, context")
	_ = adminID
}

func TestExportRoute(t *testing.T) {
	rs := newRuntimeServer(t)
	admin, adminID := rs.user(t, domain.LevelAdmin)
	reg, _ := rs.user(t, domain.LevelRegistered)
	p := "/runnables/" + rs.template + "/export"
	resp, body := rs.do(t, "GET", p, reg, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = rs.do(t, "GET", "/runnables/AAAAAAAAAAAAAAAA/export", admin, nil)
	wantError(t, resp, body, 404, "runnable not found")
	// the memory backend has no docker-save: an ordinary error, no
	// half-sent archive
	resp, body = rs.do(t, "GET", "/images/"+rs.template+"/export", admin, nil)
	wantError(t, resp, body, 400, "docker-save archives need the docker backend")

	owner, _ := domain.ParseHex(adminID)
	saving := &domain.Image{ID: system.NewIDs().NewID(), Name: "half", Owner: owner, Status: domain.ImageSaving, FileRoot: "/root"}
	if err := rs.images.Create(t.Context(), saving); err != nil {
		t.Fatal(err)
	}
	resp, body = rs.do(t, "GET", "/runnables/"+saving.ID.Short()+"/export", admin, nil)
	wantError(t, resp, body, 409, "a save is already in progress")
}

func TestUTF8Chunker(t *testing.T) {
	euro := []byte("€") // e2 82 ac
	tests := []struct {
		name   string
		chunks [][]byte
		want   []string
	}{
		{"ascii", [][]byte{[]byte("ab"), []byte("c")}, []string{"ab", "c", ""}},
		{"split 1+2", [][]byte{append([]byte("x"), euro[0]), euro[1:]}, []string{"x", "€", ""}},
		{"split 2+1", [][]byte{euro[:2], append(euro[2:], 'y')}, []string{"", "€y", ""}},
		{"invalid byte", [][]byte{{'a', 0xff, 'b'}}, []string{"a\uFFFDb", ""}},
		{"lead then ascii", [][]byte{{'a', 0xe2}, []byte("b")}, []string{"a", "\uFFFDb", ""}},
		{"truncated at end", [][]byte{{'a', 0xe2, 0x82}}, []string{"a", "\uFFFD\uFFFD"}},
		{"four bytes split", [][]byte{[]byte("😀")[:3], []byte("😀")[3:]}, []string{"", "😀", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := httpapi.UTF8Chunks(tt.chunks...)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
