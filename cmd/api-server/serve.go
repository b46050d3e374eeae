package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/fx"

	"github.com/runnable/runnable/adapters/httpapi"
	"github.com/runnable/runnable/app"
)

// serve runs the server until SIGTERM or SIGINT.
func serve(getenv func(string) string, stderr io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadInput
	}
	log := newLogger(cfg, stderr)
	fxApp := fx.New(serverModule(cfg, log), fx.NopLogger, fx.StartTimeout(2*time.Minute), fx.StopTimeout(cfg.ShutdownTimeout+10*time.Second))
	startCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := fxApp.Start(startCtx); err != nil {
		log.Error("start-up failed", "err", err)
		var be badInput
		if errors.As(err, &be) {
			return exitBadInput
		}
		return exitFailure
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	case <-fxApp.Done():
	}
	stopCtx, cancelStop := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+10*time.Second)
	defer cancelStop()
	if err := fxApp.Stop(stopCtx); err != nil {
		log.Error("shutdown", "err", err)
		return exitFailure
	}
	return exitOK
}

// badInput marks start-up errors caused by configuration (exit 2).
type badInput struct{ error }

func (b badInput) Unwrap() error { return b.error }

// registerServer hooks the listener, start-up tasks and background jobs
// into the lifecycle.
func registerServer(lc fx.Lifecycle, cfg Config, log *slog.Logger, a *app.App, srv *httpapi.Server) {
	httpServer := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	bg, cancelBG := context.WithCancel(context.Background())
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			// The migrations ran before the store was mirrored (prepareStore).
			if cfg.AdminEmail != "" {
				u, created, err := a.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminUsername, cfg.AdminPassword, cfg.AdminResetPassword)
				if err != nil {
					return badInput{fmt.Errorf("bootstrap admin: %w", err)}
				}
				log.Info("bootstrap admin", "user", u.ID.Hex(), "created", created)
			}
			if err := a.Reconcile(ctx); err != nil {
				log.Warn("reconcile containers", "err", err)
			}
			if n, err := a.RecoverSaves(ctx); err != nil {
				log.Warn("recover interrupted saves", "err", err)
			} else if n > 0 {
				log.Info("recovered interrupted saves", "count", n)
			}
			addr := net.JoinHostPort(cfg.ListenAddr, strconv.Itoa(cfg.Port))
			var lc net.ListenConfig
			ln, err := lc.Listen(ctx, "tcp", addr)
			if err != nil {
				return badInput{fmt.Errorf("listen %s: %w", addr, err)}
			}
			log.Info("listening", "addr", ln.Addr().String())
			go func() {
				if err := httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("http server", "err", err)
				}
			}()
			if cfg.TemplatesDir != "" && cfg.TemplatesImport {
				go func() {
					if err := a.ImportTemplates(bg, cfg.TemplatesDir, cfg.AdminEmail); err != nil {
						log.Error("import templates", "err", err)
					}
				}()
			}
			if cfg.CleanupEnabled && cfg.CleanupInterval > 0 {
				go cleanupLoop(bg, a, cfg.CleanupInterval, log)
			}
			return nil
		},
		OnStop: func(ctx context.Context) error {
			cancelBG()
			a.CloseTerminals()
			shutCtx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
			defer cancel()
			err := httpServer.Shutdown(shutCtx)
			if aerr := a.Shutdown(shutCtx); aerr != nil {
				log.Warn("background jobs did not finish", "err", aerr)
			}
			return err
		},
	})
}

func cleanupLoop(ctx context.Context, a *app.App, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sum, err := a.Cleanup(ctx, app.CleanupOptions{})
			switch {
			case errors.Is(err, app.ErrCleanupRunning):
			case err != nil:
				log.Error("cleanup", "err", err)
			default:
				log.Info("cleanup", "deleted_drafts", sum.DeletedDrafts, "stopped_containers", sum.StoppedContainers,
					"removed_containers", sum.RemovedContainers, "removed_images", sum.RemovedImages)
			}
		}
	}
}
