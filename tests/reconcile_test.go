package tests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestOrphanContainerRemovedAtStartUp covers a server killed between the
// two steps of a container's creation (container made, draft record not
// yet written): at the next start-up the labelled container that no draft
// records is removed. The orphan is made by hand with this installation's
// labels; a container of another installation on the same engine is left
// alone.
func TestOrphanContainerRemovedAtStartUp(t *testing.T) {
	requireDocker(t)
	t.Parallel()
	instance := "orphan-test-" + randHex(t, 4)
	other := "other-test-" + randHex(t, 4)
	mine := runLabelled(t, instance)
	theirs := runLabelled(t, other)

	s := startServer(t, map[string]string{"RUNNABLE_INSTANCE": instance})
	tok, _ := newAnonymous(t, s)
	resp, body := s.Do(t, "GET", "/users/me", tok, nil)
	wantStatus(t, resp, body, 200)

	if containerExists(t, mine) {
		t.Fatalf("got orphan container %s still there after start-up, want it removed", mine[:12])
	}
	if !containerExists(t, theirs) {
		t.Fatalf("got another installation's container %s removed, want it left alone", theirs[:12])
	}
}

func randHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// runLabelled starts a container labelled as a draft's of instance and
// returns its id; it is removed in t.Cleanup whatever happens.
func runLabelled(t *testing.T, instance string) string {
	t.Helper()
	out := dockerCLI(t, "run", "-d",
		"--label", "com.runnable.managed=true",
		"--label", "com.runnable.instance="+instance,
		"--label", "com.runnable.draft="+randHex(t, 12),
		"--label", "com.runnable.test=1",
		"runnable/busybox:latest", "sleep", "300")
	id := strings.TrimSpace(out)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = exec.CommandContext(ctx, "docker", "rm", "-f", id).Run()
	})
	return id
}

func containerExists(t *testing.T, id string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "docker", "inspect", "--format", "{{.Id}}", id).Run() == nil
}

func dockerCLI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
