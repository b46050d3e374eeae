// Package redistest gives tests a real Redis server.
//
// Place in the hexagon: test support for adapters/redisstore and the
// black-box tests. It imports the standard library only and is imported by
// tests only.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// URL returns the redis:// URL of a real Redis server for t. When REDIS_URL
// is set it is returned as is (tests must then use keys of their own).
// Otherwise URL starts redis-server from PATH on a free port in a temporary
// directory, with persistence off, and stops it in t.Cleanup. When no
// redis-server is found the test fails if RUNNABLE_REQUIRE_SERVICES=1 and
// is skipped otherwise.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("RUNNABLE_REQUIRE_SERVICES") == "1" {
			t.Fatalf("redis-server not found in PATH and REDIS_URL unset (RUNNABLE_REQUIRE_SERVICES=1): %v", err)
		}
		t.Skip("redis-server not found in PATH and REDIS_URL unset")
	}
	var last error
	for range 3 { // a free port may be taken before the server binds it
		addr, err := start(t, bin)
		if err == nil {
			return "redis://" + addr + "/0"
		}
		last = err
	}
	t.Fatalf("start redis-server: %v", last)
	return ""
}

// start runs one redis-server and waits until it answers PING.
func start(t testing.TB, bin string) (string, error) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return "", err
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "redis.log")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", logPath)
	if err := cmd.Start(); err != nil {
		cancel()
		return "", err
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() { // cancel kills the server
		cancel()
		<-exited
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(15 * time.Second)
	for {
		if ping(addr) == nil {
			t.Cleanup(stop)
			return addr, nil
		}
		select {
		case <-exited:
			cancel()
			log, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("redis-server exited: %w: %s", waitErr, tail(string(log)))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("redis-server on %s did not answer within 15s", addr)
		}
	}
}

func freePort() (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ping(addr string) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
