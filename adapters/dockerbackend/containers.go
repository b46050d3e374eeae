package dockerbackend

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"path"
	"strconv"
	"time"

	docker "github.com/fsouza/go-dockerclient"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Create makes a stopped container for a draft (spec §4.7). The draft's
// env is not baked into the container: each Start writes it for start_cmd,
// so that env changes take effect and commits do not carry it. Nothing is
// written into the container: the state files it may have inherited from
// its image do not carry its fresh nonce, so they are ignored until the
// first start writes its own.
func (b *Backend) Create(ctx context.Context, spec ports.ContainerSpec) (string, error) {
	if err := b.init(ctx); err != nil {
		return "", err
	}
	if spec.Image == "" {
		return "", domain.E(domain.ErrInvalid, "container image required")
	}
	if spec.WorkDir != "" && !path.IsAbs(spec.WorkDir) {
		return "", domain.E(domain.ErrInvalid, "working directory must be absolute")
	}
	if _, err := launchScript("", spec.Env); err != nil {
		return "", err
	}
	img, err := b.client.InspectImage(spec.Image)
	if err != nil {
		return "", b.fail(err, msgImageNotFound)
	}
	var cmd []string
	if img.Config != nil {
		cmd = img.Config.Cmd
	}
	labels := b.labels()
	labels[LabelDraft] = spec.Draft.Hex()
	labels[LabelOwner] = spec.Owner.Hex()
	network := spec.Network
	if network == "" {
		network = "none"
	}
	c, err := b.client.CreateContainer(docker.CreateContainerOptions{
		Config: &docker.Config{
			Image:      spec.Image,
			Entrypoint: supervisorEntrypoint(newNonce()),
			Cmd:        cmd,
			WorkingDir: spec.WorkDir,
			Hostname:   b.cfg.Hostname,
			Labels:     labels,
			StopSignal: "SIGTERM",
		},
		HostConfig: b.hostConfig(network),
		Context:    ctx,
	})
	if err != nil {
		return "", b.fail(err, msgImageNotFound)
	}
	return c.ID, nil
}

// labels returns the labels common to everything the backend makes.
func (b *Backend) labels() map[string]string {
	l := map[string]string{LabelManaged: "true"}
	for k, v := range b.cfg.ExtraLabels {
		l[k] = v
	}
	return l
}

// hostConfig holds the limits and security settings of spec §4.7.
func (b *Backend) hostConfig(network string) *docker.HostConfig {
	pids := b.cfg.PidsLimit
	half := b.cfg.LogMaxBytes / 2
	if half < 1 {
		half = 1
	}
	return &docker.HostConfig{
		CapDrop:     []string{"ALL"},
		CapAdd:      b.cfg.CapAdd,
		SecurityOpt: []string{"no-new-privileges"},
		Privileged:  false,
		Memory:      b.cfg.Memory,
		MemorySwap:  b.cfg.Memory,
		NanoCPUs:    int64(math.Round(b.cfg.CPUs * 1e9)),
		PidsLimit:   &pids,
		Ulimits: []docker.ULimit{
			{Name: "nofile", Soft: b.cfg.NoFile, Hard: b.cfg.NoFile},
			{Name: "fsize", Soft: b.cfg.FileMaxBytes, Hard: b.cfg.FileMaxBytes},
		},
		// Two files of half the size each: a rotation drops the older
		// half, never the whole log.
		LogConfig:     docker.LogConfig{Type: "json-file", Config: map[string]string{"max-size": strconv.FormatInt(half, 10), "max-file": "2"}},
		NetworkMode:   network,
		IpcMode:       "private",
		Runtime:       b.cfg.Runtime,
		RestartPolicy: docker.NeverRestart(),
	}
}

// upload extracts a tar at dir in the container.
func (b *Backend) upload(ctx context.Context, id, dir string, tarball []byte) error {
	err := b.client.UploadToContainer(id, docker.UploadToContainerOptions{
		InputStream:          bytes.NewReader(tarball),
		Path:                 dir,
		NoOverwriteDirNonDir: true,
		Context:              ctx,
	})
	return b.fail(err, msgContainerNotFound)
}

// nonceOf returns the nonce of a draft container (see containerNonce).
func nonceOf(c *docker.Container) string {
	if c.Config == nil {
		return ""
	}
	return containerNonce(c.Config.Entrypoint)
}

// inspect returns the engine's view of a container.
func (b *Backend) inspect(ctx context.Context, id string) (*docker.Container, error) {
	c, err := b.client.InspectContainerWithOptions(docker.InspectContainerOptions{ID: id, Context: ctx})
	if err != nil {
		return nil, b.fail(err, msgContainerNotFound)
	}
	return c, nil
}

// Start writes the run's files and starts the supervisor. A container left
// running (by a hold run that did not finish) is stopped first.
func (b *Backend) Start(ctx context.Context, id string, run ports.RunSpec) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	launch, err := launchScript(run.StartCmd, run.Env)
	if err != nil {
		return err
	}
	unlock, err := b.locks.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := b.inspect(ctx, id)
	if err != nil {
		return err
	}
	if c.State.Running {
		if err := b.stop(ctx, id, 2*time.Second); err != nil {
			return err
		}
	}
	nonce := nonceOf(c)
	files := map[string][]byte{modeFile: stateLine(modeRun, nonce), launchFile: launch, statusFile: nil}
	if run.StartCmd == "" {
		files[modeFile] = stateLine(modeIdle, nonce)
		files[statusFile] = stateLine("done", nonce)
	}
	if err := b.upload(ctx, id, "/", stateTar(files)); err != nil {
		return err
	}
	return b.start(ctx, id)
}

func (b *Backend) start(ctx context.Context, id string) error {
	err := b.client.StartContainerWithContext(id, nil, ctx)
	var running *docker.ContainerAlreadyRunning
	if errors.As(err, &running) {
		return nil
	}
	return b.fail(err, msgContainerNotFound)
}

// Stop sends SIGTERM, waits timeout (rounded up to whole seconds), then
// kills.
func (b *Backend) Stop(ctx context.Context, id string, timeout time.Duration) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	unlock, err := b.locks.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	return b.stop(ctx, id, timeout)
}

func (b *Backend) stop(ctx context.Context, id string, timeout time.Duration) error {
	secs := uint(0)
	if timeout > 0 {
		secs = uint((timeout + time.Second - 1) / time.Second)
	}
	err := b.client.StopContainerWithContext(id, secs, ctx)
	var notRunning *docker.ContainerNotRunning
	if errors.As(err, &notRunning) {
		return nil
	}
	return b.fail(err, msgContainerNotFound)
}

// Remove force-removes the container; a missing one is not an error.
func (b *Backend) Remove(ctx context.Context, id string) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	err := b.client.RemoveContainer(docker.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true, Context: ctx})
	if err == nil || isNotFound(err) {
		return nil
	}
	if statusOf(err) == http.StatusConflict { // removal already in progress
		return nil
	}
	return b.fail(err, "")
}

// Inspect returns the live state. CmdDone and ExitCode come from the
// supervisor's status file; while the adapter holds a stopped container
// up for a file operation it is reported as not running.
func (b *Backend) Inspect(ctx context.Context, id string) (ports.ContainerState, error) {
	if err := b.init(ctx); err != nil {
		return ports.ContainerState{}, err
	}
	c, err := b.inspect(ctx, id)
	if err != nil {
		return ports.ContainerState{}, err
	}
	st := ports.ContainerState{
		Running:    c.State.Running,
		Dead:       c.State.Dead,
		StartedAt:  c.State.StartedAt,
		FinishedAt: c.State.FinishedAt,
	}
	if st.StartedAt.IsZero() {
		return st, nil
	}
	files, err := b.readStateDir(ctx, id)
	if err != nil {
		return ports.ContainerState{}, err
	}
	rs := parseRunState(files, nonceOf(c))
	if rs.mode == modeHold {
		st.Running = false
	}
	st.CmdDone, st.ExitCode = rs.done, rs.exitCode
	return st, nil
}

// readStateDir returns the files of stateDir; none when it is missing.
func (b *Backend) readStateDir(ctx context.Context, id string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := b.walk(ctx, id, stateDir+"/.", func(rel string, h *tarEntry) (bool, error) {
		if h.regular() && h.Size <= 4096 {
			data, err := h.read()
			if err != nil {
				return false, err
			}
			files[rel] = data
		}
		return true, nil
	})
	if errors.Is(err, domain.ErrNotFound) {
		if _, ierr := b.inspect(ctx, id); ierr != nil {
			return nil, ierr
		}
		return files, nil
	}
	return files, err
}

// List returns every managed container that carries the extra labels.
func (b *Backend) List(ctx context.Context) ([]ports.ManagedContainer, error) {
	if err := b.init(ctx); err != nil {
		return nil, err
	}
	filters := []string{LabelManaged + "=true"}
	for k, v := range b.cfg.ExtraLabels {
		filters = append(filters, k+"="+v)
	}
	cs, err := b.client.ListContainers(docker.ListContainersOptions{All: true, Filters: map[string][]string{"label": filters}, Context: ctx})
	if err != nil {
		return nil, b.fail(err, "")
	}
	out := make([]ports.ManagedContainer, 0, len(cs))
	for _, c := range cs {
		draft, _ := domain.ParseHex(c.Labels[LabelDraft])
		out = append(out, ports.ManagedContainer{
			ID:      c.ID,
			Draft:   draft,
			Created: time.Unix(c.Created, 0).UTC(),
			Running: c.State == "running",
		})
	}
	return out, nil
}

// hold makes sure the container runs for an exec and returns what undoes
// it: a container that was not running is started in hold mode (the
// supervisor runs nothing) and stopped again afterwards. The container's
// lock is held until release.
func (b *Backend) hold(ctx context.Context, id string) (release func(), err error) {
	unlock, err := b.locks.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	c, err := b.inspect(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.State.Running {
		// Up for its draft, or left in hold mode by an interrupted hold
		// run, which this one then ends.
		files, err := b.readStateDir(ctx, id)
		if err != nil {
			return nil, err
		}
		if parseRunState(files, nonceOf(c)).mode != modeHold {
			return unlock, nil
		}
	} else {
		// Only the mode: the status of the draft's last run stays (and a
		// status inherited from the image stays ignored).
		mode := stateLine(modeHold, nonceOf(c))
		if err := b.upload(ctx, id, "/", stateTar(map[string][]byte{modeFile: mode})); err != nil {
			return nil, err
		}
		if err := b.start(ctx, id); err != nil {
			return nil, err
		}
	}
	return func() {
		_ = b.stop(context.WithoutCancel(ctx), id, time.Second)
		unlock()
	}, nil
}
