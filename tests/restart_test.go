package tests

import (
	"net/http"
	"slices"
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

// Spec §9.4 and the store issue's check: with the embedded stores, drafts,
// images and files survive a graceful restart and a crash. An anonymous
// user forks, writes a file, saves; another draft has an unsaved edit; the
// server stops (SIGTERM, then once SIGKILL) and starts again on the same
// data directory; the same token works and every record and file is there.
func TestRestartKeepsDraftsImagesAndFiles(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	s := startServer(t, nil)
	tID := str(t, waitTemplate(t, s, "shell"), "_id")
	a := anonymous(t, s)

	saved := str(t, fork(t, s, a, tID), "_id")
	createFile(t, s, a, saved, "/", "kept.txt", "saved content")
	img := saveNew(t, s, a, saved, "kept across restarts")
	imgID := str(t, img, "_id")

	unsaved := str(t, fork(t, s, a, tID), "_id")
	setContent(t, s, a, unsaved, "/", "main.sh", "echo unsaved edit\n")
	resp, body := s.Do(t, http.MethodPost, P(unsaved)+"/start", a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)

	before := map[string]map[string]any{
		saved:   getDraft(t, s, a, saved),
		unsaved: getDraft(t, s, a, unsaved),
		imgID:   getImage(t, s, a, imgID),
	}

	check := func(t *testing.T) {
		resp, body := s.Do(t, http.MethodGet, "/users/me", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := str(t, jsonObject(t, body), "_id"); got != a.id {
			t.Fatalf("the token maps to %s, want %s", got, a.id)
		}
		resp, body = s.Do(t, http.MethodGet, "/users/me/runnables", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := ids(jsonArray(t, body)); len(got) != 2 || !slices.Contains(got, saved) || !slices.Contains(got, unsaved) {
			t.Errorf("drafts: got %v, want %s and %s", got, saved, unsaved)
		}
		for _, id := range []string{saved, unsaved} {
			got, was := getDraft(t, s, a, id), before[id]
			for _, k := range []string{"name", "parent", "parent_version", "target", "saved", "created", "start_cmd"} {
				if !jsonEqual(got[k], was[k]) {
					t.Errorf("draft %s: got %s = %v, want %v as before", id, k, got[k], was[k])
				}
			}
		}
		got := getImage(t, s, a, imgID)
		for _, k := range []string{"name", "owner", "version", "status", "parent", "created", "updated"} {
			if !jsonEqual(got[k], before[imgID][k]) {
				t.Errorf("image: got %s = %v, want %v as before", k, got[k], before[imgID][k])
			}
		}
		resp, body = s.Do(t, http.MethodGet, "/runnables?owner=me", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := ids(jsonArray(t, body)); !jsonEqual(got, []string{imgID}) {
			t.Errorf("A's images: got %v, want [%s]", got, imgID)
		}
		if c := fileContent(t, s, a, P(saved), "/", "kept.txt"); c != "saved content" {
			t.Errorf("saved draft kept.txt: got %q", c)
		}
		if c := fileContent(t, s, a, "/runnables/"+imgID, "/", "kept.txt"); c != "saved content" {
			t.Errorf("image kept.txt: got %q", c)
		}
		if c := fileContent(t, s, a, P(unsaved), "/", "main.sh"); c != "echo unsaved edit\n" {
			t.Errorf("unsaved draft main.sh: got %q", c)
		}
		// The unsaved edit is still in the container, which is still there.
		resp, body = s.Do(t, http.MethodPost, P(unsaved)+"/sync", a.token, nil)
		wantStatus(t, resp, body, http.StatusCreated)
		if c := fileContent(t, s, a, P(unsaved), "/", "main.sh"); c != "echo unsaved edit\n" {
			t.Errorf("unsaved draft main.sh after a sync: got %q", c)
		}
		if st := getDraft(t, s, a, unsaved)["status"]; st != "running" && st != "idle" {
			t.Errorf("unsaved draft: got status %v, want its container still up (containers keep running, spec §9.4)", st)
		}
		// The image can still be forked and read.
		f := str(t, fork(t, s, a, imgID), "_id")
		if c := fileContent(t, s, a, P(f), "/", "kept.txt"); c != "saved content" {
			t.Errorf("fork of the image kept.txt: got %q", c)
		}
		resp, body = s.Do(t, http.MethodDelete, P(f), a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
	}

	if code := s.Stop(t); code != 0 {
		t.Errorf("graceful stop: got exit code %d, want 0", code)
	}
	s.Restart(t)
	if !t.Run("after SIGTERM", check) {
		return
	}
	s.Kill(t)
	s.Restart(t)
	if !t.Run("after SIGKILL", check) {
		return
	}

	// A container removed while the server is down: after the start the
	// draft shows "error", and start re-creates it from its parent version.
	t.Run("container removed while the server was down", func(t *testing.T) {
		s.Kill(t)
		if n := removeDraftContainers(t, idHex(unsaved)); n != 1 {
			t.Fatalf("removed %d containers of the unsaved draft, want 1", n)
		}
		s.Restart(t)
		wantFields(t, "draft whose container vanished", getDraft(t, s, a, unsaved), map[string]any{"status": "error", "running": false})
		resp, body := s.Do(t, http.MethodPost, P(unsaved)+"/start", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		wantFields(t, "start after the loss", jsonObject(t, body), map[string]any{"running": true})
		if cs := draftContainers(t, idHex(unsaved)); len(cs) != 1 {
			t.Errorf("after start: %d containers labelled with the draft, want 1", len(cs))
		}
		if c := fileContent(t, s, a, P(unsaved), "/", "main.sh"); c == "echo unsaved edit\n" {
			t.Errorf("main.sh after the re-creation: still the lost edit")
		}
	})
}
