package tests

import "testing"

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
