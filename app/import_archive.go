package app

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path"
	"strings"

	"github.com/runnable/runnable/domain"
)

// Import formats (spec §9.2).
const (
	FormatAuto       = "auto"
	FormatDockerSave = "docker-save"
	FormatContext    = "context"
)

var (
	errNotImportable   = domain.E(domain.ErrInvalid, "archive is not a docker image or build context")
	errOneImage        = domain.E(domain.ErrInvalid, "archive must contain exactly one image")
	errNameRequired    = domain.E(domain.ErrInvalid, "runnable name required")
	errBadFormat       = domain.E(domain.ErrInvalid, "format must be one of auto, docker-save, context")
	errImportTimedOut  = domain.E(domain.ErrBackend, "import timed out")
	errAdminOnly       = domain.ErrPermissionDenied
	errImageInProgress = domain.ErrSaveInProgress
)

// RequireAdmin refuses callers below level 10 (403 "permission denied").
func (a *App) RequireAdmin(caller *domain.User) error {
	if caller == nil || !caller.IsAdmin() {
		return errAdminOnly
	}
	return nil
}

// ImportInput is the query of POST /runnables/import.
type ImportInput struct {
	// Format is "auto" (or ""), "docker-save" or "context".
	Format string
	// Name and Description override runnable.json when not nil.
	Name, Description *string
	// Owner is the owner's hex id; "" means the caller.
	Owner string
	// Progress receives each line of build output.
	Progress func(string)
}

// ImportArchive imports a docker-save tar or a build-context tar, either
// possibly gzipped (spec §9.2), as a new image at version 1. Admins only.
// The archive is read more than once (detection, then load or build), so
// it must be seekable. The work is bounded by IMPORT_TIMEOUT.
func (a *App) ImportArchive(ctx context.Context, caller *domain.User, archive io.ReadSeeker, in ImportInput) (*domain.Image, error) {
	if err := a.RequireAdmin(caller); err != nil {
		return nil, err
	}
	switch in.Format {
	case "", FormatAuto, FormatDockerSave, FormatContext:
	default:
		return nil, errBadFormat
	}
	owner := caller
	if in.Owner != "" {
		u, err := a.ResolveUser(ctx, caller, in.Owner)
		if err != nil {
			return nil, err
		}
		if u.Deleted {
			return nil, domain.ErrUserNotFound
		}
		owner = u
	}
	if a.cfg.ImportTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.cfg.ImportTimeout)
		defer cancel()
	}
	scan, err := scanArchive(archive)
	if err != nil {
		return nil, err
	}
	format := in.Format
	if format == "" || format == FormatAuto {
		switch {
		case scan.dockerManifest != nil:
			format = FormatDockerSave
		case scan.contextRoot != nil:
			format = FormatContext
		default:
			return nil, errNotImportable
		}
	}
	opt := ImportOptions{Name: in.Name, Description: in.Description, Owner: owner, Progress: in.Progress}
	var img *domain.Image
	if format == FormatDockerSave {
		img, err = a.importDockerSave(ctx, archive, scan, opt)
	} else {
		img, err = a.importContextArchive(ctx, archive, scan, opt)
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, domain.Wrap(errImportTimedOut.Kind, errImportTimedOut.Message, err)
	}
	return img, err
}

// archiveScan is what one pass over an import archive found.
type archiveScan struct {
	dockerManifest []byte // root manifest.json
	rootManifest   []byte // root runnable.json
	// contextRoot is the directory holding the Dockerfile: "" for the
	// archive root, "name/" for a single top-level folder; nil if none.
	contextRoot *string
	// prefixManifest is runnable.json inside the single top-level folder.
	prefixManifest []byte
}

// openArchive rewinds r and returns the tar stream, gunzipped when r
// starts with the gzip magic bytes.
func openArchive(r io.ReadSeeker) (io.Reader, func(), error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, errNotImportable
		}
		return zr, func() { _ = zr.Close() }, nil
	}
	return br, func() {}, nil
}

const maxMetaFile = 1 << 20 // manifest.json, runnable.json

func scanArchive(r io.ReadSeeker) (*archiveScan, error) {
	tr0, closeFn, err := openArchive(r)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	tr := tar.NewReader(tr0)
	s := &archiveScan{}
	tops := map[string]bool{}
	var rootDockerfile bool
	var nestedDockerfile string
	nested := map[string][]byte{}
	entries := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errNotImportable
		}
		entries++
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if name == "" {
			continue
		}
		top, rest, _ := strings.Cut(name, "/")
		tops[top] = true
		isReg := h.Typeflag == tar.TypeReg
		switch {
		case name == "manifest.json" && isReg:
			if s.dockerManifest, err = readSmall(tr); err != nil {
				return nil, err
			}
		case name == "runnable.json" && isReg:
			if s.rootManifest, err = readSmall(tr); err != nil {
				return nil, err
			}
		case name == "Dockerfile":
			rootDockerfile = true
		case rest == "Dockerfile":
			nestedDockerfile = top
		case rest == "runnable.json" && isReg:
			if nested[top], err = readSmall(tr); err != nil {
				return nil, err
			}
		}
	}
	if entries == 0 {
		return nil, errNotImportable
	}
	switch {
	case rootDockerfile:
		root := ""
		s.contextRoot = &root
	case nestedDockerfile != "" && len(tops) == 1:
		root := nestedDockerfile + "/"
		s.contextRoot = &root
		s.prefixManifest = nested[nestedDockerfile]
	}
	return s, nil
}

func readSmall(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxMetaFile+1))
	if err != nil {
		return nil, errNotImportable
	}
	if len(b) > maxMetaFile {
		return nil, domain.E(domain.ErrInvalid, "invalid runnable.json: size")
	}
	return b, nil
}

// importContextArchive builds a build context. A context inside a single
// top-level folder is re-rooted first. The context is held in memory (it
// is bounded by IMPORT_MAX_BYTES, and contexts are small).
func (a *App) importContextArchive(ctx context.Context, archive io.ReadSeeker, scan *archiveScan, opt ImportOptions) (*domain.Image, error) {
	if scan.contextRoot == nil {
		if scan.rootManifest == nil {
			return nil, domain.E(domain.ErrInvalid, "runnable.json required")
		}
		return nil, errNotImportable
	}
	src, closeFn, err := openArchive(archive)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var buf bytes.Buffer
	if err := reroot(tar.NewReader(src), tar.NewWriter(&buf), *scan.contextRoot); err != nil {
		return nil, err
	}
	return a.ImportContext(ctx, buf.Bytes(), opt)
}

// reroot copies a tar keeping only entries under prefix, renamed
// relative to it.
func reroot(tr *tar.Reader, tw *tar.Writer, prefix string) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errNotImportable
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if prefix != "" {
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			name = strings.TrimPrefix(name, prefix)
		}
		if name == "" {
			continue
		}
		if h.Typeflag == tar.TypeDir {
			name += "/"
		}
		h.Name = name
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return errNotImportable
		}
	}
	return tw.Close()
}

// dockerSaveManifest is one entry of a docker-save manifest.json.
type dockerSaveManifest struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// importDockerSave loads a docker-save archive as version 1. Metadata come
// from an optional root runnable.json, overridden by the query.
func (a *App) importDockerSave(ctx context.Context, archive io.ReadSeeker, scan *archiveScan, opt ImportOptions) (*domain.Image, error) {
	if scan.dockerManifest == nil {
		return nil, errNotImportable
	}
	var images []dockerSaveManifest
	if err := json.Unmarshal(scan.dockerManifest, &images); err != nil {
		return nil, errNotImportable
	}
	if len(images) != 1 {
		return nil, errOneImage
	}
	m := &Manifest{FileRoot: domain.DefaultFileRoot}
	if scan.rootManifest != nil {
		var err error
		if m, err = ParseManifest(scan.rootManifest); err != nil {
			return nil, err
		}
	}
	name, desc, err := importNames(m, opt)
	if err != nil {
		return nil, err
	}
	if _, err := a.Images.FindByName(ctx, name); err == nil {
		return nil, domain.ErrNameTaken
	} else if !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	id := a.IDs.NewID()
	ref := domain.ImageRef(id, 1)
	src, closeFn, err := openArchive(archive)
	if err != nil {
		return nil, err
	}
	err = a.Containers.Load(ctx, src, ref)
	closeFn()
	if err != nil {
		return nil, err
	}
	startCmd := ""
	if m.StartCmd != nil {
		startCmd = *m.StartCmd
	} else if startCmd, err = a.Containers.ImageCommand(ctx, ref); err != nil {
		a.removeRef(ref)
		return nil, err
	}
	img, err := a.createImported(ctx, id, ref, name, desc, startCmd, m, opt)
	if err != nil {
		a.removeRef(ref)
		return nil, err
	}
	return img, nil
}

// importNames picks the name and description: the query's, else
// runnable.json's.
func importNames(m *Manifest, opt ImportOptions) (string, string, error) {
	name := ""
	if m.Name != nil {
		name = *m.Name
	}
	if opt.Name != nil && *opt.Name != "" {
		name = *opt.Name
	}
	if strings.TrimSpace(name) == "" {
		return "", "", errNameRequired
	}
	name, err := domain.ValidateName(name)
	if err != nil {
		return "", "", err
	}
	desc := m.Description
	if opt.Description != nil {
		desc = *opt.Description
	}
	if err := domain.ValidateDescription(desc); err != nil {
		return "", "", err
	}
	return name, desc, nil
}
