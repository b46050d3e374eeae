package dockerbackend

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	docker "github.com/fsouza/go-dockerclient"

	"github.com/runnable/runnable/ports"
)

// Logs returns the last tail lines of stdout and stderr in order (tail < 0:
// all of them).
func (b *Backend) Logs(ctx context.Context, id string, tail int) ([]ports.LogLine, error) {
	if err := b.init(ctx); err != nil {
		return nil, err
	}
	if tail == 0 {
		if _, err := b.inspect(ctx, id); err != nil {
			return nil, err
		}
		return []ports.LogLine{}, nil
	}
	lines := []ports.LogLine{}
	err := b.logs(ctx, id, tail, false, func(l ports.LogLine) error {
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lines, nil
}

// FollowLogs calls fn with the last tail lines, then with every new line
// until the container stops (nil), ctx ends (ctx.Err()) or fn fails (its
// error). It returns at once for a container that is not running. Nothing
// of it outlives the call.
func (b *Backend) FollowLogs(ctx context.Context, id string, tail int, fn func(ports.LogLine) error) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	return b.logs(ctx, id, tail, true, fn)
}

func (b *Backend) logs(ctx context.Context, id string, tail int, follow bool, fn func(ports.LogLine) error) error {
	t := "all"
	if tail >= 0 {
		t = strconv.Itoa(tail)
	}
	// The library demultiplexes both streams in one goroutine, in order,
	// so the two writers share fn without locking; a frame carries one
	// line (or one piece of a line longer than 16 KiB).
	// On fn's error the request's context is cancelled: the library would
	// otherwise drain a followed stream before returning.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var fnErr error
	emit := func(l ports.LogLine) error {
		if fnErr == nil {
			if fnErr = fn(l); fnErr != nil {
				cancel()
			}
		}
		return fnErr
	}
	stdout := &lineWriter{stream: "stdout", emit: emit}
	stderr := &lineWriter{stream: "stderr", emit: emit}
	err := b.client.Logs(docker.LogsOptions{
		Context:      lctx,
		Container:    id,
		OutputStream: stdout,
		ErrorStream:  stderr,
		Stdout:       true,
		Stderr:       true,
		Timestamps:   true,
		Follow:       follow,
		Tail:         t,
	})
	if fnErr != nil {
		return fnErr
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		return b.fail(err, msgContainerNotFound)
	}
	if err := stdout.flush(); err != nil {
		return err
	}
	return stderr.flush()
}

// lineWriter splits one stream of timestamped log text into lines.
type lineWriter struct {
	stream string
	emit   func(ports.LogLine) error
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if err := w.emit(parseLogLine(w.stream, line)); err != nil {
			return 0, err
		}
	}
	if len(w.buf) == 0 {
		w.buf = nil
	}
	return len(p), nil
}

// flush emits a last line without a newline.
func (w *lineWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	line := string(w.buf)
	w.buf = nil
	return w.emit(parseLogLine(w.stream, line))
}

// parseLogLine splits "<RFC 3339 time> <text>".
func parseLogLine(stream, line string) ports.LogLine {
	l := ports.LogLine{Stream: stream, Text: strings.TrimSuffix(line, "\r")}
	if ts, text, ok := strings.Cut(line, " "); ok {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			l.Time, l.Text = t, strings.TrimSuffix(text, "\r")
		}
	} else if t, err := time.Parse(time.RFC3339Nano, line); err == nil {
		l.Time, l.Text = t, ""
	}
	return l
}
