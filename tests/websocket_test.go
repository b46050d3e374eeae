package tests

// A minimal WebSocket client (RFC 6455) on the standard library, enough to
// drive the terminal of spec §4.9: the handshake, masked text frames out,
// text/close/ping frames in.

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// wsConn is one client WebSocket.
type wsConn struct {
	conn net.Conn
	br   *bufio.Reader
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// dialTerminal opens P/:id/terminal with the token as access_token (spec
// §4.9) and returns the socket after its first message, which must be
// {"type":"ready",…}.
func dialTerminal(t *testing.T, s *Server, u user, draft string) *wsConn {
	t.Helper()
	path := P(draft) + "/terminal?access_token=" + url.QueryEscape(u.token)
	ws, err := wsDial(s.Addr, path)
	if err != nil {
		t.Fatalf("terminal of %s: %v", draft, err)
	}
	t.Cleanup(ws.close)
	msg := ws.next(t, 60*time.Second)
	if msg["type"] != "ready" {
		t.Fatalf("terminal of %s: got first message %v, want type ready", draft, msg)
	}
	return ws
}

func wsDial(addr, path string) (*wsConn, error) {
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		resp.Body.Close()
		conn.Close()
		return nil, fmt.Errorf("handshake: got status %d, want 101; body: %s", resp.StatusCode, b)
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, fmt.Errorf("handshake: bad Sec-WebSocket-Accept %q", got)
	}
	_ = conn.SetDeadline(time.Time{})
	return &wsConn{conn: conn, br: br}, nil
}

// writeFrame sends one masked frame.
func (w *wsConn) writeFrame(opcode byte, payload []byte) error {
	hdr := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	masked := make([]byte, len(payload))
	for i, b := range payload {
		masked[i] = b ^ mask[i%4]
	}
	_ = w.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := w.conn.Write(append(hdr, masked...))
	return err
}

var errWSClosed = errors.New("websocket closed by the server")

// readMessage returns the next text or binary message, answering pings.
func (w *wsConn) readMessage() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.br, h[:]); err != nil {
			return nil, err
		}
		fin, opcode := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if h[1]&0x80 != 0 {
			return nil, errors.New("server frame is masked")
		}
		if n > 16<<20 {
			return nil, fmt.Errorf("frame of %d bytes", n)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(w.br, payload); err != nil {
			return nil, err
		}
		switch opcode {
		case 0x8: // close
			_ = w.writeFrame(0x8, payload[:min(len(payload), 2)])
			return nil, errWSClosed
		case 0x9: // ping
			_ = w.writeFrame(0xA, payload)
			continue
		case 0xA: // pong
			continue
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}

// send writes one JSON message as a text frame.
func (w *wsConn) send(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.writeFrame(0x1, b); err != nil {
		t.Fatalf("terminal: sending %s: %v", b, err)
	}
}

// next reads the next JSON message within timeout.
func (w *wsConn) next(t *testing.T, timeout time.Duration) map[string]any {
	t.Helper()
	_ = w.conn.SetReadDeadline(time.Now().Add(timeout))
	b, err := w.readMessage()
	if err != nil {
		t.Fatalf("terminal: reading a message: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("terminal: message is not a JSON object: %v: %s", err, b)
	}
	return m
}

// run types cmd into the shell and waits until its output shows that it
// finished: the command is followed by an echo of a marker that only the
// shell's arithmetic produces, so the echoed input never matches. It
// returns the output seen.
func (w *wsConn) run(t *testing.T, cmd string) string {
	t.Helper()
	marker := fmt.Sprintf("done-%d", time.Now().UnixNano()%1000000)
	w.send(t, map[string]string{"type": "input", "data": cmd + "; echo " + marker + "-$((40+2))\r"})
	want := marker + "-42"
	var out strings.Builder
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("terminal: %q did not finish within 60s; output: %q", cmd, out.String())
		}
		m := w.next(t, time.Until(deadline))
		switch m["type"] {
		case "output":
			d, _ := m["data"].(string)
			out.WriteString(d)
		case "exit":
			t.Fatalf("terminal: exited while running %q: %v; output: %q", cmd, m, out.String())
		}
	}
	return out.String()
}

// close sends a close frame and closes the connection.
func (w *wsConn) close() {
	_ = w.writeFrame(0x8, []byte{0x03, 0xe8}) // 1000
	_ = w.conn.Close()
}
