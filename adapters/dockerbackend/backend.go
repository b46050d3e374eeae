package dockerbackend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	docker "github.com/fsouza/go-dockerclient"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

// apiVersion is the Docker Engine API version the adapter speaks (Engine
// 20.10 and later).
const apiVersion = "1.41"

// Labels the backend puts on containers.
const (
	LabelManaged = "com.runnable.managed"
	LabelDraft   = "com.runnable.draft"
	LabelOwner   = "com.runnable.owner"
	// LabelTemp marks the short-lived containers that read an image's
	// files; they have no draft.
	LabelTemp = "com.runnable.temp"
)

// Backend is ports.Containers on Docker Engine.
type Backend struct {
	cfg    Config
	client *docker.Client

	// ready is set once the client has learnt the server's API version;
	// go-dockerclient records it without synchronisation, so the first
	// request is made alone (initSem).
	ready   atomic.Bool
	initSem chan struct{}

	locks keyedLocks
}

var _ ports.Containers = (*Backend)(nil)

// New returns a backend for cfg. It does not contact the engine: an
// unreachable engine shows as ErrUnavailable from the methods.
func New(cfg Config) (*Backend, error) {
	cfg = cfg.withDefaults()
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "unix:///var/run/docker.sock"
	}
	for k := range cfg.ExtraLabels {
		if k == "" || k == LabelManaged || k == LabelDraft || k == LabelOwner || k == LabelTemp {
			return nil, fmt.Errorf("dockerbackend: invalid extra label %q", k)
		}
	}
	c, err := docker.NewVersionedClient(endpoint, apiVersion)
	if err != nil {
		return nil, fmt.Errorf("dockerbackend: endpoint %q: %w", endpoint, err)
	}
	return &Backend{cfg: cfg, client: c, initSem: make(chan struct{}, 1)}, nil
}

// Ping checks the engine answers.
func (b *Backend) Ping(ctx context.Context) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	return b.fail(b.client.PingWithContext(ctx), "")
}

// init makes the first request alone; see Backend.ready.
func (b *Backend) init(ctx context.Context) error {
	if b.ready.Load() {
		return nil
	}
	select {
	case b.initSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.initSem }()
	if b.ready.Load() {
		return nil
	}
	if err := b.client.PingWithContext(ctx); err != nil {
		return b.fail(err, "")
	}
	b.ready.Store(true)
	return nil
}

// Public messages of the errors the adapter makes.
const (
	msgUnavailable       = "container backend unavailable"
	msgBackend           = "container backend error"
	msgContainerNotFound = "container not found"
	msgImageNotFound     = "image not found"
	msgPathNotFound      = "path does not exist"
)

// fail translates a go-dockerclient error into a domain error; notFound is
// the message of a 404 ("" treats a 404 as a backend error). Context
// errors pass through unchanged.
func (b *Backend) fail(err error, notFound string) error {
	switch {
	case err == nil:
		return nil
	case isDomain(err), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case isUnavailable(err):
		return domain.Wrap(domain.ErrUnavailable, msgUnavailable, err)
	case notFound == msgContainerNotFound && isNotDir(err):
		// A path through a regular file ("/a/file/b"): no such path.
		return domain.Wrap(domain.ErrNotFound, msgPathNotFound, err)
	case notFound != "" && isNotFound(err):
		if notFound == msgContainerNotFound && strings.Contains(err.Error(), "Could not find the file") {
			notFound = msgPathNotFound
		}
		return domain.Wrap(domain.ErrNotFound, notFound, err)
	}
	return domain.Wrap(domain.ErrBackend, msgBackend, err)
}

func isDomain(err error) bool {
	var e *domain.Error
	return errors.As(err, &e)
}

func isUnavailable(err error) bool {
	if errors.Is(err, docker.ErrConnectionRefused) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func isNotFound(err error) bool {
	var nsc *docker.NoSuchContainer
	var nse *docker.NoSuchExec
	if errors.As(err, &nsc) || errors.As(err, &nse) || errors.Is(err, docker.ErrNoSuchImage) {
		return true
	}
	return statusOf(err) == http.StatusNotFound
}

// isNotDir reports the engine's answer to an archive path that goes
// through a regular file.
func isNotDir(err error) bool {
	var e *docker.Error
	return errors.As(err, &e) && e.Status == http.StatusInternalServerError && strings.Contains(e.Message, "not a directory")
}

// statusOf returns the HTTP status of an engine API error, or 0.
func statusOf(err error) int {
	var e *docker.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// keyedLocks are per-container mutexes that honour contexts. They
// serialise the operations that start or stop a container (Start, Stop,
// Commit and the hold runs of Move and RemovePath) within this process.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sem  chan struct{}
	refs int
}

// lock takes key's lock and returns its release.
func (k *keyedLocks) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{sem: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	drop := func() {
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-l.sem
			drop()
		})
	}, nil
}
