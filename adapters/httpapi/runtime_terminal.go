package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

// Terminal protocol limits (spec §4.9).
const (
	termReadLimit    = 64 << 10 // a bigger client frame closes with 1009
	termOutputChunk  = 16 << 10 // TTY bytes read per output message at most
	termWriteTimeout = 30 * time.Second
	termDrainTimeout = 2 * time.Second // for output still in flight when the shell ends
)

var (
	errUpgradeRequired = domain.E(domain.ErrInvalid, "websocket upgrade required")
	errOriginDenied    = domain.E(domain.ErrForbidden, "origin not allowed")
)

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// sizeParam reads cols or rows: def when absent, 0 (refused) when not an
// integer.
func sizeParam(c echo.Context, name string, def int) int {
	if !c.QueryParams().Has(name) {
		return def
	}
	n, err := strconv.Atoi(c.QueryParam(name))
	if err != nil {
		return 0
	}
	return n
}

// originAllowed applies CORS_ORIGINS to a browser's Origin; requests
// without one (non-browser clients) and servers without the setting pass.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if len(s.cfg.CORSOrigins) == 0 || origin == "" {
		return true
	}
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// terminal answers GET P/:id/terminal (spec §4.9): the checks, then the
// upgrade and the session.
func (s *Server) terminal(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	r := c.Request()
	u, id := caller(c), c.Param("id")
	if err := s.app.CanOpenTerminal(r.Context(), u, id); err != nil {
		return err
	}
	if !isUpgrade(r) {
		return errUpgradeRequired
	}
	cols, rows := sizeParam(c, "cols", app.DefaultCols), sizeParam(c, "rows", app.DefaultRows)
	if err := app.ValidateTermSize(cols, rows); err != nil {
		return err
	}
	if !s.originAllowed(r) {
		return errOriginDenied
	}
	term, err := s.app.OpenTerminal(r.Context(), u, id, cols, rows)
	if err != nil {
		return err
	}
	defer term.Close()
	// The origin was checked above against CORS_ORIGINS; tokens are not
	// cookies, so a cross-site page cannot borrow a session.
	conn, err := websocket.Accept(c.Response(), r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.log.Warn("terminal upgrade failed", "request_id", requestID(c), "err", err)
		return nil // Accept wrote the response
	}
	conn.SetReadLimit(termReadLimit)
	(&termSession{conn: conn, term: term, log: s.log, reqID: requestID(c)}).run()
	return nil
}

// Messages of the terminal protocol.
type (
	termClientMsg struct {
		Type string  `json:"type"`
		Data *string `json:"data"`
		Cols *int    `json:"cols"`
		Rows *int    `json:"rows"`
	}
	termReadyMsg struct {
		Type  string `json:"type"`
		Shell string `json:"shell"`
		Cols  int    `json:"cols"`
		Rows  int    `json:"rows"`
	}
	termOutputMsg struct {
		Type string `json:"type"`
		Data string `json:"data"`
	}
	termTypeMsg struct {
		Type string `json:"type"`
	}
	termErrorMsg struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	termExitMsg struct {
		Type     string `json:"type"`
		ExitCode *int   `json:"exit_code"`
		Reason   string `json:"reason"`
	}
)

// termSession pumps one upgraded terminal: output to the client, client
// frames to the TTY, then the exit message and the close.
type termSession struct {
	conn  *websocket.Conn
	term  *app.Terminal
	log   interface{ Warn(string, ...any) }
	reqID string

	wmu sync.Mutex // one writer at a time keeps messages whole and ordered
}

func (t *termSession) send(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, termWriteTimeout)
	defer cancel()
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.conn.Write(ctx, websocket.MessageText, b)
}

func (t *termSession) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer func() { _ = t.conn.CloseNow() }()
	term := t.term
	if err := t.send(ctx, termReadyMsg{Type: "ready", Shell: term.Shell, Cols: term.Cols, Rows: term.Rows}); err != nil {
		return
	}
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		t.pumpOutput(ctx)
	}()
	readDone := make(chan error, 1)
	go func() { readDone <- t.pumpInput(ctx) }()
	inputDone := false // set once readDone has been received from

	select {
	case <-term.Done():
		select {
		case <-outDone:
		case <-time.After(termDrainTimeout):
		}
		term.Close() // ends the output pump if it still waits
		<-outDone
		exit := term.Exit()
		code, reason := websocket.StatusNormalClosure, exit.Reason
		if reason == app.ExitShutdown {
			code = websocket.StatusGoingAway
		}
		if err := t.send(ctx, termExitMsg{Type: "exit", ExitCode: exit.Code, Reason: reason}); err == nil {
			_ = t.conn.Close(code, reason)
		}
	case err := <-readDone:
		inputDone = true
		// the client closed, sent a frame over the limit (the library
		// answered 1009) or broke the protocol
		if websocket.CloseStatus(err) == -1 && !errors.Is(err, context.Canceled) {
			t.log.Warn("terminal read", "request_id", t.reqID, "err", err)
		}
		term.Close()
		<-outDone
	}
	cancel()
	_ = t.conn.CloseNow()
	<-outDone
	if inputDone {
		return
	}
	select {
	// only waits for the input pump: its error after CloseNow is moot
	case <-readDone: //nolint:errcheck // deliberate discard; `case _ = <-readDone` trips staticcheck S1005
	case <-time.After(5 * time.Second):
	}
}

// pumpOutput sends TTY output as UTF-8 messages until the TTY ends.
func (t *termSession) pumpOutput(ctx context.Context) {
	buf := make([]byte, termOutputChunk)
	var u utf8Chunker
	for {
		n, err := t.term.Read(buf)
		if n > 0 {
			if s := u.next(buf[:n]); s != "" {
				if t.send(ctx, termOutputMsg{Type: "output", Data: s}) != nil {
					return
				}
			}
		}
		if err != nil {
			if s := u.flush(); s != "" {
				_ = t.send(ctx, termOutputMsg{Type: "output", Data: s})
			}
			return
		}
	}
}

var errInvalidMessage = termErrorMsg{Type: "error", Message: "invalid message"}

// pumpInput handles client frames until the connection ends.
func (t *termSession) pumpInput(ctx context.Context) error {
	for {
		typ, data, err := t.conn.Read(ctx)
		if err != nil {
			return err
		}
		if typ == websocket.MessageBinary {
			_ = t.term.Input(data)
			continue
		}
		var m termClientMsg
		if json.Unmarshal(data, &m) != nil {
			if err := t.send(ctx, errInvalidMessage); err != nil {
				return err
			}
			continue
		}
		var reply any
		switch {
		case m.Type == "input" && m.Data != nil:
			_ = t.term.Input([]byte(*m.Data))
		case m.Type == "resize" && m.Cols != nil && m.Rows != nil && app.ValidateTermSize(*m.Cols, *m.Rows) == nil:
			if err := t.term.Resize(ctx, *m.Cols, *m.Rows); err != nil {
				t.log.Warn("terminal resize", "request_id", t.reqID, "err", err)
			}
		case m.Type == "ping":
			reply = termTypeMsg{Type: "pong"}
		default:
			reply = errInvalidMessage
		}
		if reply != nil {
			if err := t.send(ctx, reply); err != nil {
				return err
			}
		}
	}
}

// utf8Chunker turns a byte stream into valid UTF-8 text: an incomplete
// character at the end of a chunk is held back until its remaining bytes
// arrive, and every invalid byte becomes U+FFFD.
type utf8Chunker struct{ carry []byte }

func (u *utf8Chunker) next(p []byte) string {
	data := append(u.carry, p...)
	cut := len(data)
	for i := max(0, len(data)-utf8.UTFMax+1); i < len(data); i++ {
		if utf8.RuneStart(data[i]) && !utf8.FullRune(data[i:]) {
			cut = i
			break
		}
	}
	u.carry = append([]byte(nil), data[cut:]...)
	return validUTF8(data[:cut])
}

// flush returns what is held back, as replacement characters.
func (u *utf8Chunker) flush() string {
	s := validUTF8(u.carry)
	u.carry = nil
	return s
}

func validUTF8(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	var b strings.Builder
	b.Grow(len(p) + 8)
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.Write(p[:size])
		}
		p = p[size:]
	}
	return b.String()
}
