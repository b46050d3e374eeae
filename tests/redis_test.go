package tests

// A redis-server of the test's own, for servers that must share their Redis
// with the test (REDIS_URL): the test then acts as another replica, e.g. by
// taking a lock. Commands are sent in RESP with the standard library.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redisServer is one redis-server process started by startRedis.
type redisServer struct {
	addr string // 127.0.0.1:port
}

// url is the REDIS_URL of the server.
func (r *redisServer) url() string { return "redis://" + r.addr + "/0" }

// startRedis runs redis-server on a free port, without persistence, until
// the test ends. Without redis-server (deploy/setup.sh installs it) the
// test skips, or fails under RUNNABLE_REQUIRE_SERVICES=1.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		requireService(t, "redis-server is not installed (apt-get install redis-server)")
	}
	r := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))}
	_, port, _ := net.SplitHostPort(r.addr)
	// Not t.Context(): it ends before the server using this Redis stops.
	cmd := exec.CommandContext(context.Background(), bin,
		"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	// Registered before the server's cleanup, so it runs after it.
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, err := r.command("PING"); err == nil && got == "PONG" {
			return r
		}
		select {
		case <-done:
			t.Fatalf("redis-server exited at start-up:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer PING within 30s:\n%s", r.addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends one command and returns its reply: a status or bulk string, an
// integer in decimal, or "(nil)". An error reply fails the test.
func (r *redisServer) do(t *testing.T, args ...string) string {
	t.Helper()
	got, err := r.command(args...)
	if err != nil {
		t.Fatalf("redis %s: %v", strings.Join(args, " "), err)
	}
	return got
}

func (r *redisServer) command(args ...string) (string, error) {
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).Dial("tcp", r.addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var req strings.Builder
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(req.String())); err != nil {
		return "", err
	}
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "(nil)", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}
