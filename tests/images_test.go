package tests

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// timeMillis is the time format of spec §1.1: RFC 3339, UTC, milliseconds.
var timeMillis = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// Spec §11, "Images and saving": scenarios 18b-25, and the parts of 26 that
// need no tags or votes (its tag and vote parts are in publishing_test.go).

// Scenarios 18b-22 and 24 continue each other on one server: A makes
// runnables from the template, forks, saves and overwrites; B and M try.
func TestScenario18bTo24ImagesAndSaving(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario18bTo24ImagesAndSaving)
}

func scenario18bTo24ImagesAndSaving(t *testing.T, bk backend) {
	s := bk.start(t, adminEnv(nil))
	tpl := waitTemplate(t, s, "shell")
	tID, tHex := str(t, tpl, "_id"), str(t, tpl, "id")
	a, b := anonymous(t, s), anonymous(t, s)
	m := moderator(t, s, "mod")

	var (
		first        map[string]any // "shell (1)"
		draft, myApp map[string]any
		draftID, ap  string
	)

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		// 18b. POST /runnables with no query and no body → 201 image owned
		// by A, parent T, version 1, unpublished, "shell (1)"; again →
		// "shell (2)"; {template:"nope"} → 404 "template not found".
		{"18b create from the template", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/runnables", a.token, nil)
			wantStatus(t, resp, body, http.StatusCreated)
			first = jsonObject(t, body)
			wantFields(t, "first runnable", first, map[string]any{
				"owner": a.id, "parent": tID, "root": tID, "version": 1, "published": false,
				"status": "ready", "name": "shell (1)", "tags": []any{},
			})
			resp, body = s.Do(t, http.MethodPost, "/runnables", a.token, nil)
			wantStatus(t, resp, body, http.StatusCreated)
			wantFields(t, "second runnable", jsonObject(t, body), map[string]any{"name": "shell (2)"})
			resp, body = s.Do(t, http.MethodPost, "/runnables", a.token, map[string]string{"template": "nope"})
			wantError(t, resp, body, http.StatusNotFound, "template not found")
			// The template is found case-insensitively and the body's name wins.
			resp, body = s.Do(t, http.MethodPost, "/runnables", a.token, map[string]string{"template": "SHELL", "name": "named"})
			wantStatus(t, resp, body, http.StatusCreated)
			wantFields(t, "named runnable", jsonObject(t, body), map[string]any{"name": "named", "parent": tID})
		}},

		// 19. A forks T by its short id → 201 with the draft's fields.
		{"19 fork", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/users/me/runnables?from="+tID, a.token, nil)
			wantStatus(t, resp, body, http.StatusCreated)
			draft = jsonObject(t, body)
			draftID = str(t, draft, "_id")
			if len(draftID) != 16 || !hex24.MatchString(str(t, draft, "id")) || idHex(draftID) != draft["id"] {
				t.Errorf("fork: got _id %v and id %v, want one ObjectId as 16-character short id and 24 hex", draft["_id"], draft["id"])
			}
			wantFields(t, "fork", draft, map[string]any{
				"parent": tID, "root": tID, "parent_version": 1, "tags": []any{}, "target": nil,
				"status": "not_created", "running": false, "saved": false, "owner": a.id, "name": "shell",
			})
			if saveStatus(draft) != "none" {
				t.Errorf("fork: got save %v, want status none", draft["save"])
			}
			for _, k := range []string{"created", "last_access", "expires_at"} {
				if v, _ := draft[k].(string); !timeMillis.MatchString(v) {
					t.Errorf("fork: got %s %v, want an RFC 3339 UTC time with milliseconds (spec §1.1)", k, draft[k])
				}
			}
			last, err1 := time.Parse(time.RFC3339, str(t, draft, "last_access"))
			exp, err2 := time.Parse(time.RFC3339, str(t, draft, "expires_at"))
			if err1 != nil || err2 != nil || exp.Sub(last) != 168*time.Hour {
				t.Errorf("fork: got last_access %v and expires_at %v, want expires_at = last_access + CLEANUP_MAX_AGE (168h)", draft["last_access"], draft["expires_at"])
			}
			if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/runnables/"+draftID) {
				t.Errorf("fork: got Location %q, want one naming the draft %s", loc, draftID)
			}
		}},

		// 20. The other forms of `from`, and its errors.
		{"20 fork sources", func(t *testing.T) {
			d := fork(t, s, a, tHex)
			wantFields(t, "fork by hex id", d, map[string]any{"parent": tID})
			d = fork(t, s, a, "SHELL")
			wantFields(t, "fork by channel name", d, map[string]any{"parent": tID})
			for _, c := range []struct {
				query  string
				status int
				msg    string
			}{
				{"?from=nochannel", http.StatusNotFound, "could not find channel by that name"},
				{"", http.StatusBadRequest, "must provide a runnable to fork from"},
				{"?from=", http.StatusBadRequest, "must provide a runnable to fork from"},
				{"?from=" + draftID, http.StatusBadRequest, "cannot fork a draft that was never saved"},
			} {
				resp, body := s.Do(t, http.MethodPost, "/users/me/runnables"+c.query, a.token, nil)
				wantError(t, resp, body, c.status, c.msg)
			}
			// Another user's unsaved draft counts as unknown (spec §4.4).
			resp, body := s.Do(t, http.MethodPost, "/users/me/runnables?from="+draftID, b.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "could not find source image to fork from")
		}},

		// 21. A saves without renaming → 409 (the name is T's); with a name
		// → 201; the draft now targets the image.
		{"21 save as a new image", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/runnables?from="+draftID, a.token, nil)
			wantError(t, resp, body, http.StatusConflict, "runnable with name already exists")
			myApp = saveNew(t, s, a, draftID, "my app")
			ap = str(t, myApp, "_id")
			wantFields(t, "saved image", myApp, map[string]any{
				"name": "my app", "owner": a.id, "parent": tID, "root": tID, "version": 1,
				"status": "ready", "published": false,
			})
			d := getDraft(t, s, a, draftID)
			wantFields(t, "draft after the save", d, map[string]any{
				"target": ap, "saved": true, "expires_at": nil, "name": "my app",
			})
			if saveStatus(d) != "saved" {
				t.Errorf("draft after the save: got save %v, want status saved", d["save"])
			}
			// The failed first attempt left no image named "shell" but T.
			resp, body = s.Do(t, http.MethodGet, "/runnables?owner=me", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if got := names(jsonArray(t, body)); slices.Contains(got, "shell") {
				t.Errorf("A's images after a refused save: got %v, want no \"shell\"", got)
			}
		}},

		// 22. A edits a file and overwrites → 200, same _id, version 2. B on
		// A's image → 403; M with A's draft → 200, owner stays A.
		{"22 overwrite", func(t *testing.T) {
			setContent(t, s, a, draftID, "/", "main.sh", "echo version two\n")
			img := saveOver(t, s, a, ap, draftID)
			wantFields(t, "overwritten image", img, map[string]any{"_id": ap, "version": 2, "owner": a.id, "parent": tID, "status": "ready"})
			if got := fileContent(t, s, b, "/runnables/"+ap, "/", "main.sh"); got != "echo version two\n" {
				t.Errorf("image main.sh after the overwrite: got %q, want the edited content", got)
			}

			bDraft := fork(t, s, b, tID)
			resp, body := s.Do(t, http.MethodPut, "/runnables/"+ap+"?from="+str(t, bDraft, "_id"), b.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodPut, "/runnables/"+ap+"?from="+draftID, b.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")

			img = saveOver(t, s, m, ap, draftID)
			wantFields(t, "image overwritten by M", img, map[string]any{"_id": ap, "version": 3, "owner": a.id})
			resp, body = s.Do(t, http.MethodPut, "/runnables/"+ap, a.token, nil)
			wantError(t, resp, body, http.StatusBadRequest, "must provide a runnable to save from")
		}},

		// 24. Unknown ids, both id forms, deleting with permissions.
		{"24 read and delete images", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodGet, "/runnables/12345", a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")
			resp, body = s.Do(t, http.MethodGet, "/runnables/"+draftID, a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")

			_, short := s.Do(t, http.MethodGet, "/runnables/"+ap, b.token, nil)
			resp, long := s.Do(t, http.MethodGet, "/runnables/"+str(t, myApp, "id"), b.token, nil)
			wantStatus(t, resp, long, http.StatusOK)
			if !jsonEqual(jsonObject(t, short), jsonObject(t, long)) {
				t.Errorf("GET by short and hex id differ:\n%s\n%s", short, long)
			}
			// The /images alias answers the same (spec §1.1).
			resp, alias := s.Do(t, http.MethodGet, "/images/"+ap, b.token, nil)
			wantStatus(t, resp, alias, http.StatusOK)
			if !jsonEqual(jsonObject(t, short), jsonObject(t, alias)) {
				t.Errorf("GET /images/:id differs from /runnables/:id:\n%s\n%s", alias, short)
			}

			resp, body = s.Do(t, http.MethodDelete, "/runnables/"+ap, b.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodDelete, "/runnables/"+ap, a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if o := jsonObject(t, body); len(o) != 1 || o["message"] != "runnable deleted" {
				t.Errorf(`DELETE /runnables/:id: got %s, want {"message":"runnable deleted"}`, body)
			}
			resp, body = s.Do(t, http.MethodGet, "/runnables/"+ap, a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")
			d := getDraft(t, s, a, draftID)
			wantFields(t, "draft of the deleted image", d, map[string]any{"target": nil, "saved": false})
			if e, _ := d["expires_at"].(string); e == "" {
				t.Errorf("draft of the deleted image: got expires_at %v, want a time (unsaved again)", d["expires_at"])
			}
			// The draft keeps working: it still reads its files.
			if got := fileContent(t, s, a, P(draftID), "/", "main.sh"); got != "echo version two\n" {
				t.Errorf("draft main.sh after its image was deleted: got %q", got)
			}

			// M can delete any image.
			fid := str(t, first, "_id")
			resp, body = s.Do(t, http.MethodDelete, "/runnables/"+fid, m.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			resp, body = s.Do(t, http.MethodGet, "/runnables/"+fid, a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}
}

// Scenarios 23, 25 and part of 26 run with SAVE_WAIT=0 on a server whose
// images are exactly T, I1 (R's untagged save of a fork of T) and "slow".
func TestScenario23To26SlowSavesAndListing(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario23To26SlowSavesAndListing)
}

func scenario23To26SlowSavesAndListing(t *testing.T, bk backend) {
	s := bk.start(t, map[string]string{"SAVE_WAIT": "0s"})
	tpl := waitTemplate(t, s, "shell")
	tID := str(t, tpl, "_id")
	r := registered(t, s, "rita")
	a := anonymous(t, s)
	sUser := registered(t, s, "sam")

	// I1: R forks T and saves it untagged; with SAVE_WAIT=0 the reply is 202.
	rDraft := str(t, fork(t, s, r, tID), "_id")
	resp, body := s.Do(t, http.MethodPost, "/runnables?from="+rDraft, r.token, map[string]string{"name": "I1"})
	wantStatus(t, resp, body, http.StatusAccepted)
	d := waitDraft(t, s, r, rDraft, "the save of I1", func(d map[string]any) bool { return saveStatus(d) != "saving" })
	if saveStatus(d) != "saved" {
		t.Fatalf("save of I1: got save %v, want status saved", d["save"])
	}
	i1 := str(t, d, "target")

	var slowID string
	// 23. With SAVE_WAIT=0, A saves a second draft as "slow" → 202 with
	// status "saving" and Location naming the draft; a second save at once
	// → 409; polling ends with "saved", and the image has version 1.
	if !t.Run("23 slow save", func(t *testing.T) {
		draft := str(t, fork(t, s, a, tID), "_id")
		// A container with some weight, so that the commit takes a while
		// and the second request surely meets the running save.
		setContent(t, s, a, draft, "/", "main.sh", "dd if=/dev/zero of=/root/blob bs=1048576 count=64 2>/dev/null\n")
		resp, body := s.Do(t, http.MethodPost, P(draft)+"/start", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		waitDraft(t, s, a, draft, "start_cmd to finish", func(d map[string]any) bool { return d["status"] == "idle" })

		resp, body = s.Do(t, http.MethodPost, "/runnables?from="+draft, a.token, map[string]string{"name": "slow"})
		resp2, body2 := s.Do(t, http.MethodPost, "/runnables?from="+draft, a.token, map[string]string{"name": "slow2"})
		wantStatus(t, resp, body, http.StatusAccepted)
		img := jsonObject(t, body)
		slowID = str(t, img, "_id")
		wantFields(t, "202 image", img, map[string]any{"status": "saving", "name": "slow", "owner": a.id})
		if loc := resp.Header.Get("Location"); loc != "/users/"+a.id+"/runnables/"+draft {
			t.Errorf("202: got Location %q, want /users/%s/runnables/%s", loc, a.id, draft)
		}
		wantError(t, resp2, body2, http.StatusConflict, "a save is already in progress")

		// While the first save runs the image is at version 0: hidden from
		// others, unlisted, not forkable (spec §3.1, §3.3, §4.4). The
		// checks count only if the image is still at version 0 after them.
		other := anonymous(t, s)
		respGet, bodyGet := s.Do(t, http.MethodGet, "/runnables/"+slowID, other.token, nil)
		respFork, bodyFork := s.Do(t, http.MethodPost, "/users/me/runnables?from="+slowID, a.token, nil)
		respList, bodyList := s.Do(t, http.MethodGet, "/runnables?owner=me", a.token, nil)
		if v := getImage(t, s, a, slowID)["version"]; v == float64(0) {
			wantError(t, respGet, bodyGet, http.StatusNotFound, "runnable not found")
			wantError(t, respFork, bodyFork, http.StatusConflict, "source image is still being saved")
			wantStatus(t, respList, bodyList, http.StatusOK)
			if got := ids(jsonArray(t, bodyList)); slices.Contains(got, slowID) {
				t.Errorf("images of A during the first save: got %v, want no version-0 image", got)
			}
		} else {
			t.Logf("the save finished before the version-0 checks (version %v); not checking them", v)
		}

		d := waitDraft(t, s, a, draft, "the save of slow", func(d map[string]any) bool { return saveStatus(d) != "saving" })
		if saveStatus(d) != "saved" {
			t.Fatalf("save of slow: got save %v, want status saved", d["save"])
		}
		wantFields(t, "draft after the slow save", d, map[string]any{"target": slowID, "saved": true})
		wantFields(t, "slow", getImage(t, s, a, slowID), map[string]any{"version": 1, "status": "ready", "name": "slow"})
	}) {
		return
	}

	// 25. T, I1 and slow exist: paging, X-Total-Count and Link.
	t.Run("25 paging", func(t *testing.T) {
		resp, body := s.Do(t, http.MethodGet, "/runnables?limit=2", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := jsonArray(t, body); len(got) != 2 {
			t.Errorf("?limit=2: got %d items (%v), want 2", len(got), names(got))
		}
		if tc := resp.Header.Get("X-Total-Count"); tc != "3" {
			t.Errorf("?limit=2: got X-Total-Count %q, want 3", tc)
		}
		links := parseLinks(resp.Header.Get("Link"))
		for _, rel := range []string{"first", "last", "next"} {
			if links[rel] == nil {
				t.Errorf("?limit=2: Link %q has no rel=%q", resp.Header.Get("Link"), rel)
			}
		}
		if links["prev"] != nil {
			t.Errorf("?limit=2: Link %q has rel=prev on the first page", resp.Header.Get("Link"))
		}
		if n := links["next"]; n != nil && (n.Query().Get("page") != "1" || n.Query().Get("limit") != "2" || !n.IsAbs()) {
			t.Errorf("?limit=2: got next %s, want an absolute URL with page=1&limit=2", n)
		}
		if l := links["last"]; l != nil && l.Query().Get("page") != "1" {
			t.Errorf("?limit=2: got last %s, want page=1", l)
		}

		resp, body = s.Do(t, http.MethodGet, "/runnables?page=5&limit=2", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if strings.TrimSpace(string(body)) != "[]" {
			t.Errorf("?page=5&limit=2: got %s, want []", body)
		}

		// Newest first by default: slow, I1, T.
		resp, body = s.Do(t, http.MethodGet, "/runnables", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got, want := ids(jsonArray(t, body)), []string{slowID, i1, tID}; !jsonEqual(got, want) {
			t.Errorf("GET /runnables: got %v, want %v (newest first)", got, want)
		}
	})

	// 26, the parts that need no tagging or votes: T is the only
	// published image, filters combine, an unknown sort is refused.
	t.Run("26 filters without tags", func(t *testing.T) {
		resp, body := s.Do(t, http.MethodGet, "/runnables?published=true", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := ids(jsonArray(t, body)); !jsonEqual(got, []string{tID}) {
			t.Errorf("?published=true: got %v, want [T %s]", got, tID)
		}
		resp, body = s.Do(t, http.MethodGet, "/runnables?published=false", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := ids(jsonArray(t, body)); len(got) != 2 || !slices.Contains(got, i1) || !slices.Contains(got, slowID) {
			t.Errorf("?published=false: got %v, want I1 and slow", got)
		}
		resp, body = s.Do(t, http.MethodGet, "/runnables?published=true&owner="+sUser.id, a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if strings.TrimSpace(string(body)) != "[]" {
			t.Errorf("?published=true&owner=<S>: got %s, want []", body)
		}
		resp, body = s.Do(t, http.MethodGet, "/runnables?published=false&owner="+r.id, a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := ids(jsonArray(t, body)); !jsonEqual(got, []string{i1}) {
			t.Errorf("?published=false&owner=<R>: got %v, want [I1 %s]", got, i1)
		}
		resp, body = s.Do(t, http.MethodGet, "/runnables?search=SLO", a.token, nil)
		wantStatus(t, resp, body, http.StatusOK)
		if got := ids(jsonArray(t, body)); !jsonEqual(got, []string{slowID}) {
			t.Errorf("?search=SLO: got %v, want [slow %s]", got, slowID)
		}
		resp, body = s.Do(t, http.MethodGet, "/runnables?sort=bogus", a.token, nil)
		wantError(t, resp, body, http.StatusBadRequest, "sort must be one of votes, -created, created, runs, views, trending")
	})
}

// parseLinks parses an RFC 5988 Link header into rel → URL.
func parseLinks(h string) map[string]*url.URL {
	out := map[string]*url.URL{}
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		start, end := strings.Index(part, "<"), strings.Index(part, ">")
		if start != 0 || end < 0 {
			continue
		}
		u, err := url.Parse(part[1:end])
		if err != nil {
			continue
		}
		for _, p := range strings.Split(part[end+1:], ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && k == "rel" {
				out[strings.Trim(v, `"`)] = u
			}
		}
	}
	return out
}
