package inmem

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/runnable/runnable/domain"
)

// ctxEntry is one entry of a build context, named relative to its root.
type ctxEntry struct {
	name  string
	mode  fs.FileMode
	data  []byte
	link  string
	mtime time.Time
}

// Build "builds" a context tar (gzip accepted) into ref: the context's
// files, except the root Dockerfile and runnable.json, are copied into the
// file_root named by runnable.json (default /root), keeping modes and
// times, on top of the FROM image when the backend has it (an empty tree
// for scratch, else the base layout of AddImage). progress gets one
// "Step i/n : <instruction>" line per Dockerfile instruction, then
// "Successfully built" and "Successfully tagged" lines. A context without
// a Dockerfile (at the root or in a single top-level folder), an empty
// Dockerfile, an unreadable tar or a bad file_root give ErrInvalid "image
// build failed: <last line>".
func (c *Containers) Build(ctx context.Context, contextTar io.Reader, ref string, progress func(string)) error {
	if err := c.enter(ctx, "Build"); err != nil {
		return err
	}
	r, err := normalizeRef(ref)
	if err != nil {
		return err
	}
	say := func(line string) {
		if progress != nil {
			progress(line)
		}
	}
	fail := func(line string) error {
		say(line)
		return domain.E(domain.ErrInvalid, "image build failed: "+line)
	}
	entries, err := readBuildContext(contextTar)
	if err != nil {
		return fail("error reading build context: " + err.Error())
	}
	entries = stripContextFolder(entries)
	i := slices.IndexFunc(entries, func(e ctxEntry) bool { return e.name == "Dockerfile" && e.mode.IsRegular() })
	if i < 0 {
		return fail("Cannot locate specified Dockerfile: Dockerfile")
	}
	instrs := dockerInstructions(string(entries[i].data))
	if len(instrs) == 0 {
		return fail("the Dockerfile (Dockerfile) cannot be empty")
	}
	fileRoot, err := contextFileRoot(entries)
	if err != nil {
		return fail(err.Error())
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.fsTime()
	root := fsBaseLayout(t)
	if base := dockerBase(instrs); base == "scratch" {
		root = fsDir(0o755, t)
	} else if img, err := c.image(base); base != "" && err == nil {
		root = img.root.clone()
	}
	for n, in := range instrs {
		say(fmt.Sprintf("Step %d/%d : %s", n+1, len(instrs), in))
	}
	if _, err := fsMkdirAll(root, fileRoot, t); err != nil {
		return fail(fmt.Sprintf("mkdir %s: %v", fileRoot, err))
	}
	for _, e := range entries {
		if e.name == "Dockerfile" || e.name == "runnable.json" {
			continue
		}
		var n *fsNode
		switch {
		case e.mode.IsDir():
			n = fsDir(e.mode.Perm(), e.mtime)
		case e.mode&fs.ModeSymlink != 0:
			n = fsSymlink(e.link, e.mtime)
		default:
			n = fsFile(e.mode.Perm(), e.data, e.mtime)
		}
		n.mode |= e.mode & fs.ModeSticky
		if err := fsPut(root, path.Join(fileRoot, e.name), n, t); err != nil {
			return fail(fmt.Sprintf("copy %s: %v", e.name, err))
		}
	}
	img := &ctrImage{id: "sha256:" + randomHex(), root: root, created: c.now().UTC()}
	c.images[r] = img
	say("Successfully built " + img.id[7:19])
	say("Successfully tagged " + r)
	return nil
}

// readBuildContext reads a (possibly gzipped) tar into entries sorted by
// name, so that directories come before their contents.
func readBuildContext(r io.Reader) ([]ctxEntry, error) {
	br := bufio.NewReader(r)
	var rd io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer gz.Close()
		rd = gz
	}
	tr := tar.NewReader(rd)
	byName := map[string]int{}
	var out []ctxEntry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		name, ok := contextName(h.Name)
		if !ok {
			return nil, fmt.Errorf("path %q leaves the context", h.Name)
		}
		if name == "" {
			continue
		}
		e := ctxEntry{name: name, mtime: h.ModTime.UTC().Truncate(time.Second)}
		perm := fs.FileMode(h.Mode) & fs.ModePerm
		switch h.Typeflag {
		case tar.TypeDir:
			e.mode = fs.ModeDir | perm
		case tar.TypeSymlink:
			e.mode, e.link = fs.ModeSymlink|0o777, h.Linkname
		case tar.TypeLink:
			target, ok := contextName(h.Linkname)
			j, seen := byName[target]
			if !ok || !seen || !out[j].mode.IsRegular() {
				return nil, fmt.Errorf("hard link %q to a missing file %q", h.Name, h.Linkname)
			}
			e.mode, e.data = out[j].mode, out[j].data
		default:
			if !h.FileInfo().Mode().IsRegular() {
				continue // devices, fifos: not copied
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			e.mode, e.data = perm, data
		}
		if h.Mode&0o1000 != 0 {
			e.mode |= fs.ModeSticky
		}
		if j, seen := byName[name]; seen {
			out[j] = e
			continue
		}
		byName[name] = len(out)
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b ctxEntry) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// contextName cleans a tar entry name relative to the context root ("" is
// the root itself); ok is false when it climbs out.
func contextName(name string) (string, bool) {
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return "", false
		}
	}
	return strings.TrimPrefix(path.Clean("/"+name), "/"), true
}

// stripContextFolder makes a single top-level folder holding the
// Dockerfile the context root.
func stripContextFolder(entries []ctxEntry) []ctxEntry {
	tops := map[string]bool{}
	for _, e := range entries {
		if e.name == "Dockerfile" {
			return entries
		}
		top, _, _ := strings.Cut(e.name, "/")
		tops[top] = true
	}
	if len(tops) != 1 {
		return entries
	}
	var top string
	for t := range tops {
		top = t
	}
	if !slices.ContainsFunc(entries, func(e ctxEntry) bool { return e.name == top+"/Dockerfile" }) {
		return entries
	}
	out := make([]ctxEntry, 0, len(entries))
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e.name, top+"/"); ok {
			e.name = rest
			out = append(out, e)
		}
	}
	return out
}

// contextFileRoot reads file_root from the context's runnable.json.
func contextFileRoot(entries []ctxEntry) (string, error) {
	i := slices.IndexFunc(entries, func(e ctxEntry) bool { return e.name == "runnable.json" && e.mode.IsRegular() })
	if i < 0 {
		return domain.DefaultFileRoot, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(entries[i].data, &m); err != nil {
		return "", errors.New("invalid runnable.json")
	}
	raw, ok := m["file_root"]
	if !ok || string(raw) == "null" {
		return domain.DefaultFileRoot, nil
	}
	var root string
	if err := json.Unmarshal(raw, &root); err != nil || (root != "" && !strings.HasPrefix(root, "/")) {
		return "", errors.New("invalid runnable.json: file_root")
	}
	if root == "" {
		return domain.DefaultFileRoot, nil
	}
	return path.Clean(root), nil
}

// dockerInstructions returns a Dockerfile's instructions, continuation
// lines joined, comments and blank lines dropped.
func dockerInstructions(dockerfile string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(dockerfile, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if body, ok := strings.CutSuffix(t, "\\"); ok {
			cur.WriteString(strings.TrimSpace(body))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(t)
		out = append(out, cur.String())
		cur.Reset()
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// dockerBase returns the image of the first FROM instruction ("" when
// none).
func dockerBase(instrs []string) string {
	for _, in := range instrs {
		f := strings.Fields(in)
		if len(f) == 0 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		for _, a := range f[1:] {
			if !strings.HasPrefix(a, "--") {
				return a
			}
		}
		return ""
	}
	return ""
}
