package tests

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Spec §11, "Drafts, lifecycle, logs, terminal": scenarios 27-34.

// Scenarios 27-29 and 31-34 continue each other on one server: A's drafts,
// B an anonymous stranger, M a moderator.
func TestScenario27To34DraftLifecycle(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario27To34DraftLifecycle)
}

func scenario27To34DraftLifecycle(t *testing.T, bk backend) {
	s := bk.start(t, adminEnv(nil))
	tID := str(t, waitTemplate(t, s, "shell"), "_id")
	a, b := anonymous(t, s), anonymous(t, s)
	m := moderator(t, s, "mod")
	d := str(t, fork(t, s, a, tID), "_id")
	d2 := str(t, fork(t, s, a, tID), "_id") // 29's, and counted among A's drafts by 31

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		// 27. start → running, started_at; again → unchanged; stop →
		// stopped, stopped_at; restart → running; PUT {running:true} starts.
		{"27 start stop restart", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, P(d)+"/start", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			started := jsonObject(t, body)
			wantFields(t, "start", started, map[string]any{"running": true})
			at, _ := started["started_at"].(string)
			if at == "" {
				t.Fatalf("start: got started_at %v, want a time", started["started_at"])
			}
			if st := started["status"]; st != "running" && st != "idle" {
				t.Errorf("start: got status %v, want running or idle", st)
			}
			if bk.docker() {
				if n := len(draftContainers(t, str(t, started, "id"))); n != 1 {
					t.Errorf("start: the backend has %d containers labelled with the draft, want 1", n)
				}
			}

			resp, body = s.Do(t, http.MethodPost, P(d)+"/start", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			again := jsonObject(t, body)
			wantFields(t, "second start", again, map[string]any{"running": true, "started_at": at})

			resp, body = s.Do(t, http.MethodPost, P(d)+"/stop", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			stopped := jsonObject(t, body)
			wantFields(t, "stop", stopped, map[string]any{"status": "stopped", "running": false})
			if sa, _ := stopped["stopped_at"].(string); sa == "" {
				t.Errorf("stop: got stopped_at %v, want a time", stopped["stopped_at"])
			}
			// Stopping a stopped draft is a no-op.
			resp, body = s.Do(t, http.MethodPost, P(d)+"/stop", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "second stop", jsonObject(t, body), map[string]any{"status": "stopped"})

			resp, body = s.Do(t, http.MethodPost, P(d)+"/restart", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "restart", jsonObject(t, body), map[string]any{"running": true})

			resp, body = s.Do(t, http.MethodPut, P(d)+"/stop", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "PUT stop", jsonObject(t, body), map[string]any{"running": false})

			resp, body = s.Do(t, http.MethodPut, P(d), a.token, map[string]any{"running": true})
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "PUT {running:true}", jsonObject(t, body), map[string]any{"running": true})
			wantFields(t, "GET after PUT {running:true}", getDraft(t, s, a, d), map[string]any{"running": true})
		}},

		// 28. Update validation.
		{"28 update validation", func(t *testing.T) {
			for _, c := range []struct {
				method string
				body   any
				msg    string
			}{
				{http.MethodPut, map[string]any{"running": "false"}, "running must be a boolean"},
				{http.MethodPut, map[string]any{}, "must provide name, description, start_cmd, env or running"},
				{http.MethodPatch, map[string]any{"env": map[string]string{"1X": "y"}}, "invalid env name: 1X"},
				{http.MethodPatch, map[string]any{"env": map[string]any{"X": 1}}, "env must be an object of string values"},
				{http.MethodPatch, map[string]any{"name": "  "}, "name must be 1 to 100 characters"},
			} {
				resp, body := s.Do(t, c.method, P(d), a.token, c.body)
				wantError(t, resp, body, http.StatusBadRequest, c.msg)
			}
			// The string "false" did not stop the draft.
			wantFields(t, "draft after refused updates", getDraft(t, s, a, d), map[string]any{"running": true})
			resp, body := s.Do(t, http.MethodPatch, P(d), a.token, map[string]any{"name": "renamed", "env": map[string]string{"GREETING": "hi"}})
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "PATCH", jsonObject(t, body), map[string]any{"name": "renamed", "env": map[string]any{"GREETING": "hi"}})
		}},

		// 29. [docker] start_cmd `echo hi; exit 3` → idle, exit_code 3,
		// running; the logs contain hi.
		{"29 exit code and logs", func(t *testing.T) {
			bk.dockerOnly(t)
			resp, body := s.Do(t, http.MethodPatch, P(d2), a.token, map[string]any{"start_cmd": "echo hi; exit 3"})
			wantStatus(t, resp, body, http.StatusOK)
			resp, body = s.Do(t, http.MethodPost, P(d2)+"/start", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			got := waitDraft(t, s, a, d2, "start_cmd to exit", func(d map[string]any) bool { return d["status"] == "idle" })
			wantFields(t, "after start_cmd exited", got, map[string]any{"status": "idle", "exit_code": 3, "running": true})

			resp, body = s.Do(t, http.MethodGet, P(d2)+"/logs?tail=10", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("logs: got Content-Type %q, want text/plain", ct)
			}
			if !strings.Contains(string(body), "hi") {
				t.Errorf("logs: got %q, want it to contain hi", body)
			}
			resp, body = s.Do(t, http.MethodGet, P(d2)+"/logs?tail=0", a.token, nil)
			wantError(t, resp, body, http.StatusBadRequest, "tail must be an integer between 1 and 10000")

			// The draft's env reaches the container at the next start.
			resp, body = s.Do(t, http.MethodPatch, P(d2), a.token, map[string]any{
				"start_cmd": `echo "greeting=$GREETING"`, "env": map[string]string{"GREETING": "hello-env"},
			})
			wantStatus(t, resp, body, http.StatusOK)
			resp, body = s.Do(t, http.MethodPost, P(d2)+"/restart", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			got = waitDraft(t, s, a, d2, "the new start_cmd to exit", func(d map[string]any) bool { return d["status"] == "idle" })
			wantFields(t, "after the restart", got, map[string]any{"exit_code": 0})
			resp, body = s.Do(t, http.MethodGet, P(d2)+"/logs?tail=10", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if !strings.Contains(string(body), "greeting=hello-env") {
				t.Errorf("logs after the restart: got %q, want greeting=hello-env", body)
			}
		}},

		// 31. B may not read A's draft or list A's drafts; M may, may stop
		// it, but may not start it.
		{"31 who may do what", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodGet, P(d), b.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodGet, "/users/"+a.id+"/runnables", b.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodPost, P(d)+"/stop", b.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")

			resp, body = s.Do(t, http.MethodGet, P(d), m.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			resp, body = s.Do(t, http.MethodGet, "/users/"+a.id+"/runnables", m.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if got := ids(jsonArray(t, body)); len(got) != 2 || !strings.Contains(strings.Join(got, ","), d) {
				t.Errorf("M lists A's drafts: got %v, want 2 drafts including %s", got, d)
			}
			resp, body = s.Do(t, http.MethodGet, "/users/"+a.id+"/runnables/"+d, m.token, nil)
			wantStatus(t, resp, body, http.StatusOK)

			resp, body = s.Do(t, http.MethodPost, P(d)+"/start", m.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodPost, P(d)+"/stop", m.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "stopped by M", jsonObject(t, body), map[string]any{"status": "stopped", "owner": a.id})

			resp, body = s.Do(t, http.MethodGet, "/users/1235/runnables", m.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "user not found")

			// The rest of §4.2: M reads files, the archive and logs, but
			// may not update, write, sync, save or restart; B reads nothing.
			for _, p := range []string{"/files", "/files/archive", "/logs"} {
				resp, body = s.Do(t, http.MethodGet, P(d)+p, m.token, nil)
				wantStatus(t, resp, body, http.StatusOK)
				resp, body = s.Do(t, http.MethodGet, P(d)+p, b.token, nil)
				wantError(t, resp, body, http.StatusForbidden, "permission denied")
			}
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{http.MethodPatch, P(d), map[string]string{"name": "by M"}},
				{http.MethodPost, P(d) + "/files", map[string]string{"name": "m.txt", "path": "/", "content": ""}},
				{http.MethodPost, P(d) + "/sync", nil},
				{http.MethodPost, P(d) + "/save", nil},
				{http.MethodPost, P(d) + "/restart", nil},
			} {
				resp, body = s.Do(t, c.method, c.path, m.token, c.body)
				wantError(t, resp, body, http.StatusForbidden, "permission denied")
			}
			// Malformed ids and image ids are unknown drafts (spec §1.4, §4.2).
			for _, id := range []string{"xyz", "12345", tID} {
				resp, body = s.Do(t, http.MethodGet, P(id), a.token, nil)
				wantError(t, resp, body, http.StatusNotFound, "runnable not found")
			}
		}},

		// 32. [docker] logs?follow=true on a running draft → an event
		// stream of stdout lines; after stop, `event: end` and the end of
		// the stream.
		{"32 follow logs", func(t *testing.T) {
			bk.dockerOnly(t)
			d3 := str(t, fork(t, s, a, tID), "_id")
			resp, body := s.Do(t, http.MethodPatch, P(d3), a.token, map[string]any{
				"start_cmd": "echo first-line; echo oops >&2; while true; do echo tick; sleep 0.2; done",
			})
			wantStatus(t, resp, body, http.StatusOK)
			resp, body = s.Do(t, http.MethodPost, P(d3)+"/start", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)

			stream := openStream(t, s, P(d3)+"/logs?follow=true&access_token="+a.token)
			if ct := stream.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Fatalf("follow: got Content-Type %q, want text/event-stream", ct)
			}
			stream.until(t, func(ev sseEvent) bool { return ev.event == "stdout" && ev.data == "tick" })
			resp, body = s.Do(t, http.MethodPost, P(d3)+"/stop", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			end := stream.until(t, func(ev sseEvent) bool { return ev.event == "end" })
			if !strings.Contains(end.data, `"status":"stopped"`) {
				t.Errorf("follow: got end data %q, want status stopped", end.data)
			}
			seen := stream.seen()
			if !slices.Contains(seen, "stdout:first-line") || !slices.Contains(seen, "stderr:oops") {
				t.Errorf("follow: events %v, want stdout first-line and stderr oops", seen)
			}
			stream.wantClosed(t)

			// On a draft that is not up: the end event at once.
			stream = openStream(t, s, P(d3)+"/logs?follow=true&access_token="+a.token)
			stream.until(t, func(ev sseEvent) bool { return ev.event == "end" })
			stream.wantClosed(t)
		}},

		// 33. [docker] The terminal: ready, input and output, resize, ping;
		// B → 403 before the upgrade; a plain GET → 400.
		{"33 terminal", func(t *testing.T) {
			bk.dockerOnly(t)
			term := dialTerminal(t, s, a, d)
			term.send(t, map[string]any{"type": "resize", "cols": 120, "rows": 40})
			if out := term.run(t, "echo $((6*7))"); !strings.Contains(out, "42") {
				t.Errorf("terminal: output %q has no 42", out)
			}
			term.send(t, map[string]string{"type": "ping"})
			for {
				m := term.next(t, 30*time.Second)
				if m["type"] == "error" {
					t.Errorf("terminal: got %v after a resize and a ping", m)
				}
				if m["type"] == "pong" {
					break
				}
			}
			term.send(t, map[string]string{"type": "input", "data": "exit\r"})
			for {
				m := term.next(t, 30*time.Second)
				if m["type"] == "exit" {
					wantFields(t, "exit message", m, map[string]any{"reason": "shell exited", "exit_code": 0})
					break
				}
			}
			if st := getDraft(t, s, a, d)["running"]; st != true {
				t.Errorf("after the terminal: got running %v, want true (opening it started the draft)", st)
			}

			req := s.NewRequest(t, http.MethodGet, P(d)+"/terminal?access_token="+b.token, nil)
			setUpgradeHeaders(req)
			resp, body := s.DoRequest(t, req)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			req = s.NewRequest(t, http.MethodGet, P(d)+"/terminal?access_token="+m.token, nil)
			setUpgradeHeaders(req)
			resp, body = s.DoRequest(t, req)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodGet, P(d)+"/terminal", a.token, nil)
			wantError(t, resp, body, http.StatusBadRequest, "websocket upgrade required")
		}},

		// 34. DELETE P/d → 200; GET → 404; no container is left.
		{"34 delete", func(t *testing.T) {
			hex := idHex(d)
			if bk.docker() {
				if n := len(draftContainers(t, hex)); n != 1 {
					t.Fatalf("before the delete: the backend has %d containers labelled with the draft, want 1", n)
				}
			}
			resp, body := s.Do(t, http.MethodDelete, P(d), b.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodDelete, P(d), a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if o := jsonObject(t, body); len(o) != 1 || o["message"] != "runnable deleted" {
				t.Errorf(`DELETE P/:id: got %s, want {"message":"runnable deleted"}`, body)
			}
			resp, body = s.Do(t, http.MethodGet, P(d), a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")
			resp, body = s.Do(t, http.MethodGet, P(d)+"/files", a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")
			if bk.docker() {
				if cs := draftContainers(t, hex); len(cs) != 0 {
					t.Errorf("after the delete: the backend still has containers labelled com.runnable.draft=%s: %+v", hex, cs)
				}
			}
			// A draft that never had a container is deleted as well.
			d3 := str(t, fork(t, s, a, tID), "_id")
			resp, body = s.Do(t, http.MethodDelete, P(d3), a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			resp, body = s.Do(t, http.MethodGet, P(d3), a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}
}

// Scenario 30: with MAX_RUNNING_PER_USER=1 a second start → 429 "too many
// running runnables for this user" with Retry-After; with
// RATE_LIMIT_CONTAINER=2/1m the third real start in a minute → 429 "rate
// limit exceeded". The two limits are checked with two users, since the
// container bucket is per user.
func TestScenario30CapacityAndContainerRate(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario30CapacityAndContainerRate)
}

func scenario30CapacityAndContainerRate(t *testing.T, bk backend) {
	s := bk.start(t, map[string]string{"MAX_RUNNING_PER_USER": "1", "RATE_LIMIT_CONTAINER": "2/1m"})
	tID := str(t, waitTemplate(t, s, "shell"), "_id")

	a := anonymous(t, s)
	d1, d2 := str(t, fork(t, s, a, tID), "_id"), str(t, fork(t, s, a, tID), "_id")
	resp, body := s.Do(t, http.MethodPost, P(d1)+"/start", a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	resp, body = s.Do(t, http.MethodPost, P(d2)+"/start", a.token, nil)
	wantError(t, resp, body, http.StatusTooManyRequests, "too many running runnables for this user")
	if ra := resp.Header.Get("Retry-After"); ra != "30" {
		t.Errorf("capacity 429: got Retry-After %q, want 30", ra)
	}
	// The refused draft was not started; a no-op start of the running one
	// is not refused.
	if got := getDraft(t, s, a, d2); got["running"] != false {
		t.Errorf("refused draft: got running %v, want false", got["running"])
	}
	resp, body = s.Do(t, http.MethodPost, P(d1)+"/start", a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)

	c := anonymous(t, s)
	d := str(t, fork(t, s, c, tID), "_id")
	// The five operations below must fall in one container window.
	clearOfWindowEdge(t, time.Minute, 30*time.Second)
	for i, op := range []string{"start", "stop", "start", "stop"} {
		resp, body := s.Do(t, http.MethodPost, P(d)+"/"+op, c.token, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("step %d (%s): %s", i+1, op, describe(resp, body))
		}
	}
	resp, body = s.Do(t, http.MethodPost, P(d)+"/start", c.token, nil)
	wantError(t, resp, body, http.StatusTooManyRequests, "rate limit exceeded")
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("container bucket 429: no Retry-After")
	}
	resp, body = s.Do(t, http.MethodPut, P(d), c.token, map[string]any{"running": true})
	wantError(t, resp, body, http.StatusTooManyRequests, "rate limit exceeded")
	// Stopping is never limited.
	resp, body = s.Do(t, http.MethodPost, P(d)+"/stop", c.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
}

// setUpgradeHeaders makes req a WebSocket upgrade request.
func setUpgradeHeaders(req *http.Request) {
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ event, data string }

// sseStream reads an event stream as it comes.
type sseStream struct {
	resp   *http.Response
	r      *bufio.Reader
	events []sseEvent
}

// openStream GETs path (the token in the query) and returns the open stream.
func openStream(t *testing.T, s *Server, path string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), pollTimeout)
	t.Cleanup(cancel)
	req := s.NewRequest(t, http.MethodGet, path, nil).WithContext(ctx)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: got %d, want 200: %s", path, resp.StatusCode, b)
	}
	return &sseStream{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next reads one event; ok is false at the end of the stream.
func (st *sseStream) next(t *testing.T) (ev sseEvent, ok bool) {
	t.Helper()
	var data []string
	for {
		line, err := st.r.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			return sseEvent{}, false
		}
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("reading the event stream: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.event != "" || len(data) > 0 {
				ev.data = strings.Join(data, "\n")
				st.events = append(st.events, ev)
				return ev, true
			}
		case strings.HasPrefix(line, ":"): // comment (keepalive)
		case strings.HasPrefix(line, "event:"):
			ev.event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
}

// until reads events until one matches and returns it.
func (st *sseStream) until(t *testing.T, match func(sseEvent) bool) sseEvent {
	t.Helper()
	for {
		ev, ok := st.next(t)
		if !ok {
			t.Fatalf("the event stream ended without the awaited event; events: %v", st.seen())
		}
		if match(ev) {
			return ev
		}
	}
}

// wantClosed wants the stream to end after what was read.
func (st *sseStream) wantClosed(t *testing.T) {
	t.Helper()
	if ev, ok := st.next(t); ok {
		t.Errorf("the event stream goes on after the end event: %v", ev)
	}
}

// seen lists the events read so far as "event:data".
func (st *sseStream) seen() []string {
	out := make([]string, 0, len(st.events))
	for _, ev := range st.events {
		out = append(out, ev.event+":"+ev.data)
	}
	return out
}
