package domain

import "testing"

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		give, want, wantErr string
	}{
		{"/", "/", ""},
		{"//a//b/", "/a/b", ""},
		{"/a/./b", "/a/b", ""},
		{"/../etc", "", "path must stay inside the runnable root"},
		{"/a/../../x", "", "path must stay inside the runnable root"},
		{"a/b", "", "invalid path"},
		{"/a\x00", "", "invalid path"},
	}
	for _, tt := range tests {
		got, err := NormalizePath(tt.give)
		msg, _ := PublicMessage(err)
		if got != tt.want || msg != tt.wantErr {
			t.Errorf("NormalizePath(%q) = %q, %q; want %q, %q", tt.give, got, msg, tt.want, tt.wantErr)
		}
	}
}

func TestValidateFileName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "a/b", "a\x00"} {
		if ValidateFileName(bad) == nil {
			t.Errorf("ValidateFileName(%q) = nil, want invalid file name", bad)
		}
	}
	if err := ValidateFileName("hello.js"); err != nil {
		t.Errorf("got %v for hello.js", err)
	}
}

func TestIndexResolveSymlinks(t *testing.T) {
	ix := NewIndex("/root", []File{
		{Name: "evil", Path: "/", IsLink: true, Link: "/etc"},
		{Name: "up", Path: "/", IsLink: true, Link: "../.."},
		{Name: "inside", Path: "/", IsLink: true, Link: "/root/dir"},
		{Name: "rel", Path: "/", IsLink: true, Link: "dir"},
		{Name: "dir", Path: "/", Dir: true},
	})
	tests := []struct {
		give, want, wantErr string
	}{
		{"/dir", "/dir", ""},
		{"/evil", "", "path must stay inside the runnable root"},
		{"/up/x", "", "path must stay inside the runnable root"},
		{"/inside", "/dir", ""},
		{"/rel", "/dir", ""},
	}
	for _, tt := range tests {
		got, err := ix.Resolve(tt.give)
		msg, _ := PublicMessage(err)
		if got != tt.want || msg != tt.wantErr {
			t.Errorf("Resolve(%q) = %q, %q; want %q, %q", tt.give, got, msg, tt.want, tt.wantErr)
		}
	}
	if !ix.DirExists("/inside") || ix.DirExists("/evil") {
		t.Error("DirExists does not follow links inside the root only")
	}
}

func TestIndexMove(t *testing.T) {
	entries := []File{
		{ID: ID{1}, Name: "newdir", Path: "/", Dir: true},
		{ID: ID{2}, Name: "a.js", Path: "/newdir"},
		{ID: ID{3}, Name: "newdir2", Path: "/", Dir: true},
		{ID: ID{4}, Name: "f", Path: "/"},
		{ID: ID{5}, Name: "sub", Path: "/newdir", Dir: true},
	}
	t.Run("rename rewrites descendants only", func(t *testing.T) {
		ix := NewIndex("/root", entries)
		f, _ := ix.Lookup("/newdir")
		changed, err := ix.Move(f, "dir3", "/")
		if err != nil {
			t.Fatal(err)
		}
		if len(changed) != 3 {
			t.Fatalf("got %d changed entries, want the dir and its 2 children", len(changed))
		}
		if c, ok := ix.Lookup("/dir3/a.js"); !ok || c.ID != (ID{2}) {
			t.Fatalf("got %v, want a.js under /dir3 with the same id", c)
		}
		if _, ok := ix.Lookup("/newdir2"); !ok {
			t.Fatal("got /newdir2 moved, want it untouched")
		}
	})
	tests := []struct {
		name, from, newName, newDir, want string
	}{
		{"into itself", "/newdir", "x", "/newdir/sub", "cannot move path into itself"},
		{"missing destination", "/newdir", "x", "/missing", "destination does not exist"},
		{"onto existing", "/newdir", "newdir2", "/", "destination resource already exists"},
		{"into a file", "/newdir", "x", "/f", "destination is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := NewIndex("/root", entries)
			f, _ := ix.Lookup(tt.from)
			_, err := ix.Move(f, tt.newName, tt.newDir)
			if msg, _ := PublicMessage(err); msg != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
