package app

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/runnable/runnable/domain"
)

// Manifest is runnable.json (spec §9.2).
type Manifest struct {
	Name        *string           `json:"name"`
	Description string            `json:"description"`
	StartCmd    *string           `json:"start_cmd"`
	Tags        []string          `json:"tags"`
	Env         map[string]string `json:"env"`
	FileRoot    string            `json:"file_root"`
	Files       []struct {
		Path    string `json:"path"`
		Default bool   `json:"default"`
	} `json:"files"`
	Ignore []string `json:"ignore"`
}

// ParseManifest decodes and checks runnable.json.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, domain.Ef(domain.ErrInvalid, "invalid runnable.json: %s", jsonField(err))
	}
	if m.FileRoot == "" {
		m.FileRoot = domain.DefaultFileRoot
	}
	if !strings.HasPrefix(m.FileRoot, "/") {
		return nil, domain.E(domain.ErrInvalid, "invalid runnable.json: file_root")
	}
	m.FileRoot = path.Clean(m.FileRoot)
	if err := domain.ValidateEnv(m.Env); err != nil {
		return nil, domain.E(domain.ErrInvalid, "invalid runnable.json: env")
	}
	for _, t := range m.Tags {
		if _, err := domain.ValidateTagName(t); err != nil {
			return nil, domain.E(domain.ErrInvalid, "invalid runnable.json: tags")
		}
	}
	return &m, nil
}

func jsonField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	return "syntax"
}

// ImportOptions override runnable.json.
type ImportOptions struct {
	Name, Description *string
	Owner             *domain.User
	Template          bool
	Progress          func(string)
}

// ImportContext builds a build-context tar (Dockerfile + runnable.json)
// into a new image (spec §9.2, §9.3).
func (a *App) ImportContext(ctx context.Context, contextTar []byte, opt ImportOptions) (*domain.Image, error) {
	manifestBytes, err := findInTar(contextTar, "runnable.json")
	if err != nil {
		return nil, err
	}
	if manifestBytes == nil {
		return nil, domain.E(domain.ErrInvalid, "runnable.json required")
	}
	m, err := ParseManifest(manifestBytes)
	if err != nil {
		return nil, err
	}
	name := ""
	if m.Name != nil {
		name = *m.Name
	}
	if opt.Name != nil && *opt.Name != "" {
		name = *opt.Name
	}
	if strings.TrimSpace(name) == "" {
		return nil, domain.E(domain.ErrInvalid, "runnable name required")
	}
	if name, err = domain.ValidateName(name); err != nil {
		return nil, err
	}
	desc := m.Description
	if opt.Description != nil {
		desc = *opt.Description
	}
	if err := domain.ValidateDescription(desc); err != nil {
		return nil, err
	}
	if _, err := a.Images.FindByName(ctx, name); err == nil {
		return nil, domain.ErrNameTaken
	} else if !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	id := a.IDs.NewID()
	ref := domain.ImageRef(id, 1)
	progress := opt.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if err := a.Containers.Build(ctx, bytes.NewReader(contextTar), ref, progress); err != nil {
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

func (a *App) removeRef(ref string) {
	if err := a.Containers.RemoveImage(context.WithoutCancel(a.baseCtx), ref); err != nil {
		a.Logger.Warn("remove image", "ref", ref, "err", err)
	}
}

func (a *App) createImported(ctx context.Context, id domain.ID, ref, name, desc, startCmd string, m *Manifest, opt ImportOptions) (*domain.Image, error) {
	now := a.now()
	img := &domain.Image{
		ID: id, Name: name, Description: desc, Owner: opt.Owner.ID, Version: 1, Status: domain.ImageReady,
		StartCmd: startCmd, Env: m.Env, FileRoot: m.FileRoot, Created: now, Updated: now, Ref: ref, Template: opt.Template,
	}
	if img.Env == nil {
		img.Env = map[string]string{}
	}
	for _, t := range m.Tags {
		ch, err := a.EnsureChannel(ctx, t)
		if err != nil {
			return nil, err
		}
		if !domain.HasTagOn(img.Tags, ch.ID) {
			img.Tags = append(img.Tags, domain.Tag{ID: a.IDs.NewID(), Channel: ch.ID, Name: ch.Name})
		}
	}
	defaults := map[string]bool{}
	for _, f := range m.Files {
		if p, err := domain.NormalizePath(f.Path); err == nil && f.Default {
			defaults[p] = true
		}
	}
	files, _, err := a.readIndex(ctx, imageTarget(img), defaults)
	if err != nil {
		return nil, err
	}
	// the index first: once the image is listed, a fork copies its index
	if err := a.Files.Replace(ctx, img.ID, files); err != nil {
		return nil, err
	}
	if err := a.Images.Create(ctx, img); err != nil {
		_ = a.Files.DeleteAll(context.WithoutCancel(ctx), img.ID)
		return nil, err
	}
	return img, nil
}

// EnsureChannel finds a channel by alias or creates it; concurrent callers
// end with one channel.
func (a *App) EnsureChannel(ctx context.Context, name string) (*domain.Channel, error) {
	n, err := domain.ValidateTagName(name)
	if err != nil {
		return nil, err
	}
	return findOrCreate(ctx, func() (*domain.Channel, bool, error) {
		ch, err := a.Channels.FindByAlias(ctx, strings.ToLower(n))
		if errors.Is(err, domain.ErrNotFound) {
			return nil, false, nil
		}
		return ch, err == nil, err
	}, func() (*domain.Channel, error) {
		ch := domain.NewChannel(a.IDs.NewID(), n, "", a.now())
		return ch, a.Channels.Create(ctx, ch)
	}, domain.E(domain.ErrConflict, "channel with name already exists"))
}

// findInTar returns the content of a root-level file, or nil; a tar with a
// single top-level folder is looked into.
func findInTar(b []byte, name string) ([]byte, error) {
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, domain.E(domain.ErrInvalid, "archive is not a docker image or build context")
		}
		n := strings.TrimPrefix(path.Clean(h.Name), "./")
		if n == name {
			return io.ReadAll(tr)
		}
	}
}

// TarDir packs a directory as a build-context tar.
func TarDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if de.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(tw, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ImportTemplates imports every template directory under dir whose name
// is not yet taken (spec §9.3). One replica does it, under a lock.
func (a *App) ImportTemplates(ctx context.Context, dir, adminEmail string) error {
	lock, ok, err := a.Locks.Acquire(ctx, "lock:templates", 15*time.Minute)
	if err != nil {
		return err
	}
	if !ok {
		a.Logger.Info("templates are being imported by another replica")
		return nil
	}
	defer func() { _ = lock.Release(context.WithoutCancel(ctx)) }()
	owner, err := a.SystemUser(ctx, adminEmail)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read templates dir: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		mb, err := os.ReadFile(filepath.Join(sub, "runnable.json"))
		if err != nil {
			continue
		}
		m, err := ParseManifest(mb)
		if err != nil || m.Name == nil {
			a.Logger.Error("template skipped", "dir", sub, "err", err)
			continue
		}
		if _, err := a.Images.FindByName(ctx, *m.Name); err == nil {
			continue
		}
		tb, err := TarDir(sub)
		if err != nil {
			a.Logger.Error("template skipped", "dir", sub, "err", err)
			continue
		}
		img, err := a.importTemplate(ctx, sub, tb, owner)
		if err != nil {
			a.Logger.Error("template import failed", "dir", sub, "err", err)
			continue
		}
		a.Logger.Info("template imported", "name", img.Name, "image", img.ID.Short())
	}
	return nil
}

// importTemplate imports one template, trying again after a backend error
// (a busy engine can fail a build or a temporary container); invalid
// templates and taken names are not retried.
func (a *App) importTemplate(ctx context.Context, dir string, contextTar []byte, owner *domain.User) (*domain.Image, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var img *domain.Image
		img, err = a.ImportContext(ctx, contextTar, ImportOptions{Owner: owner, Template: true})
		if err == nil {
			return img, nil
		}
		if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrConflict) || ctx.Err() != nil {
			return nil, err
		}
		a.Logger.Warn("template import failed; trying again", "dir", dir, "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 2 * time.Second):
		}
	}
	return nil, err
}
