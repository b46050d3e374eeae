package main

// Server profiles without touching cmd/api-server: with -pprof DIR the
// server is built with `go build -overlay` adding one file to package main
// (pprofOverlay below), which serves net/http/pprof and a CPU profile
// start/stop pair on a loopback port given in RUNNABLE_BENCH_PPROF_ADDR.
// The benchmark then writes DIR/<step>.cpu.pprof for every step and heap
// profiles at idle and after the drafts. Figures of such a run carry the
// profiler's overhead: quote the figures of runs without -pprof.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
)

const pprofOverlay = `package main

// Added by tests/bench -pprof through go build -overlay; not in the repository.

import (
	"net/http"
	"net/http/pprof"
	"os"
	rpprof "runtime/pprof"
	"sync"
)

func init() {
	addr := os.Getenv("RUNNABLE_BENCH_PPROF_ADDR")
	if addr == "" {
		return
	}
	var (
		mu sync.Mutex
		f  *os.File
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/cpu/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if f != nil {
			http.Error(w, "a profile is running", http.StatusConflict)
			return
		}
		var err error
		if f, err = os.Create(r.URL.Query().Get("file")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if err := rpprof.StartCPUProfile(f); err != nil {
			f.Close()
			f = nil
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/cpu/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if f != nil {
			rpprof.StopCPUProfile()
			f.Close()
			f = nil
		}
	})
	go func() { _ = http.ListenAndServe(addr, mux) }()
}
`

// writeOverlay writes the overlay file and the -overlay JSON into dir and
// returns the JSON's path.
func writeOverlay(moduleDir, dir string) (string, error) {
	src := filepath.Join(dir, "zz_bench_pprof.go")
	if err := os.WriteFile(src, []byte(pprofOverlay), 0o644); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(moduleDir, "cmd", "api-server", "zz_bench_pprof.go"): src},
	})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, b, 0o644)
}

// pprofCall sends one request to a server's profiling listener.
func (s *server) pprofCall(ctx context.Context, path string, out io.Writer) error {
	if s.pprofURL == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, s.pprofURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("pprof %s: %d %s", path, resp.StatusCode, b)
	}
	if out != nil {
		_, err = io.Copy(out, resp.Body)
	}
	return err
}

// profiled runs fn under a CPU profile of srv written to
// <pprof dir>/<name>.cpu.pprof (just fn without -pprof).
func (b *bench) profiled(ctx context.Context, srv *server, name string, fn func()) {
	if b.cfg.pprofDir == "" || srv.pprofURL == "" {
		fn()
		return
	}
	file := filepath.Join(b.cfg.pprofDir, name+".cpu.pprof")
	if err := srv.pprofCall(ctx, "/cpu/start?file="+url.QueryEscape(file), nil); err != nil {
		b.logf("pprof: %v", err)
	}
	fn()
	if err := srv.pprofCall(ctx, "/cpu/stop", nil); err != nil {
		b.logf("pprof: %v", err)
	}
}

// heapProfile writes <pprof dir>/<name>.heap.pprof.
func (b *bench) heapProfile(ctx context.Context, srv *server, name string) {
	if b.cfg.pprofDir == "" || srv.pprofURL == "" {
		return
	}
	f, err := os.Create(filepath.Join(b.cfg.pprofDir, name+".heap.pprof"))
	if err != nil {
		b.logf("pprof: %v", err)
		return
	}
	defer f.Close()
	if err := srv.pprofCall(ctx, "/debug/pprof/heap?gc=1", f); err != nil {
		b.logf("pprof: %v", err)
	}
}
