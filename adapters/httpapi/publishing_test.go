package httpapi_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/runnable/runnable/domain"
)

// member registers a user and returns its token and id.
func (ts *testServer) member(t *testing.T, name string) (token, id string) {
	t.Helper()
	resp, body := ts.do(t, "POST", "/users", "", map[string]string{
		"email": name + "@example.com", "username": name, "password": "secret1"})
	wantStatus(t, resp, body, 201)
	m := obj(t, body)
	return m["access_token"].(string), m["_id"].(string)
}

// moderator registers a user of level 5.
func (ts *testServer) moderator(t *testing.T, name string) (token, id string) {
	t.Helper()
	tok, id := ts.member(t, name)
	uid, _ := domain.ParseHex(id)
	u, err := ts.users.Get(t.Context(), uid)
	if err != nil {
		t.Fatal(err)
	}
	u.Level = domain.LevelModerator
	if err := ts.users.Update(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return tok, id
}

// newImage makes an image of the caller's from the template.
func (ts *testServer) newImage(t *testing.T, token, name string) string {
	t.Helper()
	resp, body := ts.do(t, "POST", "/runnables", token, map[string]string{"name": name})
	wantStatus(t, resp, body, 201)
	return obj(t, body)["_id"].(string)
}

func (ts *testServer) newDraft(t *testing.T, token, from string) string {
	t.Helper()
	resp, body := ts.do(t, "POST", "/users/me/runnables?from="+from, token, nil)
	wantStatus(t, resp, body, 201)
	return obj(t, body)["_id"].(string)
}

func (ts *testServer) tagImage(t *testing.T, token, id, name string) map[string]any {
	t.Helper()
	resp, body := ts.do(t, "POST", "/runnables/"+id+"/tags", token, map[string]string{"name": name})
	wantStatus(t, resp, body, 201)
	return obj(t, body)
}

func TestImageTagsHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, _ := ts.member(t, "owner")
	other, _ := ts.member(t, "other")
	anon, _ := ts.anon(t)
	modTok, _ := ts.moderator(t, "moddy")
	img := ts.newImage(t, owner, "tagged")

	tag := ts.tagImage(t, owner, img, "Facebook")
	if tag["name"] != "Facebook" || len(tag["_id"].(string)) != 24 || len(tag["channel"].(string)) != 24 {
		t.Fatalf("got tag %v", tag)
	}
	// The alias answers the canonical name; /images is the same route.
	img2 := ts.newImage(t, owner, "second")
	resp, body := ts.do(t, "POST", "/images/"+img2+"/tags", owner, map[string]string{"name": "facebook"})
	wantStatus(t, resp, body, 201)
	if got := obj(t, body); got["name"] != "Facebook" || got["channel"] != tag["channel"] {
		t.Fatalf("got %v, want the Facebook channel", got)
	}
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/tags", owner, map[string]string{"name": "FACEBOOK"})
	wantError(t, resp, body, 409, "runnable already tagged with Facebook")

	// Evaluation order: level, path, ownership, input.
	resp, body = ts.do(t, "POST", "/runnables/nope/tags", anon, map[string]any{"name": 5})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "POST", "/runnables/nope/tags", other, map[string]any{"name": 5})
	wantError(t, resp, body, 404, "runnable not found")
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/tags", other, map[string]any{"name": 5})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/tags", owner, map[string]any{"name": 5})
	wantError(t, resp, body, 400, "tag must include a name field")
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/tags", owner, nil)
	wantError(t, resp, body, 400, "tag must include a name field")
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/tags", owner, map[string]string{"name": strings.Repeat("x", 51)})
	wantError(t, resp, body, 400, "name must be 1 to 50 characters")
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/tags", owner, "name=x", "Content-Type", "text/plain")
	wantError(t, resp, body, 415, "content type must be application/json")
	for i := 1; i < 10; i++ {
		ts.tagImage(t, modTok, img, fmt.Sprintf("t%d", i))
	}
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/tags", owner, map[string]string{"name": "eleven"})
	wantError(t, resp, body, 400, "too many tags")

	resp, body = ts.do(t, "GET", "/runnables/"+img+"/tags", anon, nil)
	wantStatus(t, resp, body, 200)
	if tags := arr(t, body); len(tags) != 10 || tags[0]["_id"] != tag["_id"] {
		t.Fatalf("got %d tags, want 10 starting with Facebook", len(tags))
	}
	resp, body = ts.do(t, "GET", "/images/"+img+"/tags/"+tag["_id"].(string), anon, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/runnables/"+img+"/tags/"+strings.Repeat("0", 24), anon, nil)
	wantError(t, resp, body, 404, "tag not found")
	resp, body = ts.do(t, "GET", "/runnables/"+img+"/tags/zzz", anon, nil)
	wantError(t, resp, body, 404, "tag not found")

	resp, body = ts.do(t, "DELETE", "/runnables/"+img+"/tags/"+tag["_id"].(string), other, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "DELETE", "/runnables/"+img+"/tags/"+tag["_id"].(string), owner, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["message"] != "tag deleted" {
		t.Fatalf("got %s", body)
	}
	resp, body = ts.do(t, "DELETE", "/runnables/"+img+"/tags/"+tag["_id"].(string), owner, nil)
	wantError(t, resp, body, 404, "tag not found")

	// Published images list through the tag.
	resp, body = ts.do(t, "GET", "/runnables?published=true&channel=FACEBOOK", anon, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); len(got) != 1 || got[0]["_id"] != img2 || got[0]["published"] != true {
		t.Fatalf("published in facebook: got %v", got)
	}
}

func TestDraftTagsHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, ownerID := ts.member(t, "owner")
	other, _ := ts.member(t, "other")
	modTok, _ := ts.moderator(t, "moddy")
	anon, _ := ts.anon(t)
	d := ts.newDraft(t, owner, ts.template)

	resp, body := ts.do(t, "GET", "/users/me/runnables/"+d+"/tags", owner, nil)
	wantStatus(t, resp, body, 200)
	if len(arr(t, body)) != 0 {
		t.Fatalf("a fork's tags: got %s, want []", body)
	}
	resp, body = ts.do(t, "GET", "/users/me/runnables/"+d+"/tags", other, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "POST", "/users/"+ownerID+"/runnables/"+d+"/tags", anon, map[string]string{"name": "x"})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "POST", "/users/"+strings.Repeat("f", 24)+"/runnables/"+d+"/tags", other, map[string]string{"name": "x"})
	wantError(t, resp, body, 404, "user not found")
	resp, body = ts.do(t, "POST", "/users/"+ownerID+"/runnables/"+d+"/tags", other, map[string]string{"name": "x"})
	wantError(t, resp, body, 403, "permission denied")

	resp, body = ts.do(t, "POST", "/users/me/runnables/"+d+"/tags", owner, map[string]string{"name": "Python"})
	wantStatus(t, resp, body, 201)
	tag := obj(t, body)
	resp, body = ts.do(t, "POST", "/users/"+ownerID+"/runnables/"+d+"/tags", modTok, map[string]string{"name": "REPL"})
	wantStatus(t, resp, body, 201)
	modTag := obj(t, body)
	resp, body = ts.do(t, "GET", "/users/"+ownerID+"/runnables/"+d+"/tags/"+tag["_id"].(string), modTok, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "DELETE", "/users/me/runnables/"+d+"/tags/"+modTag["_id"].(string), other, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "DELETE", "/users/me/runnables/"+d+"/tags/"+modTag["_id"].(string), owner, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/users/me/runnables/"+d, owner, nil)
	wantStatus(t, resp, body, 200)
	if tags := obj(t, body)["tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["name"] != "Python" {
		t.Fatalf("draft tags: got %v", tags)
	}
}

func TestChannelsHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, _ := ts.member(t, "owner")
	modTok, _ := ts.moderator(t, "moddy")
	anon, _ := ts.anon(t)

	resp, body := ts.do(t, "POST", "/channels", owner, map[string]string{"name": "Go"})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "POST", "/channels", owner, map[string]any{"name": 1})
	wantError(t, resp, body, 403, "permission denied") // level before input
	resp, body = ts.do(t, "POST", "/channels", modTok, map[string]string{"description": "x"})
	wantError(t, resp, body, 400, "name required")
	resp, body = ts.do(t, "POST", "/channels", modTok, map[string]any{"name": 1})
	wantError(t, resp, body, 400, "name must be 1 to 50 characters")
	resp, body = ts.do(t, "POST", "/channels", modTok, map[string]string{"name": "Go", "description": "gophers"})
	wantStatus(t, resp, body, 201)
	goCh := obj(t, body)
	goID := goCh["_id"].(string)
	if goCh["count"].(float64) != 0 || fmt.Sprint(goCh["aliases"]) != "[go]" || len(goCh["tags"].([]any)) != 0 {
		t.Fatalf("created channel: got %v", goCh)
	}
	resp, body = ts.do(t, "POST", "/channels", modTok, map[string]string{"name": "GO"})
	wantError(t, resp, body, 409, "channel with name already exists")

	// Images tagged in js (3), css (2, with js), go (1, with js).
	for i, chans := range [][]string{{"js", "css"}, {"js", "css", "Go"}, {"js"}} {
		img := ts.newImage(t, owner, fmt.Sprintf("img%d", i))
		for _, c := range chans {
			ts.tagImage(t, owner, img, c)
		}
	}
	resp, body = ts.do(t, "GET", "/channels/"+goID, anon, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["count"].(float64) != 1 {
		t.Fatalf("go count: got %s", body)
	}
	resp, body = ts.do(t, "GET", "/channels/"+strings.ToUpper(goID), anon, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/channels/nope", anon, nil)
	wantError(t, resp, body, 404, "channel not found")

	list := func(query string) string {
		t.Helper()
		resp, body := ts.do(t, "GET", "/channels"+query, anon, nil)
		wantStatus(t, resp, body, 200)
		out := []string{}
		for _, c := range arr(t, body) {
			out = append(out, fmt.Sprintf("%s:%v", c["name"], c["count"]))
		}
		return strings.Join(out, " ") + " total " + resp.Header.Get("X-Total-Count")
	}
	tests := []struct{ query, want string }{
		{"", "css:2 Go:1 js:3 shell:1 total 4"},
		{"?sort=-count", "js:3 css:2 Go:1 shell:1 total 4"},
		{"?sort=-count&page=1&limit=3", "shell:1 total 4"},
		{"?name=GO", "Go:1 total 1"},
		{"?name=cobol", " total 0"},
		{"?channel=js", "css:2 Go:1 total 2"},
		{"?channel=go&sort=name", "css:2 js:3 total 2"},
		{"?channel=cobol", " total 0"},
		{"?category=web", " total 0"},
	}
	for _, tt := range tests {
		if got := list(tt.query); got != tt.want {
			t.Errorf("GET /channels%s: got %q, want %q", tt.query, got, tt.want)
		}
	}
	resp, body = ts.do(t, "GET", "/channels?sort=count", anon, nil)
	wantError(t, resp, body, 400, "sort must be one of name, -count")
	resp, body = ts.do(t, "GET", "/channels?limit=2", anon, nil)
	wantStatus(t, resp, body, 200)
	if l := resp.Header.Get("Link"); !strings.Contains(l, `rel="next"`) || !strings.Contains(l, "page=1&limit=2") && !strings.Contains(l, "limit=2&page=1") {
		t.Fatalf("Link: got %q", l)
	}

	// Rename, describe (PUT and PATCH are the same).
	resp, body = ts.do(t, "PATCH", "/channels/"+goID, owner, map[string]string{"name": "Golang"})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "PUT", "/channels/"+strings.Repeat("0", 24), modTok, map[string]any{"name": 1})
	wantError(t, resp, body, 404, "channel not found") // the path before the input
	resp, body = ts.do(t, "PUT", "/channels/"+goID, modTok, nil)
	wantError(t, resp, body, 400, "must provide name or description")
	resp, body = ts.do(t, "PUT", "/channels/"+goID, modTok, map[string]string{"name": "JS"})
	wantError(t, resp, body, 409, "channel with name already exists")
	resp, body = ts.do(t, "PATCH", "/channels/"+goID, modTok, map[string]string{"name": "Golang"})
	wantStatus(t, resp, body, 200)
	if got := obj(t, body); got["name"] != "Golang" || fmt.Sprint(got["aliases"]) != "[go golang]" || got["count"].(float64) != 1 {
		t.Fatalf("renamed: got %v", got)
	}

	// Aliases.
	resp, body = ts.do(t, "PUT", "/channels/"+goID+"/aliases", owner, []string{"x"})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "PUT", "/channels/"+goID+"/aliases", modTok, map[string]string{"a": "b"})
	wantError(t, resp, body, 400, "aliases must be an array of strings")
	resp, body = ts.do(t, "PUT", "/channels/"+goID+"/aliases", modTok, []any{"a", 1})
	wantError(t, resp, body, 400, "aliases must be an array of strings")
	resp, body = ts.do(t, "PUT", "/channels/"+goID+"/aliases", modTok, nil)
	wantError(t, resp, body, 400, "aliases must be an array of strings")
	resp, body = ts.do(t, "PUT", "/channels/"+goID+"/aliases", modTok, []string{"css"})
	wantError(t, resp, body, 409, "channel with alias already exists")
	resp, body = ts.do(t, "PUT", "/channels/"+goID+"/aliases", modTok, []string{" Gopher ", "gopher", "GO"})
	wantStatus(t, resp, body, 200)
	if strings.TrimSpace(string(body)) != `["golang","gopher","go"]` {
		t.Fatalf("aliases: got %s", body)
	}
	if got := list("?name=gopher"); got != "Golang:1 total 1" {
		t.Fatalf("by new alias: got %q", got)
	}

	// Category tags.
	resp, body = ts.do(t, "POST", "/channels/"+goID+"/tags", owner, map[string]string{"name": "Languages"})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "POST", "/channels/"+goID+"/tags", modTok, nil)
	wantError(t, resp, body, 400, "tag must include a name field")
	resp, body = ts.do(t, "POST", "/channels/"+goID+"/tags", modTok, map[string]string{"name": "Languages"})
	wantStatus(t, resp, body, 201)
	ct := obj(t, body)
	resp, body = ts.do(t, "POST", "/channels/"+goID+"/tags", modTok, map[string]string{"name": "languages"})
	wantError(t, resp, body, 409, "channel already tagged with Languages")
	resp, body = ts.do(t, "GET", "/channels/"+goID+"/tags", anon, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); len(got) != 1 || got[0]["name"] != "Languages" || got[0]["category"] != ct["category"] {
		t.Fatalf("channel tags: got %v", got)
	}
	resp, body = ts.do(t, "GET", "/channels/"+goID+"/tags/"+ct["_id"].(string), anon, nil)
	wantStatus(t, resp, body, 200)
	if got := list("?category=LANGUAGES"); got != "Golang:1 total 1" {
		t.Fatalf("by category: got %q", got)
	}
	resp, body = ts.do(t, "DELETE", "/channels/"+goID+"/tags/"+ct["_id"].(string), modTok, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "DELETE", "/channels/"+goID+"/tags/"+ct["_id"].(string), modTok, nil)
	wantError(t, resp, body, 404, "tag not found")

	// Delete: images lose the tag.
	resp, body = ts.do(t, "DELETE", "/channels/"+goID, owner, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "DELETE", "/channels/"+goID, modTok, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["message"] != "channel deleted" {
		t.Fatalf("got %s", body)
	}
	resp, body = ts.do(t, "DELETE", "/channels/"+goID, modTok, nil)
	wantError(t, resp, body, 404, "channel not found")
	resp, body = ts.do(t, "GET", "/runnables?search=golang", anon, nil)
	wantStatus(t, resp, body, 200)
	if len(arr(t, body)) != 0 {
		t.Fatalf("images still tagged with a deleted channel: %s", body)
	}
}

func TestCategoriesHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, _ := ts.member(t, "owner")
	modTok, _ := ts.moderator(t, "moddy")
	anon, _ := ts.anon(t)

	resp, body := ts.do(t, "POST", "/categories", owner, map[string]string{"name": "Web"})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "POST", "/categories", modTok, nil)
	wantError(t, resp, body, 400, "name required")
	resp, body = ts.do(t, "POST", "/categories", modTok, map[string]string{"name": "Web", "description": "front"})
	wantStatus(t, resp, body, 201)
	web := obj(t, body)
	webID := web["_id"].(string)
	if web["count"].(float64) != 0 || fmt.Sprint(web["aliases"]) != "[web]" || resp.Header.Get("Location") != "/categories/"+webID {
		t.Fatalf("created: got %v (Location %q)", web, resp.Header.Get("Location"))
	}
	resp, body = ts.do(t, "POST", "/categories", modTok, map[string]string{"name": "WEB"})
	wantError(t, resp, body, 409, "category with name already exists")
	resp, body = ts.do(t, "POST", "/categories", modTok, map[string]string{"name": "Data"})
	wantStatus(t, resp, body, 201)
	dataID := obj(t, body)["_id"].(string)

	resp, body = ts.do(t, "POST", "/channels", modTok, map[string]string{"name": "css"})
	wantStatus(t, resp, body, 201)
	css := obj(t, body)["_id"].(string)
	resp, body = ts.do(t, "POST", "/channels/"+css+"/tags", modTok, map[string]string{"name": "web"})
	wantStatus(t, resp, body, 201)

	resp, body = ts.do(t, "GET", "/categories", anon, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); len(got) != 2 || got[0]["name"] != "Data" || got[1]["count"].(float64) != 1 || resp.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("categories: got %v", got)
	}
	resp, body = ts.do(t, "GET", "/categories?name=WEB", anon, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); len(got) != 1 || got[0]["_id"] != webID {
		t.Fatalf("by name: got %v", got)
	}
	resp, body = ts.do(t, "GET", "/categories/"+webID, anon, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/categories/x", anon, nil)
	wantError(t, resp, body, 404, "category not found")

	resp, body = ts.do(t, "PATCH", "/categories/"+webID, modTok, map[string]string{"description": "only"})
	wantStatus(t, resp, body, 200)
	if got := obj(t, body); got["description"] != "only" || got["name"] != "Web" {
		t.Fatalf("described: got %v", got)
	}
	resp, body = ts.do(t, "PUT", "/categories/"+webID, modTok, map[string]string{"name": "Frontend"})
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/channels/"+css+"/tags", anon, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); got[0]["name"] != "Frontend" {
		t.Fatalf("channel tag after renaming its category: got %v", got)
	}
	resp, body = ts.do(t, "PUT", "/categories/"+dataID, modTok, map[string]string{"name": "web"})
	wantError(t, resp, body, 409, "category with name already exists")
	resp, body = ts.do(t, "PUT", "/categories/"+dataID+"/aliases", modTok, []string{"frontend"})
	wantError(t, resp, body, 409, "category with alias already exists")
	resp, body = ts.do(t, "PUT", "/categories/"+dataID+"/aliases", modTok, []string{"DB", "sql"})
	wantStatus(t, resp, body, 200)
	if strings.TrimSpace(string(body)) != `["data","db","sql"]` {
		t.Fatalf("aliases: got %s", body)
	}
	resp, body = ts.do(t, "PUT", "/categories/"+dataID+"/aliases", modTok, make([]string, 21))
	wantError(t, resp, body, 400, "aliases must be an array of strings")

	resp, body = ts.do(t, "DELETE", "/categories/"+webID, owner, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "DELETE", "/categories/"+webID, modTok, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["message"] != "category deleted" {
		t.Fatalf("got %s", body)
	}
	resp, body = ts.do(t, "GET", "/channels/"+css+"/tags", anon, nil)
	wantStatus(t, resp, body, 200)
	if len(arr(t, body)) != 0 {
		t.Fatalf("channel tags after deleting the category: got %s", body)
	}
}

func TestVotesHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, ownerID := ts.member(t, "owner")
	voter, voterID := ts.member(t, "voter")
	modTok, _ := ts.moderator(t, "moddy")
	anon, _ := ts.anon(t)
	img := ts.newImage(t, owner, "votable")
	draft := ts.newDraft(t, voter, img)

	resp, body := ts.do(t, "POST", "/users/me/votes", voter, nil)
	wantError(t, resp, body, 400, "must include runnable to vote on")
	resp, body = ts.do(t, "POST", "/users/me/votes", voter, map[string]any{"runnable": 7})
	wantError(t, resp, body, 400, "must include runnable to vote on")
	resp, body = ts.do(t, "POST", "/users/me/votes", voter, map[string]string{"runnable": draft})
	wantError(t, resp, body, 404, "runnable not found")
	resp, body = ts.do(t, "POST", "/users/me/votes", owner, map[string]string{"runnable": img})
	wantError(t, resp, body, 403, "cannot vote for own runnables")
	resp, body = ts.do(t, "POST", "/users/me/votes", voter, map[string]string{"runnable": img})
	wantStatus(t, resp, body, 201)
	vote := obj(t, body)
	if vote["runnable"] != img || len(vote["_id"].(string)) != 24 {
		t.Fatalf("vote: got %v", vote)
	}
	resp, body = ts.do(t, "POST", "/users/me/votes", voter, map[string]string{"runnable": img})
	wantError(t, resp, body, 409, "cannot vote on runnable more than once")
	resp, body = ts.do(t, "POST", "/users/me/votes", anon, map[string]string{"runnable": img})
	wantStatus(t, resp, body, 201)
	resp, body = ts.do(t, "POST", "/users/"+voterID+"/votes", voter, map[string]string{"runnable": img})
	wantError(t, resp, body, 405, "method not allowed")

	resp, body = ts.do(t, "GET", "/runnables/"+img+"/votes", anon, nil)
	wantStatus(t, resp, body, 200)
	if strings.TrimSpace(string(body)) != `{"count":2}` {
		t.Fatalf("count: got %s", body)
	}
	resp, body = ts.do(t, "GET", "/images/nope/votes", anon, nil)
	wantError(t, resp, body, 404, "runnable not found")
	resp, body = ts.do(t, "GET", "/runnables/"+img, anon, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["votes"].(float64) != 2 {
		t.Fatalf("votes counter: got %s", body)
	}

	resp, body = ts.do(t, "GET", "/users/me/votes", voter, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); len(got) != 1 || got[0]["_id"] != vote["_id"] || resp.Header.Get("X-Total-Count") != "1" {
		t.Fatalf("my votes: got %v", got)
	}
	resp, body = ts.do(t, "GET", "/users/"+voterID+"/votes", owner, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "GET", "/users/"+voterID+"/votes", modTok, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/users/"+strings.Repeat("a", 24)+"/votes", modTok, nil)
	wantError(t, resp, body, 404, "user not found")
	resp, body = ts.do(t, "GET", "/users/"+ownerID+"/votes?limit=0", owner, nil)
	wantError(t, resp, body, 400, "limit must be an integer between 1 and 100")

	resp, body = ts.do(t, "DELETE", "/users/me/votes/"+vote["_id"].(string), owner, nil)
	wantError(t, resp, body, 404, "vote not found")
	resp, body = ts.do(t, "DELETE", "/users/me/votes/"+vote["_id"].(string), voter, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["message"] != "removed vote" {
		t.Fatalf("got %s", body)
	}
	resp, body = ts.do(t, "DELETE", "/users/me/votes/"+vote["_id"].(string), voter, nil)
	wantError(t, resp, body, 404, "vote not found")
	resp, body = ts.do(t, "GET", "/runnables/"+img+"/votes", anon, nil)
	wantStatus(t, resp, body, 200)
	if strings.TrimSpace(string(body)) != `{"count":1}` {
		t.Fatalf("count after removal: got %s", body)
	}
}

func TestStatsHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, _ := ts.member(t, "owner")
	anon, _ := ts.anon(t)
	img := ts.newImage(t, owner, "counted")
	resp, body := ts.do(t, "GET", "/runnables/"+img+"/stats/likes", anon, nil)
	wantError(t, resp, body, 400, "not a valid stat")
	resp, body = ts.do(t, "GET", "/runnables/nope/stats/likes", anon, nil)
	wantError(t, resp, body, 404, "runnable not found")
	resp, body = ts.do(t, "GET", "/runnables/"+img+"/stats/runs", anon, nil)
	wantStatus(t, resp, body, 200)
	if strings.TrimSpace(string(body)) != `{"image":0,"user":0}` {
		t.Fatalf("got %s", body)
	}
	for i := 1; i <= 3; i++ {
		resp, body = ts.do(t, "POST", "/images/"+img+"/stats/runs", anon, nil)
		wantStatus(t, resp, body, 201)
		if want := fmt.Sprintf(`{"image":%d,"user":%d}`, i, i); strings.TrimSpace(string(body)) != want {
			t.Fatalf("post %d: got %s, want %s", i, body, want)
		}
	}
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/stats/views", owner, nil)
	wantStatus(t, resp, body, 201)
	resp, body = ts.do(t, "GET", "/runnables/"+img+"/stats/runs", owner, nil)
	wantStatus(t, resp, body, 200)
	if strings.TrimSpace(string(body)) != `{"image":3,"user":0}` {
		t.Fatalf("owner's runs: got %s", body)
	}
	resp, body = ts.do(t, "GET", "/users/me", anon, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["runs"].(float64) != 3 {
		t.Fatalf("user runs: got %s", body)
	}
}

func TestCommentsHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, _ := ts.member(t, "owner")
	alice, aliceID := ts.member(t, "alice")
	bob, _ := ts.member(t, "bob")
	modTok, _ := ts.moderator(t, "moddy")
	anon, _ := ts.anon(t)
	img := ts.newImage(t, owner, "discussed")

	resp, body := ts.do(t, "POST", "/runnables/nope/comments", anon, map[string]string{"text": "hi"})
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "POST", "/runnables/nope/comments", alice, map[string]string{"text": "hi"})
	wantError(t, resp, body, 404, "runnable not found")
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/comments", alice, map[string]any{"text": 3})
	wantError(t, resp, body, 400, "comment must include a text field")
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/comments", alice, map[string]string{"text": "   "})
	wantError(t, resp, body, 400, "comment must include a text field")
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/comments", alice, map[string]string{"text": strings.Repeat("é", 2001)})
	wantError(t, resp, body, 400, "comment must be at most 2000 characters")
	resp, body = ts.do(t, "POST", "/runnables/"+img+"/comments", alice, map[string]string{"text": " Nice! "})
	wantStatus(t, resp, body, 201)
	c1 := obj(t, body)
	user := c1["user"].(map[string]any)
	if c1["text"] != "Nice!" || c1["runnable"] != img || user["_id"] != aliceID || user["username"] != "alice" ||
		!strings.HasPrefix(user["gravatar"].(string), "https://www.gravatar.com/avatar/") {
		t.Fatalf("comment: got %v", c1)
	}
	resp, body = ts.do(t, "POST", "/images/"+img+"/comments", bob, map[string]string{"text": "bob was here"})
	wantStatus(t, resp, body, 201)
	c2 := obj(t, body)

	resp, body = ts.do(t, "GET", "/runnables/"+img+"/comments?limit=1", anon, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); len(got) != 1 || got[0]["_id"] != c1["_id"] || resp.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("page 0: got %v (total %s)", got, resp.Header.Get("X-Total-Count"))
	}
	resp, body = ts.do(t, "GET", "/runnables/"+img+"/comments/"+c2["_id"].(string), anon, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/runnables/"+img+"/comments/nope", anon, nil)
	wantError(t, resp, body, 404, "comment not found")
	resp, body = ts.do(t, "DELETE", "/runnables/"+img+"/comments/"+c1["_id"].(string), bob, nil)
	wantError(t, resp, body, 403, "permission denied")
	resp, body = ts.do(t, "DELETE", "/runnables/"+img+"/comments/"+c1["_id"].(string), modTok, nil)
	wantStatus(t, resp, body, 200)
	if obj(t, body)["message"] != "comment deleted" {
		t.Fatalf("got %s", body)
	}

	// Bob deletes himself: his comment disappears everywhere.
	resp, body = ts.do(t, "DELETE", "/users/me", bob, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/runnables/"+img+"/comments", anon, nil)
	wantStatus(t, resp, body, 200)
	if len(arr(t, body)) != 0 || resp.Header.Get("X-Total-Count") != "0" {
		t.Fatalf("comments after deleting bob: got %s (total %s)", body, resp.Header.Get("X-Total-Count"))
	}
	resp, body = ts.do(t, "GET", "/runnables/"+img+"/comments/"+c2["_id"].(string), anon, nil)
	wantError(t, resp, body, 404, "comment not found")
}

func TestFeedHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, _ := ts.member(t, "owner")
	anon, _ := ts.anon(t)
	a, b := ts.newImage(t, owner, "a"), ts.newImage(t, owner, "b")
	ts.newImage(t, owner, "unpublished")
	ts.tagImage(t, owner, a, "go")
	ts.tagImage(t, owner, b, "js")
	for range 5 {
		resp, body := ts.do(t, "POST", "/runnables/"+b+"/stats/runs", anon, nil)
		wantStatus(t, resp, body, 201)
	}
	resp, body := ts.do(t, "GET", "/feeds/images", anon, nil)
	wantStatus(t, resp, body, 200)
	items := arr(t, body)
	// b (5 runs), a and the shell template (0 runs, older).
	if len(items) != 3 || items[0]["_id"] != b || items[1]["_id"] != a || items[2]["_id"] != ts.template {
		t.Fatalf("feed: got %v", items)
	}
	if s := items[0]["score"].(float64); math.Abs(s-8/math.Pow(2, 1.5)) > 0.01 {
		t.Fatalf("score: got %v, want about %v", s, 8/math.Pow(2, 1.5))
	}
	resp, body = ts.do(t, "GET", "/feeds/images?channel=GO,cobol", anon, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); len(got) != 1 || got[0]["_id"] != a || resp.Header.Get("X-Total-Count") != "1" {
		t.Fatalf("go feed: got %v", got)
	}
	resp, body = ts.do(t, "GET", "/feeds/images?channel=cobol", anon, nil)
	wantStatus(t, resp, body, 200)
	if strings.TrimSpace(string(body)) != "[]" {
		t.Fatalf("unknown channel: got %s, want []", body)
	}
	resp, body = ts.do(t, "GET", "/feeds/images?channel=go&channel=js&limit=1&page=1", anon, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); len(got) != 1 || got[0]["_id"] != a || resp.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("go+js feed page 1: got %v", got)
	}
	resp, body = ts.do(t, "GET", "/feeds/images?limit=500", anon, nil)
	wantError(t, resp, body, 400, "limit must be an integer between 1 and 100")
}

func TestImagePageHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, ownerID := ts.member(t, "owner")
	fan, _ := ts.member(t, "fan")
	anon, _ := ts.anon(t)
	img := ts.newImage(t, owner, "paged")
	ts.tagImage(t, owner, img, "go")
	resp, body := ts.do(t, "POST", "/users/me/votes", fan, map[string]string{"runnable": img})
	wantStatus(t, resp, body, 201)
	vote := obj(t, body)
	for i := range 12 {
		resp, body := ts.do(t, "POST", "/runnables/"+img+"/comments", fan, map[string]string{"text": fmt.Sprint("c", i)})
		wantStatus(t, resp, body, 201)
	}

	resp, body = ts.do(t, "GET", "/runnables/"+img+"?view=page", fan, nil)
	wantStatus(t, resp, body, 200)
	pg := obj(t, body)
	image := pg["image"].(map[string]any)
	ownerView := pg["owner"].(map[string]any)
	comments := pg["comments"].([]any)
	if image["_id"] != img || image["owner_username"] != "owner" || ownerView["_id"] != ownerID ||
		ownerView["images_count"].(float64) != 1 || pg["votes"].(float64) != 1 || pg["voted"] != true ||
		pg["vote"].(map[string]any)["_id"] != vote["_id"] || len(comments) != 10 || pg["comments_count"].(float64) != 12 ||
		comments[0].(map[string]any)["text"] != "c0" {
		t.Fatalf("page: got %s", body)
	}
	if rt := pg["root_tags"].([]any); len(rt) != 1 || rt[0].(map[string]any)["name"] != "shell" {
		t.Fatalf("root tags: got %v, want the template's shell", rt)
	}
	resp, body = ts.do(t, "GET", "/images/"+img+"?view=page", anon, nil)
	wantStatus(t, resp, body, 200)
	if pg := obj(t, body); pg["voted"] != false || pg["vote"] != nil {
		t.Fatalf("page for a non-voter: got %s", body)
	}
	resp, body = ts.do(t, "GET", "/runnables/"+img+"?view=full", anon, nil)
	wantError(t, resp, body, 400, "view must be page")
	resp, body = ts.do(t, "GET", "/runnables/nope?view=page", anon, nil)
	wantError(t, resp, body, 404, "runnable not found")
	resp, body = ts.do(t, "DELETE", "/users/me", owner, nil)
	wantStatus(t, resp, body, 200)
	resp, body = ts.do(t, "GET", "/runnables/"+img+"?view=page", anon, nil)
	wantStatus(t, resp, body, 200)
	if pg := obj(t, body); pg["owner"] != nil || pg["image"].(map[string]any)["owner_username"] != nil {
		t.Fatalf("page of a deleted owner's image: got %s", body)
	}
}

func TestConcurrentTaggingHTTP(t *testing.T) {
	ts := newTestServer(t)
	owner, _ := ts.member(t, "owner")
	const n = 8
	imgs := make([]string, n)
	for i := range imgs {
		imgs[i] = ts.newImage(t, owner, fmt.Sprint("img", i))
	}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := ts.do(t, "POST", "/runnables/"+imgs[i]+"/tags", owner, map[string]string{"name": "Fresh"})
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 201 {
			t.Fatalf("tagging %d: got %d, want 201", i, s)
		}
	}
	resp, body := ts.do(t, "GET", "/channels?name=fresh", owner, nil)
	wantStatus(t, resp, body, 200)
	if got := arr(t, body); len(got) != 1 || got[0]["count"].(float64) != n {
		t.Fatalf("channel: got %v, want one with count %d", got, n)
	}
}
