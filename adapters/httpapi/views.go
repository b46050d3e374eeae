package httpapi

import (
	"time"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

const timeFormat = "2006-01-02T15:04:05.000Z"

// jsonTime renders RFC 3339 UTC with milliseconds.
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(timeFormat) + `"`), nil
}

func tptr(t *time.Time) *jsonTime {
	if t == nil {
		return nil
	}
	j := jsonTime(*t)
	return &j
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func shortOrNil(id domain.ID) *string {
	if id.IsZero() {
		return nil
	}
	s := id.Short()
	return &s
}

type publicUserView struct {
	ID             string   `json:"_id"`
	Username       *string  `json:"username"`
	Gravatar       *string  `json:"gravatar"`
	Created        jsonTime `json:"created"`
	Runs           int      `json:"runs"`
	Views          int      `json:"views"`
	Copies         int      `json:"copies"`
	Cuts           int      `json:"cuts"`
	Pastes         int      `json:"pastes"`
	ImagesCount    int      `json:"images_count"`
	PublishedCount int      `json:"published_count"`
}

type selfUserView struct {
	ID              string   `json:"_id"`
	Username        *string  `json:"username"`
	Email           *string  `json:"email"`
	PermissionLevel int      `json:"permission_level"`
	Registered      bool     `json:"registered"`
	Gravatar        *string  `json:"gravatar"`
	Created         jsonTime `json:"created"`
	Runs            int      `json:"runs"`
	Views           int      `json:"views"`
	Copies          int      `json:"copies"`
	Cuts            int      `json:"cuts"`
	Pastes          int      `json:"pastes"`
	ImagesCount     int      `json:"images_count"`
	PublishedCount  int      `json:"published_count"`
}

type tokenUserView struct {
	selfUserView
	AccessToken string `json:"access_token"`
}

func selfView(u *app.UserInfo) selfUserView {
	return selfUserView{
		ID: u.ID.Hex(), Username: strOrNil(u.Username), Email: strOrNil(u.Email), PermissionLevel: int(u.Level),
		Registered: u.Registered(), Gravatar: strOrNil(u.Gravatar()), Created: jsonTime(u.Created),
		Runs: u.Stats.Runs, Views: u.Stats.Views, Copies: u.Stats.Copies, Cuts: u.Stats.Cuts, Pastes: u.Stats.Pastes,
		ImagesCount: u.ImagesCount, PublishedCount: u.PublishedCount,
	}
}

func publicView(u *app.UserInfo) publicUserView {
	return publicUserView{
		ID: u.ID.Hex(), Username: strOrNil(u.Username), Gravatar: strOrNil(u.Gravatar()), Created: jsonTime(u.Created),
		Runs: u.Stats.Runs, Views: u.Stats.Views, Copies: u.Stats.Copies, Cuts: u.Stats.Cuts, Pastes: u.Stats.Pastes,
		ImagesCount: u.ImagesCount, PublishedCount: u.PublishedCount,
	}
}

// userView picks the self view for the user themself and moderators.
func userView(caller *domain.User, u *app.UserInfo) any {
	if caller.ID == u.ID || caller.IsModerator() {
		return selfView(u)
	}
	return publicView(u)
}

type tagView struct {
	ID      string `json:"_id"`
	Channel string `json:"channel"`
	Name    string `json:"name"`
}

func tagsView(tags []domain.Tag) []tagView {
	out := make([]tagView, 0, len(tags))
	for _, t := range tags {
		out = append(out, tagView{ID: t.ID.Hex(), Channel: t.Channel.Hex(), Name: t.Name})
	}
	return out
}

func envView(env map[string]string) map[string]string {
	if env == nil {
		return map[string]string{}
	}
	return env
}

type imageView struct {
	ID            string            `json:"_id"`
	Hex           string            `json:"id"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	Owner         string            `json:"owner"`
	OwnerUsername *string           `json:"owner_username"`
	Parent        *string           `json:"parent"`
	Root          *string           `json:"root"`
	Version       int               `json:"version"`
	Status        string            `json:"status"`
	Published     bool              `json:"published"`
	Tags          []tagView         `json:"tags"`
	StartCmd      string            `json:"start_cmd"`
	Env           map[string]string `json:"env"`
	FileRoot      string            `json:"file_root"`
	Votes         int               `json:"votes"`
	Runs          int               `json:"runs"`
	Views         int               `json:"views"`
	Copies        int               `json:"copies"`
	Cuts          int               `json:"cuts"`
	Pastes        int               `json:"pastes"`
	Created       jsonTime          `json:"created"`
	Updated       jsonTime          `json:"updated"`
}

func newImageView(img *domain.Image, ownerUsername string) imageView {
	return imageView{
		ID: img.ID.Short(), Hex: img.ID.Hex(), Name: img.Name, Description: img.Description, Owner: img.Owner.Hex(),
		OwnerUsername: strOrNil(ownerUsername), Parent: shortOrNil(img.Parent), Root: shortOrNil(img.Root),
		Version: img.Version, Status: string(img.Status), Published: img.Published(), Tags: tagsView(img.Tags),
		StartCmd: img.StartCmd, Env: envView(img.Env), FileRoot: img.FileRoot, Votes: img.Votes,
		Runs: img.Stats.Runs, Views: img.Stats.Views, Copies: img.Stats.Copies, Cuts: img.Stats.Cuts, Pastes: img.Stats.Pastes,
		Created: jsonTime(img.Created), Updated: jsonTime(img.Updated),
	}
}

type saveView struct {
	Status     string    `json:"status"`
	Mode       *string   `json:"mode"`
	Image      *string   `json:"image"`
	StartedAt  *jsonTime `json:"started_at"`
	FinishedAt *jsonTime `json:"finished_at"`
	Error      *string   `json:"error"`
}

type draftView struct {
	ID            string            `json:"_id"`
	Hex           string            `json:"id"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	Owner         string            `json:"owner"`
	Parent        *string           `json:"parent"`
	ParentVersion int               `json:"parent_version"`
	Root          *string           `json:"root"`
	Target        *string           `json:"target"`
	Tags          []tagView         `json:"tags"`
	StartCmd      string            `json:"start_cmd"`
	Env           map[string]string `json:"env"`
	FileRoot      string            `json:"file_root"`
	Status        string            `json:"status"`
	Running       bool              `json:"running"`
	StartedAt     *jsonTime         `json:"started_at"`
	StoppedAt     *jsonTime         `json:"stopped_at"`
	ExitCode      *int              `json:"exit_code"`
	LastAccess    jsonTime          `json:"last_access"`
	Saved         bool              `json:"saved"`
	ExpiresAt     *jsonTime         `json:"expires_at"`
	Save          saveView          `json:"save"`
	Created       jsonTime          `json:"created"`
}

func newDraftView(d *domain.Draft, maxAge time.Duration) draftView {
	sv := saveView{Status: string(d.Save.Status), Image: shortOrNil(d.Save.Image), StartedAt: tptr(d.Save.StartedAt),
		FinishedAt: tptr(d.Save.FinishedAt), Error: strOrNil(d.Save.Error)}
	if d.Save.Mode != "" {
		m := string(d.Save.Mode)
		sv.Mode = &m
	}
	if sv.Status == "" {
		sv.Status = string(domain.SaveNone)
	}
	return draftView{
		ID: d.ID.Short(), Hex: d.ID.Hex(), Name: d.Name, Description: d.Description, Owner: d.Owner.Hex(),
		Parent: shortOrNil(d.Parent), ParentVersion: d.ParentVersion, Root: shortOrNil(d.Root), Target: shortOrNil(d.Target),
		Tags: tagsView(d.Tags), StartCmd: d.StartCmd, Env: envView(d.Env), FileRoot: d.FileRoot, Status: string(d.Status),
		Running: d.Running(), StartedAt: tptr(d.StartedAt), StoppedAt: tptr(d.StoppedAt), ExitCode: d.ExitCode,
		LastAccess: jsonTime(d.LastAccess), Saved: d.Saved(), ExpiresAt: tptr(d.ExpiresAt(maxAge)), Save: sv,
		Created: jsonTime(d.Created),
	}
}

type fileView struct {
	ID       string   `json:"_id"`
	Name     string   `json:"name"`
	Path     string   `json:"path"`
	Dir      bool     `json:"dir"`
	Default  bool     `json:"default"`
	Ignore   bool     `json:"ignore"`
	Link     *string  `json:"link"`
	Size     int64    `json:"size"`
	Modified jsonTime `json:"modified"`
}

type fileContentView struct {
	fileView
	Content  *string `json:"content"`
	Encoding *string `json:"encoding"`
}

func newFileView(f *domain.File) fileView {
	v := fileView{ID: f.ID.Hex(), Name: f.Name, Path: f.Path, Dir: f.Dir, Default: f.Default, Ignore: f.Ignore,
		Size: f.Size, Modified: jsonTime(f.Modified)}
	if f.IsLink {
		l := f.Link
		v.Link = &l
	}
	return v
}

func newFileContentView(f *domain.File) fileContentView {
	v := fileContentView{fileView: newFileView(f)}
	if !f.Dir && f.Cached {
		c, e := app.EncodeContent(f.Content)
		v.Content, v.Encoding = &c, &e
	}
	return v
}
