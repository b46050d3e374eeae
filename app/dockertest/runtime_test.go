package dockertest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

func lineTexts(lines []ports.LogLine) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, l.Text)
	}
	return out
}

// Spec §11 scenario 29.
func TestStartCmdExitCodeAndLogs(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u, _ := e.anon(t)
	d := e.draft(t, u, "echo hi; exit 3")
	if _, err := e.app.Start(ctx, u, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	got := e.waitStatus(t, u, d.ID, 20*time.Second, "idle with exit code 3", func(d *domain.Draft) bool {
		return d.Status == domain.StatusIdle
	})
	if got.ExitCode == nil || *got.ExitCode != 3 || !got.Running() || got.StartedAt == nil {
		t.Fatalf("got %s exit %s running %v, want idle, exit 3, running", got.Status, ptr(got.ExitCode), got.Running())
	}
	s, err := e.app.OpenLogs(ctx, u, d.ID.Short(), new(10))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := s.Lines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !containsLine(lineTexts(lines), "hi") {
		t.Fatalf("got logs %q, want hi", lineTexts(lines))
	}

	// restart runs start_cmd again; stop records the state
	if _, err := e.app.Restart(ctx, u, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, u, d.ID, 20*time.Second, "idle again", func(d *domain.Draft) bool { return d.Status == domain.StatusIdle })
	stopped, err := e.app.Stop(ctx, u, d.ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	if stopped.Status != domain.StatusStopped || stopped.StoppedAt == nil {
		t.Fatalf("got %s, want stopped with stopped_at", stopped.Status)
	}
}

// readEvents reads SSE events from r into ch until the stream ends.
func readEvents(r io.Reader, ch chan<- [2]string) {
	defer close(ch)
	sc := bufio.NewScanner(r)
	var name string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if name != "" || len(data) > 0 {
				ch <- [2]string{name, strings.Join(data, "\n")}
			}
			name, data = "", nil
		case strings.HasPrefix(line, "event: "):
			name = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[6:])
		}
	}
}

// Spec §11 scenario 32.
func TestLogFollowEndsAfterStop(t *testing.T) {
	e := newEnv(t)
	u, tok := e.anon(t)
	d := e.draft(t, u, "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done")
	if _, err := e.app.Start(t.Context(), u, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	resp, err := e.get(t, ctx, "/users/me/runnables/"+d.ID.Short()+"/logs?follow=true&access_token="+tok, "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("got %d %s, want an event stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan [2]string, 100)
	go readEvents(resp.Body, events)
	ticks := 0
	for ticks < 3 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("stream ended before any tick")
			}
			if ev[0] == "stdout" && strings.HasPrefix(ev[1], "tick ") {
				ticks++
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("got %d ticks, want 3 stdout events", ticks)
		}
	}
	if _, err := e.app.Stop(t.Context(), u, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	var end [2]string
	for ev := range events {
		if ev[0] == "end" {
			end = ev
		}
	}
	var body struct {
		Status   string `json:"status"`
		ExitCode *int   `json:"exit_code"`
	}
	if end[0] != "end" || json.Unmarshal([]byte(end[1]), &body) != nil || body.Status != "stopped" {
		t.Fatalf("got last event %q, want end with status stopped, then the stream closed", end)
	}
}

type termMsg struct {
	Type     string `json:"type"`
	Shell    string `json:"shell"`
	Data     string `json:"data"`
	ExitCode *int   `json:"exit_code"`
	Reason   string `json:"reason"`
}

// Spec §11 scenario 33.
func TestTerminalAnswers42(t *testing.T) {
	e := newEnv(t)
	u, tok := e.anon(t)
	d := e.draft(t, u, "")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	url := strings.Replace(e.srv.URL, "http", "ws", 1) + "/users/me/runnables/" + d.ID.Short() + "/terminal?access_token=" + tok
	//nolint:bodyclose // coder/websocket owns the handshake body: "You never need to close resp.Body yourself"
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: e.client})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer func() { _ = c.CloseNow() }() // the test's end; nothing to report
	c.SetReadLimit(1 << 20)
	read := func() termMsg {
		t.Helper()
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m termMsg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("got %q, want JSON", b)
		}
		return m
	}
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	if m := read(); m.Type != "ready" || m.Shell != "/bin/sh" {
		t.Fatalf("got %+v, want ready with /bin/sh (the image has no bash)", m)
	}
	send(map[string]any{"type": "resize", "cols": 120, "rows": 40})
	send(map[string]any{"type": "input", "data": "echo $((6*7))\r"})
	var out strings.Builder
	for !strings.Contains(out.String(), "42") {
		m := read()
		if m.Type != "output" {
			t.Fatalf("got %+v, want output", m)
		}
		out.WriteString(m.Data)
	}
	send(map[string]any{"type": "input", "data": "exit 5\r"})
	for {
		m := read()
		if m.Type == "output" {
			continue
		}
		if m.Type != "exit" || m.Reason != "shell exited" || m.ExitCode == nil || *m.ExitCode != 5 {
			t.Fatalf("got %+v, want exit 5 shell exited", m)
		}
		break
	}
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("got %v, want a normal close", err)
	}
}

// Spec §11 scenario 56 [docker]: export, then import on the same server
// under a new name: forkable, with the same files.
func TestExportThenImport(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	admin, _ := e.anon(t)
	admin.Level = domain.LevelAdmin
	if err := e.users.Update(ctx, admin); err != nil {
		t.Fatal(err)
	}
	exp, err := e.app.ExportImage(ctx, admin, e.template.ID.Short())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := exp.Stream(ctx, &buf, nil); err != nil {
		t.Fatalf("export: %v", err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
	if !names["manifest.json"] || !names["runnable.json"] {
		t.Fatalf("got entries %v, want manifest.json and runnable.json", names)
	}
	name := "copy"
	img, err := e.app.ImportArchive(ctx, admin, bytes.NewReader(buf.Bytes()), app.ImportInput{Name: &name})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	e.removeImageAtCleanup(t, img.Ref)
	if img.ID == e.template.ID || img.StartCmd != e.template.StartCmd || img.Version != 1 || !img.Published() {
		t.Fatalf("got %+v, want a new published image with the template's start_cmd", img)
	}
	u, _ := e.anon(t)
	d, err := e.app.Fork(ctx, u, img.ID.Short(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := e.app.ListDraftFiles(ctx, u, d.ID.Short(), app.FileFilter{Content: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.FullPath()] = string(f.Content)
		if f.FullPath() == "/main.sh" && !f.Default {
			t.Fatal("got main.sh not default after the round trip")
		}
	}
	if got["/main.sh"] != "echo hello\n" || got["/README.md"] != "# shell\n" {
		t.Fatalf("got files %v, want the template's", got)
	}
	// the image runs
	if _, err := e.app.Start(ctx, u, d.ID.Short()); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, u, d.ID, 20*time.Second, "idle with exit 0", func(d *domain.Draft) bool {
		return d.Status == domain.StatusIdle && d.ExitCode != nil && *d.ExitCode == 0
	})
}
