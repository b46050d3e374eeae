package dockerbackend

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/runnable/runnable/domain"
)

// stateDir is the directory in every container where the adapter and the
// supervisor exchange the run's command, environment and status.
const stateDir = "/.runnable"

// Files of stateDir. Each line the adapter or the supervisor writes ends
// with the container's nonce (see containerNonce), so that files a
// container inherits from its image (a commit of another container, which
// had its own nonce) are told apart from its own: a mode without the
// container's nonce means "hold", a status without it "never ran".
// Containers made before the nonce existed (supervisorArg not followed by
// a nonce) write and read the lines without it.
const (
	// modeFile holds "run" (run launchFile), "idle" (empty start_cmd) or
	// "hold" (a maintenance start of the adapter: run nothing).
	modeFile = "mode"
	// launchFile is a shell script that exports the run's env and execs
	// /bin/sh -c start_cmd.
	launchFile = "launch"
	// statusFile is "" while start_cmd runs (or never ran), "done" when
	// the run had an empty start_cmd, "exit N" once start_cmd exited.
	statusFile = "status"
)

// Modes of a start.
const (
	modeRun  = "run"
	modeIdle = "idle"
	modeHold = "hold"
)

// supervisor is the container's main process, run by /bin/sh -c (spec
// §4.7). It uses shell builtins only, plus sleep while idle, and runs
// under dash, bash and busybox ash alike.
//
// In run mode it starts the launch script in the background and waits for
// it. SIGTERM (docker stop) is forwarded to every other process of the
// container (kill -1 from PID 1) so that start_cmd and its children can
// exit cleanly; the exit status is then recorded before the supervisor
// exits. When start_cmd exits by itself the status is recorded and the
// supervisor idles until stopped. Idle and hold mode just wait for SIGTERM.
// $1 is the container's nonce: a mode file that does not end with it was
// not written for this container (it came with the image) and means hold.
const supervisor = `R=` + stateDir + `
N=$1
mode=hold
n=
[ -r $R/mode ] && read -r mode n < $R/mode
[ "$n" = "$N" ] || mode=hold
stop=
trap 'stop=1' TERM INT
if [ "$mode" = run ] && [ -z "$stop" ]; then
  /bin/sh $R/launch &
  child=$!
  trap 'stop=1; kill -TERM -1 2>/dev/null' TERM INT
  wait $child; s=$?
  if [ -n "$stop" ]; then wait $child; s2=$?; [ $s2 = 127 ] || s=$s2; fi
  echo "exit $s $N" > $R/status
fi
trap 'kill -TERM -1 2>/dev/null; exit 0' TERM INT
[ -n "$stop" ] && exit 0
while :; do sleep 3600 & wait $!; done
`

// supervisorArg is the supervisor's $0, which marks its entrypoint.
const supervisorArg = "runnable-supervisor"

// supervisorEntrypoint is the Entrypoint of a draft container with the
// given nonce ($1). The nonce is part of the container's configuration,
// fixed at creation and not carried by a commit (which resets the
// entrypoint); the image's own Cmd follows as ignored arguments, so that
// a commit keeps it.
func supervisorEntrypoint(nonce string) []string {
	return []string{"/bin/sh", "-c", supervisor, supervisorArg, nonce}
}

// newNonce returns a fresh container nonce.
func newNonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// containerNonce returns the nonce in a container's entrypoint; "" for a
// container made before nonces (whose supervisor ignores them).
func containerNonce(entrypoint []string) string {
	if len(entrypoint) >= 5 && entrypoint[3] == supervisorArg {
		return entrypoint[4]
	}
	return ""
}

// stateLine renders a line of modeFile or statusFile for a container.
func stateLine(value, nonce string) []byte {
	if nonce == "" {
		return []byte(value + "\n")
	}
	return []byte(value + " " + nonce + "\n")
}

// ownLine returns the value of a state file's line if it was written for
// the container with this nonce: the line must end with " <nonce>", or
// carry no nonce when the container has none.
func ownLine(data []byte, nonce string) (string, bool) {
	line := strings.TrimSpace(string(data))
	if nonce == "" {
		return line, true
	}
	v, ok := strings.CutSuffix(line, " "+nonce)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(v), true
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// launchScript renders the launch script of a run.
func launchScript(cmd string, env map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(env))
	for k := range env {
		if !envNameRE.MatchString(k) {
			return nil, domain.Ef(domain.ErrInvalid, "invalid env name: %s", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(env[k]))
	}
	if cmd != "" {
		fmt.Fprintf(&b, "exec /bin/sh -c %s\n", shellQuote(cmd))
	}
	return b.Bytes(), nil
}

// runState is what the supervisor's files say about the current run.
type runState struct {
	mode     string
	done     bool
	exitCode *int
}

// parseRunState reads the files of stateDir (name -> content) of the
// container with this nonce. A mode not written for it is hold (what its
// supervisor makes of it), a status not written for it is none.
func parseRunState(files map[string][]byte, nonce string) runState {
	mode, ok := ownLine(files[modeFile], nonce)
	if !ok {
		mode = modeHold
	}
	rs := runState{mode: mode}
	status, _ := ownLine(files[statusFile], nonce)
	switch {
	case status == "done":
		rs.done = true
	case strings.HasPrefix(status, "exit "):
		if n, err := strconv.Atoi(strings.TrimPrefix(status, "exit ")); err == nil {
			rs.done = true
			rs.exitCode = &n
		}
	}
	return rs
}

// stateTar builds a tar, to extract at "/", that writes the given files
// of stateDir (and the directory itself).
func stateTar(files map[string][]byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	dir := strings.TrimPrefix(stateDir, "/")
	_ = tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o777, ModTime: now})
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data := files[n]
		_ = tw.WriteHeader(&tar.Header{Name: dir + "/" + n, Typeflag: tar.TypeReg, Mode: 0o666, Size: int64(len(data)), ModTime: now})
		_, _ = tw.Write(data)
	}
	_ = tw.Close()
	return buf.Bytes()
}
