package tests

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Spec §11: every scenario must pass on the docker backend, and those not
// marked [docker] also on the memory backend (CONTAINER_BACKEND=memory,
// spec §10: start_cmd is not executed, commits copy the filesystem, the
// terminal echoes). A scenario test written as
//
//	func TestScenarioNN(t *testing.T) {
//		t.Parallel()
//		onBackends(t, scenarioNN)
//	}
//
//	func scenarioNN(t *testing.T, bk backend) {
//		s := bk.start(t, map[string]string{…})
//		…
//	}
//
// runs once per backend, as the parallel subtests "docker" and "memory".
// Only the docker subtest needs a Docker Engine. Steps of a scenario marked
// [docker] call bk.dockerOnly; checks that look at Docker itself (the
// containers labelled with a draft) are guarded by bk.docker().

// backend is a container backend a scenario runs on.
type backend struct {
	// name is the value of CONTAINER_BACKEND, and the subtest's name.
	name string
}

// backends are the container backends of spec §10, in the order their
// subtests run.
var backends = []backend{{name: "docker"}, {name: "memory"}}

// docker reports whether b is the Docker backend.
func (b backend) docker() bool { return b.name == "docker" }

// env returns env (a copy) with CONTAINER_BACKEND set to b.
func (b backend) env(env map[string]string) map[string]string {
	out := map[string]string{"CONTAINER_BACKEND": b.name}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// start requires what b needs (a Docker Engine with the base image for
// docker; nothing for memory) and starts a server on b with env added to
// the harness defaults (see startServer).
func (b backend) start(t *testing.T, env map[string]string) *Server {
	t.Helper()
	if b.docker() {
		requireDocker(t)
	}
	return startServer(t, b.env(env))
}

// dockerOnly skips the rest of a step that spec §11 marks [docker] on the
// other backends.
func (b backend) dockerOnly(t *testing.T) {
	t.Helper()
	if !b.docker() {
		t.Skipf("marked [docker] in spec §11; not run on the %s backend", b.name)
	}
}

// onBackends runs scenario once per backend, as parallel subtests named
// after the backends.
func onBackends(t *testing.T, scenario func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			scenario(t, b)
		})
	}
}

// TestMemoryBackend checks what spec §10 says the memory backend does, as a
// client sees it: start_cmd is not executed (the draft is idle at once,
// exit_code 0, empty logs) and the terminal echoes its input back. (Its
// commits and build-context imports are exercised by the scenarios; its
// refusal of docker-save archives by scenario 56.)
func TestMemoryBackend(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"CONTAINER_BACKEND": "memory"})
	tID := str(t, waitTemplate(t, s, "shell"), "_id")
	a := anonymous(t, s)
	d := str(t, fork(t, s, a, tID), "_id")

	resp, body := s.Do(t, http.MethodPatch, P(d), a.token, map[string]any{"start_cmd": "echo hi; exit 3"})
	wantStatus(t, resp, body, http.StatusOK)
	resp, body = s.Do(t, http.MethodPost, P(d)+"/start", a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	wantFields(t, "start", jsonObject(t, body), map[string]any{"running": true})
	wantFields(t, "after start", getDraft(t, s, a, d), map[string]any{"status": "idle", "exit_code": 0, "running": true})
	resp, body = s.Do(t, http.MethodGet, P(d)+"/logs?tail=10", a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	if len(body) != 0 {
		t.Errorf("logs: got %q, want none (start_cmd is not executed)", body)
	}

	term := dialTerminal(t, s, a, d)
	const input = "echo $((6*7))\r"
	term.send(t, map[string]string{"type": "input", "data": input})
	var out strings.Builder
	for !strings.Contains(out.String(), input) {
		m := term.next(t, 30*time.Second)
		switch m["type"] {
		case "output":
			data, _ := m["data"].(string)
			out.WriteString(data)
		case "exit", "error":
			t.Fatalf("terminal: got %v before the echo; output so far %q", m, out.String())
		}
	}
	if strings.Contains(out.String(), "42") {
		t.Errorf("terminal: output %q evaluates the input; the memory backend only echoes", out.String())
	}
}
