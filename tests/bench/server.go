package main

// Building and running the api-server binary, reading its memory, and
// removing the Docker objects it made.

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	docker "github.com/fsouza/go-dockerclient"
)

// buildServer builds cmd/api-server into dir and returns the binary.
// With overlay (a go build -overlay file) the build adds its files.
func buildServer(ctx context.Context, moduleDir, dir, overlay string) (string, error) {
	bin := filepath.Join(dir, "api-server")
	args := []string{"build", "-o", bin}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/api-server")...)
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/api-server: %w\n%s", err, out)
	}
	return bin, nil
}

// findModuleDir returns the directory holding go.mod, from the working
// directory upwards.
func findModuleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// server is one running api-server process.
type server struct {
	name    string
	url     string
	dataDir string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error
	// instances are the values of the com.runnable.instance label the
	// server puts on its containers and images: RUNNABLE_INSTANCE as set by
	// the benchmark, the default cmd/api-server computes from the data
	// directory (for a binary that does not know the variable), and the
	// label read back from the template's image once it exists.
	instances map[string]bool
	// pprofURL is the profiling listener of a -pprof build ("" without).
	pprofURL string
}

// startServer runs bin on a free loopback port with the embedded stores in
// a fresh data directory under dir. env adds to the defaults; the caller's
// environment is not inherited except PATH, HOME, TMPDIR and DOCKER_*.
func startServer(ctx context.Context, name, bin, dir string, env map[string]string) (*server, error) {
	port, err := freePort(ctx)
	if err != nil {
		return nil, err
	}
	s := &server{
		name:      name,
		url:       "http://127.0.0.1:" + strconv.Itoa(port),
		dataDir:   filepath.Join(dir, name, "data"),
		logPath:   filepath.Join(dir, name, "server.log"),
		done:      make(chan struct{}),
		instances: map[string]bool{},
	}
	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		return nil, err
	}
	s.instances[instanceID(s.dataDir)] = true
	if v := env["RUNNABLE_INSTANCE"]; v != "" {
		s.instances[v] = true
	}
	vars := map[string]string{
		"PORT":              strconv.Itoa(port),
		"LISTEN_ADDR":       "127.0.0.1",
		"RUNNABLE_DATA_DIR": s.dataDir,
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_API_VERSION"} {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	for k, v := range env {
		vars[k] = v
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	// Not ctx: the process must outlive a cancelled run until stop.
	s.cmd = exec.CommandContext(context.Background(), bin)
	for k, v := range vars {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	s.cmd.Dir = s.dataDir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Own process group: a Ctrl-C in the terminal reaches the benchmark,
	// which then stops the server in order. Pdeathsig: a benchmark killed
	// outright does not leave the server behind.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	if err := s.waitHealthy(ctx, 60*time.Second); err != nil {
		return s, err
	}
	return s, nil
}

// instanceID is cmd/api-server's default instance for the embedded store
// in dataDir (the label its containers carry without RUNNABLE_INSTANCE).
func instanceID(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte("embedded:" + abs))
	return hex.EncodeToString(sum[:6])
}

func freePort(ctx context.Context) (int, error) {
	l, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

func (s *server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/healthz", nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("%s exited during start-up (%w); log:\n%s", s.name, s.waitErr, tail(s.logPath, 30))
		case <-ctx.Done():
			return fmt.Errorf("%s: /healthz did not answer 200 within %s; log:\n%s", s.name, timeout, tail(s.logPath, 30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// rss returns the resident set size of the server process, in bytes, from
// /proc/<pid>/status (VmRSS).
func (s *server) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// stop sends SIGTERM and waits; after 40 s it kills the process.
func (s *server) stop() error {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("%s did not stop within 40s of SIGTERM; killed", s.name)
	}
}

// learnInstance reads the instance label from the image the server built
// for a template, so that the sweep finds its objects even if the label's
// formula changes.
func (s *server) learnInstance(dc *docker.Client, ref string) {
	img, err := dc.InspectImage(ref)
	if err != nil || img.Config == nil {
		return
	}
	if v := img.Config.Labels["com.runnable.instance"]; v != "" {
		s.instances[v] = true
	}
}

// sweep removes every container and image carrying one of the server's
// instance labels. Run after stop.
func (s *server) sweep(ctx context.Context, dc *docker.Client) error {
	var errs []error
	for inst := range s.instances {
		filter := map[string][]string{"label": {"com.runnable.instance=" + inst}}
		cs, err := dc.ListContainers(docker.ListContainersOptions{All: true, Filters: filter, Context: ctx})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids := make([]string, 0, len(cs))
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		errs = append(errs, parallel(ctx, 8, len(ids), func(ctx context.Context, i int) error {
			err := dc.RemoveContainer(docker.RemoveContainerOptions{ID: ids[i], Force: true, RemoveVolumes: true, Context: ctx})
			if isNoSuch(err) {
				return nil
			}
			return err
		}))
		imgs, err := dc.ListImages(docker.ListImagesOptions{All: false, Filters: filter, Context: ctx})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, removeImages(ctx, dc, imgs))
	}
	return errors.Join(errs...)
}

// removeImages removes images, children first (newest first is enough for
// commits stacked on one another), forcing away every tag.
func removeImages(ctx context.Context, dc *docker.Client, imgs []docker.APIImages) error {
	var errs []error
	slices.SortFunc(imgs, func(a, b docker.APIImages) int { return cmp.Compare(b.Created, a.Created) })
	for _, img := range imgs {
		err := dc.RemoveImageExtended(img.ID, docker.RemoveImageOptions{Force: true, Context: ctx})
		if err != nil && !isNoSuch(err) {
			errs = append(errs, fmt.Errorf("removing image %.19s: %w", img.ID, err))
		}
	}
	return errors.Join(errs...)
}

func isNoSuch(err error) bool {
	if err == nil {
		return false
	}
	var nsc *docker.NoSuchContainer
	if errors.As(err, &nsc) || errors.Is(err, docker.ErrNoSuchImage) {
		return true
	}
	var de *docker.Error
	return errors.As(err, &de) && de.Status == http.StatusNotFound
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
