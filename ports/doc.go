// Package ports declares the outbound interfaces the app layer needs: the
// stores, the token store, rate limits and locks, the container backend, the
// clock and the id source.
//
// Place in the hexagon: the boundary. It imports the standard library and
// domain only. Every method documents the domain error kinds it returns;
// adapters translate their drivers' errors into those kinds. The contract
// suites in ports/porttest run against the inmem fakes and the real adapters.
package ports
