package tests

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Spec §11, "Files": scenarios 35-45 on one draft of one server (38 and 44
// through the terminal WebSocket). FILE_MAX_BYTES is small so scenario 45
// can exceed it cheaply.
func TestScenario35To45Files(t *testing.T) {
	t.Parallel()
	onBackends(t, scenario35To45Files)
}

func scenario35To45Files(t *testing.T, bk backend) {
	const fileMax = 8 << 10
	s := bk.start(t, map[string]string{"FILE_MAX_BYTES": "8KiB", "CONTENT_CACHE_MAX_BYTES": "8KiB", "ACCESS_WRITE_INTERVAL": "1ms"})
	tID := str(t, waitTemplate(t, s, "shell"), "_id")
	a := anonymous(t, s)
	draft := fork(t, s, a, tID)
	d := str(t, draft, "_id")
	files := P(d) + "/files"

	var hello, newdir, child, newdir2, child2, mainSh map[string]any
	var mainContent string // main.sh as the archive of 45 must hold it

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		// 35. A fresh fork lists the template's 2 entries without content
		// and stays not_created; the first write creates the container.
		{"35 list and first write", func(t *testing.T) {
			list := listFiles(t, s, a, P(d), "")
			if len(list) != 2 || findFile(list, "/", "main.sh") == nil || findFile(list, "/", "README.md") == nil {
				t.Fatalf("files of a fresh fork: got %v, want /main.sh and /README.md", list)
			}
			for _, f := range list {
				if _, ok := f["content"]; ok {
					t.Errorf("listing without content=true: %v has content", f["name"])
				}
			}
			mainSh = findFile(list, "/", "main.sh")
			mainContent = fileContent(t, s, a, P(d), "/", "main.sh")
			before := getDraft(t, s, a, d)
			wantFields(t, "after listing files", before, map[string]any{"status": "not_created"})
			if bk.docker() {
				if n := len(draftContainers(t, idHex(d))); n != 0 {
					t.Errorf("reads created %d container(s), want none", n)
				}
			}

			time.Sleep(20 * time.Millisecond) // so last_access can move
			resp, body := s.Do(t, http.MethodPost, files, a.token, map[string]string{"name": "hello.js", "path": "/", "content": "console.log(1)"})
			wantStatus(t, resp, body, http.StatusCreated)
			hello = jsonObject(t, body)
			wantFields(t, "created file", hello, map[string]any{"name": "hello.js", "path": "/"})
			if !hex24.MatchString(str(t, hello, "_id")) {
				t.Errorf("created file: got _id %v, want 24 hex", hello["_id"])
			}
			if _, ok := hello["content"]; ok {
				t.Errorf("created file: the reply has content: %s", body)
			}
			after := getDraft(t, s, a, d)
			wantFields(t, "after the first write", after, map[string]any{"status": "created", "running": false})
			if str(t, after, "last_access") <= str(t, before, "last_access") {
				t.Errorf("last_access did not move on with the write: before %v, after %v", before["last_access"], after["last_access"])
			}
			if bk.docker() {
				if n := len(draftContainers(t, idHex(d))); n != 1 {
					t.Errorf("after the first write: %d containers, want 1", n)
				}
			}
			if got := fileContent(t, s, a, P(d), "/", "hello.js"); got != "console.log(1)" {
				t.Errorf("hello.js: got %q", got)
			}
		}},

		// 36. Content types and missing fields.
		{"36 content type and required fields", func(t *testing.T) {
			req := s.NewRequest(t, http.MethodPost, files, strings.NewReader(`{"name":"ct.js","path":"/","content":""}`))
			req.Header.Set("runnable-token", a.token)
			resp, body := s.DoRequest(t, req)
			wantError(t, resp, body, http.StatusUnsupportedMediaType, "content type must be application/json")

			req = s.NewRequest(t, http.MethodPost, files, strings.NewReader(`{"name":"ct.js","path":"/","content":""}`))
			req.Header.Set("runnable-token", a.token)
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			resp, body = s.DoRequest(t, req)
			wantStatus(t, resp, body, http.StatusCreated)

			for _, c := range []struct {
				body map[string]any
				msg  string
			}{
				{map[string]any{"path": "/", "content": "x"}, "file must include a name field"},
				{map[string]any{"name": "n.js", "path": "/"}, "file must include a content field"},
				{map[string]any{"name": "n.js", "content": "x"}, "file must include a path field"},
				{map[string]any{"path": "/", "dir": true}, "dir must include a name field"},
				{map[string]any{"name": "nd", "dir": true}, "dir must include a path field"},
			} {
				resp, body := s.Do(t, http.MethodPost, files, a.token, c.body)
				wantError(t, resp, body, http.StatusBadRequest, c.msg)
			}
		}},

		// 37. Missing parents, duplicates, escapes and bad names.
		{"37 paths and names", func(t *testing.T) {
			for _, c := range []struct {
				body   map[string]any
				status int
				msg    string
			}{
				{map[string]any{"name": "x", "path": "/noexist", "content": ""}, http.StatusNotFound, "path does not exist"},
				{map[string]any{"name": "hello.js", "path": "/", "content": "again"}, http.StatusConflict, "resource already exists"},
				{map[string]any{"name": "x", "path": "/../etc", "content": ""}, http.StatusBadRequest, "path must stay inside the runnable root"},
				{map[string]any{"name": "a/b", "path": "/", "content": ""}, http.StatusBadRequest, "invalid file name"},
				{map[string]any{"name": "..", "path": "/", "content": ""}, http.StatusBadRequest, "invalid file name"},
				{map[string]any{"name": "x", "path": "/", "content": "!!", "encoding": "base64"}, http.StatusBadRequest, "content is not valid base64"},
			} {
				resp, body := s.Do(t, http.MethodPost, files, a.token, c.body)
				wantError(t, resp, body, c.status, c.msg)
			}
			if got := fileContent(t, s, a, P(d), "/", "hello.js"); got != "console.log(1)" {
				t.Errorf("hello.js after a refused duplicate: got %q", got)
			}
		}},

		// 38. [docker] A symlink made in the terminal to /etc: after a
		// sync, writing through it → 400.
		{"38 symlink escape", func(t *testing.T) {
			bk.dockerOnly(t)
			term := dialTerminal(t, s, a, d)
			term.run(t, "ln -s /etc evil")
			term.close()
			resp, body := s.Do(t, http.MethodPost, P(d)+"/sync", a.token, nil)
			wantStatus(t, resp, body, http.StatusCreated)
			wantFields(t, "sync", jsonObject(t, body), map[string]any{"message": "files synced successfully", "truncated": false})
			evil := findFile(listFiles(t, s, a, P(d), ""), "/", "evil")
			if evil == nil || evil["link"] != "/etc" {
				t.Errorf("after the sync: got entry %v, want evil with link /etc", evil)
			}
			resp, body = s.Do(t, http.MethodPost, files, a.token, map[string]string{"name": "x", "path": "/evil", "content": "1"})
			wantError(t, resp, body, http.StatusBadRequest, "path must stay inside the runnable root")
		}},

		// 39. base64 in, base64 out.
		{"39 binary content", func(t *testing.T) {
			resp, body := s.Do(t, http.MethodPost, files, a.token, map[string]string{"name": "bin.dat", "path": "/", "content": "AP8=", "encoding": "base64"})
			wantStatus(t, resp, body, http.StatusCreated)
			f := readFile(t, s, a, P(d), "/", "bin.dat")
			wantFields(t, "bin.dat", f, map[string]any{"encoding": "base64", "content": "AP8=", "size": 2})
		}},

		// 40. Renaming a directory moves its child and leaves a sibling
		// sharing the name prefix alone.
		{"40 rename a directory", func(t *testing.T) {
			newdir = createDir(t, s, a, d, "/", "newdir")
			child = createFile(t, s, a, d, "/newdir", "a.js", "child content")
			newdir2 = createDir(t, s, a, d, "/", "newdir2")
			child2 = createFile(t, s, a, d, "/newdir2", "b.js", "sibling content")

			resp, body := s.Do(t, http.MethodPatch, files+"/"+str(t, newdir, "_id"), a.token, map[string]string{"name": "dir3"})
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "renamed directory", jsonObject(t, body), map[string]any{"_id": newdir["_id"], "name": "dir3", "path": "/", "dir": true})

			list := listFiles(t, s, a, P(d), "")
			got := findFile(list, "/dir3", "a.js")
			if got == nil || got["_id"] != child["_id"] {
				t.Errorf("child after the rename: got %v, want a.js at /dir3 with _id %v", got, child["_id"])
			}
			if f := findFile(list, "/newdir", "a.js"); f != nil {
				t.Errorf("the old child entry is still listed: %v", f)
			}
			if got := fileContent(t, s, a, P(d), "/dir3", "a.js"); got != "child content" {
				t.Errorf("child content after the rename: got %q", got)
			}
			if f := findFile(list, "/", "newdir2"); f == nil || f["_id"] != newdir2["_id"] {
				t.Errorf("/newdir2 after the rename: got %v, want it untouched", f)
			}
			if f := findFile(list, "/newdir2", "b.js"); f == nil || f["_id"] != child2["_id"] {
				t.Errorf("/newdir2/b.js after the rename: got %v, want it untouched", f)
			}
			// The listing is sorted by path, then name.
			for i := 1; i < len(list); i++ {
				p, q := list[i-1], list[i]
				if str(t, p, "path") > str(t, q, "path") || (p["path"] == q["path"] && str(t, p, "name") > str(t, q, "name")) {
					t.Errorf("listing not sorted by path, then name: %v%v before %v%v", p["path"], p["name"], q["path"], q["name"])
				}
			}
			// path filters: directly inside, and the subtree.
			in := listFiles(t, s, a, P(d), "path=/dir3")
			if len(in) != 1 || in[0]["_id"] != child["_id"] {
				t.Errorf("?path=/dir3: got %v, want only a.js", names(in))
			}
			dirs := listFiles(t, s, a, P(d), "dir=true")
			for _, f := range dirs {
				if f["dir"] != true {
					t.Errorf("?dir=true lists a file: %v", f)
				}
			}
		}},

		// 41. Moves that are refused.
		{"41 refused moves", func(t *testing.T) {
			createDir(t, s, a, d, "/dir3", "sub")
			dir3 := files + "/" + str(t, newdir, "_id")
			for _, c := range []struct {
				body   map[string]any
				status int
				msg    string
			}{
				{map[string]any{"path": "/dir3/sub"}, http.StatusBadRequest, "cannot move path into itself"},
				{map[string]any{"path": "/dir3"}, http.StatusBadRequest, "cannot move path into itself"},
				{map[string]any{"path": "/missing"}, http.StatusNotFound, "destination does not exist"},
				{map[string]any{"name": "newdir2"}, http.StatusConflict, "destination resource already exists"},
				{map[string]any{"path": "/hello.js"}, http.StatusBadRequest, "destination is not a directory"},
				{map[string]any{"content": "x"}, http.StatusBadRequest, "cannot update contents of a directory"},
				{map[string]any{}, http.StatusBadRequest, "must provide content, name, path or default to update"},
				{map[string]any{"default": "yes"}, http.StatusBadRequest, "default must be a boolean"},
			} {
				resp, body := s.Do(t, http.MethodPatch, dir3, a.token, c.body)
				wantError(t, resp, body, c.status, c.msg)
			}
			// Nothing moved.
			if f := findFile(listFiles(t, s, a, P(d), ""), "/dir3", "a.js"); f == nil {
				t.Errorf("/dir3/a.js is gone after refused moves")
			}
			// A file moves into a directory keeping its id.
			resp, body := s.Do(t, http.MethodPatch, files+"/"+str(t, child2, "_id"), a.token, map[string]string{"path": "/dir3/sub", "name": "moved.js"})
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "moved file", jsonObject(t, body), map[string]any{"_id": child2["_id"], "path": "/dir3/sub", "name": "moved.js", "content": "sibling content"})
		}},

		// 42. Deleting: non-empty directory, recursive, a file, unknown ids.
		{"42 delete", func(t *testing.T) {
			dir3 := files + "/" + str(t, newdir, "_id")
			resp, body := s.Do(t, http.MethodDelete, dir3, a.token, nil)
			wantError(t, resp, body, http.StatusConflict, "directory is not empty")
			resp, body = s.Do(t, http.MethodDelete, files+"/"+str(t, hello, "_id")+"?recursive=true", a.token, nil)
			wantError(t, resp, body, http.StatusBadRequest, "cannot recursively delete a plain file")
			resp, body = s.Do(t, http.MethodDelete, dir3+"?recursive=true", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if o := jsonObject(t, body); len(o) != 1 || o["message"] != "file deleted" {
				t.Errorf(`DELETE recursive: got %s, want {"message":"file deleted"}`, body)
			}
			resp, body = s.Do(t, http.MethodGet, files+"/"+str(t, child, "_id"), a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "file not found")
			resp, body = s.Do(t, http.MethodGet, files+"/12345", a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "file not found")
			resp, body = s.Do(t, http.MethodGet, files+"/"+str(t, newdir, "_id"), a.token, nil)
			wantError(t, resp, body, http.StatusNotFound, "file not found")
			for _, f := range listFiles(t, s, a, P(d), "") {
				if strings.HasPrefix(str(t, f, "path"), "/dir3") {
					t.Errorf("entry under the deleted /dir3 still listed: %v", f)
				}
			}
			// A plain file deletes without recursive.
			resp, body = s.Do(t, http.MethodDelete, files+"/"+str(t, newdir2, "_id"), a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
		}},

		// 43. The default flag: off, on, not on directories, listed with
		// content, kept by a sync.
		{"43 default flag", func(t *testing.T) {
			mid := str(t, mainSh, "_id")
			resp, body := s.Do(t, http.MethodPut, files+"/"+mid, a.token, map[string]any{"default": false})
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "main.sh default off", jsonObject(t, body), map[string]any{"default": false})
			resp, body = s.Do(t, http.MethodPut, files+"/"+mid, a.token, map[string]any{"default": true})
			wantStatus(t, resp, body, http.StatusOK)
			wantFields(t, "main.sh default on", jsonObject(t, body), map[string]any{"default": true})

			dir := createDir(t, s, a, d, "/", "adir")
			resp, body = s.Do(t, http.MethodPut, files+"/"+str(t, dir, "_id"), a.token, map[string]any{"default": true})
			wantError(t, resp, body, http.StatusBadRequest, "cannot tag directory as default")

			defs := listFiles(t, s, a, P(d), "default=true")
			if len(defs) != 1 || defs[0]["_id"] != mid {
				t.Fatalf("?default=true: got %v, want only main.sh", names(defs))
			}
			if c, _ := defs[0]["content"].(string); c == "" || defs[0]["encoding"] != "utf8" {
				t.Errorf("?default=true: main.sh without content: %v", defs[0])
			}
			if f := listFiles(t, s, a, P(d), "default=true&content=false"); len(f) != 1 || f[0]["content"] != nil {
				t.Errorf("?default=true&content=false: got %v, want main.sh without content", f)
			}

			resp, body = s.Do(t, http.MethodPost, P(d)+"/sync", a.token, nil)
			wantStatus(t, resp, body, http.StatusCreated)
			f := findFile(listFiles(t, s, a, P(d), ""), "/", "main.sh")
			if f == nil || f["_id"] != mid || f["default"] != true {
				t.Errorf("main.sh after a sync: got %v, want _id %s and default true", f, mid)
			}
		}},

		// 44. [docker] A change made in an open terminal shows after a sync.
		{"44 sync after a terminal edit", func(t *testing.T) {
			bk.dockerOnly(t)
			old := fileContent(t, s, a, P(d), "/", "main.sh")
			term := dialTerminal(t, s, a, d)
			term.run(t, "echo overwrite > main.sh")
			if got := fileContent(t, s, a, P(d), "/", "main.sh"); got != old {
				t.Errorf("main.sh before a sync: got %q, want the old content %q", got, old)
			}
			resp, body := s.Do(t, http.MethodPost, P(d)+"/sync", a.token, nil)
			wantStatus(t, resp, body, http.StatusCreated)
			if got := fileContent(t, s, a, P(d), "/", "main.sh"); got != "overwrite\n" {
				t.Errorf("main.sh after a sync: got %q, want %q", got, "overwrite\n")
			}
			mainContent = "overwrite\n"
			f := findFile(listFiles(t, s, a, P(d), ""), "/", "main.sh")
			if f == nil || f["_id"] != mainSh["_id"] || f["default"] != true {
				t.Errorf("main.sh after the terminal edit and sync: got %v, want the same _id and default", f)
			}
			term.close()
		}},

		// 45. Multipart upload, an oversized part refusing the whole
		// upload, and the archive.
		{"45 upload and archive", func(t *testing.T) {
			resp, body := upload(t, s, a, d, "/", map[string]string{"up1.txt": "one", "up2.txt": "two"})
			wantStatus(t, resp, body, http.StatusCreated)
			got := jsonArray(t, body)
			if len(got) != 2 {
				t.Fatalf("upload: got %d entries, want 2: %s", len(got), body)
			}
			if c := fileContent(t, s, a, P(d), "/", "up2.txt"); c != "two" {
				t.Errorf("uploaded up2.txt: got %q", c)
			}

			resp, body = upload(t, s, a, d, "/", map[string]string{"ok.txt": "small", "big.txt": strings.Repeat("b", fileMax+1)})
			wantError(t, resp, body, http.StatusRequestEntityTooLarge, "file too large")
			list := listFiles(t, s, a, P(d), "")
			if findFile(list, "/", "ok.txt") != nil || findFile(list, "/", "big.txt") != nil {
				t.Errorf("a refused upload wrote files: %v", names(list))
			}
			resp, body = upload(t, s, a, d, "/", map[string]string{"up1.txt": "again"})
			wantError(t, resp, body, http.StatusConflict, "resource already exists")

			resp, body = s.Do(t, http.MethodGet, P(d)+"/files/archive", a.token, nil)
			wantStatus(t, resp, body, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-tar" {
				t.Errorf("archive: got Content-Type %q, want application/x-tar", ct)
			}
			if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
				t.Errorf("archive: got Content-Disposition %q, want attachment", cd)
			}
			entries := tarEntries(t, body)
			if c, ok := entries["main.sh"]; !ok || c != mainContent {
				t.Errorf("archive: main.sh is %q (present %v), want %q; entries %v", c, ok, mainContent, keys(entries))
			}
			if _, ok := entries["up1.txt"]; !ok {
				t.Errorf("archive: no up1.txt; entries %v", keys(entries))
			}
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			return
		}
	}
}

// upload posts files as multipart/form-data parts named "file" into dir.
func upload(t *testing.T, s *Server, u user, draft, dir string, files map[string]string) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("path", dir); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req := s.NewRequest(t, http.MethodPost, P(draft)+"/files", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("runnable-token", u.token)
	return s.DoRequest(t, req)
}

// tarEntries reads a tar archive into name → content (directories as "").
func tarEntries(t *testing.T, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading the archive: %v", err)
		}
		c, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %s from the archive: %v", h.Name, err)
		}
		out[strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")] = string(c)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
