package dockerbackend_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	docker "github.com/fsouza/go-dockerclient"

	"github.com/runnable/runnable/adapters/dockerbackend"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
	"github.com/runnable/runnable/ports/porttest"
)

func TestUnreachableEndpoint(t *testing.T) {
	cfg := dockerbackend.DefaultConfig()
	cfg.Endpoint = "unix:///nonexistent.sock"
	b, err := dockerbackend.New(cfg)
	must(t, err, "New")
	if err := b.Ping(t.Context()); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("Ping: got error %v, want ErrUnavailable", err)
	}
	if msg, _ := domain.PublicMessage(b.Ping(t.Context())); msg != "container backend unavailable" {
		t.Errorf("Ping: got message %q, want %q", msg, "container backend unavailable")
	}
	_, err = b.Create(t.Context(), ports.ContainerSpec{Image: "x"})
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("Create: got error %v, want ErrUnavailable", err)
	}
	if _, err := b.Inspect(t.Context(), "abc"); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("Inspect: got error %v, want ErrUnavailable", err)
	}
}

func TestBackend(t *testing.T) {
	cli := requireDocker(t)
	image := buildTestImage(t, cli)
	b := newBackend(t)

	t.Run("Contract", func(t *testing.T) {
		porttest.Containers(t, porttest.ContainersFixture{Backend: b, Image: image})
	})
	// Alone, before the parallel subtests, so that goroutines can be counted.
	t.Run("NoGoroutineLeft", func(t *testing.T) { testNoGoroutineLeft(t, b, image) })
	for _, c := range []struct {
		name string
		run  func(t *testing.T, cli *docker.Client, b *dockerbackend.Backend, image string)
	}{
		{"SupervisorExitCode", testExitCode},
		{"StartCmdAndEnvChange", testStartCmdChange},
		{"StopRunningCmd", testStopRunning},
		{"HoldKeepsState", testHoldKeepsState},
		{"CommitStateNotInherited", testCommitStateNotInherited},
		{"LogsTailAndFollow", testLogs},
		{"Exec", testExec},
		{"Security", testSecurity},
		{"Symlinks", testSymlinks},
		{"BuildExportLoad", testImages},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, cli, b, image)
		})
	}
}

func testExitCode(t *testing.T, _ *docker.Client, b *dockerbackend.Backend, image string) {
	id := create(t, b, image)
	must(t, b.Start(t.Context(), id, ports.RunSpec{StartCmd: "echo hi; exit 3"}), "Start")
	st := waitDone(t, b, id)
	if !st.Running || st.ExitCode == nil || *st.ExitCode != 3 {
		t.Errorf("after start_cmd exit: got %s, want running (idle), exit 3", stateString(st, nil))
	}
	lines, err := b.Logs(t.Context(), id, 100)
	must(t, err, "Logs")
	if !slices.ContainsFunc(lines, func(l ports.LogLine) bool { return l.Stream == "stdout" && l.Text == "hi" }) {
		t.Errorf("Logs: got %q, want a stdout line %q", logText(lines), "hi")
	}
}

func testStartCmdChange(t *testing.T, _ *docker.Client, b *dockerbackend.Backend, image string) {
	id := create(t, b, image)
	ctx := t.Context()
	must(t, b.Start(ctx, id, ports.RunSpec{StartCmd: `echo "first $V"`, Env: map[string]string{"V": "one"}}), "Start 1")
	st := waitDone(t, b, id)
	if st.ExitCode == nil || *st.ExitCode != 0 {
		t.Errorf("run 1: got %s, want exit 0", stateString(st, nil))
	}
	must(t, b.Stop(ctx, id, time.Second), "Stop")
	must(t, b.Start(ctx, id, ports.RunSpec{StartCmd: `echo "second $V $W"; exit 4`, Env: map[string]string{"V": "it's two", "W": "$HOME"}}), "Start 2")
	st = waitDone(t, b, id)
	if st.ExitCode == nil || *st.ExitCode != 4 {
		t.Errorf("run 2: got %s, want exit 4", stateString(st, nil))
	}
	lines, err := b.Logs(ctx, id, 10)
	must(t, err, "Logs")
	if got, want := logText(lines), "stdout:first one\nstdout:second it's two $HOME\n"; got != want {
		t.Errorf("Logs: got %q, want %q", got, want)
	}
	must(t, b.Stop(ctx, id, time.Second), "Stop")
	must(t, b.Start(ctx, id, ports.RunSpec{}), "Start 3 (empty)")
	st, err = b.Inspect(ctx, id)
	if err != nil || !st.Running || !st.CmdDone || st.ExitCode != nil {
		t.Errorf("run 3 with empty start_cmd: got %s, want running, done, exit nil", stateString(st, err))
	}
}

func testStopRunning(t *testing.T, _ *docker.Client, b *dockerbackend.Backend, image string) {
	id := create(t, b, image)
	ctx := t.Context()
	cmd := `trap 'echo bye; exit 5' TERM; echo ready; while :; do sleep 1; done`
	must(t, b.Start(ctx, id, ports.RunSpec{StartCmd: cmd}), "Start")
	eventually(t, "log line ready", func() (bool, string) {
		lines, err := b.Logs(ctx, id, 10)
		return err == nil && strings.Contains(logText(lines), "ready"), logText(lines)
	})
	st, err := b.Inspect(ctx, id)
	if err != nil || !st.Running || st.CmdDone {
		t.Errorf("while start_cmd runs: got %s, want running, not done", stateString(st, err))
	}
	must(t, b.Stop(ctx, id, 5*time.Second), "Stop")
	st, err = b.Inspect(ctx, id)
	if err != nil || st.Running || !st.CmdDone || st.ExitCode == nil || *st.ExitCode != 5 {
		t.Errorf("after Stop: got %s, want stopped, done, exit 5 (SIGTERM forwarded)", stateString(st, err))
	}
	lines, err := b.Logs(ctx, id, 10)
	must(t, err, "Logs")
	if !strings.Contains(logText(lines), "stdout:bye") {
		t.Errorf("Logs after Stop: got %q, want the trap's %q", logText(lines), "bye")
	}
}

// testHoldKeepsState: file operations that need a running container on a
// stopped one leave its state (stopped, exit code) as it was.
func testHoldKeepsState(t *testing.T, _ *docker.Client, b *dockerbackend.Backend, image string) {
	id := create(t, b, image)
	ctx := t.Context()
	must(t, b.Start(ctx, id, ports.RunSpec{StartCmd: "exit 9"}), "Start")
	waitDone(t, b, id)
	must(t, b.Stop(ctx, id, time.Second), "Stop")
	must(t, b.Move(ctx, id, "/root/hello.txt", "/root/moved.txt"), "Move")
	must(t, b.RemovePath(ctx, id, "/root/sub"), "RemovePath")
	must(t, b.RemovePath(ctx, id, "/root/never-there"), "RemovePath of a missing path")
	st, err := b.Inspect(ctx, id)
	if err != nil || st.Running || !st.CmdDone || st.ExitCode == nil || *st.ExitCode != 9 {
		t.Errorf("after Move and RemovePath: got %s, want stopped, done, exit 9", stateString(st, err))
	}
	err = b.Move(ctx, id, "/root/moved.txt", "/root/run.sh")
	if !errors.Is(err, domain.ErrConflict) {
		t.Errorf("Move onto an existing file: got %v, want ErrConflict", err)
	}
	err = b.Move(ctx, id, "/root/nothing", "/root/x")
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Move of a missing path: got %v, want ErrNotFound", err)
	}
	err = b.Move(ctx, id, "/root/moved.txt", "/root/nodir/x")
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Move into a missing directory: got %v, want ErrNotFound", err)
	}
	err = b.MakeDir(ctx, id, "/root/moved.txt")
	if !errors.Is(err, domain.ErrConflict) {
		t.Errorf("MakeDir of an existing path: got %v, want ErrConflict", err)
	}
	// Paths through a regular file do not exist.
	_, err = b.ReadFile(ctx, ports.Source{Container: id}, "/root/moved.txt/x")
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("ReadFile under a file: got %v, want ErrNotFound", err)
	}
	err = b.WriteFile(ctx, id, "/root/moved.txt/x", []byte("x"))
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("WriteFile under a file: got %v, want ErrNotFound", err)
	}
	_, _, err = b.ReadTree(ctx, ports.Source{Container: id}, "/root/moved.txt", ports.TreeOptions{})
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("ReadTree of a file: got %v, want ErrNotFound", err)
	}
}

// testCommitStateNotInherited: a container made from a commit of one whose
// start_cmd ran carries its parent's state files in the image; it must not
// run the parent's start_cmd on a hold start, nor report the parent's exit
// code before its own first start.
func testCommitStateNotInherited(t *testing.T, cli *docker.Client, b *dockerbackend.Backend, image string) {
	ctx := t.Context()
	parent := create(t, b, image)
	must(t, b.Start(ctx, parent, ports.RunSpec{StartCmd: "echo ran >> /root/runs.txt; echo parent-ran; exit 7"}), "Start the parent")
	st := waitDone(t, b, parent)
	if st.ExitCode == nil || *st.ExitCode != 7 {
		t.Fatalf("parent after start_cmd: got %s, want exit 7", stateString(st, nil))
	}
	ref := domain.ImageRef(randomID(t), 1)
	t.Cleanup(func() { removeImage(t, cli, ref) })
	must(t, b.Commit(ctx, parent, ref), "Commit the running parent")

	child := create(t, b, ref)
	want := func(what string) {
		t.Helper()
		st, err := b.Inspect(ctx, child)
		if err != nil || st.Running || st.CmdDone || st.ExitCode != nil {
			t.Errorf("%s: got %s, want stopped, not done, no exit code", what, stateString(st, err))
		}
	}
	want("child after Create")
	// Hold starts (exec-based file operations on the stopped container).
	must(t, b.Move(ctx, child, "/root/hello.txt", "/root/moved.txt"), "Move in the child")
	must(t, b.RemovePath(ctx, child, "/root/sub"), "RemovePath in the child")
	want("child after hold starts")
	data, err := b.ReadFile(ctx, ports.Source{Container: child}, "/root/runs.txt")
	if err != nil || string(data) != "ran\n" {
		t.Errorf("runs.txt of the child after hold starts: got %q, %v; want %q (start_cmd not run again)", data, err, "ran\n")
	}
	lines, err := b.Logs(ctx, child, 100)
	must(t, err, "Logs of the child")
	if strings.Contains(logText(lines), "parent-ran") {
		t.Errorf("Logs of the child after hold starts: got %q, want no output of the parent's start_cmd", logText(lines))
	}
	// Its own first start reports its own status.
	must(t, b.Start(ctx, child, ports.RunSpec{StartCmd: "exit 5"}), "Start the child")
	st = waitDone(t, b, child)
	if !st.Running || st.ExitCode == nil || *st.ExitCode != 5 {
		t.Errorf("child after its start_cmd: got %s, want running (idle), exit 5", stateString(st, nil))
	}
}

func testLogs(t *testing.T, _ *docker.Client, b *dockerbackend.Backend, image string) {
	id := create(t, b, image)
	ctx := t.Context()
	// The engine reads stdout and stderr through separate pipes: lines
	// written within microseconds may be stored out of order.
	cmd := `for i in 1 2 3 4 5; do echo line$i; done; sleep 0.1; echo oops >&2; sleep 0.1; echo six; while :; do sleep 1; done`
	must(t, b.Start(ctx, id, ports.RunSpec{StartCmd: cmd}), "Start")
	eventually(t, "log line six", func() (bool, string) {
		lines, err := b.Logs(ctx, id, 100)
		return err == nil && strings.Contains(logText(lines), "six"), logText(lines)
	})
	lines, err := b.Logs(ctx, id, 3)
	must(t, err, "Logs tail 3")
	if got, want := logText(lines), "stdout:line5\nstderr:oops\nstdout:six\n"; got != want {
		t.Errorf("Logs tail 3: got %q, want %q", got, want)
	}
	for _, l := range lines {
		if l.Time.IsZero() || time.Since(l.Time) > time.Minute {
			t.Errorf("Logs: got time %v for %q, want a recent time", l.Time, l.Text)
		}
	}

	// Follow: the tail, then new lines, until the container stops.
	got := make(chan ports.LogLine, 100)
	followed := make(chan error, 1)
	go func() {
		followed <- b.FollowLogs(ctx, id, 1, func(l ports.LogLine) error {
			got <- l
			return nil
		})
	}()
	select {
	case l := <-got:
		if l.Text != "six" {
			t.Errorf("FollowLogs tail 1: got %q, want %q", l.Text, "six")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("FollowLogs: got no tail line in 10s, want one")
	}
	must(t, b.Stop(ctx, id, time.Second), "Stop")
	select {
	case err := <-followed:
		if err != nil {
			t.Errorf("FollowLogs after Stop: got error %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("FollowLogs: still following 10s after Stop, want it returned")
	}

	// A stopped container: the tail lines, then return at once.
	var n int
	must(t, b.FollowLogs(ctx, id, 2, func(ports.LogLine) error { n++; return nil }), "FollowLogs of a stopped container")
	if n != 2 {
		t.Errorf("FollowLogs of a stopped container with tail 2: got %d lines, want 2", n)
	}

	// fn's error and the context's end stop a follow.
	must(t, b.Start(ctx, id, ports.RunSpec{StartCmd: "while :; do echo tick; sleep 0.2; done"}), "Start again")
	stop := errors.New("enough")
	err = b.FollowLogs(ctx, id, 0, func(ports.LogLine) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("FollowLogs with a failing fn: got %v, want fn's error", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err = b.FollowLogs(cctx, id, 0, func(ports.LogLine) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("FollowLogs until the context ends: got %v, want context.DeadlineExceeded", err)
	}
}

func testExec(t *testing.T, cli *docker.Client, b *dockerbackend.Backend, image string) {
	id := create(t, b, image)
	ctx := t.Context()
	_, err := b.Exec(ctx, id, ports.ExecSpec{Cmd: []string{"/bin/sh"}})
	if !errors.Is(err, domain.ErrConflict) {
		t.Errorf("Exec in a created container: got %v, want ErrConflict", err)
	}
	must(t, b.Start(ctx, id, ports.RunSpec{}), "Start")
	_, err = b.Exec(ctx, id, ports.ExecSpec{Cmd: []string{"/bin/bash"}})
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Exec of a missing shell: got %v, want ErrNotFound", err)
	}

	s, err := b.Exec(ctx, id, ports.ExecSpec{Cmd: []string{"/bin/sh"}, Env: map[string]string{"TERM": "xterm-256color", "FOO": "bar"}, WorkDir: "/root/sub", Cols: 80, Rows: 24})
	must(t, err, "Exec /bin/sh")
	defer s.Close()
	out := &syncBuffer{}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, s)
		close(copied)
	}()
	_, err = io.WriteString(s, "echo $((6*7)) $FOO $(pwd)\r")
	must(t, err, "writing to the TTY")
	eventually(t, "TTY output", func() (bool, string) {
		return strings.Contains(out.String(), "42 bar /root/sub"), strconvQuote(out.String())
	})
	must(t, s.Resize(ctx, 120, 40), "Resize")
	_, err = io.WriteString(s, "stty size\r")
	must(t, err, "writing to the TTY")
	eventually(t, "TTY size after resize", func() (bool, string) {
		return strings.Contains(out.String(), "40 120"), strconvQuote(out.String())
	})
	_, err = io.WriteString(s, "exit 7\r")
	must(t, err, "writing to the TTY")
	code, err := s.Wait(ctx)
	if err != nil || code != 7 {
		t.Errorf("Wait: got %d, %v; want 7, nil", code, err)
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		t.Errorf("reading the TTY: got no EOF 5s after the shell exited, want EOF")
	}
	must(t, s.Close(), "Close")

	// A shell in the PATH, closed while it runs: the process ends.
	s2, err := b.Exec(ctx, id, ports.ExecSpec{Cmd: []string{"sh"}, Cols: 80, Rows: 24})
	must(t, err, "Exec sh")
	_, err = io.WriteString(s2, "sleep 300\r")
	must(t, err, "writing to the TTY")
	time.Sleep(200 * time.Millisecond)
	must(t, s2.Close(), "Close of a running session")
	eventually(t, "processes after Close", func() (bool, string) {
		top, err := cli.TopContainer(id, "")
		if err != nil {
			return false, err.Error()
		}
		var cmds []string
		for _, p := range top.Processes {
			cmds = append(cmds, p[len(p)-1])
		}
		return !slices.ContainsFunc(cmds, func(c string) bool { return strings.Contains(c, "sleep 300") || c == "sh" }), strings.Join(cmds, "; ")
	})
}

func testSecurity(t *testing.T, cli *docker.Client, b *dockerbackend.Backend, image string) {
	draft, owner := randomID(t), randomID(t)
	id, err := b.Create(t.Context(), ports.ContainerSpec{Image: image, Draft: draft, Owner: owner, WorkDir: "/root", Network: "none"})
	must(t, err, "Create")
	t.Cleanup(func() { _ = b.Remove(context.Background(), id) })
	c, err := cli.InspectContainerWithOptions(docker.InspectContainerOptions{ID: id, Context: t.Context()})
	must(t, err, "InspectContainer")
	hc := c.HostConfig
	checks := []struct {
		what      string
		got, want any
	}{
		{"CapDrop", hc.CapDrop, []string{"ALL"}},
		{"CapAdd", hc.CapAdd, dockerbackend.DefaultCapAdd},
		{"SecurityOpt", hc.SecurityOpt, []string{"no-new-privileges"}},
		{"Privileged", hc.Privileged, false},
		{"Memory", hc.Memory, int64(512 << 20)},
		{"MemorySwap", hc.MemorySwap, int64(512 << 20)},
		{"NanoCPUs", hc.NanoCPUs, int64(1e9)},
		{"PidsLimit", *hc.PidsLimit, int64(256)},
		{"Ulimits", hc.Ulimits, []docker.ULimit{{Name: "nofile", Soft: 1024, Hard: 1024}, {Name: "fsize", Soft: 1 << 30, Hard: 1 << 30}}},
		{"LogConfig.Type", hc.LogConfig.Type, "json-file"},
		{"NetworkMode", hc.NetworkMode, "none"},
		{"Binds", len(hc.Binds) + len(hc.Mounts) + len(hc.Devices), 0},
		{"PidMode", hc.PidMode, ""},
		{"Hostname", c.Config.Hostname, "runnable"},
		{"WorkingDir", c.Config.WorkingDir, "/root"},
		{"managed label", c.Config.Labels["com.runnable.managed"], "true"},
		{"draft label", c.Config.Labels["com.runnable.draft"], draft.Hex()},
		{"owner label", c.Config.Labels["com.runnable.owner"], owner.Hex()},
		{"test label", c.Config.Labels["com.runnable.test"], "1"},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}

func testSymlinks(t *testing.T, cli *docker.Client, b *dockerbackend.Backend, image string) {
	id := create(t, b, image)
	ctx := t.Context()
	src := ports.Source{Container: id}
	data, err := b.ReadFile(ctx, src, "/root/link")
	if err != nil || string(data) != "hello\n" {
		t.Errorf("ReadFile through a symlink: got %q, %v; want %q", data, err, "hello\n")
	}
	entries, _, err := b.ReadTree(ctx, src, "/root", ports.TreeOptions{MaxContent: 100})
	must(t, err, "ReadTree")
	i := slices.IndexFunc(entries, func(e ports.FSEntry) bool { return e.Path == "/root/link" })
	if i < 0 || !entries[i].IsLink || entries[i].Link != "hello.txt" || entries[i].HasData {
		t.Errorf("ReadTree: got %+v, want /root/link as a link to hello.txt without data", entries)
	}
	must(t, b.WriteFile(ctx, id, "/root/link", []byte("via link")), "WriteFile through a symlink")
	data, err = b.ReadFile(ctx, src, "/root/hello.txt")
	if err != nil || string(data) != "via link" {
		t.Errorf("ReadFile of the link's target: got %q, %v; want %q", data, err, "via link")
	}
	// A rewritten file keeps its mode.
	must(t, b.WriteFile(ctx, id, "/root/run.sh", []byte("#!/bin/sh\necho changed\n")), "WriteFile of a script")
	var mode int64
	err = cli.DownloadFromContainer(id, docker.DownloadFromContainerOptions{Path: "/root/run.sh", OutputStream: &headerMode{mode: &mode}, Context: ctx})
	must(t, err, "DownloadFromContainer")
	if mode&0o777 != 0o755 {
		t.Errorf("mode of a rewritten script: got %o, want 755", mode&0o777)
	}
	must(t, b.Start(ctx, id, ports.RunSpec{StartCmd: "/root/run.sh"}), "Start the script")
	waitDone(t, b, id)
	lines, err := b.Logs(ctx, id, 10)
	must(t, err, "Logs")
	if !strings.Contains(logText(lines), "stdout:changed") {
		t.Errorf("Logs of the rewritten script: got %q, want %q", logText(lines), "changed")
	}
}

func testImages(t *testing.T, cli *docker.Client, b *dockerbackend.Backend, image string) {
	ctx := t.Context()
	ref := domain.ImageRef(randomID(t), 1)
	t.Cleanup(func() { removeImage(t, cli, ref) })
	dockerfile := "FROM " + image + "\nRUN echo built > /root/built.txt\nCMD [\"echo\", \"hi there\"]\n"
	var progress []string
	err := b.Build(ctx, bytes.NewReader(tarOf(t, map[string][]byte{"Dockerfile": []byte(dockerfile)})), ref, func(l string) { progress = append(progress, l) })
	must(t, err, "Build")
	if len(progress) == 0 {
		t.Errorf("Build progress: got no lines, want the build output")
	}
	cmd, err := b.ImageCommand(ctx, ref)
	if err != nil || cmd != "echo 'hi there'" {
		t.Errorf("ImageCommand: got %q, %v; want %q", cmd, err, "echo 'hi there'")
	}
	refs, err := b.ListImages(ctx)
	must(t, err, "ListImages")
	if !slices.Contains(refs, ref) {
		t.Errorf("ListImages: got %v, want %s listed", refs, ref)
	}
	// another installation on the same engine does not see it
	otherCfg := dockerbackend.DefaultConfig()
	otherCfg.ExtraLabels = map[string]string{"com.runnable.test": "1", "com.runnable.instance": "other-" + randomHex(t, 4)}
	other, err := dockerbackend.New(otherCfg)
	must(t, err, "New")
	otherRefs, err := other.ListImages(ctx)
	must(t, err, "ListImages of another installation")
	if slices.Contains(otherRefs, ref) {
		t.Errorf("ListImages of another installation: got %s listed, want only its own images", ref)
	}

	bad := domain.ImageRef(randomID(t), 1)
	t.Cleanup(func() { removeImage(t, cli, bad) })
	err = b.Build(ctx, bytes.NewReader(tarOf(t, map[string][]byte{"Dockerfile": []byte("FROM " + image + "\nRUN echo failing; exit 3\n")})), bad, nil)
	msg, _ := domain.PublicMessage(err)
	if !errors.Is(err, domain.ErrInvalid) || !strings.HasPrefix(msg, "image build failed: ") || !strings.Contains(msg, "3") {
		t.Errorf("Build of a failing Dockerfile: got %v (message %q), want ErrInvalid \"image build failed: ...\"", err, msg)
	}

	// A commit keeps the image's command, not the supervisor's.
	id := create(t, b, ref)
	must(t, b.Start(ctx, id, ports.RunSpec{StartCmd: "echo started"}), "Start")
	committed := domain.ImageRef(randomID(t), 2)
	t.Cleanup(func() { removeImage(t, cli, committed) })
	must(t, b.Commit(ctx, id, committed), "Commit")
	cmd, err = b.ImageCommand(ctx, committed)
	if err != nil || cmd != "echo 'hi there'" {
		t.Errorf("ImageCommand of a commit: got %q, %v; want %q", cmd, err, "echo 'hi there'")
	}

	var saved bytes.Buffer
	must(t, b.Export(ctx, ref, &saved), "Export")
	loaded := domain.ImageRef(randomID(t), 1)
	t.Cleanup(func() { removeImage(t, cli, loaded) })
	must(t, b.Load(ctx, bytes.NewReader(saved.Bytes()), loaded), "Load")
	data, err := b.ReadFile(ctx, ports.Source{Image: loaded}, "/root/built.txt")
	if err != nil || string(data) != "built\n" {
		t.Errorf("ReadFile of the loaded image: got %q, %v; want %q", data, err, "built\n")
	}
	cmd, err = b.ImageCommand(ctx, loaded)
	if err != nil || cmd != "echo 'hi there'" {
		t.Errorf("ImageCommand of the loaded image: got %q, %v; want %q", cmd, err, "echo 'hi there'")
	}

	err = b.Load(ctx, bytes.NewReader(tarOf(t, map[string][]byte{"manifest.json": []byte("[]")})), domain.ImageRef(randomID(t), 1))
	if msg, _ := domain.PublicMessage(err); !errors.Is(err, domain.ErrInvalid) || msg != "archive must contain exactly one image" {
		t.Errorf("Load of an archive without images: got %v, want ErrInvalid %q", err, "archive must contain exactly one image")
	}
	err = b.Export(ctx, domain.ImageRef(randomID(t), 1), io.Discard)
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Export of a missing image: got %v, want ErrNotFound", err)
	}
}

// testNoGoroutineLeft: follows, archives and terminals that end leave no
// goroutine of the adapter or the client library behind.
func testNoGoroutineLeft(t *testing.T, b *dockerbackend.Backend, image string) {
	id := create(t, b, image)
	ctx := t.Context()
	must(t, b.Start(ctx, id, ports.RunSpec{StartCmd: "while :; do echo tick; sleep 0.1; done"}), "Start")

	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := b.FollowLogs(cctx, id, 1, func(ports.LogLine) error { return nil })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("FollowLogs until the context ends: got %v, want context.DeadlineExceeded", err)
	}
	rc, err := b.Archive(ctx, ports.Source{Container: id}, "/bin")
	must(t, err, "Archive")
	_, _ = io.CopyN(io.Discard, rc, 100)
	must(t, rc.Close(), "Close of an archive read in part")
	s, err := b.Exec(ctx, id, ports.ExecSpec{Cmd: []string{"/bin/sh"}, Cols: 80, Rows: 24})
	must(t, err, "Exec")
	must(t, s.Close(), "Close of a terminal")
	followed := make(chan error, 1)
	go func() { followed <- b.FollowLogs(ctx, id, 0, func(ports.LogLine) error { return nil }) }()
	time.Sleep(200 * time.Millisecond)
	must(t, b.Stop(ctx, id, time.Second), "Stop")
	must(t, <-followed, "FollowLogs until the container stops")

	eventually(t, "goroutines of the adapter or the client", func() (bool, string) {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var left []string
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "dockerbackend.(*") || strings.Contains(g, "go-dockerclient") {
				left = append(left, g)
			}
		}
		return len(left) == 0, strings.Join(left, "\n\n")
	})
}
