package tests

import (
	"net/http"
	"strings"
	"testing"
)

// Spec §11, "Drafts, lifecycle, logs, terminal": scenarios 27-31 and 34.

// Scenarios 27-29, 31 and 34 continue each other on one server: A's drafts,
// B an anonymous stranger, M a moderator.
func TestScenario27To34DraftLifecycle(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	s := startServer(t, adminEnv(nil))
	tID := str(t, waitTemplate(t, s, "shell"), "_id")
	a, b := anonymous(t, s), anonymous(t, s)
	m := moderator(t, s, "mod")
	d := str(t, fork(t, s, a, tID), "_id")

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
			if n := len(draftContainers(t, str(t, started, "id"))); n != 1 {
				t.Errorf("start: the backend has %d containers labelled with the draft, want 1", n)
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
			d2 := str(t, fork(t, s, a, tID), "_id")
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
		}},

		// 34. DELETE P/d → 200; GET → 404; no container is left.
		{"34 delete", func(t *testing.T) {
			hex := idHex(d)
			if n := len(draftContainers(t, hex)); n != 1 {
				t.Fatalf("before the delete: the backend has %d containers labelled with the draft, want 1", n)
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
			if cs := draftContainers(t, hex); len(cs) != 0 {
				t.Errorf("after the delete: the backend still has containers labelled com.runnable.draft=%s: %+v", hex, cs)
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
	requireDocker(t)
	s := startServer(t, map[string]string{"MAX_RUNNING_PER_USER": "1", "RATE_LIMIT_CONTAINER": "2/1m"})
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
