package tests

import (
	"net/http"
	"testing"
)

// Spec §9.4: with the embedded stores, users and tokens survive a restart and
// a crash of the server (an anonymous user who lost the token would lose its
// drafts).
func TestRestartKeepsUsersAndTokens(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	s := startServer(t, map[string]string{"TEMPLATES_DIR": ""})
	token, id := newAnonymous(t, s)

	check := func(when string) {
		t.Helper()
		resp, body := s.Do(t, http.MethodGet, "/users/me", token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := str(t, jsonObject(t, body), "_id"); got != id {
			t.Errorf("%s: got _id %s, want %s", when, got, id)
		}
	}

	if code := s.Stop(t); code != 0 {
		t.Errorf("graceful stop: got exit code %d, want 0 (spec §9.5)", code)
	}
	s.Restart(t)
	check("after a graceful restart")

	s.Kill(t)
	s.Restart(t)
	check("after a crash (SIGKILL) and a start")
}
