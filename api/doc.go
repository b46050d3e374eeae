// Package api holds the transport contract of the Runnable API: the OpenAPI
// 3.0.3 document describing every route, parameter, request body, status and
// response schema of the contract (../shared/spec/api.md), and the HTML page
// rendering it.
//
// adapters/httpapi serves JSON at GET /openapi.json and DocsHTML at GET /docs,
// and its tests, like the black-box tests in tests/, validate every response
// they receive against the document with package apitest. cmd/api-server
// prints it for `api-server openapi`.
//
// The package sits outside the hexagon: it knows nothing of domain, app or
// ports, and imports only the standard library, kin-openapi and a YAML
// decoder.
package api
