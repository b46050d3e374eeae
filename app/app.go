package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Rate is a count per window, e.g. 20/1m.
type Rate struct {
	Count  int
	Window time.Duration
}

// Config holds the use cases' settings (spec §10). Zero values are replaced
// by the defaults of DefaultConfig in New.
type Config struct {
	TokenTTL             time.Duration
	BcryptCost           int
	MaxDraftsPerUser     int // 0 = unlimited
	MaxImagesPerUser     int // 0 = unlimited
	MaxRunningPerUser    int
	MaxRunningTotal      int
	ContainerRate        Rate
	RateLimitEnabled     bool
	CleanupMaxAge        time.Duration
	CleanupBatch         int
	CleanupLockTTL       time.Duration
	IdleStopAfter        time.Duration
	AccessWriteInterval  time.Duration
	SaveWait             time.Duration
	SaveTimeout          time.Duration
	StopTimeout          time.Duration
	DefaultTemplate      string
	FileMaxBytes         int64
	ContentCacheMaxBytes int64
	ArchiveMaxBytes      int64
	FilesMaxEntries      int
	FilesIgnore          []string
	Network              string
	NetworkAnonymous     string
	LogsMaxTail          int
	FeedCacheTTL         time.Duration // how long a cached feed ranks (spec §7.4)
	TerminalShells       []string
	TerminalMaxConns     int
	TerminalIdleTimeout  time.Duration
	ImportTimeout        time.Duration // bounds one import's build or load (0 = none)
}

// DefaultConfig returns the spec's defaults.
func DefaultConfig() Config {
	return Config{
		TokenTTL:             720 * time.Hour,
		BcryptCost:           10,
		MaxDraftsPerUser:     50,
		MaxImagesPerUser:     100,
		MaxRunningPerUser:    3,
		MaxRunningTotal:      100,
		ContainerRate:        Rate{Count: 20, Window: time.Minute},
		RateLimitEnabled:     true,
		CleanupMaxAge:        168 * time.Hour,
		CleanupBatch:         500,
		CleanupLockTTL:       10 * time.Minute,
		IdleStopAfter:        2 * time.Hour,
		AccessWriteInterval:  30 * time.Second,
		SaveWait:             10 * time.Second,
		SaveTimeout:          15 * time.Minute,
		StopTimeout:          10 * time.Second,
		DefaultTemplate:      "shell",
		FileMaxBytes:         10 << 20,
		ContentCacheMaxBytes: 256 << 10,
		ArchiveMaxBytes:      512 << 20,
		FilesMaxEntries:      10000,
		FilesIgnore:          []string{"node_modules", ".git"},
		Network:              "bridge",
		NetworkAnonymous:     "none",
		LogsMaxTail:          10000,
		FeedCacheTTL:         60 * time.Second,
		TerminalShells:       []string{"/bin/bash", "/bin/sh"},
		TerminalMaxConns:     3,
		TerminalIdleTimeout:  30 * time.Minute,
		ImportTimeout:        15 * time.Minute,
	}
}

// Deps are the ports the use cases need.
type Deps struct {
	Users      ports.Users
	Images     ports.Images
	Drafts     ports.Drafts
	Files      ports.Files
	Channels   ports.Channels
	ImageTags  ports.ImageTags // the image store's tag operations (spec §6)
	DraftTags  ports.DraftTags // the draft store's tag operations
	Categories ports.Categories
	Votes      ports.Votes
	Comments   ports.Comments
	FeedCache  ports.FeedCache // nil: feeds are computed on every request
	Tokens     ports.Tokens
	Limiter    ports.RateLimiter
	Locks      ports.Locks
	Containers ports.Containers
	Clock      ports.Clock
	IDs        ports.IDs
	Logger     *slog.Logger
	// Metrics receives the runtime's measurements; nil records nothing.
	Metrics Recorder
}

// App is the set of use cases.
type App struct {
	Deps
	cfg   Config
	locks keyedMutex
	admit admission
	// saves tracks running save jobs and background work so shutdown can
	// wait for them and mark saves interrupted.
	saves jobSet
	// baseCtx is cancelled on Shutdown; background jobs derive from it.
	baseCtx context.Context
	cancel  context.CancelFunc
	// jobsCtx bounds save jobs; Shutdown cancels it only when its own
	// deadline passes, and the jobs then fail as "interrupted".
	jobsCtx    context.Context
	cancelJobs context.CancelFunc
	// terminals counts open terminals per draft (spec §4.9).
	termMu      sync.Mutex
	terminals   map[domain.ID]int
	termCancels map[*int]context.CancelFunc
}

// New returns the use cases over deps.
func New(deps Deps, cfg Config) *App {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	deps.Containers = instrument(deps.Containers, deps.Metrics)
	ctx, cancel := context.WithCancel(context.Background())
	jobs, cancelJobs := context.WithCancel(context.Background())
	return &App{Deps: deps, cfg: cfg, baseCtx: ctx, cancel: cancel, jobsCtx: jobs, cancelJobs: cancelJobs,
		terminals: map[domain.ID]int{}, termCancels: map[*int]context.CancelFunc{}}
}

// Config returns the settings in force.
func (a *App) Config() Config { return a.cfg }

// Shutdown cancels background jobs and waits for running saves up to
// ctx's end; saves still running then are interrupted (recorded as failed
// "interrupted", spec §9.4).
func (a *App) Shutdown(ctx context.Context) error {
	a.cancel()
	a.saves.close()
	done := make(chan struct{})
	go func() { a.saves.wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	a.cancelJobs()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return ctx.Err()
}

func (a *App) now() time.Time { return a.Clock.Now().UTC().Truncate(time.Millisecond) }

// jobSet is a WaitGroup that refuses new jobs once closed, so no Add can
// race with the final Wait.
type jobSet struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// start registers a job; false once the set is closed.
func (j *jobSet) start() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return false
	}
	j.wg.Add(1)
	return true
}

func (j *jobSet) done() { j.wg.Done() }

func (j *jobSet) close() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
}

func (j *jobSet) wait() { j.wg.Wait() }

// keyedMutex serialises work per id within this process.
type keyedMutex struct {
	mu sync.Mutex
	m  map[domain.ID]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock takes id's mutex and returns an unlock that is safe to call twice.
func (k *keyedMutex) lock(id domain.ID) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[domain.ID]*keyedEntry{}
	}
	e := k.m[id]
	if e == nil {
		e = &keyedEntry{}
		k.m[id] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	var once sync.Once
	return func() { once.Do(func() { k.unlock(id, e) }) }
}

func (k *keyedMutex) unlock(id domain.ID, e *keyedEntry) {
	e.mu.Unlock()
	k.mu.Lock()
	e.refs--
	if e.refs == 0 {
		delete(k.m, id)
	}
	k.mu.Unlock()
}

// notFound maps a store's ErrNotFound to the given public error and keeps
// other errors.
func notFound(err error, public *domain.Error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return public
	}
	return err
}
