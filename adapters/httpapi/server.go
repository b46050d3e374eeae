package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// Rate is a count per fixed window.
type Rate struct {
	Count  int
	Window time.Duration
}

// Config holds the transport's settings (spec §10).
type Config struct {
	MaxBodyBytes     int64
	UploadMaxBytes   int64
	ImportMaxBytes   int64
	PageDefault      int
	PageMax          int
	PublicURL        string
	TrustProxy       bool
	CORSOrigins      []string
	MetricsToken     string
	RateLimitEnabled bool
	RateIP           Rate
	RateToken        Rate
	RateSignup       Rate
	RateLogin        Rate
	CleanupMaxAge    time.Duration
}

// DefaultConfig returns the spec's defaults.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes: 1 << 20, UploadMaxBytes: 50 << 20, ImportMaxBytes: 4 << 30, PageDefault: 25, PageMax: 100,
		RateLimitEnabled: true,
		RateIP:           Rate{1200, time.Minute}, RateToken: Rate{600, time.Minute},
		RateSignup: Rate{30, time.Hour}, RateLogin: Rate{20, time.Minute},
		CleanupMaxAge: 168 * time.Hour,
	}
}

// Check is one readiness probe, by name (store, token_store, containers).
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Server is the HTTP API.
type Server struct {
	e        *echo.Echo
	app      *app.App
	cfg      Config
	limiter  ports.RateLimiter
	checks   []Check
	log      *slog.Logger
	metrics  *Metrics
	registry *prometheus.Registry
}

const (
	ctxUser  = "caller"
	ctxToken = "token"
	ctxReqID = "request_id"
)

// New builds the echo instance with every route.
// reg receives the transport's collectors and is what /metrics serves.
func New(a *app.App, limiter ports.RateLimiter, checks []Check, cfg Config, log *slog.Logger, reg *prometheus.Registry) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{e: echo.New(), app: a, cfg: cfg, limiter: limiter, checks: checks, log: log, metrics: m, registry: reg}
	s.e.HideBanner, s.e.HidePort = true, true
	s.e.HTTPErrorHandler = s.errorHandler
	s.e.Pre(s.requestIDMiddleware, s.corsMiddleware)
	s.e.Use(s.observeMiddleware, s.recoverMiddleware)
	s.routes()
	return s, nil
}

// Handler returns the http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Echo exposes the echo instance (for tests and the server's lifecycle).
func (s *Server) Echo() *echo.Echo { return s.e }

func requestID(c echo.Context) string {
	if v, ok := c.Get(ctxReqID).(string); ok {
		return v
	}
	return ""
}

func validRequestID(v string) bool {
	if v == "" || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) requestIDMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(ctxReqID, id)
		res := c.Response()
		res.Header().Set("X-Request-Id", id)
		res.Before(func() {
			// the contract's JSON type carries its charset (spec §1.1)
			if res.Header().Get("Content-Type") == "application/json" {
				res.Header().Set("Content-Type", "application/json; charset=utf-8")
			}
		})
		return next(c)
	}
}

func (s *Server) corsMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(s.cfg.CORSOrigins) == 0 {
			return next(c)
		}
		origin := c.Request().Header.Get("Origin")
		allowed := false
		for _, o := range s.cfg.CORSOrigins {
			if o == "*" || o == origin {
				allowed = true
			}
		}
		if origin == "" || !allowed {
			return next(c)
		}
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "X-Total-Count, Link, Location, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-Id")
		if c.Request().Method == http.MethodOptions && c.Request().Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "runnable-token, Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

func (s *Server) recoverMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(r)
				}
				s.log.Error("panic", "request_id", requestID(c), "panic", r)
				err = errors.New("panic")
			}
		}()
		return next(c)
	}
}

func (s *Server) observeMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound && strings.HasSuffix(route, "*") {
			route = "unmatched"
		}
		status := c.Response().Status
		s.metrics.observe(c.Request().Method, route, status, time.Since(start))
		s.log.Info("request", "request_id", requestID(c), "method", c.Request().Method, "route", route,
			"status", status, "duration_ms", time.Since(start).Milliseconds())
		return nil
	}
}

// clientIP is the socket address, or X-Forwarded-For's first with TRUST_PROXY.
func (s *Server) clientIP(c echo.Context) string {
	r := c.Request()
	if s.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			return strings.TrimSpace(strings.Split(xff, ",")[0])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// tokenOf reads the token from runnable-token or Authorization: Bearer.
func tokenOf(r *http.Request, allowQuery bool) string {
	if t := r.Header.Get("runnable-token"); t != "" {
		return t
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	if allowQuery {
		return r.URL.Query().Get("access_token")
	}
	return ""
}

var errTokenRequired = domain.E(domain.ErrUnauthorized, "access token required")

type routeOpts struct {
	public     bool   // no token gate
	optToken   bool   // token optional (POST /token)
	queryToken bool   // access_token query accepted
	bucket     string // extra bucket: signup or login
	ops        bool   // not counted in the ip bucket
}

// wrap builds the per-route chain: token gate, then rate limits.
func (s *Server) wrap(h echo.HandlerFunc, o routeOpts) echo.HandlerFunc {
	return func(c echo.Context) error {
		var caller *domain.User
		if !o.public {
			token := tokenOf(c.Request(), o.queryToken)
			if token == "" {
				return errTokenRequired
			}
			u, err := s.app.Authenticate(c.Request().Context(), token)
			if err != nil {
				return err
			}
			caller = u
			c.Set(ctxUser, u)
			c.Set(ctxToken, token)
		} else if o.optToken {
			c.Set(ctxToken, tokenOf(c.Request(), false))
		}
		if err := s.rateLimit(c, caller, o); err != nil {
			return err
		}
		return h(c)
	}
}

func (s *Server) rateLimit(c echo.Context, caller *domain.User, o routeOpts) error {
	if !s.cfg.RateLimitEnabled || s.limiter == nil || o.ops {
		return nil
	}
	ctx := c.Request().Context()
	ip := s.clientIP(c)
	type hit struct {
		bucket, key string
		rate        Rate
	}
	hits := []hit{{"ip", ip, s.cfg.RateIP}}
	if caller != nil {
		hits = append(hits, hit{"token", caller.ID.Hex(), s.cfg.RateToken})
	}
	switch o.bucket {
	case "signup":
		hits = append(hits, hit{"signup", ip, s.cfg.RateSignup})
	case "login":
		hits = append(hits, hit{"login", ip, s.cfg.RateLogin})
	}
	var tightest *ports.RateResult
	for _, h := range hits {
		if h.rate.Count <= 0 {
			continue
		}
		res, err := s.limiter.Hit(ctx, h.bucket, h.key, h.rate.Count, h.rate.Window)
		if err != nil {
			return err
		}
		if !res.Allowed {
			s.metrics.rateLimited.WithLabelValues(h.bucket).Inc()
			setRateHeaders(c, res)
			return domain.RateLimited(res.Reset)
		}
		if tightest == nil || res.Remaining < tightest.Remaining {
			r := res
			tightest = &r
		}
	}
	if tightest != nil {
		setRateHeaders(c, *tightest)
	}
	return nil
}

func setRateHeaders(c echo.Context, r ports.RateResult) {
	h := c.Response().Header()
	h.Set("RateLimit-Limit", strconv.Itoa(r.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(r.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(domain.CeilSeconds(r.Reset)))
}

func caller(c echo.Context) *domain.User {
	u, _ := c.Get(ctxUser).(*domain.User)
	return u
}

func token(c echo.Context) string {
	t, _ := c.Get(ctxToken).(string)
	return t
}
