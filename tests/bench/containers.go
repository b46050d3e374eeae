package main

// Container items: fork → running, save, file read and write, sustained
// forks until admission control answers 429.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	docker "github.com/fsouza/go-dockerclient"
)

// forkToRunning: POST /users/me/runnables?from=<shell> then POST …/start
// (the reply comes once the engine has started the container) vs raw
// create + start of the same image. Each side removes what it made after
// the clock stops.
func (b *bench) forkToRunning(ctx context.Context) *Item {
	it := &Item{Key: "fork_to_running", Title: "fork → running", Short: "fork→running", Kind: "latency", Unit: "ms",
		BaselineName: "raw create+start", Target: &Target{Metric: "ratio_p50", Op: "<=", Bound: 1.10}}
	b.logf("fork → running: %d rounds of server and raw create+start", b.cfg.forkN)
	server := func(ctx context.Context, seq int) (time.Duration, error) {
		t0 := time.Now()
		d, err := b.user.fork(ctx, b.shell.ID)
		if err != nil {
			return 0, err
		}
		_, err = b.user.start(ctx, d.ID)
		el := time.Since(t0)
		if err == nil && seq == 0 {
			err = b.checkRunning(ctx, d.Hex)
		}
		return el, errors.Join(err, b.user.deleteDraft(context.WithoutCancel(ctx), d.ID))
	}
	base := func(ctx context.Context, _ int) (time.Duration, error) {
		t0 := time.Now()
		id, err := b.raw.createStart(ctx)
		el := time.Since(t0)
		if id != "" {
			err = errors.Join(err, b.raw.remove(ctx, id))
		}
		return el, err
	}
	p, err := alternate(ctx, b.cfg.warmup, b.cfg.forkN, server, base)
	b.fillPair(it, p, err)
	return it
}

// checkRunning asks the engine whether the draft's container runs.
func (b *bench) checkRunning(ctx context.Context, draftHex string) error {
	cs, err := b.dc.ListContainers(docker.ListContainersOptions{
		Filters: map[string][]string{"label": {"com.runnable.draft=" + draftHex}}, Context: ctx})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.State == "running" {
			return nil
		}
	}
	return fmt.Errorf("after start, the engine reports no running container for draft %s", draftHex)
}

// fillPair stores an alternated pair's results in it.
func (b *bench) fillPair(it *Item, p pairResult, err error) {
	s, bs := p.stats()
	it.Server, it.Baseline = &s, &bs
	if err != nil {
		it.Error = err.Error()
	} else if p.firstErr != nil {
		it.Note = "some calls failed: " + p.firstErr.Error()
	}
	it.finish()
	b.logf("  %s: server p50 %s ms, baseline p50 %s ms, ratio %s", it.Title, fmtNum(s.P50), fmtNum(bs.P50), fmtNum(it.headline()))
}

// save: a draft whose container holds a new 1 MiB file (written with a
// multipart upload, which creates the container without starting it) is
// saved as a new image (POST /runnables?from=, until the save has
// finished) vs raw commit of a created container holding the same file
// (archive PUT). The content is random and new in every round.
func (b *bench) save(ctx context.Context) *Item {
	it := &Item{Key: "save_1mib", Title: "save, 1 MiB change", Short: "save", Kind: "latency", Unit: "ms",
		BaselineName: "raw commit", Target: &Target{Metric: "ratio_p50", Op: "<=", Bound: 1.15}}
	b.logf("save with a 1 MiB change: %d rounds of server and raw commit", b.cfg.saveN)
	var mu sync.Mutex
	payloads := map[int][]byte{}
	payload := func(seq int) []byte {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := payloads[seq]; ok {
			delete(payloads, seq)
			return p
		}
		p := make([]byte, 1<<20)
		_, _ = rand.Read(p)
		payloads[seq] = p
		return p
	}
	server := func(ctx context.Context, seq int) (time.Duration, error) {
		d, err := b.user.fork(ctx, b.shell.ID)
		if err != nil {
			return 0, err
		}
		defer func() { _ = b.user.deleteDraft(context.WithoutCancel(ctx), d.ID) }()
		if err := b.user.upload(ctx, d.ID, "bench-change.bin", payload(seq)); err != nil {
			return 0, err
		}
		t0 := time.Now()
		img, err := b.user.save(ctx, d.ID, fmt.Sprintf("bench save %s %d", b.run, seq))
		el := time.Since(t0)
		if img != "" {
			err = errors.Join(err, b.user.deleteImage(context.WithoutCancel(ctx), img))
		}
		return el, err
	}
	base := func(ctx context.Context, seq int) (time.Duration, error) {
		id, err := b.raw.create(ctx)
		if err != nil {
			return 0, err
		}
		defer func() { _ = b.raw.remove(ctx, id) }()
		if err := b.raw.writeFile(ctx, id, rawWorkDir, "bench-change.bin", payload(seq)); err != nil {
			return 0, err
		}
		t0 := time.Now()
		img, err := b.raw.commit(ctx, id, fmt.Sprintf("%s-%d", b.run, seq))
		el := time.Since(t0)
		if img != "" {
			err = errors.Join(err, b.raw.removeImage(ctx, img))
		}
		return el, err
	}
	p, err := alternate(ctx, b.cfg.warmup, b.cfg.saveN, server, base)
	b.fillPair(it, p, err)
	return it
}

// files: one running draft and one running raw container of the same
// image. Read: GET /users/me/runnables/:id/files/:fileId of main.sh vs a
// raw archive GET of /root/main.sh. Write: PUT of the same file with ~60
// new bytes vs a raw archive PUT of them.
func (b *bench) files(ctx context.Context) []*Item {
	read := &Item{Key: "file_read", Title: "small file read", Short: "file read", Kind: "latency", Unit: "ms",
		BaselineName: "raw archive GET", Target: &Target{Metric: "ratio_p50", Op: "<=", Bound: 0.10}}
	write := &Item{Key: "file_write", Title: "small file write", Short: "file write", Kind: "latency", Unit: "ms",
		BaselineName: "raw archive PUT", Target: &Target{Metric: "ratio_p50", Op: "<=", Bound: 1.10}}
	items := []*Item{read, write}
	fail := func(err error) []*Item {
		for _, it := range items {
			it.Error = err.Error()
			it.finish()
		}
		return items
	}
	b.logf("small files: %d reads and %d writes on each side", b.cfg.fileN, b.cfg.fileN)
	d, err := b.user.fork(ctx, b.shell.ID)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = b.user.deleteDraft(context.WithoutCancel(ctx), d.ID) }()
	if _, err := b.user.start(ctx, d.ID); err != nil {
		return fail(err)
	}
	fs, err := b.user.files(ctx, d.ID)
	if err != nil {
		return fail(err)
	}
	fileID := ""
	for _, f := range fs {
		if f.Name == "main.sh" && f.Path == "/" {
			fileID = f.ID
		}
	}
	if fileID == "" {
		return fail(errors.New("the shell template's draft has no /main.sh"))
	}
	rid, err := b.raw.createStart(ctx)
	if rid != "" {
		defer func() { _ = b.raw.remove(ctx, rid) }()
	}
	if err != nil {
		return fail(err)
	}
	filePath := "/users/me/runnables/" + d.ID + "/files/" + fileID

	serverRead := func(ctx context.Context, _ int) (time.Duration, error) {
		t0 := time.Now()
		var f file
		err := b.user.doJSON(ctx, http.MethodGet, filePath, nil, &f, http.StatusOK)
		el := time.Since(t0)
		if err == nil && f.Content == nil {
			err = errors.New("file read without content")
		}
		return el, err
	}
	rawRead := func(ctx context.Context, _ int) (time.Duration, error) {
		t0 := time.Now()
		_, err := b.raw.readFile(ctx, rid, rawWorkDir+"/main.sh")
		return time.Since(t0), err
	}
	p, err := alternate(ctx, b.cfg.warmup, b.cfg.fileN, serverRead, rawRead)
	b.fillPair(read, p, err)
	if ctx.Err() != nil {
		return items
	}

	content := func(seq int) string {
		return fmt.Sprintf("#!/bin/sh\n# bench write %d\necho %q\n", seq, time.Now().Format(time.RFC3339Nano))
	}
	var last atomic.Value
	serverWrite := func(ctx context.Context, seq int) (time.Duration, error) {
		c := content(seq)
		t0 := time.Now()
		err := b.user.doJSON(ctx, http.MethodPut, filePath, map[string]string{"content": c}, nil, http.StatusOK)
		el := time.Since(t0)
		if err == nil {
			last.Store(c)
		}
		return el, err
	}
	rawWrite := func(ctx context.Context, seq int) (time.Duration, error) {
		data := []byte(content(seq))
		t0 := time.Now()
		err := b.raw.writeFile(ctx, rid, rawWorkDir, "main.sh", data)
		return time.Since(t0), err
	}
	p, err = alternate(ctx, b.cfg.warmup, b.cfg.fileN, serverWrite, rawWrite)
	b.fillPair(write, p, err)

	// Not timed: a read after the writes must see the last write (the
	// read figure is only worth something if the cache is invalidated).
	if c, ok := last.Load().(string); ok {
		var f file
		if err := b.user.doJSON(ctx, http.MethodGet, filePath, nil, &f, http.StatusOK); err != nil {
			read.Note = "read-after-write check failed: " + err.Error()
		} else if f.Content == nil || *f.Content != c {
			read.Error = "a read after a write returned stale content"
			read.finish()
		}
	}
	return items
}

// admission: on a second server with the default capacity caps
// (MAX_RUNNING_PER_USER 3, MAX_RUNNING_TOTAL 100), workers fork and start
// drafts (three per anonymous user) until a start answers 429; the rate is
// the completed fork → running operations per second up to then. The
// baseline is raw create + start of as many containers at the same
// concurrency.
func (b *bench) admission(ctx context.Context, srv *server, shell image) *Item {
	// The main server's template image is gone with it: the baseline uses
	// this server's, the same build.
	rw := *b.raw
	rw.image = shell.dockerRef()
	it := &Item{Key: "forks_sustained", Title: fmt.Sprintf("sustained forks until 429 (c=%d)", b.cfg.admissionConc), Short: "forks",
		Kind: "value", Unit: "forks/s", BaselineName: "raw create+start",
		Target: &Target{Metric: "value", Op: ">=", Bound: 8}}
	root := &api{base: srv.url, hc: newHTTPClient(b.cfg.admissionConc)}
	const perUser = 3
	users := make([]*api, 60)
	if err := parallel(ctx, 4, len(users), func(ctx context.Context, i int) error {
		u, err := root.newUser(ctx)
		users[i] = u
		return err
	}); err != nil {
		it.Error = err.Error()
		it.finish()
		return it
	}
	b.logf("sustained forks: %d workers fork and start until the server answers 429", b.cfg.admissionConc)
	var (
		stopped  atomic.Bool
		mu       sync.Mutex
		lat      []time.Duration
		lastOK   time.Time
		answer   string
		otherErr error
	)
	limit := len(users) * perUser
	start := time.Now()
	_ = parallel(ctx, b.cfg.admissionConc, limit, func(ctx context.Context, k int) error {
		if stopped.Load() {
			return nil
		}
		u := users[k/perUser]
		t0 := time.Now()
		d, err := u.fork(ctx, shell.ID)
		if err == nil {
			_, err = u.start(ctx, d.ID)
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			lat = append(lat, time.Since(t0))
			lastOK = time.Now()
		case isStatus(err, http.StatusTooManyRequests):
			if !stopped.Swap(true) {
				var se *statusError
				errors.As(err, &se)
				answer = strings.TrimSpace(se.Body)
			}
		default:
			if otherErr == nil {
				otherErr = err
			}
			stopped.Store(true)
		}
		return nil
	})
	s := Summarize(lat)
	if el := lastOK.Sub(start); el > 0 {
		s.Rate = Num(float64(len(lat)) / el.Seconds())
	}
	it.Server = &s
	v := s.Rate
	it.Value = &v
	switch {
	case otherErr != nil:
		it.Error = otherErr.Error()
	case answer == "":
		it.Error = fmt.Sprintf("no 429 after %d running drafts", len(lat))
	default:
		it.Note = fmt.Sprintf("%d drafts running when a start answered 429 %s", len(lat), answer)
	}
	b.logf("  server: %d fork → running in %s (%s/s), then 429 %s", len(lat), lastOK.Sub(start).Round(time.Millisecond), fmtNum(s.Rate), answer)
	if ctx.Err() != nil || len(lat) == 0 {
		it.finish()
		return it
	}

	// The baseline, at the same concurrency, as many containers.
	var (
		rawLat []time.Duration
		ids    []string
	)
	count := len(lat)
	if b.cfg.admissionRaw > 0 {
		count = min(count, b.cfg.admissionRaw)
	}
	rawStart := time.Now()
	err := parallel(ctx, b.cfg.admissionConc, count, func(ctx context.Context, _ int) error {
		t0 := time.Now()
		id, err := rw.createStart(ctx)
		el := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if id != "" {
			ids = append(ids, id)
		}
		if err == nil {
			rawLat = append(rawLat, el)
		}
		return err
	})
	rawEl := time.Since(rawStart)
	bs := Summarize(rawLat)
	bs.Rate = Num(float64(len(rawLat)) / rawEl.Seconds())
	it.Baseline = &bs
	if err != nil && it.Error == "" {
		it.Error = "baseline: " + err.Error()
	}
	b.logf("  raw: %d create+start in %s (%s/s)", len(rawLat), rawEl.Round(time.Millisecond), fmtNum(bs.Rate))
	_ = parallel(context.WithoutCancel(ctx), 8, len(ids), func(ctx context.Context, i int) error { return rw.remove(ctx, ids[i]) })
	it.finish()
	return it
}
