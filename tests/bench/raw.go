package main

// The raw baseline: the same container operations straight through the
// Docker Engine API, with the image and the security settings the server's
// adapter uses (adapters/dockerbackend/containers.go, hostConfig, with the
// defaults of spec §4.7 and the network of an anonymous owner).

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	docker "github.com/fsouza/go-dockerclient"
)

// Labels of everything the baseline makes: the test label every test
// object carries (`make clean` sweeps it) and one naming this run, which
// the benchmark's own sweep uses so that it never touches other runs'
// objects.
const (
	labelTest  = "com.runnable.test"
	labelBench = "com.runnable.bench"
)

// idleScript keeps a baseline container up doing nothing, as the server's
// supervisor does in idle mode.
const idleScript = `trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done`

// The defaults of dockerbackend.DefaultConfig (spec §4.7), copied: the
// benchmark is a black box and imports nothing from the module.
const (
	rawMemory    = 512 << 20
	rawNanoCPUs  = 1_000_000_000
	rawPids      = 256
	rawNoFile    = 1024
	rawLogMax    = 10 << 20
	rawHostname  = "runnable"
	rawWorkDir   = "/root"
	rawNetwork   = "none" // CONTAINER_NETWORK_ANONYMOUS: the benchmark's users are anonymous
	rawRepo      = "runnable-bench"
	rawFileOwner = 0
)

var rawCapAdd = []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "KILL", "NET_BIND_SERVICE"}

// raw drives the Docker Engine directly.
type raw struct {
	dc    *docker.Client
	run   string // value of labelBench
	image string // the container image both sides use
}

func (r *raw) labels() map[string]string {
	return map[string]string{labelTest: "1", labelBench: r.run}
}

func rawHostConfig() *docker.HostConfig {
	pids := int64(rawPids)
	return &docker.HostConfig{
		CapDrop:       []string{"ALL"},
		CapAdd:        rawCapAdd,
		SecurityOpt:   []string{"no-new-privileges"},
		Memory:        rawMemory,
		MemorySwap:    rawMemory,
		NanoCPUs:      rawNanoCPUs,
		PidsLimit:     &pids,
		Ulimits:       []docker.ULimit{{Name: "nofile", Soft: rawNoFile, Hard: rawNoFile}},
		LogConfig:     docker.LogConfig{Type: "json-file", Config: map[string]string{"max-size": strconv.Itoa(rawLogMax / 2), "max-file": "2"}},
		NetworkMode:   rawNetwork,
		IpcMode:       "private",
		RestartPolicy: docker.NeverRestart(),
	}
}

// create makes a stopped container of the image.
func (r *raw) create(ctx context.Context) (string, error) {
	c, err := r.dc.CreateContainer(docker.CreateContainerOptions{
		Config: &docker.Config{
			Image:      r.image,
			Entrypoint: []string{"/bin/sh", "-c", idleScript},
			WorkingDir: rawWorkDir,
			Hostname:   rawHostname,
			Labels:     r.labels(),
			StopSignal: "SIGTERM",
		},
		HostConfig: rawHostConfig(),
		Context:    ctx,
	})
	if err != nil {
		return "", fmt.Errorf("raw create: %w", err)
	}
	return c.ID, nil
}

func (r *raw) start(ctx context.Context, id string) error {
	if err := r.dc.StartContainerWithContext(id, nil, ctx); err != nil {
		return fmt.Errorf("raw start: %w", err)
	}
	return nil
}

// createStart is the baseline of fork → running.
func (r *raw) createStart(ctx context.Context) (string, error) {
	id, err := r.create(ctx)
	if err != nil {
		return "", err
	}
	return id, r.start(ctx, id)
}

// remove force-removes a container; gone already is fine. It runs even
// when ctx is cancelled.
func (r *raw) remove(ctx context.Context, id string) error {
	err := r.dc.RemoveContainer(docker.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true, Context: context.WithoutCancel(ctx)})
	if isNoSuch(err) {
		return nil
	}
	return err
}

// commit snapshots the container as runnable-bench:<tag>; the image
// inherits the container's labels.
func (r *raw) commit(ctx context.Context, id, tag string) (string, error) {
	img, err := r.dc.CommitContainer(docker.CommitContainerOptions{Container: id, Repository: rawRepo, Tag: tag, Context: ctx})
	if err != nil {
		return "", fmt.Errorf("raw commit: %w", err)
	}
	return img.ID, nil
}

func (r *raw) removeImage(ctx context.Context, id string) error {
	err := r.dc.RemoveImageExtended(id, docker.RemoveImageOptions{Force: true, Context: context.WithoutCancel(ctx)})
	if isNoSuch(err) {
		return nil
	}
	return err
}

// readFile is a raw archive GET of one file: the tar is downloaded and the
// file's bytes taken out of it.
func (r *raw) readFile(ctx context.Context, id, path string) ([]byte, error) {
	var buf bytes.Buffer
	if err := r.dc.DownloadFromContainer(id, docker.DownloadFromContainerOptions{OutputStream: &buf, Path: path, Context: ctx}); err != nil {
		return nil, fmt.Errorf("raw archive GET: %w", err)
	}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("raw archive GET %s: %w", path, err)
		}
		if h.Typeflag == tar.TypeReg {
			return io.ReadAll(tr)
		}
	}
}

// writeFile is a raw archive PUT of one file into dir.
func (r *raw) writeFile(ctx context.Context, id, dir, name string, data []byte) error {
	err := r.dc.UploadToContainer(id, docker.UploadToContainerOptions{
		InputStream:          bytes.NewReader(tarOf(name, data)),
		Path:                 dir,
		NoOverwriteDirNonDir: true,
		Context:              ctx,
	})
	if err != nil {
		return fmt.Errorf("raw archive PUT: %w", err)
	}
	return nil
}

// tarOf returns a tar holding one regular file.
func tarOf(name string, data []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Now(), Uid: rawFileOwner, Gid: rawFileOwner, Typeflag: tar.TypeReg})
	_, _ = tw.Write(data)
	_ = tw.Close()
	return buf.Bytes()
}

// sweep removes every container and image of this run.
func (r *raw) sweep(ctx context.Context) error {
	filter := map[string][]string{"label": {labelBench + "=" + r.run}}
	cs, err := r.dc.ListContainers(docker.ListContainersOptions{All: true, Filters: filter, Context: ctx})
	if err != nil {
		return err
	}
	errs := []error{parallel(ctx, 8, len(cs), func(ctx context.Context, i int) error { return r.remove(ctx, cs[i].ID) })}
	imgs, err := r.dc.ListImages(docker.ListImagesOptions{Filters: filter, Context: ctx})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	errs = append(errs, removeImages(ctx, r.dc, imgs))
	return errors.Join(errs...)
}
