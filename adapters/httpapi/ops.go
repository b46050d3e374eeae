package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/runnable/runnable/api"
	"github.com/runnable/runnable/app"
)

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

type readyView struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

type notReadyView struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Checks  map[string]string `json:"checks"`
}

func (s *Server) readyz(c echo.Context) error {
	results := make(map[string]string, len(s.checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range s.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
			defer cancel()
			res := "ok"
			if err := ch.Ping(ctx); err != nil {
				res = "unreachable"
				s.log.Warn("readiness check failed", "check", ch.Name, "err", err)
			}
			mu.Lock()
			results[ch.Name] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	var failing []string
	for _, ch := range s.checks {
		if results[ch.Name] != "ok" {
			failing = append(failing, ch.Name)
		}
	}
	if len(failing) > 0 {
		return c.JSON(http.StatusServiceUnavailable, notReadyView{Code: http.StatusServiceUnavailable,
			Message: "not ready: " + strings.Join(failing, ", "), Checks: results})
	}
	return c.JSON(http.StatusOK, readyView{Status: "ready", Checks: results})
}

func (s *Server) metricsHandler(c echo.Context) error {
	if s.cfg.MetricsToken != "" {
		t := tokenOf(c.Request(), false)
		if t == "" {
			return errTokenRequired
		}
		if t != s.cfg.MetricsToken {
			return errMetricsToken
		}
	}
	promhttp.HandlerFor(s.gatherer(), promhttp.HandlerOpts{}).ServeHTTP(c.Response(), c.Request())
	return nil
}

func (s *Server) gatherer() prometheus.Gatherer { return s.registry }

var errMetricsToken = app.ErrTokenInvalid

func (s *Server) openapi(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, api.JSON())
}

func (s *Server) docs(c echo.Context) error {
	return c.HTMLBlob(http.StatusOK, api.DocsHTML())
}
