// Package dockertest runs the runtime's use cases against the real Docker
// Engine: start commands and their exit codes, logs and log streams, the
// terminal, export and import, and hostile programs (a fork bomb, a
// memory hog, an output flood, a huge file writer) that must stay
// contained while the server keeps answering.
//
// Place in the hexagon: outside it, like tests/. Its tests wire app over
// adapters/dockerbackend and the adapters/inmem stores, and drive
// adapters/httpapi in-process for the streaming routes (SSE, WebSocket).
// The package has no non-test code. Without a Docker Engine the tests skip,
// or fail when RUNNABLE_REQUIRE_SERVICES=1 (CI). Everything they make is
// labelled com.runnable.test=1 and removed in t.Cleanup.
package dockertest
