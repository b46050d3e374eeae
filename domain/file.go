package domain

import (
	"path"
	"sort"
	"strings"
	"time"
)

// File is one entry of a runnable's file index (spec §5.1).
type File struct {
	ID       ID
	Runnable ID
	Name     string
	Path     string // parent directory relative to file_root, starting with "/"
	Dir      bool
	Default  bool
	Ignore   bool
	Link     string // symlink target; "" unless IsLink
	IsLink   bool
	Size     int64
	Modified time.Time
	// Content is the cached content; valid only when Cached.
	Content []byte
	Cached  bool
}

// FullPath is the entry's path relative to file_root ("/dir/name").
func (f *File) FullPath() string { return JoinPath(f.Path, f.Name) }

// JoinPath joins a normalized directory and a name.
func JoinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// NormalizePath cleans a directory path given by a client (spec §5.2).
func NormalizePath(p string) (string, error) {
	if len(p) > 4096 || strings.ContainsRune(p, 0) || !strings.HasPrefix(p, "/") {
		return "", E(ErrInvalid, "invalid path")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", E(ErrInvalid, "path must stay inside the runnable root")
		}
	}
	return path.Clean(p), nil
}

// ValidateFileName checks an entry name (spec §5.2).
func ValidateFileName(name string) error {
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return E(ErrInvalid, "invalid file name")
	}
	return nil
}

// ContainerPath maps a path relative to file_root to the absolute path.
func ContainerPath(fileRoot, rel string) string {
	return path.Join(fileRoot, rel)
}

// SortFiles orders entries by path, then name.
func SortFiles(fs []File) {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Path != fs[j].Path {
			return fs[i].Path < fs[j].Path
		}
		return fs[i].Name < fs[j].Name
	})
}

// Index is a runnable's file index in memory, keyed by full path.
type Index struct {
	FileRoot string
	byPath   map[string]*File
}

// NewIndex builds an index over entries.
func NewIndex(fileRoot string, entries []File) *Index {
	ix := &Index{FileRoot: fileRoot, byPath: make(map[string]*File, len(entries))}
	for i := range entries {
		f := entries[i]
		ix.byPath[f.FullPath()] = &f
	}
	return ix
}

// Lookup finds an entry by its full path.
func (ix *Index) Lookup(full string) (*File, bool) {
	f, ok := ix.byPath[full]
	return f, ok
}

// ByID finds an entry by id.
func (ix *Index) ByID(id ID) (*File, bool) {
	for _, f := range ix.byPath {
		if f.ID == id {
			return f, true
		}
	}
	return nil, false
}

// DirExists reports whether dir ("/" or a full path) is a directory. It
// follows symlinks that stay inside the root.
func (ix *Index) DirExists(dir string) bool {
	if dir == "/" {
		return true
	}
	f, ok := ix.byPath[dir]
	if !ok {
		return false
	}
	if f.IsLink {
		target, err := ix.Resolve(dir)
		if err != nil {
			return false
		}
		return ix.DirExists(target)
	}
	return f.Dir
}

// Resolve follows symlinks in every component of rel (a path relative to
// the root) and returns the resolved relative path. A component resolving
// outside the root gives ErrInvalid "path must stay inside the runnable
// root" (spec §5.2).
func (ix *Index) Resolve(rel string) (string, error) {
	escape := E(ErrInvalid, "path must stay inside the runnable root")
	parts := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	cur := "/"
	for hops := 0; len(parts) > 0; {
		seg := parts[0]
		parts = parts[1:]
		if seg == "" || seg == "." {
			continue
		}
		if seg == ".." {
			if cur == "/" {
				return "", escape
			}
			cur = path.Dir(cur)
			continue
		}
		next := JoinPath(cur, seg)
		f, ok := ix.byPath[next]
		if ok && f.IsLink {
			hops++
			if hops > 40 {
				return "", escape
			}
			target := f.Link
			var abs string
			if strings.HasPrefix(target, "/") {
				root := path.Clean(ix.FileRoot)
				if target != root && !strings.HasPrefix(target, root+"/") {
					return "", escape
				}
				abs = "/" + strings.TrimPrefix(strings.TrimPrefix(target, root), "/")
			} else {
				if escapesRelative(cur, target) {
					return "", escape
				}
				abs = path.Join(cur, target)
			}
			rest := strings.Split(strings.TrimPrefix(abs, "/"), "/")
			parts = append(rest, parts...)
			cur = "/"
			continue
		}
		cur = next
	}
	return cur, nil
}

func escapesRelative(cur, target string) bool {
	depth := 0
	for _, s := range strings.Split(strings.TrimPrefix(cur, "/"), "/") {
		if s != "" {
			depth++
		}
	}
	for _, s := range strings.Split(target, "/") {
		switch s {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// Descendants lists entries below the directory full (not itself).
func (ix *Index) Descendants(full string) []*File {
	var out []*File
	prefix := full + "/"
	if full == "/" {
		prefix = "/"
	}
	for p, f := range ix.byPath {
		if p != full && strings.HasPrefix(p, prefix) {
			out = append(out, f)
		}
	}
	return out
}

// Entries returns all entries sorted by path then name.
func (ix *Index) Entries() []File {
	out := make([]File, 0, len(ix.byPath))
	for _, f := range ix.byPath {
		out = append(out, *f)
	}
	SortFiles(out)
	return out
}

// Move is the index side of a rename or move: it checks spec §5.4's rules
// and returns every entry whose path changes (the moved one first).
func (ix *Index) Move(f *File, newName, newDir string) ([]File, error) {
	if err := ValidateFileName(newName); err != nil {
		return nil, err
	}
	oldFull := f.FullPath()
	newFull := JoinPath(newDir, newName)
	if newFull == oldFull {
		return nil, nil
	}
	if f.Dir && (newFull == oldFull || strings.HasPrefix(newFull, oldFull+"/")) {
		return nil, E(ErrInvalid, "cannot move path into itself")
	}
	if newDir != "/" {
		d, ok := ix.byPath[newDir]
		if !ok {
			return nil, E(ErrNotFound, "destination does not exist")
		}
		if !d.Dir && !d.IsLink {
			return nil, E(ErrInvalid, "destination is not a directory")
		}
	}
	if _, ok := ix.byPath[newFull]; ok {
		return nil, E(ErrConflict, "destination resource already exists")
	}
	moved := *f
	moved.Name, moved.Path = newName, newDir
	changed := []File{moved}
	oldKeys := []string{oldFull}
	if f.Dir {
		for _, c := range ix.Descendants(oldFull) {
			oldKeys = append(oldKeys, c.FullPath())
			cc := *c
			cc.Path = newFull + strings.TrimPrefix(c.Path, oldFull)
			changed = append(changed, cc)
		}
	}
	for _, k := range oldKeys {
		delete(ix.byPath, k)
	}
	for i := range changed {
		c := changed[i]
		ix.byPath[c.FullPath()] = &c
	}
	return changed, nil
}
