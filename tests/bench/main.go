package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	docker "github.com/fsouza/go-dockerclient"
)

// config holds the sizes of one run.
type config struct {
	quick      bool
	jsonPath   string
	serverBin  string
	cpuProfile string
	pprofDir   string

	warmup        int           // unrecorded rounds before each alternated pair
	forkN         int           // fork → running rounds
	saveN         int           // save rounds
	fileN         int           // file read rounds and file write rounds
	slot          time.Duration // one throughput slot
	rounds        int           // throughput slots per side
	concs         []int         // throughput concurrencies
	drafts        int           // drafts for the RSS figure
	images        int           // images stored for the listing figure
	listN         int           // GET /runnables requests per side
	workers       int           // parallel clients creating drafts and images
	admissionConc int           // parallel clients forking until 429
	admissionRaw  int           // at most this many raw create+start for the admission baseline (0: as many as the server ran)
}

func defaults(quick bool) config {
	c := config{
		quick: quick, warmup: 2, forkN: 40, saveN: 20, fileN: 200,
		slot: 3 * time.Second, rounds: 3, concs: []int{1, 16, 64},
		drafts: 1000, images: 10000, listN: 100, workers: 4, admissionConc: 4,
	}
	if quick {
		c.warmup, c.forkN, c.saveN, c.fileN = 1, 8, 5, 30
		c.slot, c.rounds = 500*time.Millisecond, 2
		c.images, c.listN = 1000, 50
		c.admissionRaw = 50
	}
	return c
}

// bench is one run.
type bench struct {
	cfg   config
	run   string // run id: names and labels of what this run makes
	began time.Time
	log   io.Writer
	tmp   string
	dc    *docker.Client
	raw   *raw
	echo  *echoBaseline
	srv   *server // the main server
	user  *api    // an anonymous user of srv
	shell image   // the shell template on srv

	mu       sync.Mutex
	cleanups []func(ctx context.Context) error
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: %5.1fs "+format+"\n", append([]any{time.Since(b.began).Seconds()}, args...)...)
}

// defer registers what undoes a step; cleanup runs them newest first.
func (b *bench) onCleanup(fn func(ctx context.Context) error) {
	b.mu.Lock()
	b.cleanups = append(b.cleanups, fn)
	b.mu.Unlock()
}

// cleanup runs every registered clean-up, with its own time limit (the
// run's context may be cancelled already).
func (b *bench) cleanup() {
	b.mu.Lock()
	fns := b.cleanups
	b.cleanups = nil
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := len(fns) - 1; i >= 0; i-- {
		if err := fns[i](ctx); err != nil {
			b.logf("cleanup: %v", err)
		}
	}
}

func main() {
	os.Exit(run())
}

func run() int {
	quick := flag.Bool("quick", false, "a short run (under 2 minutes on 2 cores): fewer rounds, 1,000 images")
	jsonPath := flag.String("json", "bench.json", "where to write every figure as JSON")
	serverBin := flag.String("server-bin", "", "an api-server binary to measure (default: build ./cmd/api-server)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the benchmark process (the client side) to this file")
	pprofDir := flag.String("pprof", "", "build the server with a profiling listener (go build -overlay) and write its CPU profile of every step, and heap profiles, into this directory")
	flag.Parse()
	cfg := defaults(*quick)
	cfg.jsonPath, cfg.serverBin, cfg.cpuProfile = *jsonPath, *serverBin, *cpuProfile
	if *pprofDir != "" {
		dir, err := filepath.Abs(*pprofDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 2
		}
		cfg.pprofDir = dir
		if cfg.serverBin != "" {
			fmt.Fprintln(os.Stderr, "bench: -pprof builds the server; it does not go with -server-bin")
			return 2
		}
	}

	// The first Ctrl-C cancels ctx; the registration stays until the
	// clean-up is done, so further ones do not kill the process midway.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	b := &bench{cfg: cfg, log: os.Stderr, began: time.Now(), run: strconv.FormatInt(time.Now().UnixNano()/1e6%1e10, 36)}
	code := 1
	func() {
		defer b.cleanup()
		defer func() {
			if r := recover(); r != nil {
				b.logf("panic: %v; cleaning up", r)
				b.cleanup()
				panic(r)
			}
		}()
		if cfg.cpuProfile != "" {
			f, err := os.Create(cfg.cpuProfile)
			if err != nil {
				b.logf("%v", err)
				return
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				b.logf("%v", err)
				return
			}
			b.onCleanup(func(context.Context) error { pprof.StopCPUProfile(); return f.Close() })
		}
		rep, err := b.measure(ctx)
		if rep != nil {
			rep.printTable(os.Stdout)
			if werr := rep.writeJSON(cfg.jsonPath); werr != nil {
				b.logf("writing %s: %v", cfg.jsonPath, werr)
			} else {
				fmt.Fprintf(os.Stdout, "(every figure in %s)\n", cfg.jsonPath)
			}
			fmt.Fprintln(os.Stdout, rep.Summary)
		}
		switch {
		case ctx.Err() != nil:
			b.logf("interrupted; cleaning up")
			code = 130
		case err != nil:
			b.logf("%v", err)
		default:
			code = 0
		}
	}()
	return code
}

// measure sets up, measures every item and returns the report (partial
// when ctx is cancelled or set-up fails midway).
func (b *bench) measure(ctx context.Context) (*Report, error) {
	began := time.Now()
	rep := &Report{Started: began.UTC().Format(time.RFC3339), Quick: b.cfg.quick, Settings: b.settings()}
	finish := func() *Report {
		rep.Seconds = Num(math.Round(time.Since(began).Seconds()))
		rep.Summary = summary(rep.Items)
		return rep
	}

	moduleDir, err := findModuleDir()
	if err != nil {
		return nil, err
	}
	if b.tmp, err = os.MkdirTemp("", "runnable-bench-"); err != nil {
		return nil, err
	}
	b.onCleanup(func(context.Context) error { return os.RemoveAll(b.tmp) })

	if b.dc, err = docker.NewClientFromEnv(); err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if err := b.dc.PingWithContext(ctx); err != nil {
		return nil, fmt.Errorf("the Docker Engine does not answer (run deploy/setup.sh): %w", err)
	}
	rep.Machine = b.machine()
	b.raw = &raw{dc: b.dc, run: b.run}
	b.onCleanup(b.raw.sweep)

	bin := b.cfg.serverBin
	if bin == "" {
		overlay := ""
		if b.cfg.pprofDir != "" {
			if overlay, err = writeOverlay(moduleDir, b.tmp); err != nil {
				return nil, err
			}
		}
		b.logf("building cmd/api-server")
		if bin, err = buildServer(ctx, moduleDir, b.tmp, overlay); err != nil {
			return nil, err
		}
	}
	templates := filepath.Join(b.tmp, "templates")
	if err := copyDir(filepath.Join(moduleDir, "deploy", "templates", "shell"), filepath.Join(templates, "shell")); err != nil {
		return nil, fmt.Errorf("copying the shell template: %w", err)
	}
	if b.echo, err = startEcho(ctx); err != nil {
		return nil, err
	}
	b.onCleanup(func(context.Context) error { return b.echo.close() })

	// The main server: embedded defaults, except the rate limits (the
	// benchmark sends far more than RATE_LIMIT_TOKEN from one user) and
	// the draft and image quotas (1,000 drafts and 10,000 images for one
	// user). CLEANUP_ENABLED=false: a cleanup run must not race the
	// measurements; the benchmark removes what it made itself.
	b.logf("starting the server (run %s)", b.run)
	mainEnv := map[string]string{
		"TEMPLATES_DIR":       templates,
		"RATE_LIMIT_ENABLED":  "false",
		"CLEANUP_ENABLED":     "false",
		"MAX_DRAFTS_PER_USER": "0",
		"MAX_IMAGES_PER_USER": "0",
	}
	rep.Settings["server_env"] = mainEnv
	srv, shell, err := b.startWithTemplate(ctx, "main", bin, mainEnv)
	if err != nil {
		return finish(), err
	}
	b.srv, b.shell = srv, shell
	b.raw.image = shell.dockerRef()
	root := &api{base: srv.url, hc: newHTTPClient(64)}
	if b.user, err = root.newUser(ctx); err != nil {
		return finish(), err
	}

	// Idle RSS: the server has imported its template and answered a few
	// requests; give it a moment to settle.
	time.Sleep(3 * time.Second)
	idle := b.rssItem("rss_idle", "server RSS idle", "idle RSS")
	idle.Target = &Target{Metric: "value", Op: "<=", Bound: 60}
	idle.finish()
	b.logf("idle RSS %s MiB", fmtNum(idle.headline()))

	b.heapProfile(ctx, srv, "idle")
	steps := []struct {
		name string
		fn   func(context.Context) []*Item
	}{
		{"fork", func(ctx context.Context) []*Item { return []*Item{b.forkToRunning(ctx)} }},
		{"save", func(ctx context.Context) []*Item { return []*Item{b.save(ctx)} }},
		{"files", b.files},
		{"users_me", func(ctx context.Context) []*Item {
			return b.throughput(ctx, "users_me", "GET /users/me", "/users/me", "/users/me", "/users/me",
				&Target{Metric: "ratio_rate", Op: ">=", Bound: 0.6})
		}},
		{"runnable_get", func(ctx context.Context) []*Item {
			return b.throughput(ctx, "runnable_get", "GET /runnables/:id", "/runnables/:id", "/runnables/"+b.shell.ID, "/runnables/:id", nil)
		}},
		{"drafts", func(ctx context.Context) []*Item {
			its := []*Item{idle, b.manyDrafts(ctx)}
			b.heapProfile(ctx, srv, "drafts")
			return its
		}},
		{"images", func(ctx context.Context) []*Item {
			its := []*Item{b.manyImages(ctx)}
			if its[0].Error == "" {
				its = append(its, b.meWithImages(ctx), b.rssItem("rss_images", fmt.Sprintf("server RSS with %d images", b.cfg.images), "RSS images"))
			}
			return its
		}},
	}
	for _, step := range steps {
		b.profiled(ctx, srv, step.name, func() { rep.Items = append(rep.Items, step.fn(ctx)...) })
		if ctx.Err() != nil {
			return finish(), ctx.Err()
		}
	}

	// Release the main server's containers before the admission test.
	b.logf("stopping the main server and removing its containers and images")
	b.release(ctx, srv)

	// Admission: a second server with the default caps. Rate limits stay
	// off: from one address RATE_LIMIT_SIGNUP (30/h) would answer 429 to
	// the 31st user before the capacity caps could.
	admEnv := map[string]string{"TEMPLATES_DIR": templates, "RATE_LIMIT_ENABLED": "false", "CLEANUP_ENABLED": "false"}
	rep.Settings["admission_server_env"] = admEnv
	b.logf("starting a second server with the default capacity caps")
	adm, admShell, err := b.startWithTemplate(ctx, "admission", bin, admEnv)
	if err != nil {
		it := &Item{Key: "forks_sustained", Title: "sustained forks until 429", Short: "forks", Kind: "value", Unit: "forks/s",
			Target: &Target{Metric: "value", Op: ">=", Bound: 8}, Error: err.Error()}
		it.finish()
		rep.Items = append(rep.Items, it)
		return finish(), err
	}
	b.profiled(ctx, adm, "admission", func() { rep.Items = append(rep.Items, b.admission(ctx, adm, admShell)) })
	b.logf("stopping the second server and removing its containers")
	b.release(ctx, adm)
	return finish(), ctx.Err()
}

// rssItem reads the main server's resident set size now.
func (b *bench) rssItem(key, title, short string) *Item {
	it := &Item{Key: key, Title: title, Short: short, Kind: "value", Unit: "MiB"}
	if rss, err := b.srv.rss(); err != nil {
		it.Error = err.Error()
	} else {
		v := Num(float64(rss) / (1 << 20))
		it.Value = &v
	}
	it.finish()
	return it
}

// startWithTemplate starts a server, registers its clean-up and waits for
// the shell template.
func (b *bench) startWithTemplate(ctx context.Context, name, bin string, env map[string]string) (*server, image, error) {
	// The label the server puts on its containers and images; the
	// clean-up removes exactly those.
	env = maps.Clone(env)
	env["RUNNABLE_INSTANCE"] = "bench-" + b.run + "-" + name
	pprofAddr := ""
	if b.cfg.pprofDir != "" {
		port, err := freePort(ctx)
		if err != nil {
			return nil, image{}, err
		}
		pprofAddr = "127.0.0.1:" + strconv.Itoa(port)
		env["RUNNABLE_BENCH_PPROF_ADDR"] = pprofAddr
	}
	srv, err := startServer(ctx, name, bin, b.tmp, env)
	if srv != nil && pprofAddr != "" {
		srv.pprofURL = "http://" + pprofAddr
	}
	if srv != nil {
		b.onCleanup(func(ctx context.Context) error {
			return errors.Join(srv.stop(), srv.sweep(ctx, b.dc))
		})
	}
	if err != nil {
		return nil, image{}, err
	}
	root := &api{base: srv.url, hc: newHTTPClient(4)}
	u, err := root.newUser(ctx)
	if err != nil {
		return nil, image{}, err
	}
	shell, err := u.waitTemplate(ctx, "shell", 3*time.Minute)
	if err != nil {
		return nil, image{}, fmt.Errorf("%w; server log:\n%s", err, tail(srv.logPath, 30))
	}
	srv.learnInstance(b.dc, shell.dockerRef())
	return srv, shell, nil
}

// release stops a server and removes its Docker objects now (the
// registered clean-up then finds nothing left).
func (b *bench) release(ctx context.Context, srv *server) {
	ctx = context.WithoutCancel(ctx)
	if err := errors.Join(srv.stop(), srv.sweep(ctx, b.dc)); err != nil {
		b.logf("releasing the %s server: %v", srv.name, err)
	}
}

// settings records the sizes of the run in the report.
func (b *bench) settings() map[string]any {
	c := b.cfg
	return map[string]any{
		"run": b.run, "warmup_rounds": c.warmup, "fork_rounds": c.forkN, "save_rounds": c.saveN, "file_rounds": c.fileN,
		"throughput_slot_s": c.slot.Seconds(), "throughput_rounds": c.rounds, "concurrency": c.concs,
		"drafts": c.drafts, "images": c.images, "list_requests": c.listN, "workers": c.workers,
		"admission_concurrency": c.admissionConc, "admission_raw_max": c.admissionRaw,
	}
}

// machine describes this machine and its Docker Engine.
func (b *bench) machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if info, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				m.MemMiB = kb >> 10
			}
		}
	}
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(k))
	}
	if env, err := b.dc.Version(); err == nil {
		m.Docker = env.Get("Version")
	}
	if info, err := b.dc.Info(); err == nil {
		m.Storage = info.Driver
	}
	return m
}

// copyDir copies a directory tree of regular files.
func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}
