// Package mongotest gives tests a fresh MongoDB database: on the server
// MONGO_URL names when it is set, else on an in-process FerretDB over SQLite
// in the test's temporary directory, which is always available.
//
// Place in the hexagon: test support for the mongostore adapter and for
// anything that wires it (cmd, black-box tests). It imports the driver,
// the embedded FerretDB starter and the standard library.
package mongotest
