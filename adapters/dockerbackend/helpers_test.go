package dockerbackend_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	docker "github.com/fsouza/go-dockerclient"

	"github.com/runnable/runnable/adapters/dockerbackend"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// testLabel marks everything the tests make.
var testLabel = map[string]string{"com.runnable.test": "1"}

// requireDocker returns a client of the local engine. Without one the
// test fails when RUNNABLE_REQUIRE_SERVICES=1 and is skipped otherwise.
func requireDocker(t *testing.T) *docker.Client {
	t.Helper()
	cli, err := docker.NewVersionedClient("unix:///var/run/docker.sock", "1.41")
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err = cli.PingWithContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("RUNNABLE_REQUIRE_SERVICES") == "1" {
			t.Fatalf("Docker Engine required (RUNNABLE_REQUIRE_SERVICES=1): %v", err)
		}
		t.Skipf("Docker Engine not reachable at the local socket: %v", err)
	}
	return cli
}

func newBackend(t *testing.T) *dockerbackend.Backend {
	t.Helper()
	cfg := dockerbackend.DefaultConfig()
	cfg.ExtraLabels = testLabel
	b, err := dockerbackend.New(cfg)
	if err != nil {
		t.Fatalf("New: got error %v, want nil", err)
	}
	return b
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func randomID(t *testing.T) domain.ID {
	t.Helper()
	var id domain.ID
	if _, err := rand.Read(id[:]); err != nil {
		t.Fatal(err)
	}
	return id
}

// tarOf builds a tar from name -> content; a name ending in "/" is a
// directory; "busybox" and names ending in ".sh" get mode 0755.
func tarOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range files {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Now()}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		} else if strings.HasSuffix(name, ".sh") || name == "busybox" {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testDockerfile makes the fixture of porttest.Containers from the host's
// static busybox, plus a symlink and an executable script.
const testDockerfile = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox","--install","-s","/bin"]
RUN mkdir -p /root/sub && printf 'hello\n' > /root/hello.txt && ln -s hello.txt /root/link && printf '#!/bin/sh\necho run\n' > /root/run.sh && chmod 755 /root/run.sh
`

// buildTestImage builds a labelled busybox image under a unique tag and
// removes it at cleanup.
func buildTestImage(t *testing.T, cli *docker.Client) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("reading /bin/busybox (Debian's busybox-static): %v", err)
	}
	ref := "runnable-test/busybox:" + randomHex(t, 6)
	var out bytes.Buffer
	err = cli.BuildImage(docker.BuildImageOptions{
		Context:             t.Context(),
		Name:                ref,
		InputStream:         bytes.NewReader(tarOf(t, map[string][]byte{"Dockerfile": []byte(testDockerfile), "busybox": bb})),
		OutputStream:        &out,
		Labels:              testLabel,
		RmTmpContainer:      true,
		ForceRmTmpContainer: true,
	})
	t.Cleanup(func() { removeImage(t, cli, ref) })
	if err != nil {
		t.Fatalf("building the test image: %v\n%s", err, out.String())
	}
	return ref
}

func removeImage(t *testing.T, cli *docker.Client, ref string) {
	t.Helper()
	err := cli.RemoveImageExtended(ref, docker.RemoveImageOptions{Force: true, Context: context.Background()})
	if err != nil && !errors.Is(err, docker.ErrNoSuchImage) {
		t.Errorf("cleanup: removing image %s: %v", ref, err)
	}
}

// create makes a draft container and removes it at cleanup.
func create(t *testing.T, b ports.Containers, image string) string {
	t.Helper()
	id, err := b.Create(t.Context(), ports.ContainerSpec{Image: image, Draft: randomID(t), Owner: randomID(t), WorkDir: "/root", Network: "none"})
	if err != nil {
		t.Fatalf("Create: got error %v, want nil", err)
	}
	t.Cleanup(func() {
		if err := b.Remove(context.Background(), id); err != nil {
			t.Errorf("cleanup: Remove %s: %v", id, err)
		}
	})
	return id
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", what, err)
	}
}

// eventually polls cond until it holds or 15 s pass; cond describes what
// it saw.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) || t.Context().Err() != nil {
			t.Fatalf("%s: got %s, want it within 15s", what, saw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitDone waits until start_cmd finished and returns the state.
func waitDone(t *testing.T, b ports.Containers, id string) ports.ContainerState {
	t.Helper()
	var st ports.ContainerState
	eventually(t, "start_cmd done", func() (bool, string) {
		var err error
		st, err = b.Inspect(t.Context(), id)
		return err == nil && st.CmdDone, stateString(st, err)
	})
	return st
}

func stateString(st ports.ContainerState, err error) string {
	if err != nil {
		return "error " + err.Error()
	}
	code := "nil"
	if st.ExitCode != nil {
		code = fmt.Sprint(*st.ExitCode)
	}
	return fmt.Sprintf("running=%v done=%v exit=%s", st.Running, st.CmdDone, code)
}

// logText joins the log lines' text.
func logText(lines []ports.LogLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Stream + ":" + l.Text + "\n")
	}
	return b.String()
}
