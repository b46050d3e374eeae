// Package httpapi is the JSON REST transport of the Runnable API on echo v4:
// routes, request and response mapping, the token gate, rate limits, the
// one error mapper, metrics and the ops endpoints.
//
// Place in the hexagon: an inbound adapter. It imports domain, ports (for
// the rate limiter), app (the concrete use cases) and the api package (the
// OpenAPI document); never a store or container driver. Handlers return
// errors; errors.go alone turns them into {"code","message"} replies.
package httpapi
