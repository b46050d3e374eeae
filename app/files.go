package app

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// FileFilter is the query of a file listing (spec §5.3).
type FileFilter struct {
	Path      string
	Recursive bool
	Dir       *bool
	Default   *bool
	Content   bool
}

// FileInput is the JSON body creating a file or directory.
type FileInput struct {
	Name, Path, Content, Encoding *string
	Dir                           bool
	Default                       *bool
}

// FileUpdate is the body of PUT/PATCH on a file.
type FileUpdate struct {
	Content, Encoding, Name, Path *string
	Default                       *bool
}

// UploadFile is one part of a multipart upload.
type UploadFile struct {
	Name string
	Data []byte
}

// SyncResult is the reply of a sync.
type SyncResult struct {
	Date      time.Time
	Count     int
	Truncated bool
}

var (
	errPathMissing   = domain.E(domain.ErrNotFound, "path does not exist")
	errExists        = domain.E(domain.ErrConflict, "resource already exists")
	errFileTooLarge  = domain.E(domain.ErrTooLarge, "file too large")
	errNotEmpty      = domain.E(domain.ErrConflict, "directory is not empty")
	errArchiveTooBig = domain.E(domain.ErrTooLarge, "archive too large")
)

// fsTarget is a runnable whose files are read: a draft or an image.
type fsTarget struct {
	id       domain.ID
	fileRoot string
	src      ports.Source
}

func draftTarget(d *domain.Draft) fsTarget {
	src := ports.Source{Image: d.BaseRef}
	if d.ContainerID != "" {
		src = ports.Source{Container: d.ContainerID}
	}
	return fsTarget{id: d.ID, fileRoot: d.FileRoot, src: src}
}

func imageTarget(img *domain.Image) fsTarget {
	return fsTarget{id: img.ID, fileRoot: img.FileRoot, src: ports.Source{Image: img.Ref}}
}

// DecodeContent turns a body's content and encoding into bytes.
func DecodeContent(content string, encoding *string) ([]byte, error) {
	if encoding == nil || *encoding == "" || *encoding == "utf8" {
		return []byte(content), nil
	}
	if *encoding != "base64" {
		return nil, domain.E(domain.ErrInvalid, "encoding must be utf8 or base64")
	}
	b, err := base64.StdEncoding.DecodeString(content)
	if err != nil {
		return nil, domain.E(domain.ErrInvalid, "content is not valid base64")
	}
	return b, nil
}

// EncodeContent returns the content and encoding a reader gets.
func EncodeContent(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), "utf8"
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

// ListDraftFiles lists a draft's files (owner or moderator).
func (a *App) ListDraftFiles(ctx context.Context, caller *domain.User, id string, f FileFilter) ([]domain.File, error) {
	d, err := a.readableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	a.touchAndStore(ctx, d)
	return a.listFiles(ctx, draftTarget(d), f)
}

// ListImageFiles lists an image's files (anyone who can see it).
func (a *App) ListImageFiles(ctx context.Context, caller *domain.User, id string, f FileFilter) ([]domain.File, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	return a.listFiles(ctx, imageTarget(img), f)
}

func (a *App) listFiles(ctx context.Context, t fsTarget, f FileFilter) ([]domain.File, error) {
	files, err := a.Files.List(ctx, t.id)
	if err != nil {
		return nil, err
	}
	dir := ""
	if f.Path != "" {
		if dir, err = domain.NormalizePath(f.Path); err != nil {
			return nil, err
		}
	}
	out := make([]domain.File, 0, len(files))
	for _, file := range files {
		if dir != "" {
			inside := file.Path == dir
			if f.Recursive && !inside {
				inside = dir == "/" || strings.HasPrefix(file.Path, dir+"/")
			}
			if !inside {
				continue
			}
		}
		if f.Dir != nil && file.Dir != *f.Dir {
			continue
		}
		if f.Default != nil && file.Default != *f.Default {
			continue
		}
		if f.Content && !file.Dir && file.Size <= a.cfg.ContentCacheMaxBytes && !file.Cached {
			if err := a.fillContent(ctx, t, &file); err != nil {
				return nil, err
			}
		}
		if !f.Content || file.Size > a.cfg.ContentCacheMaxBytes {
			file.Cached = false
			file.Content = nil
		}
		out = append(out, file)
	}
	return out, nil
}

// fillContent reads a file's content from the filesystem and caches it
// when small enough.
func (a *App) fillContent(ctx context.Context, t fsTarget, f *domain.File) error {
	data, err := a.Containers.ReadFile(ctx, t.src, domain.ContainerPath(t.fileRoot, f.FullPath()))
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return domain.ErrFileNotFound
		}
		return err
	}
	f.Content, f.Cached = data, true
	if int64(len(data)) <= a.cfg.ContentCacheMaxBytes {
		if err := a.Files.Put(ctx, *f); err != nil {
			a.Logger.Warn("cache file content", "runnable", t.id.Hex(), "err", err)
		}
	}
	return nil
}

// GetDraftFile reads one entry of a draft, with content for files.
func (a *App) GetDraftFile(ctx context.Context, caller *domain.User, id, fileID string) (*domain.File, error) {
	d, err := a.readableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	a.touchAndStore(ctx, d)
	return a.getFile(ctx, draftTarget(d), fileID)
}

// GetImageFile reads one entry of an image.
func (a *App) GetImageFile(ctx context.Context, caller *domain.User, id, fileID string) (*domain.File, error) {
	img, err := a.loadImage(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	return a.getFile(ctx, imageTarget(img), fileID)
}

func (a *App) getFile(ctx context.Context, t fsTarget, fileID string) (*domain.File, error) {
	fid, ok := domain.ParseHex(fileID)
	if !ok {
		return nil, domain.ErrFileNotFound
	}
	f, err := a.Files.Get(ctx, t.id, fid)
	if err != nil {
		return nil, notFound(err, domain.ErrFileNotFound)
	}
	if f.Dir || f.IsLink {
		return f, nil
	}
	if f.Size > a.cfg.FileMaxBytes {
		return nil, errFileTooLarge
	}
	if !f.Cached {
		if err := a.fillContent(ctx, t, f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func validateNewFile(in FileInput) (dir, name string, data []byte, err error) {
	kind := "file"
	if in.Dir {
		kind = "dir"
	}
	if in.Name == nil {
		return "", "", nil, domain.Ef(domain.ErrInvalid, "%s must include a name field", kind)
	}
	if !in.Dir && in.Content == nil {
		return "", "", nil, domain.E(domain.ErrInvalid, "file must include a content field")
	}
	if in.Path == nil {
		return "", "", nil, domain.Ef(domain.ErrInvalid, "%s must include a path field", kind)
	}
	if dir, err = domain.NormalizePath(*in.Path); err != nil {
		return "", "", nil, err
	}
	if err = domain.ValidateFileName(*in.Name); err != nil {
		return "", "", nil, err
	}
	if in.Dir && in.Default != nil && *in.Default {
		return "", "", nil, domain.E(domain.ErrInvalid, "cannot tag directory as default")
	}
	if !in.Dir {
		if data, err = DecodeContent(*in.Content, in.Encoding); err != nil {
			return "", "", nil, err
		}
	}
	return dir, *in.Name, data, nil
}

// lockedWritableDraft loads a draft the caller owns for a mutation and
// takes its lock; the caller must call the returned unlock.
func (a *App) lockedWritableDraft(ctx context.Context, caller *domain.User, id string) (*domain.Draft, func(), error) {
	return a.lockedMutableDraft(ctx, id, func(d *domain.Draft) bool { return d.CanWrite(caller) })
}

// lockedMutableDraft loads a draft, checks allowed (else 403), takes its
// lock, re-reads it under the lock and refuses it while a save runs.
func (a *App) lockedMutableDraft(ctx context.Context, id string, allowed func(*domain.Draft) bool) (*domain.Draft, func(), error) {
	d, err := a.loadDraft(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !allowed(d) {
		return nil, nil, domain.ErrPermissionDenied
	}
	unlock := a.locks.lock(d.ID)
	if d, err = a.Drafts.Get(ctx, d.ID); err != nil {
		unlock()
		return nil, nil, notFound(err, domain.ErrRunnableNotFound)
	}
	if err := d.CheckMutable(); err != nil {
		unlock()
		return nil, nil, err
	}
	return d, unlock, nil
}

// writeAccess records an access and the container's creation on d.
func (a *App) afterWrite(ctx context.Context, d *domain.Draft) error {
	if a.touch(d) {
		return a.Drafts.Update(ctx, d)
	}
	return nil
}

// CreateFile writes a new file or directory into a draft (spec §5.3).
func (a *App) CreateFile(ctx context.Context, caller *domain.User, id string, in FileInput) (*domain.File, error) {
	dir, name, data, err := validateNewFile(in)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > a.cfg.FileMaxBytes {
		return nil, errFileTooLarge
	}
	d, unlock, err := a.lockedWritableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	files, err := a.Files.List(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	ix := domain.NewIndex(d.FileRoot, files)
	resolved, err := ix.Resolve(dir)
	if err != nil {
		return nil, err
	}
	if !ix.DirExists(resolved) {
		return nil, errPathMissing
	}
	full := domain.JoinPath(resolved, name)
	if _, ok := ix.Lookup(full); ok {
		return nil, errExists
	}
	if err := a.ensureContainer(ctx, caller, d); err != nil {
		return nil, err
	}
	abs := domain.ContainerPath(d.FileRoot, full)
	now := a.now()
	f := domain.File{ID: a.IDs.NewID(), Runnable: d.ID, Name: name, Path: resolved, Dir: in.Dir, Modified: now}
	if in.Dir {
		err = a.Containers.MakeDir(ctx, d.ContainerID, abs)
	} else {
		err = a.Containers.WriteFile(ctx, d.ContainerID, abs, data)
		f.Size = int64(len(data))
		if f.Size <= a.cfg.ContentCacheMaxBytes {
			f.Content, f.Cached = data, true
		}
		f.Default = in.Default != nil && *in.Default
	}
	if err != nil {
		return nil, a.fsError(err)
	}
	if err := a.Files.Put(ctx, f); err != nil {
		return nil, err
	}
	if err := a.afterWrite(ctx, d); err != nil {
		return nil, err
	}
	return &f, nil
}

// fsError maps a backend filesystem error: a missing parent is "path does
// not exist"; other errors pass through.
func (a *App) fsError(err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return errPathMissing
	}
	return err
}

// Upload writes several files into one directory of a draft; every part is
// validated before anything is written.
func (a *App) Upload(ctx context.Context, caller *domain.User, id, dirPath string, overwrite bool, parts []UploadFile) ([]domain.File, error) {
	if len(parts) == 0 {
		return nil, domain.E(domain.ErrInvalid, "no files in upload")
	}
	if dirPath == "" {
		dirPath = "/"
	}
	dir, err := domain.NormalizePath(dirPath)
	if err != nil {
		return nil, err
	}
	for i, p := range parts {
		base := path.Base(strings.ReplaceAll(p.Name, "\\", "/"))
		if base == "/" {
			base = ""
		}
		if err := domain.ValidateFileName(base); err != nil {
			return nil, err
		}
		if int64(len(p.Data)) > a.cfg.FileMaxBytes {
			return nil, errFileTooLarge
		}
		parts[i].Name = base
	}
	d, unlock, err := a.lockedWritableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	files, err := a.Files.List(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	ix := domain.NewIndex(d.FileRoot, files)
	resolved, err := ix.Resolve(dir)
	if err != nil {
		return nil, err
	}
	if !ix.DirExists(resolved) {
		return nil, errPathMissing
	}
	existing := map[string]*domain.File{}
	for _, p := range parts {
		if f, ok := ix.Lookup(domain.JoinPath(resolved, p.Name)); ok {
			if !overwrite || f.Dir {
				return nil, errExists
			}
			existing[p.Name] = f
		}
	}
	if err := a.ensureContainer(ctx, caller, d); err != nil {
		return nil, err
	}
	now := a.now()
	out := make([]domain.File, 0, len(parts))
	for _, p := range parts {
		full := domain.JoinPath(resolved, p.Name)
		if err := a.Containers.WriteFile(ctx, d.ContainerID, domain.ContainerPath(d.FileRoot, full), p.Data); err != nil {
			return nil, a.fsError(err)
		}
		f := domain.File{ID: a.IDs.NewID(), Runnable: d.ID, Name: p.Name, Path: resolved}
		if old, ok := existing[p.Name]; ok {
			f = *old
		}
		f.Size, f.Modified = int64(len(p.Data)), now
		f.Content, f.Cached = nil, false
		if f.Size <= a.cfg.ContentCacheMaxBytes {
			f.Content, f.Cached = p.Data, true
		}
		if err := a.Files.Put(ctx, f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if err := a.afterWrite(ctx, d); err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateFile renames/moves, rewrites and (un)defaults one entry; the whole
// update is validated before any change (spec §5.4).
func (a *App) UpdateFile(ctx context.Context, caller *domain.User, id, fileID string, in FileUpdate) (*domain.File, error) {
	if in.Content == nil && in.Name == nil && in.Path == nil && in.Default == nil {
		return nil, domain.E(domain.ErrInvalid, "must provide content, name, path or default to update")
	}
	var data []byte
	var err error
	if in.Content != nil {
		if data, err = DecodeContent(*in.Content, in.Encoding); err != nil {
			return nil, err
		}
		if int64(len(data)) > a.cfg.FileMaxBytes {
			return nil, errFileTooLarge
		}
	}
	var newDir string
	if in.Path != nil {
		if newDir, err = domain.NormalizePath(*in.Path); err != nil {
			return nil, err
		}
	}
	if in.Name != nil {
		if err := domain.ValidateFileName(*in.Name); err != nil {
			return nil, err
		}
	}
	d, unlock, err := a.lockedWritableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	fid, ok := domain.ParseHex(fileID)
	if !ok {
		return nil, domain.ErrFileNotFound
	}
	files, err := a.Files.List(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	ix := domain.NewIndex(d.FileRoot, files)
	f, ok := ix.ByID(fid)
	if !ok {
		return nil, domain.ErrFileNotFound
	}
	if f.Dir && in.Content != nil {
		return nil, domain.E(domain.ErrInvalid, "cannot update contents of a directory")
	}
	if f.Dir && in.Default != nil && *in.Default {
		return nil, domain.E(domain.ErrInvalid, "cannot tag directory as default")
	}
	var changed []domain.File
	oldFull := f.FullPath()
	if in.Name != nil || in.Path != nil {
		name, dir := f.Name, f.Path
		if in.Name != nil {
			name = *in.Name
		}
		if in.Path != nil {
			if dir, err = ix.Resolve(newDir); err != nil {
				return nil, err
			}
		}
		if changed, err = ix.Move(f, name, dir); err != nil {
			return nil, err
		}
	}
	if err := a.ensureContainer(ctx, caller, d); err != nil {
		return nil, err
	}
	result := *f
	if len(changed) > 0 {
		result = changed[0]
		if err := a.Containers.Move(ctx, d.ContainerID, domain.ContainerPath(d.FileRoot, oldFull), domain.ContainerPath(d.FileRoot, result.FullPath())); err != nil {
			return nil, a.fsError(err)
		}
		if err := a.Files.Put(ctx, changed...); err != nil {
			return nil, err
		}
	}
	if in.Content != nil {
		if err := a.Containers.WriteFile(ctx, d.ContainerID, domain.ContainerPath(d.FileRoot, result.FullPath()), data); err != nil {
			return nil, a.fsError(err)
		}
		result.Size, result.Modified = int64(len(data)), a.now()
		result.Content, result.Cached = nil, false
		if result.Size <= a.cfg.ContentCacheMaxBytes {
			result.Content, result.Cached = data, true
		}
	}
	if in.Default != nil {
		result.Default = *in.Default
	}
	if err := a.Files.Put(ctx, result); err != nil {
		return nil, err
	}
	if err := a.afterWrite(ctx, d); err != nil {
		return nil, err
	}
	if !result.Dir && !result.Cached && result.Size <= a.cfg.FileMaxBytes {
		if err := a.fillContent(ctx, draftTarget(d), &result); err != nil {
			return nil, err
		}
	}
	return &result, nil
}

// DeleteFile removes an entry; a directory needs recursive when not empty.
func (a *App) DeleteFile(ctx context.Context, caller *domain.User, id, fileID string, recursive bool) error {
	d, unlock, err := a.lockedWritableDraft(ctx, caller, id)
	if err != nil {
		return err
	}
	defer unlock()
	fid, ok := domain.ParseHex(fileID)
	if !ok {
		return domain.ErrFileNotFound
	}
	files, err := a.Files.List(ctx, d.ID)
	if err != nil {
		return err
	}
	ix := domain.NewIndex(d.FileRoot, files)
	f, ok := ix.ByID(fid)
	if !ok {
		return domain.ErrFileNotFound
	}
	if recursive && !f.Dir {
		return domain.E(domain.ErrInvalid, "cannot recursively delete a plain file")
	}
	ids := []domain.ID{f.ID}
	if f.Dir {
		desc := ix.Descendants(f.FullPath())
		if len(desc) > 0 && !recursive {
			return errNotEmpty
		}
		for _, c := range desc {
			ids = append(ids, c.ID)
		}
	}
	if err := a.ensureContainer(ctx, caller, d); err != nil {
		return err
	}
	if err := a.Containers.RemovePath(ctx, d.ContainerID, domain.ContainerPath(d.FileRoot, f.FullPath())); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	if err := a.Files.Delete(ctx, d.ID, ids...); err != nil {
		return err
	}
	return a.afterWrite(ctx, d)
}

// Sync re-reads the draft's tree into its index (spec §5.5).
func (a *App) Sync(ctx context.Context, caller *domain.User, id string) (*SyncResult, error) {
	d, unlock, err := a.lockedWritableDraft(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res, err := a.syncLocked(ctx, d)
	if err != nil {
		return nil, err
	}
	if err := a.afterWrite(ctx, d); err != nil {
		return nil, err
	}
	return res, nil
}

func (a *App) syncLocked(ctx context.Context, d *domain.Draft) (*SyncResult, error) {
	return a.syncFrom(ctx, d)
}

// syncFrom reads the draft's filesystem (container, or the pinned parent
// version) and replaces its index, keeping ids and default flags of
// entries whose full path still exists.
func (a *App) syncFrom(ctx context.Context, d *domain.Draft) (*SyncResult, error) {
	t := draftTarget(d)
	entries, truncated, err := a.readIndex(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	if err := a.Files.Replace(ctx, d.ID, entries); err != nil {
		return nil, err
	}
	return &SyncResult{Date: a.now(), Count: len(entries), Truncated: truncated}, nil
}

// readIndex reads t's tree into index entries. Existing entries keep their
// ids and default flags; defaults, when given, mark full paths as default
// for entries that are new.
func (a *App) readIndex(ctx context.Context, t fsTarget, defaults map[string]bool) ([]domain.File, bool, error) {
	tree, truncated, err := a.Containers.ReadTree(ctx, t.src, t.fileRoot, ports.TreeOptions{
		MaxContent: a.cfg.ContentCacheMaxBytes, Ignore: a.cfg.FilesIgnore, MaxEntries: a.cfg.FilesMaxEntries,
	})
	if err != nil {
		return nil, false, err
	}
	old, err := a.Files.List(ctx, t.id)
	if err != nil {
		return nil, false, err
	}
	byPath := make(map[string]domain.File, len(old))
	for _, f := range old {
		byPath[f.FullPath()] = f
	}
	ignore := map[string]bool{}
	for _, n := range a.cfg.FilesIgnore {
		ignore[n] = true
	}
	root := path.Clean(t.fileRoot)
	out := make([]domain.File, 0, len(tree))
	for _, e := range tree {
		p := path.Clean(e.Path)
		if p == root || !strings.HasPrefix(p, root+"/") && root != "/" {
			continue
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		f := domain.File{
			Runnable: t.id, Name: path.Base(rel), Path: path.Dir(rel), Dir: e.Dir, IsLink: e.IsLink, Link: e.Link,
			Size: e.Size, Modified: e.Modified.UTC().Truncate(time.Millisecond),
		}
		if f.Dir {
			f.Size = 0
			f.Ignore = ignore[f.Name]
		}
		if e.HasData {
			f.Content, f.Cached = e.Content, true
		}
		if prev, ok := byPath[rel]; ok {
			f.ID, f.Default = prev.ID, prev.Default && !f.Dir
		} else {
			f.ID = a.IDs.NewID()
			f.Default = defaults[rel] && !f.Dir
		}
		out = append(out, f)
	}
	domain.SortFiles(out)
	return out, truncated, nil
}

// Archive streams a tar of a path of a draft, entries named relative to
// file_root (spec §5.3).
func (a *App) Archive(ctx context.Context, caller *domain.User, id, p string) (io.ReadCloser, string, error) {
	d, err := a.readableDraft(ctx, caller, id)
	if err != nil {
		return nil, "", err
	}
	if p == "" {
		p = "/"
	}
	rel, err := domain.NormalizePath(p)
	if err != nil {
		return nil, "", err
	}
	files, err := a.Files.List(ctx, d.ID)
	if err != nil {
		return nil, "", err
	}
	ix := domain.NewIndex(d.FileRoot, files)
	var total int64
	if rel != "/" {
		f, ok := ix.Lookup(rel)
		if !ok {
			return nil, "", errPathMissing
		}
		total = f.Size
	}
	for _, f := range ix.Descendants(rel) {
		total += f.Size
	}
	if total > a.cfg.ArchiveMaxBytes {
		return nil, "", errArchiveTooBig
	}
	a.touchAndStore(ctx, d)
	t := draftTarget(d)
	rc, err := a.Containers.Archive(ctx, t.src, domain.ContainerPath(d.FileRoot, rel))
	if err != nil {
		return nil, "", a.fsError(err)
	}
	name := "runnable"
	if rel != "/" {
		name = path.Base(rel)
	}
	return renameTar(rc, rel), name + ".tar", nil
}

// renameTar rewrites the names of a backend archive of rel (named from
// rel's base name) to be relative to file_root.
func renameTar(rc io.ReadCloser, rel string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		defer rc.Close()
		tr := tar.NewReader(rc)
		tw := tar.NewWriter(pw)
		prefix := strings.TrimPrefix(path.Dir(rel), "/")
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			name := strings.TrimPrefix(h.Name, "./")
			if rel == "/" {
				i := strings.IndexByte(name, '/')
				if i < 0 || i == len(name)-1 {
					continue // the root directory itself
				}
				name = name[i+1:]
			} else if prefix != "" {
				name = prefix + "/" + name
			}
			h.Name = name
			if err := tw.WriteHeader(h); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(tw, tr); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(tw.Close())
	}()
	return pr
}
