// Command summary reads `go test -json` on stdin and prints what a person
// needs from a long test run: one line per package as it finishes, the full
// output of every failing test, the reason of every skipped test, and a
// closing line "tests: N passed, N failed, N skipped".
//
// It is used by `make test`:
//
//	go test -json ./... 2>&1 | go run ./tests/summary -log bin/test.json
//
// Lines that are not JSON (the go command's own messages) are printed as they
// come. The exit status is 1 when a test or a build failed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Time       time.Time
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

type summary struct {
	out            io.Writer
	buf            map[string][]string // output per package+test, until it ends
	pkgOut         map[string][]string // package-level output
	passed         int
	failed         int
	skipped        int
	failedTests    []string
	failedPkgs     []string
	skipReasons    []string
	buildFailures  int
	packagesPassed int
}

func main() {
	logPath := flag.String("log", "", "also write the raw input to this file")
	flag.Parse()

	var in io.Reader = os.Stdin
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "summary:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = io.TeeReader(os.Stdin, f)
	}

	s := &summary{out: os.Stdout, buf: map[string][]string{}, pkgOut: map[string][]string{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		s.line(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "summary: reading input:", err)
	}
	if !s.finish() {
		os.Exit(1)
	}
}

func (s *summary) line(b []byte) {
	var e event
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &e) != nil {
		fmt.Fprintln(s.out, string(b))
		return
	}
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
		return
	case "build-fail":
		s.buildFailures++
		return
	}
	key := e.Package + "\x00" + e.Test
	if e.Test == "" {
		s.pkgEvent(e)
		return
	}
	switch e.Action {
	case "output":
		s.buf[key] = append(s.buf[key], e.Output)
	case "pass":
		s.passed++
		delete(s.buf, key)
	case "skip":
		s.skipped++
		s.skipReasons = append(s.skipReasons, fmt.Sprintf("%s %s: %s", short(e.Package), e.Test, skipReason(s.buf[key])))
		delete(s.buf, key)
	case "fail":
		s.failed++
		s.failedTests = append(s.failedTests, short(e.Package)+" "+e.Test)
		fmt.Fprintf(s.out, "\n=== FAIL: %s %s (%.2fs)\n", short(e.Package), e.Test, e.Elapsed)
		for _, l := range s.buf[key] {
			if !noise(l) {
				fmt.Fprint(s.out, l)
			}
		}
		delete(s.buf, key)
	}
}

func (s *summary) pkgEvent(e event) {
	switch e.Action {
	case "output":
		s.pkgOut[e.Package] = append(s.pkgOut[e.Package], e.Output)
	case "pass", "skip":
		if e.Action == "pass" {
			s.packagesPassed++
		}
		for _, l := range s.pkgOut[e.Package] {
			if strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "?") {
				fmt.Fprint(s.out, l)
			}
		}
		delete(s.pkgOut, e.Package)
	case "fail":
		s.failedPkgs = append(s.failedPkgs, e.Package)
		for _, l := range s.pkgOut[e.Package] {
			if !noise(l) && l != "PASS\n" && l != "FAIL\n" {
				fmt.Fprint(s.out, l)
			}
		}
		delete(s.pkgOut, e.Package)
		// Tests still open when a package dies (timeout, panic, os.Exit) never
		// report; show what they printed.
		for key, lines := range s.buf {
			if strings.HasPrefix(key, e.Package+"\x00") {
				fmt.Fprintf(s.out, "\n=== unfinished: %s %s\n", short(e.Package), strings.TrimPrefix(key, e.Package+"\x00"))
				for _, l := range lines {
					if !noise(l) {
						fmt.Fprint(s.out, l)
					}
				}
				delete(s.buf, key)
			}
		}
	}
}

// finish prints the summary and reports whether everything passed.
func (s *summary) finish() bool {
	w := s.out
	fmt.Fprintln(w)
	if len(s.skipReasons) > 0 {
		sort.Strings(s.skipReasons)
		fmt.Fprintf(w, "skipped tests (%d):\n", len(s.skipReasons))
		for i, r := range s.skipReasons {
			if i == 40 {
				fmt.Fprintf(w, "  ... and %d more\n", len(s.skipReasons)-i)
				break
			}
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	if len(s.failedTests) > 0 {
		fmt.Fprintf(w, "failed tests (%d):\n", len(s.failedTests))
		for _, t := range s.failedTests {
			fmt.Fprintf(w, "  %s\n", t)
		}
	}
	if len(s.failedPkgs) > 0 || s.buildFailures > 0 {
		fmt.Fprintf(w, "failed packages (%d, %d did not build):\n", len(s.failedPkgs), s.buildFailures)
		for _, p := range s.failedPkgs {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	fmt.Fprintf(w, "packages: %d passed, %d failed\n", s.packagesPassed, len(s.failedPkgs))
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	return s.failed == 0 && len(s.failedPkgs) == 0 && s.buildFailures == 0
}

// noise reports the lines `go test -v` adds that a non-verbose run would not show.
func noise(l string) bool {
	t := strings.TrimLeft(l, " ")
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// skipReason picks the message a test gave to t.Skip: the last output line
// that is not test2json framing.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || noise(lines[i]) || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		return l
	}
	return "(no reason given)"
}

// short drops the module path so lines stay readable.
func short(pkg string) string {
	return strings.TrimPrefix(pkg, "github.com/runnable/runnable/")
}
