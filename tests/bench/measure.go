package main

// The measuring loops: alternation of server and baseline, a parallel
// runner, and a closed-loop HTTP load generator.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// timedOp runs one operation; it returns the duration of the part that is
// measured (set-up and clean-up around it are not). seq numbers the calls
// of one op from 0, warm-up calls included.
type timedOp func(ctx context.Context, seq int) (time.Duration, error)

// pairResult holds the samples of an alternated pair.
type pairResult struct {
	server, base       []time.Duration
	serverErr, baseErr int
	firstErr           error
}

// stats returns the summaries of both sides.
func (p pairResult) stats() (Stats, Stats) {
	s, b := Summarize(p.server), Summarize(p.base)
	s.Errors, b.Errors = p.serverErr, p.baseErr
	return s, b
}

// alternate runs warmup unrecorded rounds, then n recorded rounds, each
// round the server op then the baseline op (A B A B …), so that drift of
// the machine during the run reaches both sides alike. It gives up when
// either side has failed more than n/4+2 times.
func alternate(ctx context.Context, warmup, n int, server, base timedOp) (pairResult, error) {
	var p pairResult
	limit := n/4 + 2
	for round := 0; round < warmup+n; round++ {
		for side, op := range []timedOp{server, base} {
			d, err := op(ctx, round)
			if cerr := ctx.Err(); cerr != nil {
				return p, cerr
			}
			switch {
			case err != nil:
				if p.firstErr == nil {
					p.firstErr = err
				}
				if side == 0 {
					p.serverErr++
				} else {
					p.baseErr++
				}
				if p.serverErr > limit || p.baseErr > limit {
					return p, fmt.Errorf("too many failures (server %d, baseline %d); first: %w", p.serverErr, p.baseErr, p.firstErr)
				}
			case round >= warmup && side == 0:
				p.server = append(p.server, d)
			case round >= warmup:
				p.base = append(p.base, d)
			}
		}
	}
	return p, nil
}

// parallel calls fn(ctx, i) for every i in [0, n) from workers goroutines
// and returns the failures joined (the first five, and a count).
func parallel(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	workers = max(1, min(workers, n))
	var (
		next   atomic.Int64
		mu     sync.Mutex
		errs   []error
		failed int
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					failed++
					if len(errs) < 5 {
						errs = append(errs, err)
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if failed > len(errs) {
		errs = append(errs, fmt.Errorf("%d failures in all", failed))
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// loadResult is one closed-loop load slot.
type loadResult struct {
	lat     []time.Duration
	errs    int
	elapsed time.Duration
	lastErr error
}

// load sends GET url from conc workers, each one request after another,
// for dur, and records every completed request's latency. A request that
// fails or answers other than 200 counts as an error, not a sample.
func load(ctx context.Context, hc *http.Client, url, token string, conc int, dur time.Duration) loadResult {
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for range conc {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 4096)
			errs := 0
			var lastErr error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				err := get(ctx, hc, url, token)
				d := time.Since(t0)
				if err != nil {
					errs++
					lastErr = err
					continue
				}
				lat = append(lat, d)
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.errs += errs
			if lastErr != nil {
				res.lastErr = lastErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// get sends one GET and drains the body.
func get(ctx context.Context, hc *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("runnable-token", token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}
