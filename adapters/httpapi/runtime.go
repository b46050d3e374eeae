package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

// runtimeRoutes registers the runtime routes (spec §4.8, §4.9, §8.5, §9):
// logs, terminal, cleanup, import and export, and the gauge of running
// containers.
func (s *Server) runtimeRoutes() {
	d := "/users/:userId/runnables"
	stream := routeOpts{queryToken: true}
	s.route(http.MethodGet, d+"/:id/logs", s.logs, stream)
	s.route(http.MethodGet, d+"/:id/terminal", s.terminal, stream)
	s.route(http.MethodPost, "/cleanup", s.cleanup, routeOpts{})
	s.route(http.MethodPost, "/runnables/import", s.importImage, routeOpts{})
	s.route(http.MethodGet, "/runnables/:id/export", s.exportImage, routeOpts{})

	if err := s.registry.Register(&runningCollector{app: s.app, log: s.log}); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			s.log.Warn("register runnable_containers_running", "err", err)
		}
	}
}

var errMaxAge = domain.E(domain.ErrInvalid, "max_age must be a duration of at least 1m")

// cleanupView is the summary of a run with RFC 3339 millisecond times.
type cleanupView struct {
	DryRun            bool     `json:"dry_run"`
	StartedAt         jsonTime `json:"started_at"`
	FinishedAt        jsonTime `json:"finished_at"`
	DeletedDrafts     int      `json:"deleted_drafts"`
	StoppedContainers int      `json:"stopped_containers"`
	RemovedContainers int      `json:"removed_containers"`
	RemovedImages     int      `json:"removed_images"`
	Errors            []string `json:"errors"`
}

func newCleanupView(s *app.CleanupSummary) cleanupView {
	v := cleanupView{
		DryRun: s.DryRun, StartedAt: jsonTime(s.StartedAt), FinishedAt: jsonTime(s.FinishedAt),
		DeletedDrafts: s.DeletedDrafts, StoppedContainers: s.StoppedContainers,
		RemovedContainers: s.RemovedContainers, RemovedImages: s.RemovedImages, Errors: s.Errors,
	}
	if v.Errors == nil {
		v.Errors = []string{}
	}
	return v
}

// cleanup runs one cleanup (spec §8.5, §9.1). The run is not tied to the
// client: leaving early does not cut it in the middle.
func (s *Server) cleanup(c echo.Context) error {
	raw, err := s.readJSONBytes(c)
	if err != nil {
		return err
	}
	if err := s.app.RequireAdmin(caller(c)); err != nil {
		return err
	}
	b, err := decodeObject(raw)
	if err != nil {
		return err
	}
	dry, err := b.boolean("dry_run", "dry_run must be a boolean")
	if err != nil {
		return err
	}
	opt := app.CleanupOptions{DryRun: boolOr(dry, false)}
	ms, err := b.str("max_age", errMaxAge.Message)
	if err != nil {
		return err
	}
	if ms != nil {
		d, err := time.ParseDuration(*ms)
		if err != nil || d < time.Minute {
			return errMaxAge
		}
		opt.MaxAge = d
	}
	sum, err := s.app.Cleanup(context.WithoutCancel(c.Request().Context()), opt)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newCleanupView(sum))
}

// decodeObject decodes raw JSON that must be an object; empty is {}.
func decodeObject(raw []byte) (body, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return body{}, nil
	}
	if !json.Valid(raw) {
		return nil, errInvalidJSON
	}
	var m body
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errNotObject
	}
	return m, nil
}

// runningCollector reports runnable_containers_running by asking the
// backend at scrape time (2 s at most); nothing is reported when it
// cannot be reached.
type runningCollector struct {
	app interface {
		RunningContainers(ctx context.Context) (int, error)
	}
	log interface {
		Warn(msg string, args ...any)
	}
}

var runningDesc = prometheus.NewDesc("runnable_containers_running", "Containers of drafts that are up.", nil, nil)

func (r *runningCollector) Describe(ch chan<- *prometheus.Desc) { ch <- runningDesc }

func (r *runningCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := r.app.RunningContainers(ctx)
	if err != nil {
		r.log.Warn("count running containers", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, float64(n))
}
