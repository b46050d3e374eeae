package tests

// A few calls to the Docker Engine API, with the standard library only: the
// harness checks that Docker is there (requireDocker) and removes what the
// servers it started left behind (dockerSweep).

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// baseImage is built by deploy/setup.sh; every template starts FROM it.
const baseImage = "runnable/busybox:latest"

type dockerAPI struct {
	base   string // http://docker or http://host:port
	client *http.Client
}

var (
	dockerOnce  sync.Once
	dockerCli   *dockerAPI
	dockerError error
)

// docker returns a client for DOCKER_HOST (unix:// or tcp://, default the
// local socket) and whether the engine answered its ping, checked once.
func docker() (*dockerAPI, error) {
	dockerOnce.Do(func() {
		host := os.Getenv("DOCKER_HOST")
		if host == "" {
			host = "unix:///var/run/docker.sock"
		}
		u, err := url.Parse(host)
		if err != nil {
			dockerError = fmt.Errorf("DOCKER_HOST %q: %w", host, err)
			return
		}
		d := &dockerAPI{client: &http.Client{Timeout: 30 * time.Second}}
		switch u.Scheme {
		case "unix":
			sock := u.Path
			d.base = "http://docker"
			d.client.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var dl net.Dialer
				return dl.DialContext(ctx, "unix", sock)
			}}
		case "tcp", "http":
			d.base = "http://" + u.Host
		default:
			dockerError = fmt.Errorf("DOCKER_HOST %q: only unix:// and tcp:// are supported by the test harness", host)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := d.call(ctx, http.MethodGet, "/_ping", nil); err != nil {
			dockerError = fmt.Errorf("docker engine at %s does not answer: %w", host, err)
			return
		}
		if _, err := d.call(ctx, http.MethodGet, "/images/"+baseImage+"/json", nil); err != nil {
			dockerError = fmt.Errorf("base image %s is missing (%w); run deploy/setup.sh", baseImage, err)
			return
		}
		dockerCli = d
	})
	return dockerCli, dockerError
}

// requireDocker skips the test when no Docker Engine (with the base image)
// is available, or fails it under RUNNABLE_REQUIRE_SERVICES=1.
func requireDocker(t *testing.T) {
	t.Helper()
	if _, err := docker(); err != nil {
		requireService(t, err.Error())
	}
}

var errDockerNotFound = errors.New("not found")

// call does one API request and returns the body of a 2xx answer.
func (d *dockerAPI) call(ctx context.Context, method, path string, q url.Values) ([]byte, error) {
	u := d.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errDockerNotFound
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return b, nil
}

func filters(f map[string][]string) url.Values {
	b, _ := json.Marshal(f)
	return url.Values{"filters": {string(b)}}
}

// noteIDs records every image or draft id (24 hex, or the 16-character short
// form) found in a JSON body or a Location header, so dockerSweep can find
// the Docker objects behind them.
func (s *Server) noteIDs(b []byte) {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			for _, seg := range strings.FieldsFunc(x, func(r rune) bool { return strings.ContainsRune("/?&=", r) }) {
				if h := idHex(seg); h != "" {
					s.seenIDs[h] = true
				}
			}
		}
	}
	walk(v)
}

// idHex returns the 24-hex form of an id in either form, or "".
func idHex(s string) string {
	switch len(s) {
	case 24:
		if _, err := hex.DecodeString(s); err == nil {
			return strings.ToLower(s)
		}
	case 16:
		if b, err := base64.RawURLEncoding.DecodeString(s); err == nil && len(b) == 12 {
			return hex.EncodeToString(b)
		}
	}
	return ""
}

// dockerSweep removes, after the server stopped, the containers of the drafts
// and the image versions of the images whose ids the test saw (spec §4.7 and
// §8.3 fix their labels and names). Containers the server makes carry no
// test label, so this is how a black-box test cleans up after itself.
func (s *Server) dockerSweep(t *testing.T) {
	d, err := docker()
	if err != nil {
		return
	}
	s.mu.Lock()
	ids := make(map[string]bool, len(s.seenIDs))
	for id := range s.seenIDs {
		ids[id] = true
	}
	s.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	b, err := d.call(ctx, http.MethodGet, "/containers/json", mergeValues(url.Values{"all": {"1"}},
		filters(map[string][]string{"label": {"com.runnable.managed=true"}})))
	if err != nil {
		t.Logf("docker sweep: listing containers: %v", err)
		return
	}
	var cs []struct {
		ID     string            `json:"Id"`
		Labels map[string]string `json:"Labels"`
	}
	_ = json.Unmarshal(b, &cs)
	for _, c := range cs {
		if ids[strings.ToLower(c.Labels["com.runnable.draft"])] {
			if _, err := d.call(ctx, http.MethodDelete, "/containers/"+c.ID, url.Values{"force": {"1"}, "v": {"1"}}); err != nil && !errors.Is(err, errDockerNotFound) {
				t.Logf("docker sweep: removing container %.12s: %v", c.ID, err)
			}
		}
	}

	b, err = d.call(ctx, http.MethodGet, "/images/json", filters(map[string][]string{"reference": {"runnable/*"}}))
	if err != nil {
		t.Logf("docker sweep: listing images: %v", err)
		return
	}
	var imgs []struct {
		RepoTags []string `json:"RepoTags"`
	}
	_ = json.Unmarshal(b, &imgs)
	for _, img := range imgs {
		for _, tag := range img.RepoTags {
			repo, _, _ := strings.Cut(strings.TrimPrefix(tag, "runnable/"), ":")
			if !strings.HasPrefix(tag, "runnable/") || !ids[strings.ToLower(repo)] {
				continue
			}
			if _, err := d.call(ctx, http.MethodDelete, "/images/"+tag, nil); err != nil && !errors.Is(err, errDockerNotFound) {
				t.Logf("docker sweep: removing image %s: %v", tag, err)
			}
		}
	}
}

func mergeValues(a, b url.Values) url.Values {
	for k, v := range b {
		a[k] = v
	}
	return a
}
