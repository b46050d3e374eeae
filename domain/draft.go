package domain

import "time"

// DraftStatus is the container state of a draft (spec §4.6).
type DraftStatus string

// Draft statuses.
const (
	StatusNotCreated DraftStatus = "not_created"
	StatusCreated    DraftStatus = "created"
	StatusRunning    DraftStatus = "running"
	StatusIdle       DraftStatus = "idle"
	StatusStopped    DraftStatus = "stopped"
	StatusError      DraftStatus = "error"
)

// SaveStatus is the state of the draft's last save.
type SaveStatus string

// Save statuses.
const (
	SaveNone   SaveStatus = "none"
	SaveSaving SaveStatus = "saving"
	SaveSaved  SaveStatus = "saved"
	SaveFailed SaveStatus = "failed"
)

// SaveMode tells whether a save makes a new image or overwrites one.
type SaveMode string

// Save modes.
const (
	SaveNew       SaveMode = "new"
	SaveOverwrite SaveMode = "overwrite"
)

// SaveState is the draft's `save` object.
type SaveState struct {
	Status     SaveStatus
	Mode       SaveMode // "" when none
	Image      ID
	StartedAt  *time.Time
	FinishedAt *time.Time
	Error      string
}

// Draft is a user's private working copy of an image, backed lazily by a
// container.
type Draft struct {
	ID            ID
	Name          string
	Description   string
	Owner         ID
	Parent        ID
	ParentVersion int
	Root          ID
	Target        ID
	Tags          []Tag
	StartCmd      string
	Env           map[string]string
	FileRoot      string
	// BaseRef is the container image of the pinned parent version.
	BaseRef     string
	ContainerID string
	Status      DraftStatus
	StartedAt   *time.Time
	StoppedAt   *time.Time
	ExitCode    *int
	LastAccess  time.Time
	Save        SaveState
	Created     time.Time
}

// Running reports whether the container is up.
func (d *Draft) Running() bool { return d.Status == StatusRunning || d.Status == StatusIdle }

// Saved reports whether the draft has a target image.
func (d *Draft) Saved() bool { return !d.Target.IsZero() }

// Saving reports whether a save job runs.
func (d *Draft) Saving() bool { return d.Save.Status == SaveSaving }

// ExpiresAt is last access plus maxAge while unsaved, nil when saved.
func (d *Draft) ExpiresAt(maxAge time.Duration) *time.Time {
	if d.Saved() {
		return nil
	}
	t := d.LastAccess.Add(maxAge)
	return &t
}

// CanRead: owner or moderator (spec §4.2).
func (d *Draft) CanRead(caller *User) bool {
	return caller != nil && (caller.ID == d.Owner || caller.IsModerator())
}

// CanWrite: the owner only (update, start, files, save, terminal).
func (d *Draft) CanWrite(caller *User) bool { return caller != nil && caller.ID == d.Owner }

// CanStop: owner or moderator; deleting follows the same rule.
func (d *Draft) CanStop(caller *User) bool { return d.CanRead(caller) }

// CheckMutable refuses mutations while a save runs.
func (d *Draft) CheckMutable() error {
	if d.Saving() {
		return ErrSaveInProgress
	}
	return nil
}

// Touch records an access; it reports whether the store should be written,
// which is at most once per interval (spec §8.5).
func (d *Draft) Touch(now time.Time, interval time.Duration) bool {
	if now.Sub(d.LastAccess) < interval {
		return false
	}
	d.LastAccess = now
	return true
}

// Expired reports whether cleanup may delete the draft.
func (d *Draft) Expired(now time.Time, maxAge time.Duration) bool {
	return !d.Saved() && !d.Saving() && now.Sub(d.LastAccess) > maxAge
}

// ForkSource resolves a draft named in `from` to the image to fork (§4.4).
func (d *Draft) ForkSource() (ID, error) {
	if d.Target.IsZero() {
		return NilID, E(ErrInvalid, "cannot fork a draft that was never saved")
	}
	return d.Target, nil
}

// BeginSave marks the draft as saving into image with mode.
func (d *Draft) BeginSave(mode SaveMode, image ID, now time.Time) error {
	if d.Saving() {
		return ErrSaveInProgress
	}
	t := now
	d.Save = SaveState{Status: SaveSaving, Mode: mode, Image: image, StartedAt: &t}
	return nil
}

// FinishSave records a successful save into image.
func (d *Draft) FinishSave(image ID, now time.Time) {
	t := now
	d.Target = image
	d.Save.Status = SaveSaved
	d.Save.Image = image
	d.Save.FinishedAt = &t
	d.Save.Error = ""
}

// FailSave records a failed save with a short reason.
func (d *Draft) FailSave(reason string, now time.Time) {
	t := now
	d.Save.Status = SaveFailed
	d.Save.FinishedAt = &t
	d.Save.Error = reason
}

// Snapshot is what a save copies from the draft into the image (§8.3 step 4).
// ref is the container image of the new version.
func (d *Draft) Snapshot(img *Image, ref string, now time.Time) {
	img.Name = d.Name
	img.Description = d.Description
	img.StartCmd = d.StartCmd
	img.Env = copyEnv(d.Env)
	img.FileRoot = d.FileRoot
	img.Ref = ref
	img.Version++
	img.Updated = now
	img.Status = ImageReady
}

// NewImageFromDraft makes the version-0 image document of a new save.
func NewImageFromDraft(id ID, d *Draft, name string, now time.Time) *Image {
	tags := make([]Tag, len(d.Tags))
	copy(tags, d.Tags)
	return &Image{
		ID:          id,
		Name:        name,
		Description: d.Description,
		Owner:       d.Owner,
		Parent:      d.Parent,
		Root:        d.Root,
		Version:     0,
		Status:      ImageSaving,
		Tags:        tags,
		StartCmd:    d.StartCmd,
		Env:         copyEnv(d.Env),
		FileRoot:    d.FileRoot,
		Created:     now,
		Updated:     now,
	}
}

// MergeTags adds to the image the draft's tags whose channels it lacks
// (overwrite rule of §6.2).
func (img *Image) MergeTags(tags []Tag, newID func() ID) {
	have := map[ID]bool{}
	for _, t := range img.Tags {
		have[t.Channel] = true
	}
	for _, t := range tags {
		if !have[t.Channel] {
			img.Tags = append(img.Tags, Tag{ID: newID(), Channel: t.Channel, Name: t.Name})
			have[t.Channel] = true
		}
	}
}
