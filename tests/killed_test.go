package tests

import (
	"net/http"
	"testing"
)

// TestStateFollowsDockerWhenKilledOutside: a running draft whose container
// is killed behind the server's back (docker kill) reads "stopped" with
// stopped_at set, and starting it again runs it (issue 4: state tracking
// stays true to Docker).
func TestStateFollowsDockerWhenKilledOutside(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	s := startServer(t, nil)
	tID := str(t, waitTemplate(t, s, "shell"), "_id")
	a := anonymous(t, s)
	d := fork(t, s, a, tID)
	id, hex := str(t, d, "_id"), str(t, d, "id")
	resp, body := s.Do(t, http.MethodPut, P(id), a.token, map[string]any{"start_cmd": "sleep 300", "running": true})
	wantStatus(t, resp, body, http.StatusOK)
	if got := jsonObject(t, body)["status"]; got != "running" {
		t.Fatalf("got status %v, want running", got)
	}
	cs := draftContainers(t, hex)
	if len(cs) != 1 {
		t.Fatalf("got %d containers for the draft, want 1", len(cs))
	}
	dockerCLI(t, "kill", cs[0].ID)
	got := waitDraft(t, s, a, id, "the killed container to read stopped", func(d map[string]any) bool {
		return d["status"] == "stopped"
	})
	if got["running"] != false || got["stopped_at"] == nil {
		t.Fatalf("got %v, want running false and stopped_at set", got)
	}
	resp, body = s.Do(t, http.MethodPost, P(id)+"/start", a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	if got := jsonObject(t, body)["running"]; got != true {
		t.Fatalf("got running %v after start, want true", got)
	}
	resp, body = s.Do(t, http.MethodDelete, P(id), a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
}
