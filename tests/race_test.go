//go:build race

package tests

// raceEnabled: the tests run with -race, so the server is built with it too.
const raceEnabled = true
