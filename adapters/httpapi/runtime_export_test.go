package httpapi

import "time"

// SetSSEKeepalive shortens the log stream keepalive for a test and
// returns the undo.
func SetSSEKeepalive(d time.Duration) func() {
	old := sseKeepalive
	sseKeepalive = d
	return func() { sseKeepalive = old }
}

// UTF8Chunks runs chunks through the terminal's UTF-8 chunker and returns
// each message it would send, then the flush.
func UTF8Chunks(chunks ...[]byte) []string {
	var u utf8Chunker
	var out []string
	for _, c := range chunks {
		out = append(out, u.next(c))
	}
	return append(out, u.flush())
}
