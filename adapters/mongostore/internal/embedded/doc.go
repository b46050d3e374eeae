// Package embedded runs FerretDB in-process over SQLite, listening on a
// loopback port, so that the Mongo adapter has a MongoDB wire-protocol
// server without any service installed (docs/adr/0002).
//
// Place in the hexagon: inside the mongostore adapter; used by mongostore
// (the embedded default store) and by mongotest (the test helper). It
// imports FerretDB, the SQLite driver FerretDB links (modernc.org/sqlite)
// and the standard library.
package embedded
