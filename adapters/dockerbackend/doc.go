// Package dockerbackend implements ports.Containers on Docker Engine (API
// 1.41, Engine 20.10 or later) with github.com/fsouza/go-dockerclient.
//
// Place in the hexagon: a driven adapter. It imports the standard library,
// domain, ports and go-dockerclient; nothing above it sees a go-dockerclient
// type. Errors are translated at the boundary: a missing container, image
// or path (404) becomes domain.ErrNotFound, an unreachable engine
// (connection refused, missing socket) domain.ErrUnavailable "container
// backend unavailable", any other engine error domain.ErrBackend "container
// backend error", each wrapping the cause for the logs.
//
// # Containers
//
// Every container gets the settings of spec §4.7 from Config: all
// capabilities dropped then Config.CapAdd added, no-new-privileges, never
// privileged, no mounts, devices or host namespaces, memory with swap off,
// NanoCPUs, a pids limit, a nofile ulimit, a json-file log of two files of
// LogMaxBytes/2 (a rotation drops the older half), the network of the spec
// ("none" when empty), the working directory, the hostname and the labels
// com.runnable.managed=true, com.runnable.draft=<hex>, com.runnable.owner=<hex>
// plus Config.ExtraLabels. List returns the managed containers that carry
// the extra labels.
//
// # Supervisor
//
// The container's entrypoint is a small /bin/sh script (supervisor, which
// needs only shell builtins and sleep). Docker fixes the command and
// environment at creation while start_cmd and env change between starts, so
// Start first uploads, under /.runnable/:
//   - mode: "run", "idle" (empty start_cmd) or "hold";
//   - launch: `export K='v'` lines for the run's env, then
//     `exec /bin/sh -c '<start_cmd>'`;
//   - status: "" (not finished), "done" (empty start_cmd) or "exit N",
//     written by the supervisor when start_cmd exits.
//
// Create writes nothing into the container. A committed image carries its
// parent container's /.runnable (a mode "run", an "exit N" status), so each
// container gets a random nonce at creation, as the supervisor's first
// argument (part of the fixed configuration, not of commits, whose
// entrypoint is reset): the adapter and the supervisor end every mode and
// status line with it, the supervisor treats a mode without its nonce as
// "hold" and Inspect ignores a mode or status without it, so state files
// inherited from the image are never obeyed nor reported. Containers made
// before nonces existed keep the lines without one.
//
// The draft's env is thus not part of the container's configuration (nor of
// its commits); terminals get it through ExecSpec.Env. The supervisor runs
// launch in the background with its output as the container log; on SIGTERM
// it signals every other process of the container (kill -1 from PID 1),
// waits for start_cmd, records its status and exits; when start_cmd exits
// by itself the status is recorded and the container idles until stopped.
// Inspect reads /.runnable by an archive download (which works on running
// and stopped containers) to report CmdDone and ExitCode. A Start with an
// empty start_cmd writes "done" before starting, so Inspect reports CmdDone
// at once.
//
// # Files
//
// ReadTree, ReadFile and Archive download tar archives (GET archive works on
// created and stopped containers; ReadTree reads one archive of the whole
// tree and sorts it). A Source with an image is read through a temporary
// container, created but never started, labelled com.runnable.temp=true and
// always removed. WriteFile and MakeDir upload tars; a replaced file keeps
// its mode and owner, a new entry gets its parent's owner, and a symlink is
// written through. Where only the type, the mode or a symlink's resolution
// is needed (WriteFile's lookup, MakeDir's existence check, Exec's command
// lookup) the engine's HEAD archive stat answers in about a millisecond,
// made with the client's own HTTP transport; it carries no owner, so a
// replaced file's owner still costs one archive download. A HEAD error other
// than 404 comes without a body and falls back to the download, whose error
// is translated as usual. Move (mv) and RemovePath (rm -rf) run as root by exec,
// which needs a running container: a stopped one is started in hold mode
// (the supervisor runs nothing), the command runs, and the container is
// stopped again. Inspect reports a container in hold mode as not running,
// and the status file is left alone, so the draft's state is unchanged
// (only the engine's StartedAt/FinishedAt move). A container left up in
// hold mode by an interrupted operation is stopped by the next hold run or
// restarted properly by the next Start. Operations that start or stop a
// container are serialised per container within the process.
//
// # Logs and terminals
//
// Logs and FollowLogs demultiplex stdout and stderr with timestamps; a
// follow ends when the engine closes the stream (the container stopped),
// when ctx ends or when fn fails, and leaves nothing running. Exec starts a
// TTY exec on a hijacked connection after checking that Cmd[0] exists
// (looked up in the container's PATH when it has no slash). The process is
// started through /bin/sh, which records its pid under /.runnable, because
// closing a TTY exec's connection does not end it: Close hangs it up
// (SIGHUP, then SIGKILL). Wait polls the exec until it ends.
//
// # Images
//
// Commit lets the engine pause a running container and keeps the base
// image's entrypoint and command, so the new image does not carry the
// supervisor; references are `runnable/<hex>:vN`. Build uses the engine's
// builder with the JSON progress stream; Load spools the docker-save tar,
// checks that its manifest names exactly one image and strips the archive's
// own tags before loading, so that an import cannot move another image's
// reference, then tags the image as the given reference.
package dockerbackend
