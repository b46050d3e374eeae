// Package app holds the use cases of the Runnable API: each loads through a
// port, calls a domain method and saves through a port.
//
// Place in the hexagon: between the inbound transport (adapters/httpapi,
// the CLI in cmd/api-server) and the outbound ports. It imports the standard
// library, domain, ports and golang.org/x/crypto/bcrypt; never a driver.
// Errors returned are domain errors (kinds from domain/errors.go, usually
// with the contract's public message).
package app
