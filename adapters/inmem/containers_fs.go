package inmem

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// This file is the simulated container filesystem of the memory backend: a
// tree of nodes with Linux path semantics (symlinks followed in every
// component but, depending on the operation, the last; ".." at / stays at
// /; at most 40 symlinks per lookup).

// fsNode is one entry of a simulated filesystem. A node belongs to one
// tree; data is never changed in place, so clones may share it.
type fsNode struct {
	mode     fs.FileMode // type bits and permissions
	data     []byte      // regular files
	link     string      // symlinks: the target text
	mtime    time.Time
	children map[string]*fsNode // directories
}

func fsDir(perm fs.FileMode, t time.Time) *fsNode {
	return &fsNode{mode: fs.ModeDir | perm, mtime: t, children: map[string]*fsNode{}}
}

func fsFile(perm fs.FileMode, data []byte, t time.Time) *fsNode {
	return &fsNode{mode: perm, data: data, mtime: t}
}

func fsSymlink(target string, t time.Time) *fsNode {
	return &fsNode{mode: fs.ModeSymlink | 0o777, link: target, mtime: t}
}

func (n *fsNode) isDir() bool  { return n.mode.IsDir() }
func (n *fsNode) isLink() bool { return n.mode&fs.ModeSymlink != 0 }
func (n *fsNode) isFile() bool { return n.mode.IsRegular() }

// clone copies the tree under n.
func (n *fsNode) clone() *fsNode {
	c := *n
	if n.children != nil {
		c.children = make(map[string]*fsNode, len(n.children))
		for name, ch := range n.children {
			c.children[name] = ch.clone()
		}
	}
	return &c
}

func (n *fsNode) names() []string { return slices.Sorted(maps.Keys(n.children)) }

// Filesystem errors, as errno values, with the kinds and public messages
// the Docker backend gives.
var (
	errFSNoEnt      = domain.E(domain.ErrNotFound, "path does not exist")
	errFSNotDir     = domain.E(domain.ErrInvalid, "not a directory")
	errFSIsDir      = domain.E(domain.ErrInvalid, "not a regular file")
	errFSLoop       = domain.E(domain.ErrInvalid, "too many levels of symbolic links")
	errFSExist      = domain.E(domain.ErrConflict, "resource already exists")
	errFSBusy       = domain.E(domain.ErrInvalid, "invalid path")
	errFSInto       = domain.E(domain.ErrInvalid, "cannot move path into itself")
	errFSRelative   = domain.E(domain.ErrInvalid, "invalid path")
	errFSNoDest     = domain.E(domain.ErrNotFound, "destination does not exist")
	errFSDestExists = domain.E(domain.ErrConflict, "destination resource already exists")
)

func fsPathErr(op, p string, err error) error { return fmt.Errorf("%s %s: %w", op, p, err) }

// fsLoc is where a path lands in a tree.
type fsLoc struct {
	parent *fsNode // nil when the path is /
	name   string
	node   *fsNode // nil when the last component does not exist
	path   string  // the resolved absolute path
}

func fsSplit(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

func fsJoin(names []string, name string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString("/")
		b.WriteString(n)
	}
	b.WriteString("/")
	b.WriteString(name)
	return b.String()
}

const fsMaxLinks = 40

// fsResolve looks p up in the tree under root. Symlinks are followed in
// every component but the last, which is followed only when followLast.
// A missing last component is not an error (node is nil); a missing
// intermediate one is errFSNoEnt.
func fsResolve(root *fsNode, p string, followLast bool) (fsLoc, error) {
	if !strings.HasPrefix(p, "/") {
		return fsLoc{}, errFSRelative
	}
	parts := fsSplit(p)
	dirs := []*fsNode{root}
	var names []string
	links := 0
	for len(parts) > 0 {
		name := parts[0]
		parts = parts[1:]
		if name == ".." {
			if len(names) > 0 {
				dirs, names = dirs[:len(dirs)-1], names[:len(names)-1]
			}
			continue
		}
		dir := dirs[len(dirs)-1]
		child := dir.children[name]
		last := len(parts) == 0
		if child == nil {
			if last {
				return fsLoc{parent: dir, name: name, path: fsJoin(names, name)}, nil
			}
			return fsLoc{}, errFSNoEnt
		}
		if child.isLink() && (!last || followLast) {
			if links++; links > fsMaxLinks {
				return fsLoc{}, errFSLoop
			}
			if strings.HasPrefix(child.link, "/") {
				dirs, names = dirs[:1], nil
			}
			parts = append(fsSplit(child.link), parts...)
			continue
		}
		if last {
			return fsLoc{parent: dir, name: name, node: child, path: fsJoin(names, name)}, nil
		}
		if !child.isDir() {
			return fsLoc{}, errFSNotDir
		}
		dirs, names = append(dirs, child), append(names, name)
	}
	// The path named a directory already walked into (/, or via "..").
	if len(names) == 0 {
		return fsLoc{node: root, path: "/"}, nil
	}
	return fsLoc{
		parent: dirs[len(dirs)-2], name: names[len(names)-1], node: dirs[len(dirs)-1],
		path: "/" + strings.Join(names, "/"),
	}, nil
}

// fsMkdirAll makes p and its missing parents (mode 0755) and returns the
// directory.
func fsMkdirAll(root *fsNode, p string, t time.Time) (*fsNode, error) {
	p = path.Clean(p)
	loc, err := fsResolve(root, p, true)
	switch {
	case err == nil && loc.node != nil:
		if !loc.node.isDir() {
			return nil, errFSNotDir
		}
		return loc.node, nil
	case err == nil:
		d := fsDir(0o755, t)
		loc.parent.children[loc.name] = d
		return d, nil
	case errors.Is(err, errFSNoEnt):
		if _, err := fsMkdirAll(root, path.Dir(p), t); err != nil {
			return nil, err
		}
		return fsMkdirAll(root, p, t)
	default:
		return nil, err
	}
}

// fsPut places n at p (not following a symlink there), making missing
// parents; an existing directory at p stays when n is one too.
func fsPut(root *fsNode, p string, n *fsNode, t time.Time) error {
	p = path.Clean(p)
	if _, err := fsMkdirAll(root, path.Dir(p), t); err != nil {
		return err
	}
	loc, err := fsResolve(root, p, false)
	if err != nil {
		return err
	}
	if loc.parent == nil {
		return errFSBusy
	}
	if old := loc.node; old != nil && old.isDir() && n.isDir() {
		old.mode, old.mtime = n.mode, n.mtime
		return nil
	}
	loc.parent.children[loc.name] = n
	return nil
}

// fsBaseLayout is the filesystem every image starts from unless it is
// built FROM scratch or FROM another image of the backend: a small
// distribution with a shell.
func fsBaseLayout(t time.Time) *fsNode {
	root := fsDir(0o755, t)
	for _, d := range []string{"/bin", "/etc", "/home", "/root", "/tmp", "/usr/bin", "/usr/local/bin", "/var"} {
		_, _ = fsMkdirAll(root, d, t)
	}
	root.children["root"].mode = fs.ModeDir | 0o700
	root.children["tmp"].mode = fs.ModeDir | fs.ModeSticky | 0o777
	root.children["bin"].children["sh"] = fsFile(0o755, []byte("#!simulated shell of the memory backend\n"), t)
	root.children["etc"].children["hostname"] = fsFile(0o644, []byte("runnable\n"), t)
	return root
}

// fsTree lists the entries under dir, sorted by path, directories named
// in ignore listed but not descended into, cut at MaxEntries.
func fsTree(root *fsNode, dir string, opt ports.TreeOptions) ([]ports.FSEntry, bool, error) {
	loc, err := fsResolve(root, dir, true)
	if err != nil {
		return nil, false, err
	}
	if loc.node == nil {
		return nil, false, errFSNoEnt
	}
	if !loc.node.isDir() {
		return nil, false, errFSNotDir
	}
	type item struct {
		path string
		n    *fsNode
	}
	var items []item
	var walk func(p string, d *fsNode)
	walk = func(p string, d *fsNode) {
		for name, ch := range d.children {
			cp := path.Join(p, name)
			items = append(items, item{cp, ch})
			if ch.isDir() && !slices.Contains(opt.Ignore, name) {
				walk(cp, ch)
			}
		}
	}
	walk(path.Clean(dir), loc.node)
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.path, b.path) })
	truncated := false
	if opt.MaxEntries > 0 && len(items) > opt.MaxEntries {
		items, truncated = items[:opt.MaxEntries], true
	}
	out := make([]ports.FSEntry, len(items))
	for i, it := range items {
		e := ports.FSEntry{Path: it.path, Dir: it.n.isDir(), IsLink: it.n.isLink(), Modified: it.n.mtime}
		switch {
		case it.n.isLink():
			e.Link = it.n.link
		case it.n.isFile():
			e.Size = int64(len(it.n.data))
			if opt.MaxContent > 0 && e.Size <= opt.MaxContent {
				e.Content, e.HasData = append([]byte{}, it.n.data...), true
			}
		}
		out[i] = e
	}
	return out, truncated, nil
}

// fsReadFile returns the content of the regular file at p, following
// symlinks.
func fsReadFile(root *fsNode, p string) ([]byte, error) {
	loc, err := fsResolve(root, p, true)
	if err != nil {
		return nil, err
	}
	switch {
	case loc.node == nil:
		return nil, errFSNoEnt
	case loc.node.isDir():
		return nil, errFSIsDir
	}
	return append([]byte{}, loc.node.data...), nil
}

// fsArchive tars p (not following a symlink there) the way Docker's
// archive API does: the entry named after p's base name, then its
// children below it, depth first in name order; directory names end in
// "/". An archive of / holds its children at the top.
func fsArchive(root *fsNode, p string) ([]byte, error) {
	loc, err := fsResolve(root, p, false)
	if err != nil {
		return nil, err
	}
	if loc.node == nil {
		return nil, errFSNoEnt
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var add func(name string, n *fsNode) error
	add = func(name string, n *fsNode) error {
		h := &tar.Header{
			Name: name, Mode: int64(n.mode.Perm()), ModTime: n.mtime, Uname: "root", Gname: "root",
		}
		if n.mode&fs.ModeSticky != 0 {
			h.Mode |= 0o1000
		}
		switch {
		case n.isDir():
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
		case n.isLink():
			h.Typeflag, h.Linkname = tar.TypeSymlink, n.link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(n.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(n.data); err != nil {
				return err
			}
		}
		if n.isDir() {
			for _, c := range n.names() {
				if err := add(name+"/"+c, n.children[c]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if loc.parent == nil {
		for _, c := range loc.node.names() {
			if err := add(c, loc.node.children[c]); err != nil {
				return nil, err
			}
		}
	} else if err := add(loc.name, loc.node); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fsWriteFile creates or replaces the regular file at p. A symlink at p
// is followed, as open(2) does; the parent must exist.
func fsWriteFile(root *fsNode, p string, data []byte, t time.Time) error {
	loc, err := fsResolve(root, p, true)
	if err != nil {
		return err
	}
	switch {
	case loc.parent == nil || loc.node != nil && loc.node.isDir():
		return errFSIsDir
	case loc.node != nil:
		loc.node.data, loc.node.mtime = append([]byte{}, data...), t
	default:
		loc.parent.children[loc.name] = fsFile(0o644, append([]byte{}, data...), t)
		loc.parent.mtime = t
	}
	return nil
}

// fsMakeDir creates one directory; the parent must exist.
func fsMakeDir(root *fsNode, p string, t time.Time) error {
	loc, err := fsResolve(root, p, false)
	if err != nil {
		return err
	}
	if loc.parent == nil || loc.node != nil {
		return errFSExist
	}
	loc.parent.children[loc.name] = fsDir(0o755, t)
	loc.parent.mtime = t
	return nil
}

// fsSymlinkAt creates a symlink at p; the parent must exist.
func fsSymlinkAt(root *fsNode, p, target string, t time.Time) error {
	loc, err := fsResolve(root, p, false)
	if err != nil {
		return err
	}
	if loc.parent == nil || loc.node != nil {
		return errFSExist
	}
	loc.parent.children[loc.name] = fsSymlink(target, t)
	loc.parent.mtime = t
	return nil
}

// fsMove renames from to to, like rename(2) without replacing: an
// existing destination is errFSExist.
func fsMove(root *fsNode, from, to string, t time.Time) error {
	src, err := fsResolve(root, from, false)
	if err != nil {
		return err
	}
	if src.node == nil {
		return errFSNoEnt
	}
	if src.parent == nil {
		return errFSBusy
	}
	dst, err := fsResolve(root, to, false)
	if errors.Is(err, errFSNoEnt) {
		return errFSNoDest
	}
	if err != nil {
		return err
	}
	if dst.parent == nil {
		return errFSBusy
	}
	if dst.node == src.node {
		return nil
	}
	if dst.node != nil {
		return errFSDestExists
	}
	if src.node.isDir() && strings.HasPrefix(dst.path, src.path+"/") {
		return errFSInto
	}
	delete(src.parent.children, src.name)
	dst.parent.children[dst.name] = src.node
	src.parent.mtime, dst.parent.mtime = t, t
	return nil
}

// fsRemove deletes p and everything below it (a symlink at p, not its
// target), like rm -rf: a missing p is not an error.
func fsRemove(root *fsNode, p string, t time.Time) error {
	loc, err := fsResolve(root, p, false)
	if errors.Is(err, errFSNoEnt) {
		return nil
	}
	if err != nil {
		return err
	}
	if loc.node == nil {
		return nil
	}
	if loc.parent == nil {
		return errFSBusy
	}
	delete(loc.parent.children, loc.name)
	loc.parent.mtime = t
	return nil
}

// fsFindExecutable reports whether cmd names a regular file: a path
// (relative ones from dir), or a name searched in pathEnv.
func fsFindExecutable(root *fsNode, cmd, dir, pathEnv string) bool {
	var candidates []string
	switch {
	case strings.HasPrefix(cmd, "/"):
		candidates = []string{cmd}
	case strings.Contains(cmd, "/"):
		candidates = []string{path.Join("/", dir, cmd)}
	default:
		for _, d := range strings.Split(pathEnv, ":") {
			if strings.HasPrefix(d, "/") {
				candidates = append(candidates, path.Join(d, cmd))
			}
		}
	}
	for _, c := range candidates {
		if loc, err := fsResolve(root, c, true); err == nil && loc.node != nil && loc.node.isFile() {
			return true
		}
	}
	return false
}

// fsIsDir reports whether p is a directory, following symlinks.
func fsIsDir(root *fsNode, p string) bool {
	loc, err := fsResolve(root, p, true)
	return err == nil && loc.node != nil && loc.node.isDir()
}
