package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/ports"
)

// sseKeepalive is the period of the ": keepalive" comment of a followed
// log (spec §4.8); tests shorten it.
var sseKeepalive = 15 * time.Second

// tailParam reads tail: nil when absent, 0 (which the app refuses with
// the contract's message) when not an integer.
func tailParam(c echo.Context) *int {
	if !c.QueryParams().Has("tail") {
		return nil
	}
	n, err := strconv.Atoi(c.QueryParam("tail"))
	if err != nil {
		n = 0
	}
	return &n
}

// logs answers GET P/:id/logs (spec §4.8): the tail as text, or with
// follow=true a Server-Sent Events stream.
func (s *Server) logs(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	timestamps, tsErr := parseBool(c, "timestamps")
	follow, followErr := parseBool(c, "follow")
	ctx := c.Request().Context()
	stream, err := s.app.OpenLogs(ctx, caller(c), c.Param("id"), tailParam(c))
	if err != nil {
		return err
	}
	if tsErr != nil {
		return tsErr
	}
	if followErr != nil {
		return followErr
	}
	f := logFormat{timestamps: boolOr(timestamps, false)}
	if boolOr(follow, false) {
		return s.followLogs(c, stream, f)
	}
	lines, err := stream.Lines(ctx)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(f.text(l))
		b.WriteByte('\n')
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
}

type logFormat struct{ timestamps bool }

// text is a line as shown: valid UTF-8, with its time first when asked.
func (f logFormat) text(l ports.LogLine) string {
	t := strings.ToValidUTF8(l.Text, "\uFFFD")
	if f.timestamps {
		return l.Time.UTC().Format(timeFormat) + " " + t
	}
	return t
}

// event renders one line as an SSE event. A carriage return would end
// the data line early, so the line is split there into several data
// lines (which a client joins with newlines).
func (f logFormat) event(l ports.LogLine) string {
	name := "stdout"
	if l.Stream == "stderr" {
		name = "stderr"
	}
	var b strings.Builder
	b.WriteString("event: " + name + "\n")
	for _, part := range strings.Split(strings.TrimSuffix(f.text(l), "\r"), "\r") {
		b.WriteString("data: " + part + "\n")
	}
	b.WriteByte('\n')
	return b.String()
}

type logEndView struct {
	Status   string `json:"status"`
	ExitCode *int   `json:"exit_code"`
}

// followLogs streams the log until the container stops (then "end"), the
// client leaves or the server shuts down. The backend's follower runs in
// one goroutine that this handler always waits for.
func (s *Server) followLogs(c echo.Context, stream *app.LogStream, f logFormat) error {
	w := c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()

	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	lines := make(chan ports.LogLine, 256)
	type result struct {
		end app.LogEnd
		err error
	}
	done := make(chan result, 1)
	go func() {
		end, err := stream.Follow(ctx, func(l ports.LogLine) error {
			select {
			case lines <- l:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		done <- result{end, err}
	}()
	// stop ends the follower and waits for it, so nothing outlives the
	// request.
	stop := func() { cancel(); <-done }

	keepalive := time.NewTicker(sseKeepalive)
	defer keepalive.Stop()
	write := func(s string) bool {
		_, err := w.Write([]byte(s))
		return err == nil
	}
	for {
		select {
		case l := <-lines:
			ok := write(f.event(l))
			for more := true; ok && more; {
				select {
				case l := <-lines:
					ok = write(f.event(l))
				default:
					more = false
				}
			}
			if !ok {
				stop()
				return nil
			}
			w.Flush()
		case <-keepalive.C:
			if !write(": keepalive\n\n") {
				stop()
				return nil
			}
			w.Flush()
		case r := <-done:
			for more := true; more; {
				select {
				case l := <-lines:
					if !write(f.event(l)) {
						return nil
					}
				default:
					more = false
				}
			}
			if r.err != nil {
				if ctx.Err() == nil {
					s.log.Warn("log stream failed", "request_id", requestID(c), "err", r.err)
				}
				w.Flush()
				return nil
			}
			data, _ := json.Marshal(logEndView{Status: r.end.Status, ExitCode: r.end.ExitCode})
			write("event: end\ndata: " + string(data) + "\n\n")
			w.Flush()
			return nil
		case <-ctx.Done():
			stop()
			return nil
		}
	}
}
