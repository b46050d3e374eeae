package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/fx"

	"github.com/runnable/runnable/adapters/dockerbackend"
	"github.com/runnable/runnable/adapters/httpapi"
	"github.com/runnable/runnable/adapters/inmem"
	"github.com/runnable/runnable/adapters/mirror"
	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/adapters/redisstore"
	"github.com/runnable/runnable/adapters/system"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/ports"
)

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// infra is every outbound adapter, opened.
type infra struct {
	store      *mongostore.Store
	redis      *redisstore.Store
	containers ports.Containers
	channels   ports.Channels
	// users, images and drafts are the store's, or on the embedded store
	// the in-memory mirror over them once prepareStore ran.
	users  ports.Users
	images imageStore
	drafts draftStore
}

// imageStore is an image store with its tag operations.
type imageStore interface {
	ports.Images
	ports.ImageTags
}

// draftStore is a draft store with its tag operations.
type draftStore interface {
	ports.Drafts
	ports.DraftTags
}

func openStore(ctx context.Context, cfg Config) (*mongostore.Store, error) {
	s, err := mongostore.Open(ctx, mongostore.Config{URL: cfg.MongoURL, DB: cfg.MongoDB, DataDir: cfg.DataDir})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

func openRedis(ctx context.Context, cfg Config) (*redisstore.Store, error) {
	r, err := redisstore.Open(ctx, redisstore.Config{URL: cfg.RedisURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, fmt.Errorf("open redis: %w", err)
	}
	return r, nil
}

func openContainers(cfg Config) (ports.Containers, error) {
	if cfg.ContainerBackend == "memory" {
		c := inmem.NewContainers()
		// a commit takes about as long as a real one, so saves are
		// observable while they run (spec §11 scenario 23)
		c.SetCommitDelay(time.Second)
		return c, nil
	}
	dc := dockerbackend.DefaultConfig()
	dc.Endpoint = cfg.DockerHost
	dc.Memory = cfg.ContainerMemory
	dc.CPUs = cfg.ContainerCPUs
	dc.PidsLimit = cfg.ContainerPidsLimit
	dc.NoFile = cfg.ContainerNoFile
	dc.LogMaxBytes = cfg.ContainerLogMaxBytes
	dc.FileMaxBytes = cfg.ContainerFileMaxBytes
	dc.CapAdd = cfg.ContainerCapAdd
	dc.Runtime = cfg.ContainerRuntime
	dc.ExtraLabels = map[string]string{"com.runnable.instance": instanceID(cfg)}
	b, err := dockerbackend.New(dc)
	if err != nil {
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	return b, nil
}

// instanceID names the installation a container or image belongs to:
// RUNNABLE_INSTANCE when set, else a hash of the store it is recorded in.
// Servers sharing a Docker engine but not a store never touch each other's
// containers or images.
func instanceID(cfg Config) string {
	if cfg.Instance != "" {
		return cfg.Instance
	}
	key := "mongo:" + cfg.MongoURL + "/" + cfg.MongoDB
	if cfg.MongoURL == "" {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			dir = cfg.DataDir
		}
		key = "embedded:" + dir
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}

func appConfig(cfg Config) app.Config {
	c := app.DefaultConfig()
	c.TokenTTL = cfg.TokenTTL
	c.BcryptCost = cfg.BcryptCost
	c.MaxDraftsPerUser = cfg.MaxDraftsPerUser
	c.MaxImagesPerUser = cfg.MaxImagesPerUser
	c.MaxRunningPerUser = cfg.MaxRunningPerUser
	c.MaxRunningTotal = cfg.MaxRunningTotal
	c.ContainerRate = app.Rate{Count: cfg.RateLimitContainer.Count, Window: cfg.RateLimitContainer.Window}
	c.RateLimitEnabled = cfg.RateLimitEnabled
	c.CleanupMaxAge = cfg.CleanupMaxAge
	c.CleanupBatch = cfg.CleanupBatch
	c.CleanupLockTTL = cfg.CleanupLockTTL
	c.IdleStopAfter = cfg.IdleStopAfter
	c.AccessWriteInterval = cfg.AccessWriteInterval
	c.SaveWait = cfg.SaveWait
	c.SaveTimeout = cfg.SaveTimeout
	c.StopTimeout = cfg.StopTimeout
	c.DefaultTemplate = cfg.DefaultTemplate
	c.FileMaxBytes = cfg.FileMaxBytes
	c.ContentCacheMaxBytes = cfg.ContentCacheMaxBytes
	c.ArchiveMaxBytes = cfg.ArchiveMaxBytes
	c.FilesMaxEntries = cfg.FilesMaxEntries
	c.FilesIgnore = cfg.FilesIgnore
	c.Network = cfg.ContainerNetwork
	c.NetworkAnonymous = cfg.ContainerNetworkAnonymous
	c.LogsMaxTail = cfg.LogsMaxTail
	c.TerminalShells = cfg.TerminalShells
	c.TerminalMaxConns = cfg.TerminalMaxConnections
	c.TerminalIdleTimeout = cfg.TerminalIdleTimeout
	c.ImportTimeout = cfg.ImportTimeout
	c.FeedCacheTTL = cfg.FeedCacheTTL
	return c
}

func httpConfig(cfg Config) httpapi.Config {
	h := httpapi.DefaultConfig()
	h.MaxBodyBytes = cfg.MaxBodyBytes
	h.UploadMaxBytes = cfg.UploadMaxBytes
	h.ImportMaxBytes = cfg.ImportMaxBytes
	h.PageDefault = cfg.PageDefaultLimit
	h.PageMax = cfg.PageMaxLimit
	h.PublicURL = cfg.PublicURL
	h.TrustProxy = cfg.TrustProxy
	h.CORSOrigins = cfg.CORSOrigins
	h.MetricsToken = cfg.MetricsToken
	h.RateLimitEnabled = cfg.RateLimitEnabled
	h.RateIP = httpapi.Rate(cfg.RateLimitIP)
	h.RateToken = httpapi.Rate(cfg.RateLimitToken)
	h.RateSignup = httpapi.Rate(cfg.RateLimitSignup)
	h.RateLogin = httpapi.Rate(cfg.RateLimitLogin)
	h.CleanupMaxAge = cfg.CleanupMaxAge
	return h
}

// newApp builds the use cases over the opened adapters; rec may be nil.
func newApp(inf *infra, log *slog.Logger, cfg Config, rec app.Recorder) *app.App {
	return app.New(app.Deps{
		Metrics: rec,
		Users:   inf.users, Images: inf.images, Drafts: inf.drafts, Files: inf.store.Files(),
		Channels: inf.channels, Tokens: inf.redis.Tokens(), Limiter: inf.redis.RateLimiter(), Locks: inf.redis.Locks(),
		Containers: inf.containers, Clock: system.Clock{}, IDs: system.NewIDs(), Logger: log,
		ImageTags: inf.images, DraftTags: inf.drafts, Categories: inf.store.Categories(),
		Votes: inf.store.Votes(), Comments: inf.store.Comments(), FeedCache: inf.redis.FeedCache(),
	}, appConfig(cfg))
}

// openInfra opens every adapter; on failure it closes what it opened.
func openInfra(ctx context.Context, cfg Config) (*infra, error) {
	inf := &infra{}
	var err error
	if inf.store, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	if inf.redis, err = openRedis(ctx, cfg); err != nil {
		inf.close(ctx)
		return nil, err
	}
	if inf.containers, err = openContainers(cfg); err != nil {
		inf.close(ctx)
		return nil, err
	}
	inf.channels = inf.store.Channels()
	inf.users, inf.images, inf.drafts = inf.store.Users(), inf.store.Images(), inf.store.Drafts()
	return inf, nil
}

// prepareStore applies the pending migrations when MIGRATE_ON_START is
// set and then, on the embedded store only, puts the in-memory mirror in
// front of the user, image and draft stores: the embedded store belongs to this
// process alone (its flock), while several replicas may share MONGO_URL
// and would miss each other's writes (docs/adr/0007-embedded-store-mirror.md).
// The mirrors load after the migrations, which rewrite images and drafts.
func prepareStore(ctx context.Context, inf *infra, cfg Config, log *slog.Logger) error {
	if cfg.MigrateOnStart {
		if err := mongostore.Migrate(ctx, inf.store.DB()); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
	}
	if !inf.store.Embedded() {
		return nil
	}
	su, si, sd := inf.store.Users(), inf.store.Images(), inf.store.Drafts()
	users, err := mirror.NewUsers(ctx, su, su.All, log)
	if err != nil {
		return err
	}
	images, err := mirror.NewImages(ctx, si, si, si.All, log)
	if err != nil {
		return err
	}
	drafts, err := mirror.NewDrafts(ctx, sd, sd, sd.All, log)
	if err != nil {
		return err
	}
	inf.users, inf.images, inf.drafts = users, images, drafts
	return nil
}

func (inf *infra) close(ctx context.Context) {
	if inf.redis != nil {
		_ = inf.redis.Close()
	}
	if inf.store != nil {
		_ = inf.store.Close(ctx)
	}
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func newHTTP(a *app.App, inf *infra, cfg Config, log *slog.Logger, reg *prometheus.Registry) (*httpapi.Server, error) {
	checks := []httpapi.Check{
		{Name: "store", Ping: inf.store.Ping},
		{Name: "token_store", Ping: inf.redis.Ping},
		{Name: "containers", Ping: inf.containers.Ping},
	}
	return httpapi.New(a, inf.redis.RateLimiter(), checks, httpConfig(cfg), log, reg)
}

// serverModule is the fx graph of `api-server serve`.
func serverModule(cfg Config, log *slog.Logger) fx.Option {
	return fx.Options(
		fx.Supply(cfg, log),
		fx.Provide(
			func(lc fx.Lifecycle) (*infra, error) {
				ctx := context.Background()
				inf, err := openInfra(ctx, cfg)
				if err != nil {
					return nil, err
				}
				if err := prepareStore(ctx, inf, cfg, log); err != nil {
					inf.close(ctx)
					return nil, err
				}
				lc.Append(fx.StopHook(func(ctx context.Context) { inf.close(ctx) }))
				return inf, nil
			},
			newRegistry,
			func(reg *prometheus.Registry) (app.Recorder, error) { return httpapi.NewRuntimeMetrics(reg) },
			newApp,
			newHTTP,
		),
		fx.Invoke(registerServer),
	)
}
