package main

// API-layer items: request throughput against a bare echo handler, memory
// with many drafts, and listing with many images.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// echoBaseline is a bare echo server on another loopback port: each route
// answers 200 with a fixed body, the same bytes the real server sent for
// that route, with no middleware at all.
type echoBaseline struct {
	e   *echo.Echo
	url string

	mu     sync.RWMutex
	bodies map[string][]byte // by route pattern
}

const jsonType = "application/json; charset=utf-8"

func startEcho(ctx context.Context) (*echoBaseline, error) {
	l, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	eb := &echoBaseline{e: echo.New(), bodies: map[string][]byte{}, url: "http://" + l.Addr().String()}
	eb.e.HideBanner, eb.e.HidePort = true, true
	eb.e.Listener = l
	h := func(c echo.Context) error {
		eb.mu.RLock()
		body := eb.bodies[c.Path()]
		eb.mu.RUnlock()
		return c.Blob(http.StatusOK, jsonType, body)
	}
	for _, route := range []string{"/users/me", "/runnables/:id", "/runnables"} {
		eb.e.GET(route, h)
	}
	go func() { _ = eb.e.Start("") }()
	return eb, nil
}

func (eb *echoBaseline) set(route string, body []byte) {
	eb.mu.Lock()
	eb.bodies[route] = body
	eb.mu.Unlock()
}

func (eb *echoBaseline) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return eb.e.Shutdown(ctx)
}

// throughput: closed-loop GETs of path at each concurrency, for
// cfg.rounds slots of cfg.slot on each side, alternating server and echo.
// The rate is requests completed / time, summed over the slots.
func (b *bench) throughput(ctx context.Context, key, title, short, path, route string, target *Target) []*Item {
	var items []*Item
	body, _, err := b.user.do(ctx, http.MethodGet, path, "", nil, http.StatusOK)
	if err != nil {
		it := &Item{Key: key, Title: title, Kind: "throughput", Unit: "req/s", Error: err.Error()}
		it.finish()
		return []*Item{it}
	}
	b.echo.set(route, body)
	for _, conc := range b.cfg.concs {
		t := target
		if t != nil {
			cp := *t
			t = &cp
		}
		it := &Item{Key: fmt.Sprintf("%s_c%d", key, conc), Title: fmt.Sprintf("%s c=%d", title, conc), Short: fmt.Sprintf("%s c=%d", short, conc),
			Kind: "throughput", Unit: "req/s", BaselineName: "echo", Target: t,
			Note: fmt.Sprintf("%d-byte body", len(body))}
		b.logf("%s: %d × %s per side", it.Title, b.cfg.rounds, b.cfg.slot)
		hcS, hcE := newHTTPClient(conc), newHTTPClient(conc)
		// Warm-up: open the connections on both sides.
		load(ctx, hcS, b.srv.url+path, b.user.token, conc, 200*time.Millisecond)
		load(ctx, hcE, b.echo.url+path, "", conc, 200*time.Millisecond)
		var sLat, eLat []time.Duration
		var sEl, eEl time.Duration
		sErr, eErr := 0, 0
		var lastErr error
		for range b.cfg.rounds {
			r := load(ctx, hcS, b.srv.url+path, b.user.token, conc, b.cfg.slot)
			sLat, sEl, sErr = append(sLat, r.lat...), sEl+r.elapsed, sErr+r.errs
			if r.lastErr != nil {
				lastErr = r.lastErr
			}
			r = load(ctx, hcE, b.echo.url+path, "", conc, b.cfg.slot)
			eLat, eEl, eErr = append(eLat, r.lat...), eEl+r.elapsed, eErr+r.errs
			if r.lastErr != nil {
				lastErr = r.lastErr
			}
		}
		hcS.CloseIdleConnections()
		hcE.CloseIdleConnections()
		s, e := Summarize(sLat), Summarize(eLat)
		s.Errors, e.Errors = sErr, eErr
		s.Rate = Num(float64(len(sLat)) / sEl.Seconds())
		e.Rate = Num(float64(len(eLat)) / eEl.Seconds())
		it.Server, it.Baseline = &s, &e
		if sErr+eErr > 0 {
			it.Error = fmt.Sprintf("%d server and %d echo requests failed; last: %v", sErr, eErr, lastErr)
		}
		it.finish()
		b.logf("  server %s req/s, echo %s req/s, ratio %s", fmtNum(s.Rate), fmtNum(e.Rate), fmtNum(it.headline()))
		items = append(items, it)
		if ctx.Err() != nil {
			break
		}
	}
	return items
}

// manyDrafts forks cfg.drafts drafts of the shell template (no container
// is created by a fork, spec §8.2) and reads the server's RSS afterwards.
func (b *bench) manyDrafts(ctx context.Context) *Item {
	n := b.cfg.drafts
	it := &Item{Key: "rss_drafts", Title: fmt.Sprintf("server RSS after %d drafts", n), Short: "RSS drafts", Kind: "value", Unit: "MiB"}
	b.logf("forking %d drafts", n)
	t0 := time.Now()
	err := parallel(ctx, b.cfg.workers, n, func(ctx context.Context, _ int) error {
		_, err := b.user.fork(ctx, b.shell.ID)
		return err
	})
	el := time.Since(t0)
	if err != nil {
		it.Error = err.Error()
		it.finish()
		return it
	}
	time.Sleep(2 * time.Second)
	rss, err := b.srv.rss()
	if err != nil {
		it.Error = err.Error()
	}
	v := Num(float64(rss) / (1 << 20))
	it.Value = &v
	it.Note = fmt.Sprintf("drafts never started (status not_created); forked at %.0f/s with %d workers", float64(n)/el.Seconds(), b.cfg.workers)
	it.finish()
	b.logf("  %d drafts in %s; RSS %s MiB", n, el.Round(time.Millisecond), fmtNum(v))
	return it
}

// manyImages stores cfg.images images, then measures GET /runnables (the
// default page: 25 newest) one request at a time, alternating with the
// echo baseline answering the same bytes.
//
// The images are saves of never-started drafts: such a save only points
// the new image at the draft's pinned parent version (spec §8.2), so no
// container or commit is involved. One save runs at a time per draft
// (spec §3.4), so each worker saves from a draft of its own.
func (b *bench) manyImages(ctx context.Context) *Item {
	n := b.cfg.images
	it := &Item{Key: "list_images", Title: fmt.Sprintf("GET /runnables, %d images stored", n), Short: "list", Kind: "latency", Unit: "ms", BaselineName: "echo"}
	b.logf("storing %d images (saves of never-started drafts, %d workers)", n, b.cfg.workers)
	drafts := make([]string, b.cfg.workers)
	for i := range drafts {
		d, err := b.user.fork(ctx, b.shell.ID)
		if err != nil {
			it.Error = err.Error()
			it.finish()
			return it
		}
		drafts[i] = d.ID
	}
	t0 := time.Now()
	perWorker := (n + len(drafts) - 1) / len(drafts)
	err := parallel(ctx, len(drafts), len(drafts), func(ctx context.Context, w int) error {
		for j := range perWorker {
			k := w*perWorker + j
			if k >= n {
				return nil
			}
			if _, err := b.user.save(ctx, drafts[w], fmt.Sprintf("bench image %s %d", b.run, k)); err != nil {
				return err
			}
		}
		return nil
	})
	el := time.Since(t0)
	if err != nil {
		it.Error = err.Error()
		it.finish()
		return it
	}
	b.logf("  %d images in %s (%.0f/s)", n, el.Round(time.Millisecond), float64(n)/el.Seconds())

	body, hdr, err := b.user.do(ctx, http.MethodGet, "/runnables", "", nil, http.StatusOK)
	if err != nil {
		it.Error = err.Error()
		it.finish()
		return it
	}
	if total, _ := strconv.Atoi(hdr.Get("X-Total-Count")); total < n {
		it.Error = fmt.Sprintf("X-Total-Count %d, want at least %d", total, n)
		it.finish()
		return it
	}
	b.echo.set("/runnables", body)
	hcS, hcE := newHTTPClient(1), newHTTPClient(1)
	server := func(ctx context.Context, _ int) (time.Duration, error) {
		t0 := time.Now()
		err := get(ctx, hcS, b.srv.url+"/runnables", b.user.token)
		return time.Since(t0), err
	}
	base := func(ctx context.Context, _ int) (time.Duration, error) {
		t0 := time.Now()
		err := get(ctx, hcE, b.echo.url+"/runnables", "")
		return time.Since(t0), err
	}
	b.logf("GET /runnables: %d requests per side", b.cfg.listN)
	p, err := alternate(ctx, 5, b.cfg.listN, server, base)
	b.fillPair(it, p, err)
	it.Note = strings.TrimPrefix(it.Note+fmt.Sprintf("; %d-byte page; images stored at %.0f/s", len(body), float64(n)/el.Seconds()), "; ")
	if it.Error == "" && errors.Is(ctx.Err(), context.Canceled) {
		it.Error = "interrupted"
	}
	return it
}

// meWithImages measures GET /users/me once the caller owns the stored
// images (its images_count and published_count are counted per request),
// one request at a time against echo answering the same bytes.
func (b *bench) meWithImages(ctx context.Context) *Item {
	it := &Item{Key: "users_me_images", Title: fmt.Sprintf("GET /users/me, owner of %d images", b.cfg.images), Short: "me with images",
		Kind: "latency", Unit: "ms", BaselineName: "echo"}
	body, _, err := b.user.do(ctx, http.MethodGet, "/users/me", "", nil, http.StatusOK)
	if err != nil {
		it.Error = err.Error()
		it.finish()
		return it
	}
	b.echo.set("/users/me", body)
	hcS, hcE := newHTTPClient(1), newHTTPClient(1)
	n := max(10, b.cfg.listN/5)
	b.logf("GET /users/me as the owner of the images: %d requests per side", n)
	p, err := alternate(ctx, 1, n,
		func(ctx context.Context, _ int) (time.Duration, error) {
			t0 := time.Now()
			err := get(ctx, hcS, b.srv.url+"/users/me", b.user.token)
			return time.Since(t0), err
		},
		func(ctx context.Context, _ int) (time.Duration, error) {
			t0 := time.Now()
			err := get(ctx, hcE, b.echo.url+"/users/me", "")
			return time.Since(t0), err
		})
	b.fillPair(it, p, err)
	return it
}
