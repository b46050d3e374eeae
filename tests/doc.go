// Package tests holds the black-box tests of Runnable: they build
// cmd/api-server once, start it as a separate process on a free port with its
// own data directory, and drive it over HTTP as a client would, checking the
// behaviour the contract (../shared/spec/api.md) fixes.
//
// Place in the hexagon: outside it. The tests import nothing from the
// module except the OpenAPI validator (api/apitest), which checks every
// response they receive; otherwise only the standard library. They need a Docker Engine (deploy/setup.sh prepares one);
// without it they skip, or fail when RUNNABLE_REQUIRE_SERVICES=1 (CI).
// The spec §11 scenarios not marked [docker] run on both container backends
// (backends_test.go); their "memory" subtests need no Docker.
//
// Subdirectories hold programs, not tests: summary (the `make test` report)
// and bench (`make bench`).
package tests
