package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/runnable/runnable/api"
)

// Validator checks responses against the OpenAPI document and records which
// operations were exercised. It is safe for concurrent use; one Validator may
// be shared by every test of a package to collect coverage.
type Validator struct {
	doc    *openapi3.T
	router routers.Router

	mu      sync.Mutex
	covered map[string]bool
}

type loaded struct {
	doc    *openapi3.T
	router routers.Router
}

// The document and router are read-only once built, so every Validator of a
// test binary shares them.
var shared = sync.OnceValues(func() (loaded, error) {
	doc, err := api.Load()
	if err != nil {
		return loaded{}, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return loaded{}, fmt.Errorf("build router: %w", err)
	}
	return loaded{doc: doc, router: router}, nil
})

// New returns a Validator for the document in package api. It fails the test
// at once if the document does not load.
func New(t testing.TB) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	return v
}

// NewValidator is New for code without a testing.TB, such as TestMain sharing
// one Validator between tests to collect coverage.
func NewValidator() (*Validator, error) {
	l, err := shared()
	if err != nil {
		return nil, err
	}
	return &Validator{doc: l.doc, router: l.router, covered: map[string]bool{}}, nil
}

// Check validates one response to req and fails the test (t.Errorf, so it may
// run on any goroutine) when:
//   - no operation of the document matches req's method and path, unless the
//     server gave the contract's generic answer for that case: 404 "resource
//     not found" for an unknown path, 405 "method not allowed" with Allow for
//     a known path with another method (both are still checked against the
//     error schema);
//   - a documented operation answered 404 "resource not found" or 405, which
//     means the server lacks the route;
//   - the status is not documented for the operation, a required header is
//     missing or malformed, or the JSON body does not match its schema.
//
// Bodies that are not JSON (text/event-stream, application/x-tar, text/plain,
// text/html, ...) are not read: only their content type is checked against
// the ones documented for the status, so body may be nil for them. A 101
// Switching Protocols has no body. CORS preflights (OPTIONS with
// Access-Control-Request-Method) are outside the document and pass; a HEAD
// request needs a documented GET and its response is not checked further.
// The validator never checks authentication.
func (v *Validator) Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := v.check(req, status, header, body); err != nil {
		t.Errorf("apitest: %s %s → %d: %v", req.Method, req.URL.RequestURI(), status, err)
	}
}

// RoundTripper returns a transport that sends requests through base
// (http.DefaultTransport when nil) and Checks every response. JSON bodies are
// read, checked and restored, so the caller reads them as usual; other bodies
// (streams, archives, WebSocket connections) pass through untouched. Use it as
// the Transport of the http.Client a test drives the server with.
func (v *Validator) RoundTripper(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		if resp.StatusCode == http.StatusSwitchingProtocols || !isJSON(resp.Header.Get("Content-Type")) {
			v.Check(t, req, resp.StatusCode, resp.Header, nil)
			return resp, nil
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("apitest: read response body of %s %s: %w", req.Method, req.URL.Path, err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		v.Check(t, req, resp.StatusCode, resp.Header, b)
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// Covered lists the operations Check has matched, as "METHOD /path/{param}",
// sorted.
func (v *Validator) Covered() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, 0, len(v.covered))
	for op := range v.covered {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// Uncovered lists the document's operations Check has not matched yet, in the
// same form as Covered.
func (v *Validator) Uncovered() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			if op := method + " " + path; !v.covered[op] {
				out = append(out, op)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (v *Validator) check(req *http.Request, status int, header http.Header, body []byte) error {
	if header == nil {
		header = http.Header{}
	}
	if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
		return nil
	}
	if req.Method == http.MethodHead {
		get := req.Clone(context.Background())
		get.Method = http.MethodGet
		if _, _, err := v.find(get); err != nil {
			return fmt.Errorf("HEAD of an undocumented GET %s: %w", req.URL.Path, err)
		}
		return nil
	}
	route, params, err := v.find(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		if status == http.StatusNotFound && errorMessage(body) == "resource not found" {
			return v.checkGenericError(status, header, body)
		}
		return fmt.Errorf("no operation in the OpenAPI document matches %s %s; document the route "+
			"(api/openapi.yaml) or answer 404 \"resource not found\"", req.Method, req.URL.Path)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if status == http.StatusMethodNotAllowed && errorMessage(body) == "method not allowed" {
			if header.Get("Allow") == "" {
				return errors.New(`405 without an Allow header`)
			}
			return v.checkGenericError(status, header, body)
		}
		return fmt.Errorf("the OpenAPI document has path %s but no %s operation on it; document it "+
			"or answer 405 \"method not allowed\"", req.URL.Path, req.Method)
	case err != nil:
		return fmt.Errorf("find route: %w", err)
	}

	v.mu.Lock()
	v.covered[req.Method+" "+route.Path] = true
	v.mu.Unlock()

	if msg := errorMessage(body); status == http.StatusNotFound && msg == "resource not found" ||
		status == http.StatusMethodNotAllowed {
		return fmt.Errorf("the OpenAPI document has %s %s but the server answered %d %q: is the route registered?",
			req.Method, route.Path, status, msg)
	}

	ct := header.Get("Content-Type")
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	if status == http.StatusSwitchingProtocols || !isJSON(ct) {
		opts.ExcludeResponseBody = true
		if err := checkContentType(route, status, ct); err != nil {
			return err
		}
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: opts,
		},
		Status:  status,
		Header:  header,
		Options: opts,
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("response does not match operation %s %s: %s\nbody: %s",
			req.Method, route.Path, describe(err), snippet(body))
	}
	return nil
}

// find matches req to an operation. gorillamux stops at the first path that
// matches, whatever its methods, so a 405 from it is retried over every path;
// and a request to /users/me/... is credited to the /users/me form of a route
// when the document has one.
func (v *Validator) find(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := v.router.FindRoute(req)
	if errors.Is(err, routers.ErrMethodNotAllowed) {
		if r, p, ok := v.scan(req); ok {
			return r, p, nil
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if params["userId"] == "me" && strings.Contains(route.Path, "{userId}") {
		alt := strings.Replace(route.Path, "{userId}", "me", 1)
		if item := v.doc.Paths.Value(alt); item != nil && item.GetOperation(req.Method) != nil {
			r := *route
			r.Path, r.PathItem, r.Operation = alt, item, item.GetOperation(req.Method)
			p := make(map[string]string, len(params))
			for k, val := range params {
				if k != "userId" {
					p[k] = val
				}
			}
			return &r, p, nil
		}
	}
	return route, params, nil
}

// scan finds the first path, fewest parameters first, that matches req's path
// segments and has req's method.
func (v *Validator) scan(req *http.Request) (*routers.Route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(req.URL.EscapedPath(), "/"), "/")
	for _, path := range v.doc.Paths.InMatchingOrder() {
		item := v.doc.Paths.Value(path)
		op := item.GetOperation(req.Method)
		if op == nil {
			continue
		}
		tmpl := strings.Split(strings.Trim(path, "/"), "/")
		if len(tmpl) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, s := range tmpl {
			if name, isVar := strings.CutPrefix(s, "{"); isVar {
				params[strings.TrimSuffix(name, "}")] = segs[i]
			} else if s != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return &routers.Route{Spec: v.doc, Path: path, PathItem: item, Method: req.Method, Operation: op}, params, true
		}
	}
	return nil, nil, false
}

// checkGenericError checks the router-level 404 and 405 answers, which have
// no operation: an error body and the headers every response carries.
func (v *Validator) checkGenericError(status int, header http.Header, body []byte) error {
	if header.Get("X-Request-Id") == "" {
		return errors.New("response header X-Request-Id missing")
	}
	if !isJSON(header.Get("Content-Type")) {
		return fmt.Errorf("error body with Content-Type %q, want application/json", header.Get("Content-Type"))
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	if err := v.doc.Components.Schemas["Error"].Value.VisitJSON(value, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("error body does not match the Error schema: %s\nbody: %s", describe(err), snippet(body))
	}
	if code, _ := value.(map[string]any)["code"].(float64); int(code) != status {
		return fmt.Errorf("error body code %v, want the status %d", code, status)
	}
	return nil
}

// checkContentType checks a body that is not validated: its type must be one
// the operation documents for the status.
func checkContentType(route *routers.Route, status int, ct string) error {
	ref := route.Operation.Responses.Status(status)
	if ref == nil {
		ref = route.Operation.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("status %d is not documented for %s %s", status, route.Method, route.Path)
	}
	content := ref.Value.Content
	if len(content) == 0 {
		return nil
	}
	if ct == "" {
		return fmt.Errorf("no Content-Type; documented: %s", strings.Join(mediaTypes(content), ", "))
	}
	if content.Get(ct) == nil {
		return fmt.Errorf("Content-Type %q is not documented for status %d; documented: %s",
			ct, status, strings.Join(mediaTypes(content), ", "))
	}
	return nil
}

func mediaTypes(content openapi3.Content) []string {
	out := make([]string, 0, len(content))
	for mt := range content {
		out = append(out, mt)
	}
	sort.Strings(out)
	return out
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// errorMessage is the message of an error body, or "".
func errorMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Message
}

// describe shortens kin-openapi's errors, which print whole schemas, to the
// failing JSON pointers and reasons.
func describe(err error) string {
	return strings.Join(flatten(err), "; ")
}

// flatten walks the error tree node by node: each node's own type decides
// how it prints, so it switches on the concrete type instead of using
// errors.As, which would skip a node's Reason to reach a wrapped one (and
// openapi3.MultiError.As picks only its first match).
func flatten(err error) []string {
	switch e := err.(type) { //nolint:errorlint // a structural walk, see above
	case nil:
		return nil
	case openapi3.MultiError:
		var out []string
		for _, inner := range e {
			out = append(out, flatten(inner)...)
		}
		return out
	case *openapi3filter.ResponseError:
		inner := flatten(e.Err)
		if len(inner) == 0 {
			return []string{e.Reason}
		}
		inner[0] = e.Reason + ": " + inner[0]
		return inner
	case *openapi3.SchemaError:
		msg := fmt.Sprintf("at /%s: %s", strings.Join(e.JSONPointer(), "/"), e.Reason)
		if inner := flatten(e.Origin); len(inner) > 0 {
			msg += " (" + strings.Join(inner, "; ") + ")"
		}
		return []string{msg}
	default:
		return []string{err.Error()}
	}
}

func snippet(body []byte) string {
	const max = 2000
	if len(body) > max {
		return string(body[:max]) + "…"
	}
	return string(body)
}
