package domain

import (
	"errors"
	"testing"
	"time"
)

func TestParseImageRef(t *testing.T) {
	id, _ := ParseHex("51cf6ae257ee61f13f00003e")
	tests := []struct {
		give    string
		wantOK  bool
		wantVer int
	}{
		{ImageRef(id, 3), true, 3},
		{"runnable/busybox:latest", false, 0},
		{"runnable/51cf6ae257ee61f13f00003e:latest", false, 0},
		{"runnable/51CF6AE257EE61F13F00003E:v1", false, 0},
		{"other/51cf6ae257ee61f13f00003e:v1", false, 0},
		{"runnable/51cf6ae257ee61f13f00003e:v", false, 0},
	}
	for _, tt := range tests {
		gotID, gotVer, ok := ParseImageRef(tt.give)
		if ok != tt.wantOK || (ok && (gotID != id || gotVer != tt.wantVer)) {
			t.Errorf("ParseImageRef(%q) = %v, %d, %v; want ok=%v version %d", tt.give, gotID, gotVer, ok, tt.wantOK, tt.wantVer)
		}
	}
}

func TestShortID(t *testing.T) {
	id, ok := ParseHex("51cf6ae257ee61f13f00003e")
	if !ok {
		t.Fatal("hex did not parse")
	}
	if got := id.Short(); got != "Uc9q4lfuYfE_AAA-" {
		t.Fatalf("got %q, want Uc9q4lfuYfE_AAA-", got)
	}
	back, ok := ParseRunnableID("Uc9q4lfuYfE_AAA-")
	if !ok || back != id {
		t.Fatalf("got %v %v, want the same id back", back, ok)
	}
	for _, bad := range []string{"", "12345", "zzzzzzzzzzzzzzzzzzzzzzzz", "Uc9q4lfuYfE_AAA"} {
		if _, ok := ParseRunnableID(bad); ok {
			t.Errorf("ParseRunnableID(%q) ok, want rejected", bad)
		}
	}
}

func TestForkRules(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var imgID, owner, draftID ID
	imgID[0], owner[0], draftID[0] = 1, 2, 3
	root := ID{9}
	tests := []struct {
		name     string
		img      Image
		wantErr  string
		wantRoot ID
	}{
		{"root image", Image{ID: imgID, Version: 1, Ref: "r", Tags: []Tag{{Name: "x"}}}, "", imgID},
		{"child image", Image{ID: imgID, Root: root, Version: 2, Ref: "r"}, "", root},
		{"still saving", Image{ID: imgID, Version: 0, Ref: "r"}, "source image is still being saved", NilID},
		{"no image", Image{ID: imgID, Version: 1}, "cannot fork a runnable without an image", NilID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.img.Fork(draftID, owner, nil, nil, now)
			if tt.wantErr != "" {
				msg, _ := PublicMessage(err)
				if msg != tt.wantErr {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Root != tt.wantRoot || d.Parent != imgID || d.ParentVersion != tt.img.Version || len(d.Tags) != 0 ||
				d.Status != StatusNotCreated || !d.Target.IsZero() || d.BaseRef != "r" {
				t.Fatalf("got %+v, want an untagged not_created fork pinned to v%d", d, tt.img.Version)
			}
		})
	}
}

func TestDraftPermissions(t *testing.T) {
	owner := &User{ID: ID{1}}
	mod := &User{ID: ID{2}, Level: LevelModerator}
	other := &User{ID: ID{3}, Level: LevelRegistered}
	d := &Draft{Owner: owner.ID}
	tests := []struct {
		who                  *User
		read, write, canStop bool
	}{
		{owner, true, true, true},
		{mod, true, false, true},
		{other, false, false, false},
		{nil, false, false, false},
	}
	for _, tt := range tests {
		if d.CanRead(tt.who) != tt.read || d.CanWrite(tt.who) != tt.write || d.CanStop(tt.who) != tt.canStop {
			t.Errorf("user %+v: got read=%v write=%v stop=%v, want %v %v %v", tt.who, d.CanRead(tt.who), d.CanWrite(tt.who), d.CanStop(tt.who), tt.read, tt.write, tt.canStop)
		}
	}
}

func TestTouchThrottlesAndExpiry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &Draft{LastAccess: t0}
	if d.Touch(t0.Add(10*time.Second), 30*time.Second) {
		t.Fatal("got a write within the interval, want none")
	}
	if !d.Touch(t0.Add(31*time.Second), 30*time.Second) || !d.LastAccess.Equal(t0.Add(31*time.Second)) {
		t.Fatal("got no write after the interval")
	}
	if !d.Expired(t0.Add(48*time.Hour), 24*time.Hour) {
		t.Fatal("got not expired, want an unsaved untouched draft expired")
	}
	d.Target = ID{5}
	if d.Expired(t0.Add(48*time.Hour), 24*time.Hour) || d.ExpiresAt(time.Hour) != nil {
		t.Fatal("got a saved draft expiring, want never")
	}
	d.Target = NilID
	d.Save.Status = SaveSaving
	if d.Expired(t0.Add(48*time.Hour), 24*time.Hour) {
		t.Fatal("got a saving draft expired, want kept")
	}
}

func TestSaveStateMachine(t *testing.T) {
	now := time.Now()
	d := &Draft{Save: SaveState{Status: SaveNone}}
	img := ID{7}
	if err := d.BeginSave(SaveNew, img, now); err != nil {
		t.Fatal(err)
	}
	if err := d.BeginSave(SaveNew, img, now); !errors.Is(err, ErrSaveInProgress) {
		t.Fatalf("got %v, want a save in progress", err)
	}
	if err := d.CheckMutable(); !errors.Is(err, ErrSaveInProgress) {
		t.Fatalf("got %v, want mutations refused while saving", err)
	}
	d.FailSave("commit failed", now)
	if d.Save.Status != SaveFailed || d.Saved() {
		t.Fatalf("got %+v, want failed and unsaved", d.Save)
	}
	if err := d.BeginSave(SaveOverwrite, img, now); err != nil {
		t.Fatal(err)
	}
	d.FinishSave(img, now)
	if d.Save.Status != SaveSaved || d.Target != img || d.Save.Error != "" {
		t.Fatalf("got %+v, want saved into the image", d.Save)
	}
}

func TestMergeTagsAddsMissingChannelsOnly(t *testing.T) {
	img := &Image{Tags: []Tag{{ID: ID{1}, Channel: ID{10}, Name: "a"}}}
	n := byte(100)
	img.MergeTags([]Tag{{Channel: ID{10}, Name: "a"}, {Channel: ID{11}, Name: "b"}}, func() ID { n++; return ID{n} })
	if len(img.Tags) != 2 || img.Tags[1].Channel != (ID{11}) {
		t.Fatalf("got %+v, want a and b once each", img.Tags)
	}
}

func TestCeilSeconds(t *testing.T) {
	tests := []struct {
		give time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {59 * time.Second, 59}}
	for _, tt := range tests {
		if got := CeilSeconds(tt.give); got != tt.want {
			t.Errorf("CeilSeconds(%v) = %d, want %d", tt.give, got, tt.want)
		}
	}
	if e := RateLimited(1500 * time.Millisecond); e.RetryAfter != 2 || e.Message != "rate limit exceeded" {
		t.Errorf("got %+v, want Retry-After 2", e)
	}
}
