package dockerbackend_test

import (
	"archive/tar"
	"bytes"
	"reflect"
	"strconv"
	"sync"
)

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

func strconvQuote(s string) string { return strconv.Quote(s) }

// syncBuffer is a bytes.Buffer for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// headerMode records the mode of the first entry of a tar stream.
type headerMode struct {
	buf  bytes.Buffer
	mode *int64
}

func (h *headerMode) Write(p []byte) (int, error) {
	h.buf.Write(p)
	if h.buf.Len() >= 512 {
		hdr, err := tar.NewReader(bytes.NewReader(h.buf.Bytes())).Next()
		if err == nil {
			*h.mode = hdr.Mode
		}
	}
	return len(p), nil
}
