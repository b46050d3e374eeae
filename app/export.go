package app

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/runnable/runnable/domain"
)

// exportManifest is the runnable.json written at the root of an export.
type exportManifest struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	StartCmd    string            `json:"start_cmd"`
	Tags        []string          `json:"tags"`
	Env         map[string]string `json:"env"`
	FileRoot    string            `json:"file_root"`
	Files       []exportFile      `json:"files"`
	Ignore      []string          `json:"ignore"`
}

type exportFile struct {
	Path    string `json:"path"`
	Default bool   `json:"default"`
}

// Export is an image ready to be streamed as a docker-save tar with a
// root runnable.json (spec §9.2).
type Export struct {
	// Filename is "<name-slug>-v<version>.tar".
	Filename string

	a        *App
	ref      string
	manifest []byte
}

// ExportImage checks the caller is an admin and the image exists and has a
// version (409 "a save is already in progress" at version 0).
func (a *App) ExportImage(ctx context.Context, caller *domain.User, id string) (*Export, error) {
	if err := a.RequireAdmin(caller); err != nil {
		return nil, err
	}
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if img.Version < 1 {
		return nil, errImageInProgress
	}
	files, err := a.Files.List(ctx, img.ID)
	if err != nil {
		return nil, err
	}
	m := exportManifest{
		Name: img.Name, Description: img.Description, StartCmd: img.StartCmd, Tags: []string{},
		Env: img.Env, FileRoot: img.FileRoot, Files: []exportFile{}, Ignore: a.cfg.FilesIgnore,
	}
	if m.Env == nil {
		m.Env = map[string]string{}
	}
	if m.Ignore == nil {
		m.Ignore = []string{}
	}
	for _, t := range img.Tags {
		m.Tags = append(m.Tags, t.Name)
	}
	for _, f := range files {
		if f.Default && !f.Dir {
			m.Files = append(m.Files, exportFile{Path: f.FullPath(), Default: true})
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return &Export{
		Filename: fmt.Sprintf("%s-v%d.tar", slug(img.Name), img.Version),
		a:        a, ref: img.Ref, manifest: append(b, '\n'),
	}, nil
}

// Stream writes the archive to w: runnable.json first, then the
// backend's docker-save entries. begin, when not nil, is called once just
// before the first byte is written, so that a backend failing before it
// produced anything is an ordinary error; a failure after that can only be
// reported by cutting the stream.
func (e *Export) Stream(ctx context.Context, w io.Writer, begin func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := e.a.Containers.Export(ctx, e.ref, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	err := e.copy(tar.NewReader(pr), w, begin)
	if err == nil {
		// the tar ended; let the backend finish its stream (padding)
		_, _ = io.Copy(io.Discard, pr)
	} else {
		cancel()
		_ = pr.CloseWithError(errors.New("export ended")) // unblock the backend
	}
	exportErr := <-done
	if exportErr != nil && (err == nil || errors.Is(err, exportErr)) {
		return exportErr
	}
	return err
}

func (e *Export) copy(tr *tar.Reader, w io.Writer, begin func()) error {
	first, err := tr.Next()
	if err == io.EOF {
		return errors.New("export: empty archive")
	}
	if err != nil {
		return err
	}
	if begin != nil {
		begin()
	}
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: "runnable.json", Mode: 0o644, Size: int64(len(e.manifest)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(e.manifest); err != nil {
		return err
	}
	if err := copyEntry(first, tr, tw); err != nil {
		return err
	}
	if err := copyTar(tr, tw); err != nil {
		return err
	}
	return tw.Close()
}

// copyTar copies every remaining entry.
func copyTar(tr *tar.Reader, tw *tar.Writer) error {
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := copyEntry(h, tr, tw); err != nil {
			return err
		}
	}
}

// copyEntry copies one entry, except a root runnable.json (the export
// writes its own).
func copyEntry(h *tar.Header, tr *tar.Reader, tw *tar.Writer) error {
	if strings.TrimPrefix(path.Clean("/"+h.Name), "/") == "runnable.json" {
		return nil
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err := io.Copy(tw, tr)
	return err
}

// slug lower-cases name and joins its runs of letters and digits with
// dashes ("My App!" -> "my-app"); an empty result is "runnable".
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "runnable"
	}
	return b.String()
}
