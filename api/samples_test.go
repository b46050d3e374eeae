package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/runnable/runnable/api/apitest"
)

// failures is a testing.TB that keeps failures instead of reporting them.
type failures struct {
	testing.TB
	msgs []string
}

func (f *failures) Helper() {}

func (f *failures) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

// Responses taken from the contract's acceptance scenarios (§11).
func TestScenarioResponsesValidate(t *testing.T) {
	const draft = `{"_id":"Xx16Lpw7SgASNFZ4","id":"5f1d7a2e9c3b4a0012345678","name":"shell","description":"",
		"owner":"51cf6ae257ee61f13f000002","parent":"Uc9q4lfuYfE_AAA-","parent_version":1,"root":"Uc9q4lfuYfE_AAA-",
		"target":null,"tags":[],"start_cmd":"sh main.sh","env":{},"file_root":"/root","status":"not_created",
		"running":false,"started_at":null,"stopped_at":null,"exit_code":null,"last_access":"2013-08-22T17:03:11.412Z",
		"saved":false,"expires_at":"2013-08-29T17:03:11.412Z",
		"save":{"status":"none","mode":null,"image":null,"started_at":null,"finished_at":null,"error":null},
		"created":"2013-08-22T17:03:11.412Z"}`
	tests := []struct {
		name, method, target string
		status               int
		extra                []string // header pairs
		body                 string
		ok                   bool
	}{
		{"1: root", "GET", "/", 200, nil, `{"message":"runnable api"}`, true},
		{"1: unknown route", "GET", "/nope", 404, nil, `{"code":404,"message":"resource not found"}`, true},
		{"1: wrong method", "DELETE", "/", 405, []string{"Allow", "GET"}, `{"code":405,"message":"method not allowed"}`, true},
		{"2: no token", "GET", "/users/me", 401, nil, `{"code":401,"message":"access token required"}`, true},
		{"8: store error", "GET", "/runnables", 500, nil, `{"code":500,"message":"something bad happened :("}`, true},
		{"8: store error with details", "GET", "/runnables", 500, nil,
			`{"code":500,"message":"something bad happened :(","error":"mongo: no reachable servers"}`, false},
		{"19: fork", "POST", "/users/me/runnables?from=Uc9q4lfuYfE_AAA-", 201,
			[]string{"Location", "/users/51cf6ae257ee61f13f000002/runnables/Xx16Lpw7SgASNFZ4"}, draft, true},
		{"19: fork with an extra field", "POST", "/users/me/runnables?from=Uc9q4lfuYfE_AAA-", 201,
			[]string{"Location", "/users/51cf6ae257ee61f13f000002/runnables/Xx16Lpw7SgASNFZ4"},
			strings.Replace(draft, `"tags":[]`, `"tags":[],"container_id":"abc"`, 1), false},
		{"51: vote", "POST", "/users/me/votes", 201, nil,
			`{"_id":"51cf6ae257ee61f13f000030","runnable":"Uc9q4lfuYfE_AAA-","created":"2013-08-22T17:03:11.412Z"}`, true},
		{"51: vote count", "GET", "/runnables/Uc9q4lfuYfE_AAA-/votes", 200, nil, `{"count":1}`, true},
		{"51: legacy vote count", "GET", "/runnables/Uc9q4lfuYfE_AAA-/votes", 200, nil, `{"count":-1}`, false},
		{"52: stat", "POST", "/runnables/Uc9q4lfuYfE_AAA-/stats/runs", 201, nil, `{"image":1,"user":1}`, true},
		{"57: healthz", "GET", "/healthz", 200, nil, `{"status":"ok"}`, true},
		{"57: readyz", "GET", "/readyz", 503, nil,
			`{"code":503,"message":"not ready: containers","checks":{"store":"ok","token_store":"ok","containers":"unreachable"}}`, true},
	}
	v := apitest.New(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"X-Request-Id": {"r"}, "Content-Type": {"application/json; charset=utf-8"}}
			for i := 0; i+1 < len(tt.extra); i += 2 {
				h.Set(tt.extra[i], tt.extra[i+1])
			}
			f := &failures{TB: t}
			v.Check(f, httptest.NewRequestWithContext(t.Context(), tt.method, tt.target, nil), tt.status, h, []byte(tt.body))
			if tt.ok && len(f.msgs) > 0 {
				t.Errorf("got failure %s, want none", f.msgs[0])
			}
			if !tt.ok && len(f.msgs) == 0 {
				t.Error("passed, want a failure")
			}
		})
	}
}
