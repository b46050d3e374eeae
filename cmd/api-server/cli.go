package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/runnable/runnable/adapters/mongostore"
	"github.com/runnable/runnable/api"
	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

func openapi(stdout io.Writer) int {
	_, _ = stdout.Write(api.JSON())
	fmt.Fprintln(stdout)
	return exitOK
}

// withApp loads the configuration, opens the adapters and runs fn.
func withApp(getenv func(string) string, stderr io.Writer, fn func(ctx context.Context, cfg Config, inf *infra, a *app.App) int) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadInput
	}
	log := newLogger(cfg, stderr)
	ctx := context.Background()
	inf, err := openInfra(ctx, cfg)
	if err != nil {
		log.Error("open adapters", "err", err)
		return exitFailure
	}
	defer inf.close(ctx)
	a := newApp(inf, log, cfg, nil)
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_ = a.Shutdown(sctx)
	}()
	return fn(ctx, cfg, inf, a)
}

func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func adminEnsure(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("admin ensure", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", getenv("RUNNABLE_ADMIN_EMAIL"), "admin email")
	username := fs.String("username", "", "admin username (default RUNNABLE_ADMIN_USERNAME or admin)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := fs.Parse(args); err != nil {
		return exitBadInput
	}
	if *username == "" {
		*username = getenv("RUNNABLE_ADMIN_USERNAME")
		if *username == "" {
			*username = "admin"
		}
	}
	password := getenv("RUNNABLE_ADMIN_PASSWORD")
	if *pwStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(stderr, "read password:", err)
			return exitBadInput
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if *email == "" || password == "" {
		fmt.Fprintln(stderr, "admin ensure needs an email and a password (--email, --password-stdin or RUNNABLE_ADMIN_*)")
		return exitBadInput
	}
	reset := strings.EqualFold(getenv("RUNNABLE_ADMIN_RESET_PASSWORD"), "true")
	return withApp(getenv, stderr, func(ctx context.Context, cfg Config, inf *infra, a *app.App) int {
		if cfg.MigrateOnStart {
			if err := mongostore.Migrate(ctx, inf.store.DB()); err != nil {
				fmt.Fprintln(stderr, "migrations:", err)
				return exitFailure
			}
		}
		u, created, err := a.EnsureAdmin(ctx, *email, *username, password, reset)
		if err != nil {
			fmt.Fprintln(stderr, err)
			if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrConflict) {
				return exitBadInput
			}
			return exitFailure
		}
		printJSON(stdout, map[string]any{"_id": u.ID.Hex(), "created": created})
		return exitOK
	})
}

func migrate(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	sub := "status"
	if len(args) > 0 {
		sub = args[0]
	}
	if sub != "status" && sub != "up" {
		fmt.Fprintln(stderr, "usage: api-server migrate [status|up]")
		return exitBadInput
	}
	return withApp(getenv, stderr, func(ctx context.Context, cfg Config, inf *infra, a *app.App) int {
		if sub == "up" {
			if err := mongostore.Migrate(ctx, inf.store.DB()); err != nil {
				fmt.Fprintln(stderr, "migrate:", err)
				return exitFailure
			}
		}
		st, err := mongostore.MigrationStatus(ctx, inf.store.DB())
		if err != nil {
			fmt.Fprintln(stderr, "migration status:", err)
			return exitFailure
		}
		printJSON(stdout, st)
		return exitOK
	})
}

func cleanupCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cleanup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("dry-run", false, "report what would be done")
	maxAge := fs.Duration("max-age", 0, "override CLEANUP_MAX_AGE")
	if err := fs.Parse(args); err != nil {
		return exitBadInput
	}
	return withApp(getenv, stderr, func(ctx context.Context, cfg Config, inf *infra, a *app.App) int {
		sum, err := a.Cleanup(ctx, app.CleanupOptions{DryRun: *dry, MaxAge: *maxAge})
		if errors.Is(err, app.ErrCleanupRunning) {
			fmt.Fprintln(stderr, "cleanup already running")
			return exitLockHeld
		}
		if err != nil {
			fmt.Fprintln(stderr, "cleanup:", err)
			return exitFailure
		}
		printJSON(stdout, sum)
		return exitOK
	})
}

func importCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ownerEmail := fs.String("owner-email", "", "owner of the new image (default the system user)")
	var src string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		src, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return exitBadInput
	}
	if src == "" && fs.NArg() > 0 {
		src = fs.Arg(0)
	}
	if src == "" {
		fmt.Fprintln(stderr, "usage: api-server import <dir|tar> [--owner-email E]")
		return exitBadInput
	}
	return withApp(getenv, stderr, func(ctx context.Context, cfg Config, inf *infra, a *app.App) int {
		st, err := os.Stat(src)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitBadInput
		}
		owner, err := a.SystemUser(ctx, *ownerEmail)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		progress := func(line string) { fmt.Fprintln(stderr, line) }
		var img *domain.Image
		if st.IsDir() {
			var data []byte
			if data, err = app.TarDir(src); err != nil {
				fmt.Fprintln(stderr, err)
				return exitBadInput
			}
			img, err = a.ImportContext(ctx, data, app.ImportOptions{Owner: owner, Progress: progress})
		} else {
			var f *os.File
			if f, err = os.Open(src); err != nil {
				fmt.Fprintln(stderr, err)
				return exitBadInput
			}
			defer f.Close()
			// a tar or gzip: a docker-save archive or a build context
			img, err = a.ImportArchive(ctx, owner, f, app.ImportInput{Progress: progress})
		}
		if err != nil {
			fmt.Fprintln(stderr, "import:", err)
			if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrConflict) {
				return exitBadInput
			}
			return exitFailure
		}
		printJSON(stdout, map[string]any{"_id": img.ID.Short(), "id": img.ID.Hex(), "name": img.Name, "version": img.Version})
		return exitOK
	})
}
