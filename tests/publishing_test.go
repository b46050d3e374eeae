package tests

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Spec §11, "Tags, channels and categories" and "Votes, stats, comments,
// feed": scenarios 46-54, the tag and vote parts of 26, and the page view
// (GET /runnables/:id?view=page), on both backends (none is marked
// [docker]) over the embedded store and Redis, as a server runs by
// default. FEED_CACHE_TTL is 1s so that scenario 54 can wait out the cache.
func TestScenarios46To54Publishing(t *testing.T) {
	t.Parallel()
	onBackends(t, scenarios46To54Publishing)
}

func scenarios46To54Publishing(t *testing.T, bk backend) {
	s := bk.start(t, adminEnv(map[string]string{"FEED_CACHE_TTL": "1s"}))
	tpl := waitTemplate(t, s, "shell")
	tID := str(t, tpl, "_id")
	a, b := anonymous(t, s), anonymous(t, s)
	r, sUser := registered(t, s, "rita"), registered(t, s, "sam")
	m := moderator(t, s, "mod")

	// I1: an untagged image R saved from a fork of T.
	rDraft := fork(t, s, r, tID)
	i1 := saveNew(t, s, r, str(t, rDraft, "_id"), "I1")
	i1ID := str(t, i1, "_id")
	var jquery, vote map[string]any

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"46 tags", func(t *testing.T) {
			aDraft := fork(t, s, a, tID)
			resp, body := s.Do(t, http.MethodPost, P(str(t, aDraft, "_id"))+"/tags", a.token, map[string]string{"name": "mine"})
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodPost, "/runnables/"+i1ID+"/tags", r.token, map[string]string{"name": "Facebook"})
			wantStatus(t, resp, body, http.StatusCreated)
			tag := jsonObject(t, body)
			wantFields(t, "tag", tag, map[string]any{"name": "Facebook"})
			if !hex24.MatchString(str(t, tag, "_id")) || !hex24.MatchString(str(t, tag, "channel")) {
				t.Errorf("tag: got %v, want hex _id and channel", tag)
			}
			resp, body = s.Do(t, http.MethodPost, "/runnables/"+i1ID+"/tags", r.token, map[string]string{"name": "facebook"})
			wantError(t, resp, body, http.StatusConflict, "runnable already tagged with Facebook")
			resp, body = s.Do(t, http.MethodGet, "/channels?name=FACEBOOK", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			chans := jsonArray(t, body)
			if len(chans) != 1 {
				t.Fatalf("channels named facebook: got %d, want 1", len(chans))
			}
			wantFields(t, "facebook channel", chans[0], map[string]any{"name": "Facebook", "count": 1})
		}},
		{"47 channels", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/channels", r.token, map[string]string{"name": "jquery"})
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodPost, "/channels", m.token, map[string]string{"name": "jquery"})
			wantStatus(t, resp, body, http.StatusCreated)
			jquery = jsonObject(t, body)
			wantFields(t, "jquery", jquery, map[string]any{"count": 0, "tags": []any{}, "aliases": []any{"jquery"}})
			resp, body = s.Do(t, http.MethodPost, "/channels", m.token, map[string]string{"name": "JQuery"})
			wantError(t, resp, body, http.StatusConflict, "channel with name already exists")
			resp, body = s.Do(t, http.MethodPost, "/channels", m.token, map[string]string{})
			wantError(t, resp, body, http.StatusBadRequest, "name required")
		}},
		{"48 categories", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/channels/"+str(t, jquery, "_id")+"/tags", m.token, map[string]string{"name": "Social"})
			wantStatus(t, resp, body, http.StatusCreated)
			resp, body = s.Do(t, http.MethodGet, "/channels?category=social", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if got := names(jsonArray(t, body)); !slices.Contains(got, "jquery") {
				t.Errorf("channels in social: got %v, want jquery among them", got)
			}
			resp, body = s.Do(t, http.MethodGet, "/categories?name=SOCIAL", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			cats := jsonArray(t, body)
			if len(cats) != 1 {
				t.Fatalf("categories named social: got %d, want 1", len(cats))
			}
			wantFields(t, "social", cats[0], map[string]any{"name": "Social", "count": 1})
		}},
		{"49 unknown tags", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodDelete, "/runnables/"+i1ID+"/tags/"+strings.Repeat("ab", 12), r.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "tag not found")
			resp, body = s.Do(t, http.MethodDelete, "/runnables/"+i1ID+"/tags/xyz", r.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "tag not found")
		}},
		{"50 related channels and deleting one", func(t *testing.T) {
			img := saveNew(t, s, r, str(t, fork(t, s, r, tID), "_id"), "one and two")
			id := str(t, img, "_id")
			for _, n := range []string{"one", "two"} {
				resp, body := s.Do(t, http.MethodPost, "/runnables/"+id+"/tags", r.token, map[string]string{"name": n})
				wantStatus(t, resp, body, http.StatusCreated)
			}
			resp, body := s.Do(t, http.MethodGet, "/channels?channel=one", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			related := jsonArray(t, body)
			if got := names(related); !slices.Equal(got, []string{"two"}) {
				t.Fatalf("related to one: got %v, want [two]", got)
			}
			resp, body = s.Do(t, http.MethodDelete, "/channels/"+str(t, related[0], "_id"), m.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "delete", jsonObject(t, body), map[string]any{"message": "channel deleted"})
			tags, _ := getImage(t, s, b, id)["tags"].([]any)
			if len(tags) != 1 || tags[0].(map[string]any)["name"] != "one" {
				t.Errorf("tags after deleting two: got %v, want [one]", tags)
			}
		}},
		{"51 votes", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/users/me/votes", b.token, map[string]string{})
			wantError(t, resp, body, http.StatusBadRequest, "must include runnable to vote on")
			resp, body = s.Do(t, http.MethodPost, "/users/me/votes", b.token, map[string]string{"runnable": "AAAAAAAAAAAAAAAA"})
			wantError(t, resp, body, http.StatusNotFound, "runnable not found")
			resp, body = s.Do(t, http.MethodPost, "/users/me/votes", r.token, map[string]string{"runnable": i1ID})
			wantError(t, resp, body, http.StatusForbidden, "cannot vote for own runnables")
			resp, body = s.Do(t, http.MethodPost, "/users/me/votes", b.token, map[string]string{"runnable": i1ID})
			wantStatus(t, resp, body, http.StatusCreated)
			vote = jsonObject(t, body)
			wantFields(t, "vote", vote, map[string]any{"runnable": i1ID})
			resp, body = s.Do(t, http.MethodPost, "/users/me/votes", b.token, map[string]string{"runnable": i1ID})
			wantError(t, resp, body, http.StatusConflict, "cannot vote on runnable more than once")
			wantCount := func(n int) {
				t.Helper()
				resp, body := s.Do(t, http.MethodGet, "/runnables/"+i1ID+"/votes", b.token, nil)
				wantStatus(t, resp, body, http.StatusOK)
				wantFields(t, "vote count", jsonObject(t, body), map[string]any{"count": n})
			}
			wantCount(1)
			resp, body = s.Do(t, http.MethodDelete, "/users/me/votes/"+str(t, vote, "_id"), b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "remove", jsonObject(t, body), map[string]any{"message": "removed vote"})
			wantCount(0)
		}},
		{"26 votes sort", func(t *testing.T) {
			slow := saveNew(t, s, sUser, str(t, fork(t, s, sUser, tID), "_id"), "slow")
			for _, v := range []struct {
				u   user
				img string
			}{{a, tID}, {b, tID}, {a, str(t, slow, "_id")}} {
				resp, body := s.Do(t, http.MethodPost, "/users/me/votes", v.u.token, map[string]string{"runnable": v.img})
				wantStatus(t, resp, body, http.StatusCreated)
			}
			resp, body := s.Do(t, http.MethodGet, "/runnables?sort=votes&limit=100", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			got := ids(jsonArray(t, body))
			if len(got) < 3 || got[0] != tID || got[1] != str(t, slow, "_id") {
				t.Errorf("sort=votes: got %v, want T, slow, then the rest", got)
			}
			resp, body = s.Do(t, http.MethodGet, "/runnables?published=true&search=FACEBOOK", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if got := ids(jsonArray(t, body)); !slices.Equal(got, []string{i1ID}) {
				t.Errorf("search by tag name: got %v, want [I1]", got)
			}
		}},
		{"52 stats", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodGet, "/runnables/"+i1ID+"/stats/runs", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "runs", jsonObject(t, body), map[string]any{"image": 0, "user": 0})
			resp, body = s.Do(t, http.MethodPost, "/runnables/"+i1ID+"/stats/runs", b.token, nil)
			wantStatus(t, resp, body, http.StatusCreated)
			wantFields(t, "runs", jsonObject(t, body), map[string]any{"image": 1, "user": 1})
			resp, body = s.Do(t, http.MethodGet, "/runnables/"+i1ID+"/stats/teapots", b.token, nil)
			wantError(t, resp, body, http.StatusBadRequest, "not a valid stat")
		}},
		{"53 comments", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/runnables/"+i1ID+"/comments", a.token, map[string]string{"text": "hi"})
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodPost, "/runnables/"+i1ID+"/comments", sUser.token, map[string]string{"text": "hi"})
			wantStatus(t, resp, body, http.StatusCreated)
			c := jsonObject(t, body)
			if u, _ := c["user"].(map[string]any); u["username"] != "sam" || u["_id"] != sUser.id {
				t.Errorf("comment user: got %v, want sam", c["user"])
			}
			resp, body = s.Do(t, http.MethodGet, "/runnables/"+i1ID+"/comments", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if got := ids(jsonArray(t, body)); !slices.Equal(got, []string{str(t, c, "_id")}) {
				t.Errorf("comments: got %v, want S's", got)
			}
			resp, body = s.Do(t, http.MethodDelete, "/runnables/"+i1ID+"/comments/"+str(t, c, "_id"), r.token, nil)
			wantError(t, resp, body, http.StatusForbidden, "permission denied")
			resp, body = s.Do(t, http.MethodDelete, "/runnables/"+i1ID+"/comments/"+str(t, c, "_id"), sUser.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "delete", jsonObject(t, body), map[string]any{"message": "comment deleted"})

			q := registered(t, s, "quinn")
			resp, body = s.Do(t, http.MethodPost, "/runnables/"+i1ID+"/comments", q.token, map[string]string{"text": "bye"})
			wantStatus(t, resp, body, http.StatusCreated)
			resp, body = s.Do(t, http.MethodDelete, "/users/me", q.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			resp, body = s.Do(t, http.MethodGet, "/runnables/"+i1ID+"/comments", b.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if got := jsonArray(t, body); len(got) != 0 || resp.Header.Get("X-Total-Count") != "0" {
				t.Errorf("comments after deleting their author: got %v (total %s), want none", got, resp.Header.Get("X-Total-Count"))
			}
		}},
		{"page view", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/runnables/"+i1ID+"/comments", sUser.token, map[string]string{"text": "again"})
			wantStatus(t, resp, body, http.StatusCreated)
			resp, body = s.Do(t, http.MethodPost, "/users/me/votes", sUser.token, map[string]string{"runnable": i1ID})
			wantStatus(t, resp, body, http.StatusCreated)
			resp, body = s.Do(t, http.MethodGet, "/runnables/"+i1ID+"?view=page", sUser.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			pg := jsonObject(t, body)
			wantFields(t, "page", pg, map[string]any{"votes": 1, "voted": true, "comments_count": 1})
			if o, _ := pg["owner"].(map[string]any); o["_id"] != r.id || o["username"] != "rita" {
				t.Errorf("page owner: got %v, want rita", pg["owner"])
			}
			if rt, _ := pg["root_tags"].([]any); len(rt) != 1 || rt[0].(map[string]any)["name"] != "shell" {
				t.Errorf("page root_tags: got %v, want T's shell", pg["root_tags"])
			}
		}},
		{"54 feed", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, "/runnables/"+i1ID+"/tags", r.token, map[string]string{"name": "demo"})
			wantStatus(t, resp, body, http.StatusCreated)
			time.Sleep(1100 * time.Millisecond) // past FEED_CACHE_TTL: the feed sees the new tag
			feed := func(query string) []map[string]any {
				t.Helper()
				resp, body := s.Do(t, http.MethodGet, "/feeds/images"+query, b.token, nil)
				wantStatus(t, resp, body, http.StatusOK)
				return jsonArray(t, body)
			}
			// I1 has 1 run (scenario 52) and is newer than T: I1 first.
			if got := ids(feed("?channel=demo,shell")); len(got) != 2 || got[0] != i1ID || got[1] != tID {
				t.Fatalf("feed of demo and shell: got %v, want [I1 T]", got)
			}
			for range 10 {
				resp, body := s.Do(t, http.MethodPost, "/runnables/"+tID+"/stats/runs", b.token, nil)
				wantStatus(t, resp, body, http.StatusCreated)
			}
			time.Sleep(1100 * time.Millisecond)
			items := feed("?channel=demo,shell")
			if got := ids(items); len(got) != 2 || got[0] != tID {
				t.Fatalf("feed after 10 runs on T: got %v, want T first", got)
			}
			created, err := time.Parse(time.RFC3339, str(t, items[0], "created"))
			if err != nil {
				t.Fatal(err)
			}
			hours := time.Since(created).Hours()
			want := 13 / math.Pow(hours+2, 1.5)
			if got := items[0]["score"].(float64); math.Abs(got-want) > 0.01 {
				t.Errorf("T's score: got %v, want about %v", got, want)
			}
			if got := feed("?channel=unknown"); len(got) != 0 {
				t.Errorf("feed of an unknown channel: got %v, want []", got)
			}
			if got := feed(""); len(got) < 3 {
				t.Errorf("global feed: got %d items, want every published image", len(got))
			}
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			t.Fatalf("step %q failed; later steps depend on it", st.name)
		}
	}
}
