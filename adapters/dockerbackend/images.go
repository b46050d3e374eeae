package dockerbackend

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"

	docker "github.com/fsouza/go-dockerclient"

	"github.com/runnable/runnable/domain"
)

// RepoPrefix is the repository prefix of the server's images (spec §8.3).
const RepoPrefix = "runnable/"

// refRE matches a repository[:tag] reference without a digest.
var refRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$`)

// splitRef splits "repo:tag" ("latest" when no tag).
func splitRef(ref string) (repo, tag string, err error) {
	if !refRE.MatchString(ref) {
		return "", "", domain.Ef(domain.ErrInvalid, "invalid image reference: %q", ref)
	}
	repo, tag = ref, "latest"
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	return repo, tag, nil
}

// Commit snapshots the container as ref; the engine pauses a running
// container meanwhile. The image keeps the base image's entrypoint and
// command, not the supervisor's.
func (b *Backend) Commit(ctx context.Context, id, ref string) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	repo, tag, err := splitRef(ref)
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
	// The engine fills what the run config leaves empty from the
	// container's config (env, labels, working directory); a non-nil empty
	// entrypoint stays empty, so the supervisor is not carried over.
	run := &docker.Config{Entrypoint: []string{}}
	if base, err := b.client.InspectImage(c.Image); err == nil && base.Config != nil {
		if len(base.Config.Entrypoint) > 0 {
			run.Entrypoint = base.Config.Entrypoint
		}
		run.Cmd = base.Config.Cmd
	} else if err != nil && !isNotFound(err) {
		return b.fail(err, "")
	}
	_, err = b.client.CommitContainer(docker.CommitContainerOptions{
		Container:  id,
		Repository: repo,
		Tag:        tag,
		Run:        run,
		Context:    ctx,
	})
	return b.fail(err, msgContainerNotFound)
}

// ImageExists reports whether ref is present.
func (b *Backend) ImageExists(ctx context.Context, ref string) (bool, error) {
	if err := b.init(ctx); err != nil {
		return false, err
	}
	if ref == "" {
		return false, domain.E(domain.ErrInvalid, "invalid image reference: \"\"")
	}
	_, err := b.client.InspectImage(ref)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, b.fail(err, "")
}

// RemoveImage deletes ref; a missing one is not an error; ErrConflict when
// a container uses it.
func (b *Backend) RemoveImage(ctx context.Context, ref string) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	err := b.client.RemoveImageExtended(ref, docker.RemoveImageOptions{Context: ctx})
	switch {
	case err == nil, isNotFound(err):
		return nil
	case statusOf(err) == http.StatusConflict:
		return domain.Wrap(domain.ErrConflict, "image is in use", err)
	}
	return b.fail(err, "")
}

// ListImages lists the references under RepoPrefix, sorted.
func (b *Backend) ListImages(ctx context.Context) ([]string, error) {
	if err := b.init(ctx); err != nil {
		return nil, err
	}
	// Only this installation's images: commits inherit the container's
	// labels and builds get ExtraLabels, so servers sharing an engine
	// never see (or clean up) each other's versions.
	opts := docker.ListImagesOptions{Context: ctx}
	if len(b.cfg.ExtraLabels) > 0 {
		var labels []string
		for k, v := range b.cfg.ExtraLabels {
			labels = append(labels, k+"="+v)
		}
		opts.Filters = map[string][]string{"label": labels}
	}
	imgs, err := b.client.ListImages(opts)
	if err != nil {
		return nil, b.fail(err, "")
	}
	refs := []string{}
	for _, img := range imgs {
		for _, t := range img.RepoTags {
			if strings.HasPrefix(t, RepoPrefix) {
				refs = append(refs, t)
			}
		}
	}
	sort.Strings(refs)
	return refs, nil
}

// Build builds a context tar into ref with the engine's builder, calling
// progress with each output line (from the calling goroutine). A failing
// build gives ErrInvalid "image build failed: <last line>".
func (b *Backend) Build(ctx context.Context, contextTar io.Reader, ref string, progress func(string)) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	if _, _, err := splitRef(ref); err != nil {
		return err
	}
	if progress == nil {
		progress = func(string) {}
	}
	pr, pw := io.Pipe()
	built := make(chan error, 1)
	go func() {
		err := b.client.BuildImage(docker.BuildImageOptions{
			Context:             ctx,
			Name:                ref,
			InputStream:         contextTar,
			OutputStream:        pw,
			RawJSONStream:       true,
			RmTmpContainer:      true,
			ForceRmTmpContainer: true,
			Labels:              b.cfg.ExtraLabels,
			Memory:              b.cfg.Memory,
			Memswap:             b.cfg.Memory,
		})
		pw.CloseWithError(err)
		built <- err
	}()
	last, buildErr := "", ""
	dec := json.NewDecoder(pr)
	for {
		var m struct {
			Stream string `json:"stream"`
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&m); err != nil {
			break
		}
		text := m.Stream
		if text == "" {
			text = m.Status
		}
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimRight(line, "\r "); line != "" {
				last = line
				progress(line)
			}
		}
		if m.Error != "" {
			buildErr = strings.TrimSpace(m.Error)
			progress(buildErr)
		}
	}
	pr.CloseWithError(errStop)
	err := <-built
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	switch {
	case buildErr != "":
		return domain.Ef(domain.ErrInvalid, "image build failed: %s", buildErr)
	case err != nil && (isUnavailable(err) || errors.Is(err, errStop)):
		return b.fail(err, "")
	case err != nil:
		var de *docker.Error
		if errors.As(err, &de) {
			return domain.Ef(domain.ErrInvalid, "image build failed: %s", strings.TrimSpace(de.Message))
		}
		return b.fail(err, "")
	}
	if ok, err := b.ImageExists(ctx, ref); err != nil || !ok {
		if err == nil {
			err = domain.Ef(domain.ErrInvalid, "image build failed: %s", last)
		}
		return err
	}
	return nil
}

// errOneImage is the contract error of an archive without exactly one image.
func errOneImage() error {
	return domain.E(domain.ErrInvalid, "archive must contain exactly one image")
}

// Load imports a docker-save tar (optionally gzipped) that holds exactly
// one image and tags it ref. The archive's own tags are stripped before
// the engine sees it, so a load never moves another image's reference.
func (b *Backend) Load(ctx context.Context, archive io.Reader, ref string) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	repo, tag, err := splitRef(ref)
	if err != nil {
		return err
	}
	spool, err := os.CreateTemp("", "runnable-load-*.tar")
	if err != nil {
		return domain.Wrap(domain.ErrBackend, msgBackend, err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	if _, err := io.Copy(spool, archive); err != nil {
		return domain.Wrap(domain.ErrBackend, msgBackend, err)
	}
	open := func() (io.Reader, error) {
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		br := bufio.NewReader(spool)
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			return gzip.NewReader(br)
		}
		return br, nil
	}
	r, err := open()
	if err != nil {
		return domain.Wrap(domain.ErrInvalid, "archive is not a docker image or build context", err)
	}
	manifest, err := readManifest(r)
	if err != nil {
		return err
	}
	if r, err = open(); err != nil {
		return domain.Wrap(domain.ErrBackend, msgBackend, err)
	}
	pr, pw := io.Pipe()
	rewritten := make(chan struct{})
	go func() {
		defer close(rewritten)
		pw.CloseWithError(rewriteSave(r, pw, manifest))
	}()
	var out bytes.Buffer
	err = b.client.LoadImage(docker.LoadImageOptions{InputStream: pr, OutputStream: &out, Context: ctx})
	pr.CloseWithError(errStop)
	<-rewritten
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if isUnavailable(err) {
			return b.fail(err, "")
		}
		return domain.Wrap(domain.ErrInvalid, "archive is not a docker image or build context", err)
	}
	var ids []string
	for _, line := range strings.Split(out.String(), "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "Loaded image ID: "); ok {
			ids = append(ids, id)
		} else if name, ok := strings.CutPrefix(strings.TrimSpace(line), "Loaded image: "); ok {
			ids = append(ids, name)
		}
	}
	if len(ids) != 1 {
		return errOneImage()
	}
	err = b.client.TagImage(ids[0], docker.TagImageOptions{Repo: repo, Tag: tag, Force: true, Context: ctx})
	return b.fail(err, msgImageNotFound)
}

// readManifest finds manifest.json in a docker-save tar and checks it
// names exactly one image.
func readManifest(r io.Reader) ([]map[string]any, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errOneImage()
		}
		if err != nil {
			return nil, domain.Wrap(domain.ErrInvalid, "archive is not a docker image or build context", err)
		}
		if strings.TrimPrefix(h.Name, "./") != "manifest.json" {
			continue
		}
		var m []map[string]any
		if err := json.NewDecoder(io.LimitReader(tr, 16<<20)).Decode(&m); err != nil {
			return nil, domain.Wrap(domain.ErrInvalid, "archive is not a docker image or build context", err)
		}
		if len(m) != 1 {
			return nil, errOneImage()
		}
		return m, nil
	}
}

// rewriteSave copies a docker-save tar with the manifest's RepoTags
// removed and without the legacy "repositories" file.
func rewriteSave(r io.Reader, w io.Writer, manifest []map[string]any) error {
	for _, m := range manifest {
		delete(m, "RepoTags")
	}
	mj, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "repositories":
			continue
		case "manifest.json":
			h.Size = int64(len(mj))
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if _, err := tw.Write(mj); err != nil {
				return err
			}
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// Export writes a docker-save tar of ref.
func (b *Backend) Export(ctx context.Context, ref string, w io.Writer) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	if _, err := b.client.InspectImage(ref); err != nil {
		return b.fail(err, msgImageNotFound)
	}
	err := b.client.ExportImage(docker.ExportImageOptions{Name: ref, OutputStream: w, Context: ctx})
	return b.fail(err, msgImageNotFound)
}

// ImageCommand returns the image's entrypoint and command as one shell
// command: `/bin/sh -c X` (the shell form) gives X, other words are
// quoted where needed.
func (b *Backend) ImageCommand(ctx context.Context, ref string) (string, error) {
	if err := b.init(ctx); err != nil {
		return "", err
	}
	img, err := b.client.InspectImage(ref)
	if err != nil {
		return "", b.fail(err, msgImageNotFound)
	}
	if img.Config == nil {
		return "", nil
	}
	return joinCommand(append(append([]string{}, img.Config.Entrypoint...), img.Config.Cmd...)), nil
}

var safeWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

func joinCommand(words []string) string {
	if len(words) == 3 && (words[0] == "/bin/sh" || words[0] == "sh") && words[1] == "-c" {
		return words[2]
	}
	q := make([]string, len(words))
	for i, w := range words {
		if safeWord.MatchString(w) {
			q[i] = w
		} else {
			q[i] = shellQuote(w)
		}
	}
	return strings.Join(q, " ")
}
