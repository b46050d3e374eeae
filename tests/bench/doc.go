// Command bench measures Runnable against the physical limit of the
// machine it runs on (issue 6; method in docs/adr/0005-benchmarks.md).
//
//	go run ./tests/bench [-quick] [-json bench.json] [-server-bin path] [-cpuprofile file]
//
// It builds cmd/api-server, starts it on a free loopback port with the
// embedded stores in a temporary data directory, and measures each item
// against a baseline in the same run, alternating the two (server,
// baseline, server, baseline, …): container operations against the same
// calls made straight to the Docker Engine API (fsouza/go-dockerclient,
// same image, same security settings as adapters/dockerbackend), and API
// throughput against a bare echo handler answering the same bytes on
// another loopback port. It prints a table, writes every figure to
// bench.json, and ends with one line of the ratios against the targets.
//
// Everything it makes is removed at the end, also after a failure or a
// Ctrl-C: the servers, their data directories, their containers and images
// (found by the com.runnable.instance label, set with RUNNABLE_INSTANCE), and
// the baseline's containers and images (labels com.runnable.test=1 and
// com.runnable.bench=<run>). Only a SIGKILL of the benchmark can leave
// objects behind; `make clean` removes the baseline's.
//
// Place in the hexagon: outside it, a client. It imports nothing from the
// module; it uses the Docker client and echo only as baselines.
package main
