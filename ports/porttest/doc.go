// Package porttest holds the contract test suites of the ports, one file
// per port. Each suite takes a constructor of fresh, empty adapters and
// checks, in subtests, exactly what the port's documentation promises.
// Every adapter of a port runs its suite: the inmem fakes and the real
// adapters alike, so suites hold nothing specific to one adapter.
//
// Store suites compare times at millisecond precision, as a store may
// truncate them, and treat nil and empty slices and maps as equal.
//
// Place in the hexagon: test support for ports. It imports the standard
// library (testing included), domain and ports only.
package porttest
