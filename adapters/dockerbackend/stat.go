package dockerbackend

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/runnable/runnable/domain"
)

// pathStat is the engine's stat of a container path, from the
// X-Docker-Container-Path-Stat header of HEAD /containers/{id}/archive.
// It has no owner. LinkTarget is set for a symlink: the path it resolves
// to, every link on the way followed within the container's root.
type pathStat struct {
	Name       string      `json:"name"`
	Size       int64       `json:"size"`
	Mode       fs.FileMode `json:"mode"`
	Mtime      time.Time   `json:"mtime"`
	LinkTarget string      `json:"linkTarget"`
}

// errNoHead means headStat has no answer the adapter can use (an engine
// error other than 404 comes without a body, so its cause is unknown; or
// the endpoint is not one headStat speaks to): the caller falls back to
// an archive download, which reports the error properly.
var errNoHead = errors.New("dockerbackend: no stat by HEAD")

// headStat stats p (a final symlink is not followed) without downloading
// anything: about a millisecond where an archive GET takes tens. A missing
// path (or container) is domain.ErrNotFound "path not found"; callers
// that must tell a missing container apart make another call.
func (b *Backend) headStat(ctx context.Context, id, p string) (*pathStat, error) {
	base, ok := b.headBase()
	if !ok {
		return nil, errNoHead
	}
	u := base + "/v" + apiVersion + "/containers/" + url.PathEscape(id) + "/archive?" + url.Values{"path": {p}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return nil, domain.Wrap(domain.ErrBackend, msgBackend, err)
	}
	resp, err := b.client.HTTPClient.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, b.fail(err, "")
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, domain.Wrap(domain.ErrNotFound, msgPathNotFound, fmt.Errorf("HEAD archive %s: 404", p))
	default:
		return nil, errNoHead
	}
	raw, err := base64.StdEncoding.DecodeString(resp.Header.Get("X-Docker-Container-Path-Stat"))
	if err != nil {
		return nil, errNoHead
	}
	var st pathStat
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, errNoHead
	}
	return &st, nil
}

// headBase returns the URL prefix of the client's endpoint, as
// go-dockerclient builds it, for requests made with its HTTP client (whose
// transport dials the unix socket itself).
func (b *Backend) headBase() (string, bool) {
	u, err := url.Parse(b.client.Endpoint())
	if err != nil {
		return "", false
	}
	switch u.Scheme {
	case "unix":
		return "http://unix.sock", true
	case "http", "https":
		return u.Scheme + "://" + u.Host, true
	case "tcp":
		if strings.HasSuffix(u.Host, ":2376") {
			return "https://" + u.Host, true
		}
		return "http://" + u.Host, true
	}
	return "", false
}
