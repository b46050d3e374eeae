package tests

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The end-to-end loop of the first slice and the store/Docker consistency
// rules (README "Architecture", spec §4.6, §8.2-§8.4), against real Docker.

// TestLoopForkEditSaveFork: edit a file in a forked draft, save it, fork the
// saved image as another user and read the edited content; overwrite the
// image with a second save and a third fork reads the newest content. The
// content is read through the files API and also from a container made from
// the committed image (its start_cmd prints the file).
func TestLoopForkEditSaveFork(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	s := startServer(t, nil)
	tID := str(t, waitTemplate(t, s, "shell"), "_id")
	a, b, c := anonymous(t, s), anonymous(t, s), anonymous(t, s)

	// A forks T, edits main.sh, adds a file and saves.
	d := str(t, fork(t, s, a, tID), "_id")
	setContent(t, s, a, d, "/", "main.sh", "echo loop-v1; cat notes/todo.txt; echo\n")
	createDir(t, s, a, d, "/", "notes")
	createFile(t, s, a, d, "/notes", "todo.txt", "first todo")
	img := saveNew(t, s, a, d, "loop app")
	imgID := str(t, img, "_id")
	wantFields(t, "first save", img, map[string]any{"version": 1, "owner": a.id, "parent": tID})
	if tags := dockerImageTags(t, str(t, img, "id")); !slices.Contains(tags, "runnable/"+str(t, img, "id")+":v1") {
		t.Errorf("after the first save Docker has %v, want runnable/<image hex>:v1 (spec §8.3)", tags)
	}

	// B forks the image: the files API and a container both show v1.
	bd := fork(t, s, b, imgID)
	wantFields(t, "B's fork", bd, map[string]any{"parent": imgID, "parent_version": 1, "root": tID, "status": "not_created"})
	bID := str(t, bd, "_id")
	if got := fileContent(t, s, b, P(bID), "/", "main.sh"); got != "echo loop-v1; cat notes/todo.txt; echo\n" {
		t.Errorf("B's fork main.sh: got %q", got)
	}
	if got := fileContent(t, s, b, P(bID), "/notes", "todo.txt"); got != "first todo" {
		t.Errorf("B's fork notes/todo.txt: got %q", got)
	}
	wantLogs(t, s, b, bID, "loop-v1", "first todo")

	// A edits again and overwrites; C's fork reads the newest content.
	setContent(t, s, a, d, "/", "main.sh", "echo loop-v2; cat notes/todo.txt; echo\n")
	setContent(t, s, a, d, "/notes", "todo.txt", "second todo")
	img2 := saveOver(t, s, a, imgID, d)
	wantFields(t, "second save", img2, map[string]any{"_id": imgID, "version": 2, "owner": a.id})
	if got := fileContent(t, s, c, "/runnables/"+imgID, "/", "main.sh"); got != "echo loop-v2; cat notes/todo.txt; echo\n" {
		t.Errorf("image main.sh after the overwrite: got %q", got)
	}
	cd := fork(t, s, c, imgID)
	wantFields(t, "C's fork", cd, map[string]any{"parent": imgID, "parent_version": 2})
	cID := str(t, cd, "_id")
	if got := fileContent(t, s, c, P(cID), "/notes", "todo.txt"); got != "second todo" {
		t.Errorf("C's fork notes/todo.txt: got %q", got)
	}
	wantLogs(t, s, c, cID, "loop-v2", "second todo")

	// B's draft stays pinned to what it forked.
	if got := fileContent(t, s, b, P(bID), "/notes", "todo.txt"); got != "first todo" {
		t.Errorf("B's draft after the overwrite: got %q, want its own first todo", got)
	}

	// A fork saved without ever having a container points at its parent's
	// version; forking that image reads the parent's files.
	untouched := str(t, fork(t, s, b, imgID), "_id")
	u := saveNew(t, s, b, untouched, "untouched copy")
	e := fork(t, s, c, str(t, u, "_id"))
	if got := fileContent(t, s, c, P(str(t, e, "_id")), "/notes", "todo.txt"); got != "second todo" {
		t.Errorf("fork of a save without container: got %q, want the parent's second todo", got)
	}
	wantLogs(t, s, c, str(t, e, "_id"), "loop-v2", "second todo")

	// Deleting the image keeps working what was made from it (spec §3.5):
	// a fork that has no container yet, and the image that shares its
	// version.
	pending := str(t, fork(t, s, b, imgID), "_id")
	resp, body := s.Do(t, http.MethodDelete, "/runnables/"+imgID, a.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	if got := fileContent(t, s, b, P(pending), "/notes", "todo.txt"); got != "second todo" {
		t.Errorf("fork of a deleted image: got %q, want second todo", got)
	}
	wantLogs(t, s, b, pending, "loop-v2", "second todo")
	late := str(t, fork(t, s, c, str(t, u, "_id")), "_id")
	wantLogs(t, s, c, late, "loop-v2", "second todo")
}

// wantLogs starts a draft, waits for its start_cmd to finish and wants
// every string in its logs.
func wantLogs(t *testing.T, s *Server, u user, draft string, want ...string) {
	t.Helper()
	resp, body := s.Do(t, http.MethodPost, P(draft)+"/start", u.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	d := waitDraft(t, s, u, draft, "start_cmd to finish", func(d map[string]any) bool { return d["status"] == "idle" })
	if d["exit_code"] != float64(0) {
		t.Errorf("draft %s: got exit_code %v, want 0", draft, d["exit_code"])
	}
	resp, body = s.Do(t, http.MethodGet, P(draft)+"/logs?tail=50", u.token, nil)
	wantStatus(t, resp, body, http.StatusOK)
	for _, w := range want {
		if !strings.Contains(string(body), w) {
			t.Errorf("logs of draft %s: got %q, want %q in them", draft, body, w)
		}
	}
}

// TestConsistencyWithDocker: failed forks and saves leave nothing half-made,
// and a container removed behind the server's back shows as "error" and is
// re-created by start.
func TestConsistencyWithDocker(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	s := startServer(t, nil)
	tID := str(t, waitTemplate(t, s, "shell"), "_id")
	a := anonymous(t, s)

	myImages := func(t *testing.T) []string {
		t.Helper()
		resp, body := s.Do(t, http.MethodGet, "/runnables?owner=me", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		return names(jsonArray(t, body))
	}
	myDrafts := func(t *testing.T) []string {
		t.Helper()
		resp, body := s.Do(t, http.MethodGet, "/users/me/runnables", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		return ids(jsonArray(t, body))
	}

	t.Run("failed forks make no draft", func(t *testing.T) {
		for _, c := range []struct{ from, msg string }{
			{"6b0a7d1296f0213c14480000", "could not find source image to fork from"},
			{"nochannel", "could not find channel by that name"},
		} {
			resp, body := s.Do(t, http.MethodPost, "/users/me/runnables?from="+c.from, a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, c.msg)
		}
		if got := myDrafts(t); len(got) != 0 {
			t.Errorf("after failed forks A has drafts %v, want none", got)
		}
	})

	t.Run("save into a taken name", func(t *testing.T) {
		d := fork(t, s, a, tID)
		id, hex := str(t, d, "_id"), str(t, d, "id")
		setContent(t, s, a, id, "/", "main.sh", "echo taken\n")
		resp, body := s.Do(t, http.MethodPost, "/runnables?from="+id, a.token, map[string]string{"name": "SHELL"})
		wantError(t, resp, body, http.StatusConflict, "runnable with name already exists")
		if got := myImages(t); len(got) != 0 {
			t.Errorf("after a refused save A owns images %v, want none", got)
		}
		got := getDraft(t, s, a, id)
		wantFields(t, "draft after a refused save", got, map[string]any{"target": nil, "saved": false, "status": "created"})
		if st := saveStatus(got); st != "none" {
			t.Errorf("draft after a refused save: got save %v, want status none", got["save"])
		}
		if cs := draftContainers(t, hex); len(cs) != 1 {
			t.Errorf("draft after a refused save: %d containers labelled with it, want its one: %+v", len(cs), cs)
		}
	})

	t.Run("commit fails: container removed behind the server's back", func(t *testing.T) {
		d := fork(t, s, a, tID)
		id, hex := str(t, d, "_id"), str(t, d, "id")
		setContent(t, s, a, id, "/", "main.sh", "echo lost edit\n")
		if n := removeDraftContainers(t, hex); n != 1 {
			t.Fatalf("removed %d containers of the draft, want 1", n)
		}
		resp, body := s.Do(t, http.MethodPost, "/runnables?from="+id, a.token, map[string]string{"name": "doomed"})
		if resp.StatusCode == http.StatusAccepted {
			waitDraft(t, s, a, id, "the save to end", func(d map[string]any) bool { return saveStatus(d) != "saving" })
		} else {
			wantError(t, resp, body, http.StatusBadGateway, "save failed")
		}
		got := getDraft(t, s, a, id)
		sv, _ := got["save"].(map[string]any)
		if sv["status"] != "failed" || sv["error"] != "commit failed" || sv["mode"] != "new" {
			t.Errorf("draft after the failed save: got save %v, want status failed, mode new, error \"commit failed\"", sv)
		}
		wantFields(t, "draft after the failed save", got, map[string]any{"target": nil, "saved": false, "status": "error"})
		if imgID, _ := sv["image"].(string); imgID != "" {
			resp, body := s.Do(t, http.MethodGet, "/runnables/"+imgID, a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")
			if tags := dockerImageTags(t, idHex(imgID)); len(tags) != 0 {
				t.Errorf("the failed save left container images %v", tags)
			}
		}
		if got := myImages(t); len(got) != 0 {
			t.Errorf("after a failed save A owns images %v, want none", got)
		}
		if cs := draftContainers(t, hex); len(cs) != 0 {
			t.Errorf("the failed save left containers %+v", cs)
		}

		// start re-creates the container from the pinned parent version
		// (the unsaved edit is lost), and the name is free again.
		resp, body = s.Do(t, http.MethodPost, P(id)+"/start", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		wantFields(t, "start after the loss", jsonObject(t, body), map[string]any{"running": true})
		if cs := draftContainers(t, hex); len(cs) != 1 {
			t.Errorf("after start: %d containers labelled with the draft, want 1", len(cs))
		}
		if got := fileContent(t, s, a, P(id), "/", "main.sh"); strings.Contains(got, "lost edit") {
			t.Errorf("main.sh after the re-creation: got %q, want the template's content", got)
		}
		img := saveNew(t, s, a, id, "doomed")
		wantFields(t, "save after the re-creation", img, map[string]any{"name": "doomed", "version": 1})
	})

	t.Run("failed overwrite keeps the image at its version", func(t *testing.T) {
		d := fork(t, s, a, tID)
		id, hex := str(t, d, "_id"), str(t, d, "id")
		setContent(t, s, a, id, "/", "main.sh", "echo kept v1\n")
		img := saveNew(t, s, a, id, "kept")
		imgID := str(t, img, "_id")
		setContent(t, s, a, id, "/", "main.sh", "echo never saved\n")
		removeDraftContainers(t, hex)
		resp, body := s.Do(t, http.MethodPut, "/runnables/"+imgID+"?from="+id, a.token, nil)
		if resp.StatusCode == http.StatusAccepted {
			waitDraft(t, s, a, id, "the save to end", func(d map[string]any) bool { return saveStatus(d) != "saving" })
		} else {
			wantError(t, resp, body, http.StatusBadGateway, "save failed")
		}
		wantFields(t, "image after a failed overwrite", getImage(t, s, a, imgID), map[string]any{"version": 1, "status": "ready"})
		if got := fileContent(t, s, a, "/runnables/"+imgID, "/", "main.sh"); got != "echo kept v1\n" {
			t.Errorf("image main.sh after a failed overwrite: got %q", got)
		}
		if tags := dockerImageTags(t, idHex(imgID)); len(tags) != 1 || !strings.HasSuffix(tags[0], ":v1") {
			t.Errorf("container images after a failed overwrite: got %v, want only :v1", tags)
		}
		got := getDraft(t, s, a, id)
		if sv, _ := got["save"].(map[string]any); sv["status"] != "failed" || sv["mode"] != "overwrite" {
			t.Errorf("draft after the failed overwrite: got save %v, want status failed, mode overwrite", sv)
		}
		// The draft still targets the image it saved to before.
		wantFields(t, "draft after the failed overwrite", got, map[string]any{"target": imgID, "saved": true})
		f := fork(t, s, a, imgID)
		wantFields(t, "fork after a failed overwrite", f, map[string]any{"parent_version": 1})
	})

	t.Run("container removed behind the server's back", func(t *testing.T) {
		d := fork(t, s, a, tID)
		id, hex := str(t, d, "_id"), str(t, d, "id")
		resp, body := s.Do(t, http.MethodPost, P(id)+"/start", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		createFile(t, s, a, id, "/", "unsaved.txt", "gone soon")
		removeDraftContainers(t, hex)

		wantFields(t, "GET after the container vanished", getDraft(t, s, a, id), map[string]any{"status": "error", "running": false})
		resp, body = s.Do(t, http.MethodPost, P(id)+"/start", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		wantFields(t, "start after the container vanished", jsonObject(t, body), map[string]any{"running": true})
		cs := draftContainers(t, hex)
		if len(cs) != 1 || cs[0].State != "running" {
			t.Errorf("after start: containers labelled with the draft %+v, want one running", cs)
		}
		if st := getDraft(t, s, a, id)["status"]; st != "running" && st != "idle" {
			t.Errorf("GET after start: got status %v, want running or idle", st)
		}
		list := listFiles(t, s, a, P(id), "")
		if findFile(list, "/", "unsaved.txt") != nil {
			t.Errorf("the file index still lists the lost unsaved.txt: %v", names(list))
		}
		if findFile(list, "/", "main.sh") == nil {
			t.Errorf("the re-created draft lists no main.sh: %v", names(list))
		}
		// Writes work again.
		createFile(t, s, a, id, "/", "after.txt", "back")
		if got := fileContent(t, s, a, P(id), "/", "after.txt"); got != "back" {
			t.Errorf("after.txt: got %q", got)
		}
	})
}
