package dockertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

// The hostile-program suite (issue 4): each program runs as a draft's
// start_cmd in a real container with the test limits (64 MiB, 64 pids,
// 1 MiB of log, half a CPU). Each must stay inside its container while
// the server keeps answering, and the draft must stay under control
// (stop and delete work).

// stopAndDelete stops the draft within the stop timeout plus a margin,
// then deletes it; the container must be gone.
func (e *env) stopAndDelete(t *testing.T, u *domain.User, d *domain.Draft) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testStopAfter+20*time.Second)
	defer cancel()
	start := time.Now()
	got, err := e.app.Stop(ctx, u, d.ID.Short())
	if err != nil {
		t.Fatalf("stop: %v after %v", err, time.Since(start))
	}
	if got.Status != domain.StatusStopped {
		t.Fatalf("got %s after stop, want stopped", got.Status)
	}
	cid := got.ContainerID
	if err := e.app.DeleteDraft(ctx, u, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.backend.Inspect(ctx, cid); err == nil {
		t.Fatalf("container %s still exists after delete", cid)
	}
}

func TestHostileForkBombHitsPidsLimit(t *testing.T) {
	e := newEnv(t)
	u, tok := e.anon(t)
	// relaunched until the shell itself can no longer fork (ash gives up
	// then), so the pressure peaks right after the start
	d := e.draft(t, u, "bomb() { bomb | bomb & }; while :; do bomb; done")
	d, err := e.app.Start(t.Context(), u, d.ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	e.answersQuickly(t, tok, d)
	var most int64
	for range 3 {
		pids, limit, _ := engineStats(t, d.ContainerID)
		if limit != testPids || pids > testPids {
			t.Fatalf("got %d processes under a limit of %d, want at most %d", pids, limit, testPids)
		}
		most = max(most, pids)
	}
	s, err := e.app.OpenLogs(t.Context(), u, d.ID.Short(), new(1000))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := s.Lines(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !containsLine(lineTexts(lines), "can't fork") {
		t.Fatalf("got no fork failure in %d log lines, want the pids limit hit", len(lines))
	}
	t.Logf("fork bomb: at most %d processes seen, limit %d, forks refused", most, testPids)
	e.answersQuickly(t, tok, d)

	// another user's terminal still works meanwhile
	other, _ := e.anon(t)
	od := e.draft(t, other, "")
	term, err := e.app.OpenTerminal(t.Context(), other, od.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	if err := term.Input([]byte("echo $((6*7))\r")); err != nil {
		t.Fatal(err)
	}
	readOutput(t, term, "42")
	term.Close()
	e.stopAndDelete(t, u, d)
}

// readOutput reads a terminal until its output contains want.
func readOutput(t *testing.T, term *app.Terminal, want string) {
	t.Helper()
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for !strings.Contains(out.String(), want) {
			n, err := term.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
		if !strings.Contains(out.String(), want) {
			t.Fatalf("got %q, want %q", out.String(), want)
		}
	case <-time.After(20 * time.Second):
		term.Close()
		<-done
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

func TestHostileMemoryHogIsOOMKilled(t *testing.T) {
	e := newEnv(t)
	u, tok := e.anon(t)
	// a 300 MB shell string in a 64 MiB container
	d := e.draft(t, u, `x=$(head -c 300000000 /dev/zero | tr '\0' a); echo survived ${#x}`)
	d, err := e.app.Start(t.Context(), u, d.ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	_, _, memLimit := engineStats(t, d.ContainerID)
	if memLimit != testMemory {
		t.Fatalf("got a memory limit of %d, want %d", memLimit, testMemory)
	}
	got := e.waitStatus(t, u, d.ID, time.Minute, "start_cmd killed", func(d *domain.Draft) bool {
		return d.Status != domain.StatusRunning
	})
	if got.Status != domain.StatusIdle || got.ExitCode == nil || *got.ExitCode != 137 {
		t.Fatalf("got %s exit %s, want idle with exit 137 (SIGKILL by the OOM killer), the container still up", got.Status, ptr(got.ExitCode))
	}
	s, err := e.app.OpenLogs(t.Context(), u, d.ID.Short(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := s.Lines(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if containsLine(lineTexts(lines), "survived") {
		t.Fatalf("got %q, want the hog killed before it printed", lineTexts(lines))
	}
	e.answersQuickly(t, tok, d)
	e.stopAndDelete(t, u, d)
}

func TestHostileOutputFloodIsCapped(t *testing.T) {
	e := newEnv(t)
	u, tok := e.anon(t)
	d := e.draft(t, u, "yes 'flood flood flood flood flood flood flood flood'")
	d, err := e.app.Start(t.Context(), u, d.ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		e.answersQuickly(t, tok, d)
		time.Sleep(500 * time.Millisecond)
	}
	// the log holds at most CONTAINER_LOG_MAX_BYTES of text: older lines
	// were dropped
	all, err := e.backend.Logs(t.Context(), d.ContainerID, -1)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, l := range all {
		total += len(l.Text) + 1
	}
	t.Logf("output flood: %d lines, %d bytes kept", len(all), total)
	if total == 0 || total > testLogBytes {
		t.Fatalf("got %d bytes of log, want some and at most %d", total, testLogBytes)
	}
	// a tail read stays fast and bounded
	s, err := e.app.OpenLogs(t.Context(), u, d.ID.Short(), new(100))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	lines, err := s.Lines(t.Context())
	if err != nil || len(lines) != 100 || time.Since(start) > 5*time.Second {
		t.Fatalf("got %d lines, %v in %v; want 100 lines quickly", len(lines), err, time.Since(start))
	}
	e.stopAndDelete(t, u, d)
}

func TestHostileHugeFileWriter(t *testing.T) {
	e := newEnv(t)
	u, tok := e.anon(t)
	// tries to write 256 MiB in 1 MiB blocks; the file-size ulimit
	// (testFileBytes) stops it well before
	d := e.draft(t, u, `trap '' XFSZ; i=0; while [ $i -lt 256 ]; do head -c 1048576 /dev/zero >> big || { echo stopped at $i; exit 9; }; i=$((i+1)); done; echo wrote $i`)
	d, err := e.app.Start(t.Context(), u, d.ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		e.answersQuickly(t, tok, d)
		time.Sleep(100 * time.Millisecond)
	}
	got := e.waitStatus(t, u, d.ID, 2*time.Minute, "the writer finished", func(d *domain.Draft) bool {
		return d.Status != domain.StatusRunning
	})
	if got.Status != domain.StatusIdle || got.ExitCode == nil || *got.ExitCode != 9 {
		t.Fatalf("got %s exit %s, want idle with exit 9 (the write refused)", got.Status, ptr(got.ExitCode))
	}
	if _, err := e.app.Sync(t.Context(), u, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	files, err := e.app.ListDraftFiles(t.Context(), u, d.ID.Short(), app.FileFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var size int64 = -1
	for _, f := range files {
		if f.FullPath() == "/big" {
			size = f.Size
			// reading it through the API is refused, not streamed into memory
			_, err := e.app.GetDraftFile(t.Context(), u, d.ID.Short(), f.ID.Hex())
			if !strings.Contains(errString(err), "file too large") {
				t.Fatalf("got %v reading /big, want 413 file too large", err)
			}
		}
	}
	if size <= 0 || size > testFileBytes {
		t.Fatalf("got /big of %d bytes, want at most the %d-byte file-size limit", size, testFileBytes)
	}
	e.answersQuickly(t, tok, d)
	e.stopAndDelete(t, u, d)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
