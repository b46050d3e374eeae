package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/runnable/runnable/api"
)

// contractRoutes lists every route of the contract's tables (spec §1-§9),
// with :params written {params}. A path starting with /runnables also stands
// for its /images alias, and P for both /users/me/runnables and
// /users/{userId}/runnables.
var contractRoutes = []string{
	// §1.2, §9.1 public and ops
	"GET /", "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json", "GET /docs",
	// §2.2 users and tokens
	"POST /users", "GET /users",
	"POST /token", "DELETE /token",
	"GET /users/me", "GET /users/{userId}",
	"PUT /users/me", "PATCH /users/me", "PUT /users/{userId}", "PATCH /users/{userId}",
	"DELETE /users/me", "DELETE /users/{userId}",
	"PUT /users/{userId}/permission_level",
	// §3.2 images
	"GET /runnables", "POST /runnables",
	"GET /runnables/{id}", "PUT /runnables/{id}", "PATCH /runnables/{id}", "DELETE /runnables/{id}",
	"GET /runnables/{id}/files", "GET /runnables/{id}/files/{fileId}",
	"GET /runnables/{id}/export", "POST /runnables/import",
	// §4.3 drafts
	"POST P", "GET P",
	"GET P/{id}", "PUT P/{id}", "PATCH P/{id}", "DELETE P/{id}",
	"POST P/{id}/start", "PUT P/{id}/start", "POST P/{id}/restart", "PUT P/{id}/restart",
	"POST P/{id}/stop", "PUT P/{id}/stop",
	"POST P/{id}/save", "GET P/{id}/logs", "GET P/{id}/terminal",
	// §5.3 files
	"GET P/{id}/files", "POST P/{id}/files",
	"GET P/{id}/files/{fileId}", "PUT P/{id}/files/{fileId}", "PATCH P/{id}/files/{fileId}",
	"DELETE P/{id}/files/{fileId}",
	"POST P/{id}/sync", "GET P/{id}/files/archive",
	// §6.2 tags
	"GET /runnables/{id}/tags", "GET /runnables/{id}/tags/{tagId}", "POST /runnables/{id}/tags",
	"DELETE /runnables/{id}/tags/{tagId}",
	"GET P/{id}/tags", "GET P/{id}/tags/{tagId}", "POST P/{id}/tags", "DELETE P/{id}/tags/{tagId}",
	// §6.3 channels
	"GET /channels", "POST /channels",
	"GET /channels/{id}", "PUT /channels/{id}", "PATCH /channels/{id}", "DELETE /channels/{id}",
	"PUT /channels/{id}/aliases",
	"GET /channels/{id}/tags", "GET /channels/{id}/tags/{tagId}", "POST /channels/{id}/tags",
	"DELETE /channels/{id}/tags/{tagId}",
	// §6.4 categories
	"GET /categories", "POST /categories",
	"GET /categories/{id}", "PUT /categories/{id}", "PATCH /categories/{id}", "DELETE /categories/{id}",
	"PUT /categories/{id}/aliases",
	// §7.1 votes
	"GET /users/me/votes", "GET /users/{userId}/votes", "POST /users/me/votes", "DELETE /users/me/votes/{voteId}",
	"GET /runnables/{id}/votes",
	// §7.2 stats
	"GET /runnables/{id}/stats/{stat}", "POST /runnables/{id}/stats/{stat}",
	// §7.3 comments
	"GET /runnables/{id}/comments", "POST /runnables/{id}/comments",
	"GET /runnables/{id}/comments/{commentId}", "DELETE /runnables/{id}/comments/{commentId}",
	// §7.4 feed
	"GET /feeds/images",
	// §8.5, §9.1 admin
	"POST /cleanup",
}

// expandedRoutes applies the /images alias and the two draft prefixes.
func expandedRoutes() []string {
	var out []string
	for _, r := range contractRoutes {
		method, path, _ := strings.Cut(r, " ")
		switch {
		case strings.HasPrefix(path, "P"):
			out = append(out,
				method+" /users/me/runnables"+path[1:],
				method+" /users/{userId}/runnables"+path[1:])
		case strings.HasPrefix(path, "/runnables"):
			out = append(out, r, method+" /images"+strings.TrimPrefix(path, "/runnables"))
		default:
			out = append(out, r)
		}
	}
	return out
}

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func operations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[method+" "+path] = op
		}
	}
	return ops
}

func sorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestDocumentLoadsAndValidates(t *testing.T) {
	doc := load(t)
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	var raw map[string]any
	if err := json.Unmarshal(api.JSON(), &raw); err != nil {
		t.Fatalf("JSON() is not JSON: %v", err)
	}
	if _, ok := raw["x-fragments"]; ok {
		t.Error("JSON() still holds x-fragments")
	}
	if !bytes.Equal(api.JSON(), api.JSON()) {
		t.Error("JSON() differs between calls")
	}
	again := load(t)
	if again == doc {
		t.Error("Load returned the same *openapi3.T twice; callers may modify it")
	}
}

func TestEveryContractRouteIsDocumented(t *testing.T) {
	ops := operations(load(t))
	want := map[string]bool{}
	for _, r := range expandedRoutes() {
		if want[r] {
			t.Errorf("route table lists %s twice", r)
		}
		want[r] = true
		if ops[r] == nil {
			t.Errorf("%s is in the contract but not in the document", r)
		}
	}
	for _, r := range sorted(ops) {
		if !want[r] {
			t.Errorf("%s is in the document but in no table of the contract", r)
		}
	}
}

// errorResponses are the statuses every operation behind the token gate documents.
var gateStatuses = []string{"401", "404", "429", "500", "503"}

var opsEndpoints = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true}

func TestEveryOperationDocumentsItsStatuses(t *testing.T) {
	doc := load(t)
	ops := operations(doc)
	for _, key := range sorted(ops) {
		op := ops[key]
		method, _, _ := strings.Cut(key, " ")
		public := op.Security != nil && len(*op.Security) > 0 && len((*op.Security)[0]) == 0 ||
			op.Security != nil && len(*op.Security) == 0
		if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
			t.Errorf("%s: needs an operationId, a summary and a tag", key)
		}
		has := func(status string) bool { return op.Responses.Value(status) != nil }
		if !has("500") {
			t.Errorf("%s: no 500", key)
		}
		if !public {
			for _, s := range gateStatuses {
				if !has(s) {
					t.Errorf("%s: behind the token gate but no %s", key, s)
				}
			}
		}
		if !opsEndpoints[key] && !has("429") {
			t.Errorf("%s: rate limited but no 429", key)
		}
		if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
			for _, s := range []string{"400", "413", "415"} {
				if !has(s) {
					t.Errorf("%s: takes a body but no %s", key, s)
				}
			}
		}
		if r := op.Responses.Value("429"); r != nil && r.Value.Headers["Retry-After"] == nil {
			t.Errorf("%s: 429 without Retry-After", key)
		}
		success := 0
		for status, ref := range op.Responses.Map() {
			r := ref.Value
			if r.Headers["X-Request-Id"] == nil {
				t.Errorf("%s %s: no X-Request-Id header", key, status)
			}
			if status < "400" {
				success++
				continue
			}
			mt := r.Content.Get("application/json")
			if mt == nil || len(r.Content) != 1 {
				t.Errorf("%s %s: error responses have exactly one application/json body", key, status)
				continue
			}
			want := "#/components/schemas/Error"
			if key == "GET /readyz" && status == "503" {
				want = "#/components/schemas/NotReady"
			}
			if mt.Schema.Ref != want {
				t.Errorf("%s %s: error schema %q, want %q", key, status, mt.Schema.Ref, want)
			}
		}
		if success == 0 {
			t.Errorf("%s: no success response", key)
		}
		if hasParam(doc, key, "page") {
			r := op.Responses.Value("200").Value
			for _, h := range []string{"X-Total-Count", "Link"} {
				if r.Headers[h] == nil || !r.Headers[h].Value.Required {
					t.Errorf("%s: paged list without a required %s header", key, h)
				}
			}
		}
	}
}

func hasParam(doc *openapi3.T, key, name string) bool {
	method, path, _ := strings.Cut(key, " ")
	item := doc.Paths.Value(path)
	for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), item.GetOperation(method).Parameters...) {
		if p.Value.Name == name {
			return true
		}
	}
	return false
}

var (
	timeFields = regexp.MustCompile(`^(created|updated|modified|date|last_access|expires_at|.*_at)$`)
	timeRegexp = `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$`
)

// TestResponseSchemasAreClosed walks every schema a response can hold: objects
// with fields forbid others and require all of them (but a file's content and
// encoding), and times and ids carry their formats.
func TestResponseSchemasAreClosed(t *testing.T) {
	doc := load(t)
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
			where = name
		}
		s := ref.Value
		seen[s] = true
		for _, alt := range append(append(openapi3.SchemaRefs{}, s.OneOf...), s.AnyOf...) {
			walk(where, alt)
		}
		if s.Items != nil {
			walk(where+"[]", s.Items)
		}
		if s.AdditionalProperties.Schema != nil {
			walk(where+"{}", s.AdditionalProperties.Schema)
		}
		if len(s.Properties) == 0 {
			return
		}
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("%s: additionalProperties must be false", where)
		}
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		for _, name := range sorted(s.Properties) {
			optional := where == "File" && (name == "content" || name == "encoding")
			if required[name] == optional {
				t.Errorf("%s.%s: required = %v, want %v", where, name, required[name], !optional)
			}
			p := s.Properties[name]
			if timeFields.MatchString(name) && p.Value.Type.Is(openapi3.TypeString) &&
				(p.Value.Format != "date-time" || p.Value.Pattern != timeRegexp) {
				t.Errorf("%s.%s: a time must be date-time with milliseconds and Z", where, name)
			}
			if name == "_id" && p.Value.Format != "object-id" && p.Value.Format != "short-id" {
				t.Errorf("%s._id: format %q, want object-id or short-id", where, p.Value.Format)
			}
			walk(where+"."+name, p)
		}
	}
	ops := operations(doc)
	for _, key := range sorted(ops) {
		for status, r := range ops[key].Responses.Map() {
			for mt, c := range r.Value.Content {
				if key == "GET /openapi.json" || !strings.HasSuffix(mt, "json") {
					continue
				}
				walk(key+" "+status, c.Schema)
			}
		}
	}
	for _, name := range []string{"Image", "Draft", "DraftSave", "UserSelf", "UserWithToken", "UserPublic",
		"File", "Tag", "CategoryTag", "Channel", "Category", "Vote", "Comment", "FeedItem", "CleanupSummary",
		"SyncResult", "Error", "NotReady"} {
		if s := doc.Components.Schemas[name]; s == nil || !seen[s.Value] {
			t.Errorf("schema %s is not reachable from any response", name)
		}
	}
}

// TestSchemaFields pins the fields of the main objects to the contract's tables.
func TestSchemaFields(t *testing.T) {
	doc := load(t)
	tests := []struct {
		schema string
		fields string
	}{
		{"UserSelf", "_id username email permission_level registered gravatar created runs views copies cuts pastes images_count published_count"},
		{"UserWithToken", "_id username email permission_level registered gravatar created runs views copies cuts pastes images_count published_count access_token"},
		{"UserPublic", "_id username gravatar created runs views copies cuts pastes images_count published_count"},
		{"TokenReply", "access_token _id transferred"},
		{"Image", "_id id name description owner owner_username parent root version status published tags start_cmd env file_root votes runs views copies cuts pastes created updated"},
		{"FeedItem", "_id id name description owner owner_username parent root version status published tags start_cmd env file_root votes runs views copies cuts pastes created updated score"},
		{"Draft", "_id id name description owner parent parent_version root target tags start_cmd env file_root status running started_at stopped_at exit_code last_access saved expires_at save created"},
		{"DraftSave", "status mode image started_at finished_at error"},
		{"File", "_id name path dir default ignore link size modified content encoding"},
		{"Tag", "_id channel name"},
		{"CategoryTag", "_id category name"},
		{"Channel", "_id name description aliases tags count created"},
		{"Category", "_id name description aliases count created"},
		{"Vote", "_id runnable created"},
		{"Comment", "_id runnable user text created"},
		{"CommentUser", "_id username gravatar"},
		{"Stat", "image user"},
		{"VoteCount", "count"},
		{"SyncResult", "message date count truncated"},
		{"CleanupSummary", "dry_run started_at finished_at deleted_drafts stopped_containers removed_containers removed_images errors"},
		{"Error", "code message"},
		{"NotReady", "code message checks"},
		{"Ready", "status checks"},
		{"ReadyChecks", "store token_store containers"},
	}
	for _, tt := range tests {
		s := doc.Components.Schemas[tt.schema]
		if s == nil {
			t.Errorf("no schema %s", tt.schema)
			continue
		}
		want := strings.Fields(tt.fields)
		sort.Strings(want)
		if got := sorted(s.Value.Properties); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s fields: got %v, want %v", tt.schema, got, want)
		}
	}
	nullable := map[string]string{
		"UserSelf":   "username email gravatar",
		"UserPublic": "username gravatar",
		"Image":      "owner_username parent root",
		"Draft":      "target started_at stopped_at exit_code expires_at",
		"DraftSave":  "mode image started_at finished_at error",
		"File":       "link content encoding",
	}
	for _, name := range sorted(nullable) {
		want := strings.Fields(nullable[name])
		sort.Strings(want)
		var got []string
		for _, f := range sorted(doc.Components.Schemas[name].Value.Properties) {
			if doc.Components.Schemas[name].Value.Properties[f].Value.Nullable {
				got = append(got, f)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s nullable fields: got %v, want %v", name, got, want)
		}
	}
}

func TestSecuritySchemes(t *testing.T) {
	doc := load(t)
	rt := doc.Components.SecuritySchemes["runnableToken"]
	if rt == nil || rt.Value.Type != "apiKey" || rt.Value.In != "header" || rt.Value.Name != "runnable-token" {
		t.Errorf("runnableToken scheme: %+v", rt)
	}
	if b := doc.Components.SecuritySchemes["bearerAuth"]; b == nil || b.Value.Type != "http" || b.Value.Scheme != "bearer" {
		t.Errorf("bearerAuth scheme: %+v", b)
	}
	public := []string{"GET /", "POST /users", "POST /token", "GET /healthz", "GET /readyz", "GET /metrics",
		"GET /openapi.json", "GET /docs"}
	ops := operations(doc)
	for _, key := range public {
		sec := ops[key].Security
		anonymous := sec != nil && (len(*sec) == 0 || len((*sec)[0]) == 0)
		if !anonymous {
			t.Errorf("%s: must be callable without a token", key)
		}
	}
	for _, key := range []string{"GET /users/me/runnables/{id}/logs", "GET /users/me/runnables/{id}/terminal"} {
		found := false
		for _, req := range *ops[key].Security {
			if _, ok := req["accessTokenQuery"]; ok {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: must accept the access_token query", key)
		}
	}
}

func TestDocsHTMLIsSelfContained(t *testing.T) {
	page := string(api.DocsHTML())
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url(", `href="http`, `href="//`} {
		if strings.Contains(page, bad) {
			t.Errorf("docs page contains %q", bad)
		}
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") {
		t.Error("docs page is not an HTML document")
	}
	ops := operations(load(t))
	for _, key := range sorted(ops) {
		if !strings.Contains(page, ">"+key+"</a>") {
			t.Errorf("docs page does not list %s", key)
		}
		if !strings.Contains(page, `id="op-`+ops[key].OperationID+`"`) {
			t.Errorf("docs page has no section for %s", ops[key].OperationID)
		}
	}
	for _, want := range []string{`id="schema-Draft"`, `&#34;parent_version&#34;: 1`, "x-websocket", "runnable-token"} {
		if !strings.Contains(page, want) {
			t.Errorf("docs page lacks %s", want)
		}
	}
}

func TestMarkdownIsEscaped(t *testing.T) {
	page := string(api.DocsHTML())
	// Descriptions hold "<name>" placeholders; they must come out as text.
	if strings.Contains(page, "<ownerId>") || !strings.Contains(page, "&lt;ownerId&gt;") {
		t.Error("description placeholders are not escaped")
	}
	if !strings.Contains(page, "<code>runnable-token: &lt;token&gt;</code>") {
		t.Error("code spans are not rendered")
	}
}

func ExampleJSON() {
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	_ = json.Unmarshal(api.JSON(), &doc)
	fmt.Println(doc.OpenAPI)
	// Output: 3.0.3
}
