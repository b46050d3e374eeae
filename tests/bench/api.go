package main

// A small client of the Runnable API (../shared/spec/api.md), just what the
// benchmark drives.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"
)

// api talks to one server as one user.
type api struct {
	base  string // http://127.0.0.1:port
	hc    *http.Client
	token string
}

// newHTTPClient returns a client keeping up to conns idle connections to
// one host, so that measured requests reuse connections.
func newHTTPClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	tr.MaxConnsPerHost = 0
	tr.Proxy = nil // loopback only
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

// as returns a client for the same server acting with token.
func (a *api) as(token string) *api { return &api{base: a.base, hc: a.hc, token: token} }

// statusError is an unexpected HTTP status.
type statusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %.300s", e.Method, e.Path, e.Status, e.Body)
}

// isStatus reports whether err is a statusError with that status.
func isStatus(err error, status int) bool {
	var se *statusError
	return errors.As(err, &se) && se.Status == status
}

// do sends one request and returns the body when the status is one of
// want (any 2xx when want is empty).
func (a *api) do(ctx context.Context, method, path, contentType string, body []byte, want ...int) ([]byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.token != "" {
		req.Header.Set("runnable-token", a.token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	ok := len(want) == 0 && resp.StatusCode/100 == 2
	for _, w := range want {
		ok = ok || resp.StatusCode == w
	}
	if !ok {
		return b, resp.Header, &statusError{Method: method, Path: path, Status: resp.StatusCode, Body: string(b)}
	}
	return b, resp.Header, nil
}

// doJSON sends v (nil: no body) and decodes the reply into out (nil: drop).
func (a *api) doJSON(ctx context.Context, method, path string, v, out any, want ...int) error {
	var body []byte
	ct := ""
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return err
		}
		ct = "application/json"
	}
	b, _, err := a.do(ctx, method, path, ct, body, want...)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decoding %.200s: %w", method, path, b, err)
		}
	}
	return nil
}

// image is the part of an image object (spec §3.1) the benchmark reads.
type image struct {
	ID      string `json:"_id"`
	Hex     string `json:"id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
	Status  string `json:"status"`
}

// dockerRef is the container image of the image's current version (spec
// §8.3: runnable/<hex>:v<version>).
func (i image) dockerRef() string { return fmt.Sprintf("runnable/%s:v%d", i.Hex, i.Version) }

// draft is the part of a draft object (spec §4.1) the benchmark reads.
type draft struct {
	ID      string `json:"_id"`
	Hex     string `json:"id"`
	Status  string `json:"status"`
	Running bool   `json:"running"`
	Save    struct {
		Status string  `json:"status"`
		Image  *string `json:"image"`
		Error  *string `json:"error"`
	} `json:"save"`
}

// file is the part of a file object (spec §5.1) the benchmark reads.
type file struct {
	ID      string  `json:"_id"`
	Name    string  `json:"name"`
	Path    string  `json:"path"`
	Dir     bool    `json:"dir"`
	Content *string `json:"content"`
}

// newUser makes an anonymous user and returns a client acting as it.
func (a *api) newUser(ctx context.Context) (*api, error) {
	var u struct {
		Token string `json:"access_token"`
	}
	if err := a.as("").doJSON(ctx, http.MethodPost, "/users", nil, &u, http.StatusCreated); err != nil {
		return nil, err
	}
	if u.Token == "" {
		return nil, errors.New("POST /users: no access_token")
	}
	return a.as(u.Token), nil
}

// waitTemplate polls GET /runnables?search=name until the template of
// that name is listed (TEMPLATES_DIR is imported in the background).
func (a *api) waitTemplate(ctx context.Context, name string, timeout time.Duration) (image, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		var imgs []image
		err := a.doJSON(ctx, http.MethodGet, "/runnables?search="+url.QueryEscape(name), nil, &imgs, http.StatusOK)
		if err == nil {
			for _, img := range imgs {
				if img.Name == name && img.Version >= 1 {
					return img, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("template %q not imported", name)
			}
			return image{}, fmt.Errorf("waiting %s for template %q: %w", timeout, name, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// fork makes a draft of image (no container yet, spec §4.4).
func (a *api) fork(ctx context.Context, imageID string) (draft, error) {
	var d draft
	err := a.doJSON(ctx, http.MethodPost, "/users/me/runnables?from="+url.QueryEscape(imageID), nil, &d, http.StatusCreated)
	return d, err
}

// start starts a draft and checks the reply says it runs.
func (a *api) start(ctx context.Context, id string) (draft, error) {
	var d draft
	if err := a.doJSON(ctx, http.MethodPost, "/users/me/runnables/"+id+"/start", nil, &d, http.StatusOK); err != nil {
		return d, err
	}
	if !d.Running {
		return d, fmt.Errorf("start %s: draft status %q, not running", id, d.Status)
	}
	return d, nil
}

func (a *api) deleteDraft(ctx context.Context, id string) error {
	return a.doJSON(ctx, http.MethodDelete, "/users/me/runnables/"+id, nil, nil, http.StatusOK)
}

func (a *api) deleteImage(ctx context.Context, id string) error {
	return a.doJSON(ctx, http.MethodDelete, "/runnables/"+id, nil, nil, http.StatusOK)
}

// files lists a draft's files.
func (a *api) files(ctx context.Context, id string) ([]file, error) {
	var fs []file
	err := a.doJSON(ctx, http.MethodGet, "/users/me/runnables/"+id+"/files", nil, &fs, http.StatusOK)
	return fs, err
}

// upload writes one file into the draft's file root with a multipart
// upload (JSON bodies are capped at MAX_BODY_BYTES, 1 MiB).
func (a *api) upload(ctx context.Context, id, name string, data []byte) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("path", "/"); err != nil {
		return err
	}
	if err := mw.WriteField("overwrite", "true"); err != nil {
		return err
	}
	w, err := mw.CreateFormFile("file", name)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	_, _, err = a.do(ctx, http.MethodPost, "/users/me/runnables/"+id+"/files", mw.FormDataContentType(), buf.Bytes(), http.StatusCreated)
	return err
}

// save saves the draft as a new image named name and waits until the save
// has finished: a 201 reply, or a 202 followed by polling the draft.
func (a *api) save(ctx context.Context, draftID, name string) (string, error) {
	b, _, err := a.do(ctx, http.MethodPost, "/runnables?from="+url.QueryEscape(draftID), "application/json",
		mustJSON(map[string]string{"name": name}), http.StatusCreated, http.StatusAccepted)
	if err != nil {
		return "", err
	}
	var img image
	if err := json.Unmarshal(b, &img); err != nil {
		return "", err
	}
	if img.Version >= 1 && img.Status == "ready" {
		return img.ID, nil
	}
	for {
		var d draft
		if err := a.doJSON(ctx, http.MethodGet, "/users/me/runnables/"+draftID, nil, &d, http.StatusOK); err != nil {
			return img.ID, err
		}
		switch d.Save.Status {
		case "saved":
			return img.ID, nil
		case "failed":
			msg := ""
			if d.Save.Error != nil {
				msg = *d.Save.Error
			}
			return img.ID, fmt.Errorf("save of %s failed: %s", draftID, msg)
		}
		select {
		case <-ctx.Done():
			return img.ID, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
