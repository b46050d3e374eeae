// Package inmem holds in-memory, scriptable fakes of the outbound ports:
// the stores (users, images, drafts, files, channels), the token store, rate
// limiter, locks and container backend.
//
// Place in the hexagon: an adapter used by unit tests of app and httpapi,
// and by adapters/mirror, whose in-memory copy of the embedded store's
// images and drafts is an Images and a Drafts of this package. It imports
// the standard library, domain and ports only. The store fakes pass the
// same contract suites (ports/porttest) as the real adapters: they are safe
// for concurrent use, copy every value in and out, and truncate times to
// milliseconds as MongoDB does. Each fake has FailNext to script an error
// for the next call of a method.
package inmem
