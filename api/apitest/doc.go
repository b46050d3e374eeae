// Package apitest checks HTTP responses against the Runnable API's OpenAPI
// document (package api) in tests.
//
// adapters/httpapi's tests and the black-box tests in tests/ use it so that
// every response they receive is validated, and a route missing from the
// document fails the test:
//
//	v := apitest.New(t)
//	client := &http.Client{Transport: v.RoundTripper(t, nil)}
//	resp, err := client.Get(srv.URL + "/users/me") // checked on the way back
//
// or, with httptest.ResponseRecorder:
//
//	v.Check(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
//
// It imports package api, kin-openapi and the standard library; production
// code must not import it.
package apitest
