package ports

import (
	"context"
	"io"
	"time"

	"github.com/runnable/runnable/domain"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// IDs makes new ObjectIds.
type IDs interface {
	NewID() domain.ID
}

// Page selects one page of a list: zero-based page and a limit; a limit
// of 0 or less means no limit (every row from the start).
type Page struct {
	Page, Limit int
}

// Users stores accounts.
type Users interface {
	// Create inserts u. ErrConflict with message "user with email already
	// exists" or "user with username already exists" when taken
	// (case-insensitive, deleted users included).
	Create(ctx context.Context, u *domain.User) error
	// Get returns the user, deleted ones included. ErrNotFound.
	Get(ctx context.Context, id domain.ID) (*domain.User, error)
	// Update replaces u. ErrNotFound; ErrConflict as Create.
	Update(ctx context.Context, u *domain.User) error
	// FindByEmail matches the stored (lower-case) email case-insensitively,
	// deleted users included. ErrNotFound.
	FindByEmail(ctx context.Context, email string) (*domain.User, error)
	// FindByUsername matches case-insensitively, deleted users included.
	// ErrNotFound.
	FindByUsername(ctx context.Context, username string) (*domain.User, error)
	// List returns non-deleted users whose id is in ids (when ids is not
	// nil) and whose username matches username case-insensitively (when
	// not ""), ordered by creation, and the total before paging.
	List(ctx context.Context, ids []domain.ID, username string, p Page) ([]*domain.User, int, error)
	// AddStat atomically adds n to the named counter and returns the new
	// counters. ErrNotFound.
	AddStat(ctx context.Context, id domain.ID, stat string, n int) (domain.Stats, error)
}

// ImageQuery filters image listings (spec §3.3). Zero values do not filter.
// Only images with version >= 1 are ever listed.
type ImageQuery struct {
	Published *bool
	// Channels: an image matches when it has a tag in any of them. A
	// non-nil empty slice matches nothing.
	Channels []domain.ID
	Owner    domain.ID
	Parent   domain.ID
	// Search terms; each must occur case-insensitively in the name, the
	// description or a tag name.
	Search []string
	// Sort: "-created" (default), "created", "votes", "runs", "views".
	Sort string
	Page
}

// Images stores saved runnables.
type Images interface {
	// Create inserts img. ErrConflict (domain.ErrNameTaken) when another
	// image has the name, case-insensitively.
	Create(ctx context.Context, img *domain.Image) error
	// Get returns the image. ErrNotFound.
	Get(ctx context.Context, id domain.ID) (*domain.Image, error)
	// Update replaces img. ErrNotFound; ErrConflict on a taken name.
	Update(ctx context.Context, img *domain.Image) error
	// Delete removes the image document. ErrNotFound.
	Delete(ctx context.Context, id domain.ID) error
	// FindByName matches case-insensitively. ErrNotFound.
	FindByName(ctx context.Context, name string) (*domain.Image, error)
	// List returns one page and the total matching.
	List(ctx context.Context, q ImageQuery) ([]*domain.Image, int, error)
	// CountByOwner counts the owner's images with version >= 1, and those
	// of them with tags.
	CountByOwner(ctx context.Context, owner domain.ID) (images, published int, err error)
	// Transfer moves every image of from to to and returns how many.
	Transfer(ctx context.Context, from, to domain.ID) (int, error)
	// AddStat atomically adds n to a counter ("votes" included) and returns
	// the image's new counters and votes. ErrNotFound.
	AddStat(ctx context.Context, id domain.ID, stat string, n int) (domain.Stats, int, error)
	// Refs lists every container image reference images point at.
	Refs(ctx context.Context) ([]string, error)
}

// DraftQuery filters draft listings. Zero values do not filter.
type DraftQuery struct {
	Owner  domain.ID
	Parent domain.ID
	Saved  *bool
	Page
}

// Drafts stores working copies.
type Drafts interface {
	// Create inserts d.
	Create(ctx context.Context, d *domain.Draft) error
	// Get returns the draft. ErrNotFound.
	Get(ctx context.Context, id domain.ID) (*domain.Draft, error)
	// Update replaces d. ErrNotFound.
	Update(ctx context.Context, d *domain.Draft) error
	// Delete removes d. ErrNotFound.
	Delete(ctx context.Context, id domain.ID) error
	// List returns one page, newest first, and the total.
	List(ctx context.Context, q DraftQuery) ([]*domain.Draft, int, error)
	// CountByOwner counts the owner's drafts.
	CountByOwner(ctx context.Context, owner domain.ID) (int, error)
	// Transfer moves every draft of from to to and returns how many.
	Transfer(ctx context.Context, from, to domain.ID) (int, error)
	// Expired lists at most limit unsaved drafts with no save running
	// whose last access is before before, oldest first.
	Expired(ctx context.Context, before time.Time, limit int) ([]*domain.Draft, error)
	// ByOwners lists drafts owned by any of owners.
	ByOwners(ctx context.Context, owners []domain.ID) ([]*domain.Draft, error)
	// WithContainer lists drafts that have a container.
	WithContainer(ctx context.Context) ([]*domain.Draft, error)
	// ClearTarget sets target to none on drafts targeting image.
	ClearTarget(ctx context.Context, image domain.ID) error
	// BaseRefs lists the BaseRef of drafts that have no container.
	BaseRefs(ctx context.Context) ([]string, error)
	// Saving lists drafts whose save status is "saving".
	Saving(ctx context.Context) ([]*domain.Draft, error)
}

// Files stores runnables' file indexes and content caches. Entries are
// unique per (runnable, full path) and per (runnable, id).
type Files interface {
	// List returns the runnable's entries sorted by path then name, with
	// cached content.
	List(ctx context.Context, runnable domain.ID) ([]domain.File, error)
	// Get returns one entry. ErrNotFound.
	Get(ctx context.Context, runnable, id domain.ID) (*domain.File, error)
	// Put inserts or replaces entries by (runnable, id).
	Put(ctx context.Context, files ...domain.File) error
	// Delete removes entries by id; unknown ids are ignored.
	Delete(ctx context.Context, runnable domain.ID, ids ...domain.ID) error
	// Replace swaps the runnable's whole index for files.
	Replace(ctx context.Context, runnable domain.ID, files []domain.File) error
	// DeleteAll removes the runnable's index.
	DeleteAll(ctx context.Context, runnable domain.ID) error
}

// Tokens stores access tokens as SHA-256 hashes (spec §1.2).
type Tokens interface {
	// Issue makes a new token for user that expires after ttl.
	Issue(ctx context.Context, user domain.ID, ttl time.Duration) (string, error)
	// Lookup returns the token's user. ErrNotFound when unknown, expired or
	// revoked.
	Lookup(ctx context.Context, token string) (domain.ID, error)
	// Revoke deletes one token; unknown tokens are not an error.
	Revoke(ctx context.Context, token string) error
	// RevokeAll deletes every token of user except keep ("" keeps none).
	RevokeAll(ctx context.Context, user domain.ID, keep string) error
}

// RateResult is the state of one fixed-window bucket after a hit.
type RateResult struct {
	Allowed   bool
	Limit     int
	Remaining int
	Reset     time.Duration // until the window ends
}

// RateLimiter counts hits in fixed windows shared by replicas.
type RateLimiter interface {
	// Hit counts one hit for key in a window of the given size.
	Hit(ctx context.Context, bucket, key string, limit int, window time.Duration) (RateResult, error)
}

// Locks are cluster-wide mutual exclusion with a TTL.
type Locks interface {
	// Acquire takes name for ttl. ok is false when another holder has it.
	// The returned lock must be released by its holder.
	Acquire(ctx context.Context, name string, ttl time.Duration) (Lock, bool, error)
}

// Lock is a held lock.
type Lock interface {
	// Refresh extends the lock; ErrConflict if it was lost.
	Refresh(ctx context.Context, ttl time.Duration) error
	// Release frees the lock if still held.
	Release(ctx context.Context) error
}

// ContainerSpec describes a draft's container (spec §4.7). Limits and
// security settings are the backend's own configuration.
type ContainerSpec struct {
	Image   string // container image reference
	Draft   domain.ID
	Owner   domain.ID
	WorkDir string
	Env     map[string]string
	// Network is the network mode: "bridge", "none" or a named network.
	Network string
}

// RunSpec is what a start runs: start_cmd by /bin/sh -c, with env.
type RunSpec struct {
	StartCmd string
	Env      map[string]string
}

// ContainerState is a container's live state.
type ContainerState struct {
	Running    bool
	Dead       bool
	StartedAt  time.Time // zero if never started
	FinishedAt time.Time // zero if never stopped
	// CmdDone is true once start_cmd finished (or was empty) in the
	// current run; ExitCode is its status when it ran.
	CmdDone  bool
	ExitCode *int
}

// Source names a filesystem to read: a container when Container is set,
// else a container image.
type Source struct {
	Container string
	Image     string
}

// FSEntry is one entry of a container filesystem. Path is absolute.
type FSEntry struct {
	Path     string
	Dir      bool
	IsLink   bool
	Link     string
	Size     int64
	Modified time.Time
	// Content is set for regular files no larger than the read's limit.
	Content []byte
	HasData bool
}

// TreeOptions bound a tree read.
type TreeOptions struct {
	MaxContent int64    // read content of regular files up to this size
	Ignore     []string // directory names listed but not descended into
	MaxEntries int      // stop after this many entries (0 = no limit)
}

// LogLine is one line of a container log.
type LogLine struct {
	Stream string // "stdout" or "stderr"
	Text   string // without the newline
	Time   time.Time
}

// ExecSpec describes an interactive exec.
type ExecSpec struct {
	Cmd        []string
	Env        map[string]string
	WorkDir    string
	Cols, Rows int
}

// ExecSession is a running interactive exec with a TTY.
type ExecSession interface {
	io.Reader // TTY output
	io.Writer // TTY input
	// Resize changes the TTY size.
	Resize(ctx context.Context, cols, rows int) error
	// Close ends the session.
	Close() error
	// Wait waits for the process and returns its exit code.
	Wait(ctx context.Context) (int, error)
}

// ManagedContainer is a container labelled as the server's.
type ManagedContainer struct {
	ID      string
	Draft   domain.ID
	Created time.Time
	Running bool
}

// Containers is the container backend (Docker, or the memory simulation).
// Every method returns ErrUnavailable when the backend cannot be reached
// and ErrBackend for other backend failures, unless stated otherwise.
type Containers interface {
	// Ping checks the backend answers.
	Ping(ctx context.Context) error

	// Create makes a stopped container for a draft and returns its id.
	Create(ctx context.Context, spec ContainerSpec) (string, error)
	// Start starts the container running run.StartCmd under the
	// supervisor. ErrNotFound when the container is gone.
	Start(ctx context.Context, id string, run RunSpec) error
	// Stop sends SIGTERM, waits timeout, then kills. A stopped container is
	// not an error. ErrNotFound when gone.
	Stop(ctx context.Context, id string, timeout time.Duration) error
	// Remove force-removes the container; a missing one is not an error.
	Remove(ctx context.Context, id string) error
	// Inspect returns the live state. ErrNotFound when gone.
	Inspect(ctx context.Context, id string) (ContainerState, error)
	// List returns every managed container.
	List(ctx context.Context) ([]ManagedContainer, error)

	// ReadTree lists the tree under the absolute directory root.
	// truncated reports that MaxEntries cut the listing.
	ReadTree(ctx context.Context, src Source, root string, opt TreeOptions) (entries []FSEntry, truncated bool, err error)
	// ReadFile returns a regular file's content. ErrNotFound.
	ReadFile(ctx context.Context, src Source, abs string) ([]byte, error)
	// WriteFile creates or replaces a regular file; the parent must exist.
	WriteFile(ctx context.Context, id, abs string, data []byte) error
	// MakeDir creates one directory; the parent must exist.
	MakeDir(ctx context.Context, id, abs string) error
	// Move renames from to to (both absolute).
	Move(ctx context.Context, id, from, to string) error
	// RemovePath deletes a file or a whole directory tree.
	RemovePath(ctx context.Context, id, abs string) error
	// Archive streams a tar of abs (a file or a directory), entries named
	// relative to abs's parent unless stripped by the caller.
	Archive(ctx context.Context, src Source, abs string) (io.ReadCloser, error)

	// Logs returns the last tail lines in order.
	Logs(ctx context.Context, id string, tail int) ([]LogLine, error)
	// FollowLogs calls fn with the last tail lines, then every new line
	// until the container stops (nil) or ctx ends (ctx.Err()).
	FollowLogs(ctx context.Context, id string, tail int, fn func(LogLine) error) error
	// Exec starts an interactive process with a TTY in a running container.
	// ErrNotFound when Cmd[0] does not exist.
	Exec(ctx context.Context, id string, spec ExecSpec) (ExecSession, error)

	// Commit snapshots the container (paused meanwhile) as ref.
	Commit(ctx context.Context, id, ref string) error
	// ImageExists reports whether ref is present.
	ImageExists(ctx context.Context, ref string) (bool, error)
	// RemoveImage deletes ref; a missing one is not an error; ErrConflict
	// when in use.
	RemoveImage(ctx context.Context, ref string) error
	// ListImages lists references under the server's repository prefix.
	ListImages(ctx context.Context) ([]string, error)
	// Build builds a context tar into ref, calling progress with each
	// output line. A failing build gives ErrInvalid "image build failed:
	// <last line>".
	Build(ctx context.Context, contextTar io.Reader, ref string, progress func(string)) error
	// Load imports a docker-save tar holding one image and tags it ref.
	Load(ctx context.Context, tar io.Reader, ref string) error
	// Export writes a docker-save tar of ref.
	Export(ctx context.Context, ref string, w io.Writer) error
	// ImageCommand returns the image's entrypoint and command joined as one
	// shell command ("" when none).
	ImageCommand(ctx context.Context, ref string) (string, error)
}

// Channels stores channels. Aliases are unique across channels.
type Channels interface {
	// Create inserts c. ErrConflict "channel with name already exists" when
	// one of its aliases belongs to another channel.
	Create(ctx context.Context, c *domain.Channel) error
	// Get returns a channel. ErrNotFound.
	Get(ctx context.Context, id domain.ID) (*domain.Channel, error)
	// FindByAlias matches a lower-cased alias. ErrNotFound.
	FindByAlias(ctx context.Context, alias string) (*domain.Channel, error)
	// List returns one page of the channels matching q, ordered by
	// lower-cased name then id, and the total matching.
	List(ctx context.Context, q ChannelQuery) ([]*domain.Channel, int, error)
	// Update replaces c. ErrNotFound; ErrConflict "channel with alias
	// already exists" when one of its aliases belongs to another channel.
	Update(ctx context.Context, c *domain.Channel) error
	// Delete removes a channel. ErrNotFound.
	Delete(ctx context.Context, id domain.ID) error
	// CountByCategory counts, for each of categories, the channels tagged
	// with it. Categories without channels may be absent from the map.
	CountByCategory(ctx context.Context, categories []domain.ID) (map[domain.ID]int, error)
	// RemoveCategoryTags removes every category tag on category from every
	// channel.
	RemoveCategoryTags(ctx context.Context, category domain.ID) error
	// RenameCategoryTags sets the name of every category tag on category.
	RenameCategoryTags(ctx context.Context, category domain.ID, name string) error
}

// ChannelQuery filters channel listings (spec §6.3). Zero values do not
// filter.
type ChannelQuery struct {
	// IDs: only these channels. A non-nil empty slice matches nothing.
	IDs []domain.ID
	// Category: only channels tagged with it.
	Category domain.ID
	Page
}

// ImageTags changes the tags of stored images, each change atomic on its
// image, and counts images per channel (spec §6.2, §6.3). The image store
// implements it.
type ImageTags interface {
	// AddTag appends tag to the image unless the image already has a tag
	// on tag.Channel (ErrConflict) or already has max tags (ErrInvalid
	// "too many tags"). ErrNotFound when the image does not exist.
	AddTag(ctx context.Context, image domain.ID, tag domain.Tag, max int) error
	// RemoveTag removes the image's tag with id tag. ErrNotFound "runnable
	// not found" or "tag not found".
	RemoveTag(ctx context.Context, image, tag domain.ID) error
	// RemoveTagsOfChannel removes every tag on channel from every image and
	// returns how many images changed.
	RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error)
	// RenameTagsOfChannel sets the name of every image tag on channel.
	RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error
	// ChannelCounts counts listed images (version >= 1) per channel of
	// their tags: the channel's count, or with a non-zero with, how many
	// images each channel shares with channel with (related channels;
	// with itself is then left out). Only channels (all when nil) are
	// counted; channels without images may be absent from the map.
	ChannelCounts(ctx context.Context, with domain.ID, channels []domain.ID) (map[domain.ID]int, error)
}

// DraftTags changes the tags of stored drafts, each change atomic on its
// draft (spec §6.2). The draft store implements it.
type DraftTags interface {
	// AddTag appends tag to the draft unless it already has a tag on
	// tag.Channel (ErrConflict) or already has max tags (ErrInvalid "too
	// many tags"). ErrNotFound when the draft does not exist.
	AddTag(ctx context.Context, draft domain.ID, tag domain.Tag, max int) error
	// RemoveTag removes the draft's tag with id tag. ErrNotFound "runnable
	// not found" or "tag not found".
	RemoveTag(ctx context.Context, draft, tag domain.ID) error
	// RemoveTagsOfChannel removes every tag on channel from every draft and
	// returns how many drafts changed.
	RemoveTagsOfChannel(ctx context.Context, channel domain.ID) (int, error)
	// RenameTagsOfChannel sets the name of every draft tag on channel.
	RenameTagsOfChannel(ctx context.Context, channel domain.ID, name string) error
}

// Categories stores categories of channels. Aliases are unique across
// categories.
type Categories interface {
	// Create inserts c. ErrConflict "category with name already exists"
	// when one of its aliases belongs to another category.
	Create(ctx context.Context, c *domain.Category) error
	// Get returns a category. ErrNotFound.
	Get(ctx context.Context, id domain.ID) (*domain.Category, error)
	// FindByAlias matches a lower-cased alias. ErrNotFound.
	FindByAlias(ctx context.Context, alias string) (*domain.Category, error)
	// Update replaces c. ErrNotFound; ErrConflict "category with alias
	// already exists" when one of its aliases belongs to another category.
	Update(ctx context.Context, c *domain.Category) error
	// Delete removes a category. ErrNotFound.
	Delete(ctx context.Context, id domain.ID) error
	// List returns one page of the categories whose id is in ids (all when
	// ids is nil), ordered by lower-cased name then id, and the total.
	List(ctx context.Context, ids []domain.ID, p Page) ([]*domain.Category, int, error)
}

// Votes stores votes, unique per (user, image) (spec §7.1).
type Votes interface {
	// Create inserts v. ErrConflict when v.User already voted for v.Image.
	Create(ctx context.Context, v *domain.Vote) error
	// Get returns a vote. ErrNotFound.
	Get(ctx context.Context, id domain.ID) (*domain.Vote, error)
	// Find returns user's vote for image. ErrNotFound.
	Find(ctx context.Context, user, image domain.ID) (*domain.Vote, error)
	// Delete removes a vote. ErrNotFound, also when a concurrent Delete
	// removed it first.
	Delete(ctx context.Context, id domain.ID) error
	// ListByUser returns one page of user's votes, newest first (then
	// higher id), and the total.
	ListByUser(ctx context.Context, user domain.ID, p Page) ([]*domain.Vote, int, error)
	// CountByImage counts the votes for image.
	CountByImage(ctx context.Context, image domain.ID) (int, error)
	// DeleteByImage removes every vote for image and returns how many.
	DeleteByImage(ctx context.Context, image domain.ID) (int, error)
}

// CommentQuery selects an image's comments.
type CommentQuery struct {
	Image domain.ID
	// ExcludeAuthors leaves out comments by these users (deleted ones).
	ExcludeAuthors []domain.ID
	Page
}

// Comments stores comments on images (spec §7.3).
type Comments interface {
	// Create inserts c.
	Create(ctx context.Context, c *domain.Comment) error
	// Get returns a comment. ErrNotFound.
	Get(ctx context.Context, id domain.ID) (*domain.Comment, error)
	// Delete removes a comment. ErrNotFound.
	Delete(ctx context.Context, id domain.ID) error
	// List returns one page of the image's comments, oldest first (then
	// lower id), and the total, both without ExcludeAuthors' comments.
	List(ctx context.Context, q CommentQuery) ([]*domain.Comment, int, error)
	// Authors lists the distinct authors of the image's comments.
	Authors(ctx context.Context, image domain.ID) ([]domain.ID, error)
	// DeleteByImage removes every comment on image and returns how many.
	DeleteByImage(ctx context.Context, image domain.ID) (int, error)
}

// FeedEntry is one ranked image of a cached feed (spec §7.4).
type FeedEntry struct {
	Image   domain.ID
	Created time.Time // breaks score ties: newer first, then higher id
	Score   float64
}

// FeedCache keeps ranked feeds for a while (Redis sorted sets feed:<key>,
// spec §7.4): key "global" or "channel:<channel hex id>".
type FeedCache interface {
	// Range returns entries [start, stop) of key's feed by score
	// descending, then newer Created, then higher id (stop < 0: to the
	// end), and the feed's size. ok is false when the feed is not cached
	// (never stored, or expired).
	Range(ctx context.Context, key string, start, stop int) (entries []FeedEntry, total int, ok bool, err error)
	// Store replaces key's feed with entries (possibly none) for ttl.
	Store(ctx context.Context, key string, entries []FeedEntry, ttl time.Duration) error
}
