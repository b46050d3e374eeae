package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of the binary (spec §10), loaded from
// the environment by loadConfig.
type Config struct {
	Port             int
	ListenAddr       string
	PublicURL        string
	MongoURL         string
	MongoDB          string
	DataDir          string
	RedisURL         string
	ContainerBackend string
	DockerHost       string
	Instance         string

	TokenTTL             time.Duration
	BcryptCost           int
	MaxBodyBytes         int64
	FileMaxBytes         int64
	UploadMaxBytes       int64
	ContentCacheMaxBytes int64
	FilesMaxEntries      int
	FilesIgnore          []string
	ArchiveMaxBytes      int64
	ImportMaxBytes       int64
	ImportTimeout        time.Duration
	PageDefaultLimit     int
	PageMaxLimit         int
	SaveWait             time.Duration
	SaveTimeout          time.Duration
	StopTimeout          time.Duration
	CleanupEnabled       bool
	CleanupInterval      time.Duration
	CleanupMaxAge        time.Duration
	CleanupBatch         int
	CleanupLockTTL       time.Duration
	IdleStopAfter        time.Duration
	AccessWriteInterval  time.Duration
	FeedCacheTTL         time.Duration

	ContainerMemory           int64
	ContainerCPUs             float64
	ContainerPidsLimit        int64
	ContainerNoFile           int64
	ContainerNetwork          string
	ContainerNetworkAnonymous string
	ContainerCapAdd           []string
	ContainerRuntime          string
	ContainerLogMaxBytes      int64
	ContainerFileMaxBytes     int64

	MaxRunningPerUser int
	MaxRunningTotal   int
	MaxDraftsPerUser  int
	MaxImagesPerUser  int
	LogsMaxTail       int

	TerminalShells         []string
	TerminalIdleTimeout    time.Duration
	TerminalMaxConnections int

	RateLimitEnabled   bool
	RateLimitIP        rate
	RateLimitToken     rate
	RateLimitSignup    rate
	RateLimitLogin     rate
	RateLimitContainer rate
	TrustProxy         bool
	CORSOrigins        []string

	AdminEmail         string
	AdminPassword      string
	AdminUsername      string
	AdminResetPassword bool
	DefaultTemplate    string
	TemplatesDir       string
	TemplatesImport    bool
	MetricsToken       string
	MigrateOnStart     bool
	LogLevel           string
	ShutdownTimeout    time.Duration
}

type rate struct {
	Count  int
	Window time.Duration
}

// configError collects every invalid variable.
type configError []string

func (e configError) Error() string { return "invalid configuration: " + strings.Join(e, "; ") }

type loader struct {
	getenv func(string) string
	errs   configError
}

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

func (l *loader) integer(name string, def, min int) int {
	v := l.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < min {
		l.errs = append(l.errs, fmt.Sprintf("%s must be an integer >= %d", name, min))
		return def
	}
	return n
}

func (l *loader) boolean(name string, def bool) bool {
	v := strings.ToLower(strings.TrimSpace(l.getenv(name)))
	switch v {
	case "":
		return def
	case "true", "1", "yes":
		return true
	case "false", "0", "no":
		return false
	}
	l.errs = append(l.errs, name+" must be true or false")
	return def
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	v := l.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		l.errs = append(l.errs, name+" must be a duration such as 90s or 168h")
		return def
	}
	return d
}

// parseSize reads bytes with an optional KiB, MiB or GiB suffix.
func parseSize(v string) (int64, error) {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, s := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(v, s.suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, s.suffix)), s.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size")
	}
	return n * mult, nil
}

func (l *loader) size(name string, def int64) int64 {
	v := l.getenv(name)
	if v == "" {
		return def
	}
	n, err := parseSize(v)
	if err != nil {
		l.errs = append(l.errs, name+" must be a size such as 1048576, 512KiB, 10MiB or 4GiB")
		return def
	}
	return n
}

func parseRate(v string) (rate, error) {
	parts := strings.SplitN(strings.TrimSpace(v), "/", 2)
	if len(parts) != 2 {
		return rate{}, fmt.Errorf("bad rate")
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n < 0 {
		return rate{}, fmt.Errorf("bad rate")
	}
	w := parts[1]
	if w != "" && (w[0] < '0' || w[0] > '9') {
		w = "1" + w
	}
	d, err := time.ParseDuration(w)
	if err != nil || d <= 0 {
		return rate{}, fmt.Errorf("bad rate")
	}
	return rate{Count: n, Window: d}, nil
}

func (l *loader) rate(name string, def rate) rate {
	v := l.getenv(name)
	if v == "" {
		return def
	}
	r, err := parseRate(v)
	if err != nil {
		l.errs = append(l.errs, name+" must be a rate such as 600/1m")
		return def
	}
	return r
}

func (l *loader) list(name, def string) []string {
	v := l.getenv(name)
	if v == "" {
		v = def
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loadConfig reads the configuration; every invalid value is reported.
func loadConfig(getenv func(string) string) (Config, error) {
	l := &loader{getenv: getenv}
	c := Config{
		Port:                      l.integer("PORT", 3030, 0),
		ListenAddr:                l.str("LISTEN_ADDR", ""),
		PublicURL:                 l.str("PUBLIC_URL", ""),
		MongoURL:                  l.str("MONGO_URL", ""),
		MongoDB:                   l.str("MONGO_DB", "runnable"),
		DataDir:                   l.str("RUNNABLE_DATA_DIR", "./data"),
		RedisURL:                  l.str("REDIS_URL", ""),
		ContainerBackend:          l.str("CONTAINER_BACKEND", "docker"),
		DockerHost:                l.str("DOCKER_HOST", ""),
		Instance:                  l.str("RUNNABLE_INSTANCE", ""),
		TokenTTL:                  l.duration("TOKEN_TTL", 720*time.Hour),
		BcryptCost:                l.integer("BCRYPT_COST", 10, 4),
		MaxBodyBytes:              l.size("MAX_BODY_BYTES", 1<<20),
		FileMaxBytes:              l.size("FILE_MAX_BYTES", 10<<20),
		UploadMaxBytes:            l.size("UPLOAD_MAX_BYTES", 50<<20),
		ContentCacheMaxBytes:      l.size("CONTENT_CACHE_MAX_BYTES", 256<<10),
		FilesMaxEntries:           l.integer("FILES_MAX_ENTRIES", 10000, 1),
		FilesIgnore:               l.list("FILES_IGNORE", "node_modules,.git"),
		ArchiveMaxBytes:           l.size("ARCHIVE_MAX_BYTES", 512<<20),
		ImportMaxBytes:            l.size("IMPORT_MAX_BYTES", 4<<30),
		ImportTimeout:             l.duration("IMPORT_TIMEOUT", 15*time.Minute),
		PageDefaultLimit:          l.integer("PAGE_DEFAULT_LIMIT", 25, 1),
		PageMaxLimit:              l.integer("PAGE_MAX_LIMIT", 100, 1),
		SaveWait:                  l.duration("SAVE_WAIT", 10*time.Second),
		SaveTimeout:               l.duration("SAVE_TIMEOUT", 15*time.Minute),
		StopTimeout:               l.duration("STOP_TIMEOUT", 10*time.Second),
		CleanupEnabled:            l.boolean("CLEANUP_ENABLED", true),
		CleanupInterval:           l.duration("CLEANUP_INTERVAL", time.Hour),
		CleanupMaxAge:             l.duration("CLEANUP_MAX_AGE", 168*time.Hour),
		CleanupBatch:              l.integer("CLEANUP_BATCH", 500, 1),
		CleanupLockTTL:            l.duration("CLEANUP_LOCK_TTL", 10*time.Minute),
		IdleStopAfter:             l.duration("IDLE_STOP_AFTER", 2*time.Hour),
		AccessWriteInterval:       l.duration("ACCESS_WRITE_INTERVAL", 30*time.Second),
		FeedCacheTTL:              l.duration("FEED_CACHE_TTL", 60*time.Second),
		ContainerMemory:           l.size("CONTAINER_MEMORY", 512<<20),
		ContainerPidsLimit:        int64(l.integer("CONTAINER_PIDS_LIMIT", 256, 1)),
		ContainerNoFile:           int64(l.integer("CONTAINER_NOFILE", 1024, 1)),
		ContainerNetwork:          l.str("CONTAINER_NETWORK", "bridge"),
		ContainerNetworkAnonymous: l.str("CONTAINER_NETWORK_ANONYMOUS", "none"),
		ContainerCapAdd:           l.list("CONTAINER_CAP_ADD", "CHOWN,DAC_OVERRIDE,FOWNER,SETGID,SETUID,KILL,NET_BIND_SERVICE"),
		ContainerRuntime:          l.str("CONTAINER_RUNTIME", ""),
		ContainerLogMaxBytes:      l.size("CONTAINER_LOG_MAX_BYTES", 10<<20),
		ContainerFileMaxBytes:     l.size("CONTAINER_FILE_MAX_BYTES", 1<<30),
		MaxRunningPerUser:         l.integer("MAX_RUNNING_PER_USER", 3, 0),
		MaxRunningTotal:           l.integer("MAX_RUNNING_TOTAL", 100, 0),
		MaxDraftsPerUser:          l.integer("MAX_DRAFTS_PER_USER", 50, 0),
		MaxImagesPerUser:          l.integer("MAX_IMAGES_PER_USER", 100, 0),
		LogsMaxTail:               l.integer("LOGS_MAX_TAIL", 10000, 1),
		TerminalShells:            l.list("TERMINAL_SHELL", "/bin/bash,/bin/sh"),
		TerminalIdleTimeout:       l.duration("TERMINAL_IDLE_TIMEOUT", 30*time.Minute),
		TerminalMaxConnections:    l.integer("TERMINAL_MAX_CONNECTIONS", 3, 1),
		RateLimitEnabled:          l.boolean("RATE_LIMIT_ENABLED", true),
		RateLimitIP:               l.rate("RATE_LIMIT_IP", rate{1200, time.Minute}),
		RateLimitToken:            l.rate("RATE_LIMIT_TOKEN", rate{600, time.Minute}),
		RateLimitSignup:           l.rate("RATE_LIMIT_SIGNUP", rate{30, time.Hour}),
		RateLimitLogin:            l.rate("RATE_LIMIT_LOGIN", rate{20, time.Minute}),
		RateLimitContainer:        l.rate("RATE_LIMIT_CONTAINER", rate{20, time.Minute}),
		TrustProxy:                l.boolean("TRUST_PROXY", false),
		CORSOrigins:               l.list("CORS_ORIGINS", ""),
		AdminEmail:                l.str("RUNNABLE_ADMIN_EMAIL", ""),
		AdminPassword:             l.getenv("RUNNABLE_ADMIN_PASSWORD"),
		AdminUsername:             l.str("RUNNABLE_ADMIN_USERNAME", "admin"),
		AdminResetPassword:        l.boolean("RUNNABLE_ADMIN_RESET_PASSWORD", false),
		DefaultTemplate:           l.str("DEFAULT_TEMPLATE", "shell"),
		TemplatesDir:              l.str("TEMPLATES_DIR", ""),
		TemplatesImport:           l.boolean("TEMPLATES_IMPORT", true),
		MetricsToken:              l.str("METRICS_TOKEN", ""),
		MigrateOnStart:            l.boolean("MIGRATE_ON_START", true),
		LogLevel:                  l.str("LOG_LEVEL", "info"),
		ShutdownTimeout:           l.duration("SHUTDOWN_TIMEOUT", 30*time.Second),
	}
	cpus := l.str("CONTAINER_CPUS", "1.0")
	if f, err := strconv.ParseFloat(cpus, 64); err != nil || f <= 0 {
		l.errs = append(l.errs, "CONTAINER_CPUS must be a positive number")
	} else {
		c.ContainerCPUs = f
	}
	if c.Port > 65535 {
		l.errs = append(l.errs, "PORT must be at most 65535")
	}
	if c.PageDefaultLimit > c.PageMaxLimit {
		l.errs = append(l.errs, "PAGE_DEFAULT_LIMIT must not exceed PAGE_MAX_LIMIT")
	}
	switch c.ContainerBackend {
	case "docker", "memory":
	default:
		l.errs = append(l.errs, "CONTAINER_BACKEND must be docker or memory")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		l.errs = append(l.errs, "LOG_LEVEL must be debug, info, warn or error")
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		l.errs = append(l.errs, "RUNNABLE_ADMIN_EMAIL and RUNNABLE_ADMIN_PASSWORD must be set together")
	}
	if len(l.errs) > 0 {
		return c, l.errs
	}
	return c, nil
}
