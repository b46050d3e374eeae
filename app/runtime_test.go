package app_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// withLevel makes a user of the given level.
func (e *env) withLevel(t *testing.T, level domain.Level) *domain.User {
	t.Helper()
	u, _ := e.anon(t)
	u.Level = level
	if err := e.users.Update(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) fork(t *testing.T, u *domain.User) *domain.Draft {
	t.Helper()
	d, err := e.app.Fork(t.Context(), u, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *env) started(t *testing.T, u *domain.User) *domain.Draft {
	t.Helper()
	d, err := e.app.Start(t.Context(), u, e.fork(t, u).ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func intp(n int) *int { return &n }

// eventually retries cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settledGoroutines waits for the goroutine count to drop to at most n.
func settledGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("got %d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLogsTailPermissionsAndNoContainer(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.LogsMaxTail = 50 })
	ctx := t.Context()
	owner, _ := e.anon(t)
	d := e.fork(t, owner)

	s, err := e.app.OpenLogs(ctx, owner, d.ID.Short(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if lines, err := s.Lines(ctx); err != nil || len(lines) != 0 {
		t.Fatalf("got %v, %v; want no lines without a container", lines, err)
	}
	for _, bad := range []int{0, -1, 51} {
		_, err := e.app.OpenLogs(ctx, owner, d.ID.Short(), intp(bad))
		wantMsg(t, err, domain.ErrInvalid, "tail must be an integer between 1 and 50")
	}
	stranger, _ := e.anon(t)
	_, err = e.app.OpenLogs(ctx, stranger, d.ID.Short(), intp(0))
	wantMsg(t, err, domain.ErrForbidden, "permission denied") // 403 before 400
	_, err = e.app.OpenLogs(ctx, owner, "nope", nil)
	wantMsg(t, err, domain.ErrNotFound, "runnable not found")

	d, err = e.app.Start(ctx, owner, d.ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		if err := e.containers.AddLog(d.ContainerID, ports.LogLine{Text: "line " + string(rune('a'+i%26))}); err != nil {
			t.Fatal(err)
		}
	}
	mod := e.withLevel(t, domain.LevelModerator)
	before, _ := e.drafts.Get(ctx, d.ID)
	e.clock.Advance(time.Hour)
	s, err = e.app.OpenLogs(ctx, mod, d.ID.Short(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := s.Lines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 50 {
		t.Fatalf("got %d lines, want the default tail capped at LOGS_MAX_TAIL 50", len(lines))
	}
	s, _ = e.app.OpenLogs(ctx, owner, d.ID.Short(), intp(3))
	if lines, _ := s.Lines(ctx); len(lines) != 3 {
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	after, _ := e.drafts.Get(ctx, d.ID)
	if !after.LastAccess.Equal(before.LastAccess) {
		t.Fatalf("got last_access %v, want %v: logs are not access", after.LastAccess, before.LastAccess)
	}
}

func TestFollowLogsEndsWhenStopped(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	owner, _ := e.anon(t)
	d := e.started(t, owner)
	_ = e.containers.AddLog(d.ContainerID, ports.LogLine{Text: "old"})
	s, err := e.app.OpenLogs(ctx, owner, d.ID.Short(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	type result struct {
		end app.LogEnd
		err error
	}
	done := make(chan result, 1)
	go func() {
		end, err := s.Follow(ctx, func(l ports.LogLine) error {
			mu.Lock()
			got = append(got, l.Stream+":"+l.Text)
			mu.Unlock()
			return nil
		})
		done <- result{end, err}
	}()
	_ = e.containers.AddLog(d.ContainerID, ports.LogLine{Stream: "stderr", Text: "new"})
	eventually(t, "the new line", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 })
	if _, err := e.app.Stop(ctx, owner, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.end.Status != "stopped" || r.end.ExitCode == nil || *r.end.ExitCode != 0 {
			t.Fatalf("got %+v, %v; want end stopped with start_cmd's exit code 0", r.end, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end after stop")
	}
	if strings.Join(got, ",") != "stdout:old,stderr:new" {
		t.Fatalf("got %v, want the tail then the new line", got)
	}

	// not up when the stream opens: the tail, then the end at once
	s, _ = e.app.OpenLogs(ctx, owner, d.ID.Short(), nil)
	n := 0
	end, err := s.Follow(ctx, func(ports.LogLine) error { n++; return nil })
	if err != nil || end.Status != "stopped" || n != 2 {
		t.Fatalf("got %+v, %v after %d lines; want an immediate end after 2 lines", end, err, n)
	}
}

func TestFollowLogsLeavesNothingBehind(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.anon(t)
	d := e.started(t, owner)
	base := runtime.NumGoroutine()
	for range 20 {
		ctx, cancel := context.WithCancel(t.Context())
		s, err := e.app.OpenLogs(ctx, owner, d.ID.Short(), nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.Follow(ctx, func(ports.LogLine) error { return nil })
			done <- err
		}()
		time.Sleep(time.Millisecond)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want the client's cancellation", err)
		}
	}
	settledGoroutines(t, base)

	// CloseTerminals ends followed logs too (graceful shutdown)
	s, _ := e.app.OpenLogs(t.Context(), owner, d.ID.Short(), nil)
	done := make(chan error, 1)
	go func() {
		_, err := s.Follow(t.Context(), func(ports.LogLine) error { return nil })
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	e.app.CloseTerminals()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want the stream cancelled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("CloseTerminals did not end the log stream")
	}
	settledGoroutines(t, base)
}

// readUntil reads terminal output until it contains want.
func readUntil(t *testing.T, term *app.Terminal, want string) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !strings.Contains(b.String(), want) {
			n, err := term.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("got output %q, want %q", b.String(), want)
	}
	return b.String()
}

func waitExit(t *testing.T, term *app.Terminal) app.TerminalExit {
	t.Helper()
	select {
	case <-term.Done():
		return term.Exit()
	case <-time.After(5 * time.Second):
		t.Fatal("terminal did not end")
		return app.TerminalExit{}
	}
}

func TestTerminalOpensStartsAndEchoes(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	owner, _ := e.anon(t)
	d := e.fork(t, owner)
	e.clock.Advance(time.Hour)
	term, err := e.app.OpenTerminal(ctx, owner, d.ID.Short(), 100, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	if term.Shell != "/bin/sh" || term.Cols != 100 || term.Rows != 30 {
		t.Fatalf("got shell %q %dx%d, want /bin/sh (no bash in the image) 100x30", term.Shell, term.Cols, term.Rows)
	}
	got, _ := e.drafts.Get(ctx, d.ID)
	if !got.Running() || got.ContainerID == "" {
		t.Fatalf("got status %s, want the container created and started", got.Status)
	}
	if !got.LastAccess.Equal(e.clock.Now()) {
		t.Fatalf("got last_access %v, want now: opening is access", got.LastAccess)
	}
	sess := e.containers.Sessions(got.ContainerID)[0]
	spec := sess.Spec()
	if spec.Env["TERM"] != "xterm-256color" || spec.WorkDir != "/root" || spec.Cols != 100 {
		t.Fatalf("got exec spec %+v, want TERM, file_root and the size", spec)
	}
	if err := term.Input([]byte("echo hi\r")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, term, "echo hi\r")
	if err := term.Resize(ctx, 120, 40); err != nil {
		t.Fatal(err)
	}
	if c, r := sess.Size(); c != 120 || r != 40 {
		t.Fatalf("got %dx%d, want 120x40", c, r)
	}
	wantMsg(t, term.Resize(ctx, 0, 40), domain.ErrInvalid, "cols and rows must be integers between 1 and 1000")

	// input is access too, written at most once per ACCESS_WRITE_INTERVAL
	e.clock.Advance(time.Minute)
	_ = term.Input([]byte("x"))
	got, _ = e.drafts.Get(ctx, d.ID)
	if !got.LastAccess.Equal(e.clock.Now()) {
		t.Fatalf("got last_access %v, want %v after input", got.LastAccess, e.clock.Now())
	}
	e.clock.Advance(time.Second)
	_ = term.Input([]byte("y"))
	if again, _ := e.drafts.Get(ctx, d.ID); !again.LastAccess.Equal(got.LastAccess) {
		t.Fatal("got a second access write within the interval")
	}

	// the shell exits by itself
	_ = sess.Close()
	exit := waitExit(t, term)
	if exit.Reason != app.ExitShell || exit.Code == nil || *exit.Code != 0 {
		t.Fatalf("got %+v, want shell exited with 0", exit)
	}
}

func TestTerminalChecks(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.TerminalMaxConns = 2; c.MaxRunningPerUser = 1 })
	ctx := t.Context()
	owner, _ := e.anon(t)
	d := e.fork(t, owner)
	mod := e.withLevel(t, domain.LevelModerator)

	_, err := e.app.OpenTerminal(ctx, mod, d.ID.Short(), 80, 24)
	wantMsg(t, err, domain.ErrForbidden, "permission denied")
	_, err = e.app.OpenTerminal(ctx, owner, d.ID.Short(), 0, 24)
	wantMsg(t, err, domain.ErrInvalid, "cols and rows must be integers between 1 and 1000")
	_, err = e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 1001)
	wantMsg(t, err, domain.ErrInvalid, "cols and rows must be integers between 1 and 1000")

	t1, err := e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	wantMsg(t, err, domain.ErrTooMany, "too many terminals")
	t2.Close()
	t3, err := e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatalf("got %v, want a slot free after a close", err)
	}
	t1.Close()
	t3.Close()

	// capacity: a second draft cannot start; its slot is given back
	d2 := e.fork(t, owner)
	_, err = e.app.OpenTerminal(ctx, owner, d2.ID.Short(), 80, 24)
	wantMsg(t, err, domain.ErrTooMany, "too many running runnables for this user")
	if _, err := e.app.Stop(ctx, owner, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		term, err := e.app.OpenTerminal(ctx, owner, d2.ID.Short(), 80, 24)
		if err != nil {
			t.Fatalf("got %v, want the failed open to have freed its slot", err)
		}
		term.Close()
	}

	// a save in progress
	if _, err := e.app.CreateFile(ctx, owner, d2.ID.Short(), app.FileInput{Name: str("a"), Path: str("/"), Content: str("1")}); err != nil {
		t.Fatal(err)
	}
	e.containers.BlockCommit()
	e2 := e.app
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = e2.SaveNew(context.WithoutCancel(ctx), owner, d2.ID.Short(), str("saved"), nil)
	}()
	eventually(t, "the save to start", func() bool {
		got, _ := e.drafts.Get(ctx, d2.ID)
		return got.Saving()
	})
	_, err = e.app.OpenTerminal(ctx, owner, d2.ID.Short(), 80, 24)
	wantMsg(t, err, domain.ErrConflict, "a save is already in progress")
	e.containers.UnblockCommit()
	<-done
}

func TestTerminalEndings(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.TerminalIdleTimeout = 100 * time.Millisecond })
	ctx := t.Context()
	owner, _ := e.anon(t)

	d := e.started(t, owner)
	term, err := e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Stop(ctx, owner, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	if exit := waitExit(t, term); exit.Reason != app.ExitStopped || exit.Code != nil {
		t.Fatalf("got %+v, want runnable stopped", exit)
	}
	term.Close()

	term, err = e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	if exit := waitExit(t, term); exit.Reason != app.ExitIdle {
		t.Fatalf("got %+v, want idle timeout", exit)
	}
	term.Close()

	term, err = e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	e.app.CloseTerminals()
	if exit := waitExit(t, term); exit.Reason != app.ExitShutdown {
		t.Fatalf("got %+v, want server shutting down", exit)
	}
	term.Close()

	term, err = e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.DeleteDraft(ctx, owner, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	if exit := waitExit(t, term); exit.Reason != app.ExitDeleted {
		t.Fatalf("got %+v, want runnable deleted", exit)
	}
	term.Close()
	if _, err := term.Read(make([]byte, 8)); err == nil {
		t.Fatal("got a read after the end, want an error")
	}
}

func TestLastTerminalCloseSyncsIndex(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	owner, _ := e.anon(t)
	d := e.fork(t, owner)
	t1, err := e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.drafts.Get(ctx, d.ID)
	// the shell writes a file
	if err := e.containers.WriteFile(ctx, got.ContainerID, "/root/made-in-shell.txt", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	has := func() bool {
		files, _ := e.files.List(ctx, d.ID)
		for _, f := range files {
			if f.Name == "made-in-shell.txt" {
				return true
			}
		}
		return false
	}
	t1.Close()
	time.Sleep(50 * time.Millisecond)
	if has() {
		t.Fatal("got a sync while a terminal is still open")
	}
	t2.Close()
	eventually(t, "the background sync", has)
}

func TestTerminalCountsBlockCleanup(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	owner, _ := e.anon(t)
	d := e.fork(t, owner)
	term, err := e.app.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * 24 * time.Hour)
	sum, err := e.app.Cleanup(ctx, app.CleanupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.DeletedDrafts != 0 {
		t.Fatalf("got %d deleted, want none while a terminal is open", sum.DeletedDrafts)
	}
	term.Close()
	sum, err = e.app.Cleanup(ctx, app.CleanupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.DeletedDrafts != 1 {
		t.Fatalf("got %d deleted, want the expired draft once its terminal closed", sum.DeletedDrafts)
	}
}

// recorder is a Recorder that keeps what it is told.
type recorder struct {
	mu        sync.Mutex
	ops       map[string]int
	saves     map[string]int
	deleted   int
	terminals int
}

func newRecorder() *recorder { return &recorder{ops: map[string]int{}, saves: map[string]int{}} }

func (r *recorder) ContainerOp(op, result string, _ time.Duration) {
	r.mu.Lock()
	r.ops[op+"/"+result]++
	r.mu.Unlock()
}
func (r *recorder) Save(result string, _ time.Duration) {
	r.mu.Lock()
	r.saves[result]++
	r.mu.Unlock()
}
func (r *recorder) CleanupDeletedDrafts(n int) { r.mu.Lock(); r.deleted += n; r.mu.Unlock() }
func (r *recorder) TerminalConnections(d int)  { r.mu.Lock(); r.terminals += d; r.mu.Unlock() }

func TestMetricsRecorder(t *testing.T) {
	e := newEnv(t)
	rec := newRecorder()
	deps := e.app.Deps
	deps.Containers = e.containers
	deps.Metrics = rec
	a := app.New(deps, e.app.Config())
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	ctx := t.Context()
	owner, _ := e.anon(t)
	d, err := a.Fork(ctx, owner, e.template.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Start(ctx, owner, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	if n, err := a.RunningContainers(ctx); err != nil || n != 1 {
		t.Fatalf("got %d, %v; want 1 running", n, err)
	}
	term, err := a.OpenTerminal(ctx, owner, d.ID.Short(), 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	open := rec.terminals
	rec.mu.Unlock()
	term.Close()
	e.containers.FailNext("Inspect", errors.New("boom"))
	_, _ = a.GetDraft(ctx, owner, d.ID.Short())
	if _, err := a.SaveNew(ctx, owner, d.ID.Short(), str("m"), nil); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if open != 1 || rec.terminals != 0 {
		t.Fatalf("got terminals %d then %d, want 1 then 0", open, rec.terminals)
	}
	if rec.ops["create/ok"] != 1 || rec.ops["start/ok"] != 1 || rec.ops["exec/ok"] != 1 || rec.ops["inspect/error"] != 1 {
		t.Fatalf("got ops %v, want create, start and exec ok and one failed inspect", rec.ops)
	}
	if rec.saves["ok"] != 1 || rec.ops["commit/ok"] != 1 {
		t.Fatalf("got saves %v ops %v, want one good save", rec.saves, rec.ops)
	}
}

func TestCleanupRecordsDeletedDrafts(t *testing.T) {
	e := newEnv(t)
	rec := newRecorder()
	deps := e.app.Deps
	deps.Containers = e.containers
	deps.Metrics = rec
	a := app.New(deps, e.app.Config())
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	owner, _ := e.anon(t)
	if _, err := a.Fork(t.Context(), owner, e.template.ID.Short(), nil, nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	if _, err := a.Cleanup(t.Context(), app.CleanupOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Cleanup(t.Context(), app.CleanupOptions{}); err != nil {
		t.Fatal(err)
	}
	if rec.deleted != 1 {
		t.Fatalf("got %d, want 1 (dry runs are not counted)", rec.deleted)
	}
}
