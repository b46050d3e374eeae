package domain

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Tag is a channel tag on an image or a draft (spec §6.1).
type Tag struct {
	ID      ID
	Channel ID
	Name    string
}

// ImageStatus is "saving" or "ready".
type ImageStatus string

// Image statuses.
const (
	ImageSaving ImageStatus = "saving"
	ImageReady  ImageStatus = "ready"
)

// DefaultFileRoot is the file root of images that name none.
const DefaultFileRoot = "/root"

// Image is a saved runnable: metadata plus a versioned container image.
type Image struct {
	ID          ID
	Name        string
	Description string
	Owner       ID
	Parent      ID // zero for imports and templates
	Root        ID // zero when this image is a root
	Version     int
	Status      ImageStatus
	Tags        []Tag
	StartCmd    string
	Env         map[string]string
	FileRoot    string
	Votes       int
	Stats       Stats
	Created     time.Time
	Updated     time.Time
	// Ref is the container image reference of the current version.
	Ref string
	// Template marks images imported from TEMPLATES_DIR.
	Template bool
}

// Published reports whether the image has at least one tag.
func (img *Image) Published() bool { return len(img.Tags) > 0 }

// Visible reports whether the caller may see the image: version 0 images
// exist only for their owner and moderators.
func (img *Image) Visible(caller *User) bool {
	if img.Version >= 1 {
		return true
	}
	return caller != nil && (caller.ID == img.Owner || caller.IsModerator())
}

// CanModify reports whether the caller may rename, overwrite or delete it.
func (img *Image) CanModify(caller *User) bool {
	return caller != nil && (caller.ID == img.Owner || caller.IsModerator())
}

// RootOrSelf returns the root to give to children of this image.
func (img *Image) RootOrSelf() ID {
	if !img.Root.IsZero() {
		return img.Root
	}
	return img.ID
}

// ImageRef is the container image reference of one version (spec §8.3).
func ImageRef(image ID, version int) string {
	return fmt.Sprintf("runnable/%s:v%d", image.Hex(), version)
}

// Fork makes a new draft of this image for owner (spec §4.4). name and
// description may be empty to take the image's.
func (img *Image) Fork(id, owner ID, name, description *string, now time.Time) (*Draft, error) {
	if img.Version < 1 {
		return nil, E(ErrConflict, "source image is still being saved")
	}
	if img.Ref == "" {
		return nil, E(ErrInvalid, "cannot fork a runnable without an image")
	}
	d := &Draft{
		ID:            id,
		Name:          img.Name,
		Description:   img.Description,
		Owner:         owner,
		Parent:        img.ID,
		ParentVersion: img.Version,
		Root:          img.RootOrSelf(),
		StartCmd:      img.StartCmd,
		Env:           copyEnv(img.Env),
		FileRoot:      img.FileRoot,
		BaseRef:       img.Ref,
		Status:        StatusNotCreated,
		LastAccess:    now,
		Created:       now,
		Save:          SaveState{Status: SaveNone},
	}
	if name != nil {
		n, err := ValidateName(*name)
		if err != nil {
			return nil, err
		}
		d.Name = n
	}
	if description != nil {
		if err := ValidateDescription(*description); err != nil {
			return nil, err
		}
		d.Description = *description
	}
	return d, nil
}

func copyEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

// ValidateName trims and checks a runnable name (1-100 characters).
func ValidateName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if c := utf8.RuneCountInString(n); c < 1 || c > 100 {
		return "", E(ErrInvalid, "name must be 1 to 100 characters")
	}
	return n, nil
}

// ValidateDescription checks a description (at most 2000 characters).
func ValidateDescription(d string) error {
	if utf8.RuneCountInString(d) > 2000 {
		return E(ErrInvalid, "description must be at most 2000 characters")
	}
	return nil
}

// ValidateStartCmd checks start_cmd (at most 4096 characters).
func ValidateStartCmd(s string) error {
	if utf8.RuneCountInString(s) > 4096 {
		return E(ErrInvalid, "start_cmd must be a string of at most 4096 characters")
	}
	return nil
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidateEnv checks an environment map (spec §4.5).
func ValidateEnv(env map[string]string) error {
	if len(env) > 100 {
		return E(ErrInvalid, "too many env variables")
	}
	for k, v := range env {
		if len(k) > 128 || !envNameRE.MatchString(k) {
			return Ef(ErrInvalid, "invalid env name: %s", k)
		}
		if utf8.RuneCountInString(v) > 4096 {
			return E(ErrInvalid, "env must be an object of string values")
		}
	}
	return nil
}

// ParseImageRef reports whether ref names a version of an image in the
// server's own naming (runnable/<hex>:v<version>), and which.
func ParseImageRef(ref string) (ID, int, bool) {
	rest, ok := strings.CutPrefix(ref, "runnable/")
	if !ok {
		return NilID, 0, false
	}
	hexID, tag, ok := strings.Cut(rest, ":v")
	if !ok {
		return NilID, 0, false
	}
	id, ok := ParseHex(hexID)
	if !ok || hexID != id.Hex() {
		return NilID, 0, false
	}
	v := 0
	for _, r := range tag {
		if r < '0' || r > '9' || v > 1e8 {
			return NilID, 0, false
		}
		v = v*10 + int(r-'0')
	}
	if tag == "" {
		return NilID, 0, false
	}
	return id, v, true
}
