package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/domain"
	"github.com/runnable/runnable/ports"
)

var (
	errContentType = domain.E(domain.ErrUnsupportedType, "content type must be application/json")
	errInvalidJSON = domain.E(domain.ErrInvalid, "invalid json")
	errNotObject   = domain.E(domain.ErrInvalid, "request body must be a json object")
	errBodyTooBig  = domain.E(domain.ErrTooLarge, "request body too large")
)

// body is a decoded JSON object body with typed accessors that give the
// contract's messages.
type body map[string]json.RawMessage

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && len(r.TransferEncoding) > 0)
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// readJSONBytes checks the content type and size and returns the raw body
// (nil when there is none).
func (s *Server) readJSONBytes(c echo.Context) ([]byte, error) {
	r := c.Request()
	if !hasBody(r) {
		return nil, nil
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return nil, errContentType
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooBig
		}
		return nil, domain.Wrap(domain.ErrInvalid, "invalid json", err)
	}
	return b, nil
}

// readBody decodes an optional JSON object body; no body is {}.
func (s *Server) readBody(c echo.Context) (body, error) {
	b, err := s.readJSONBytes(c)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return body{}, nil
	}
	if !json.Valid(b) {
		return nil, errInvalidJSON
	}
	var m body
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, errNotObject
	}
	return m, nil
}

func (b body) has(k string) bool {
	v, ok := b[k]
	return ok && string(v) != "null"
}

// str returns a string field; a non-string gives ErrInvalid msg.
func (b body) str(k, msg string) (*string, error) {
	if !b.has(k) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(b[k], &s); err != nil {
		return nil, domain.E(domain.ErrInvalid, msg)
	}
	return &s, nil
}

// boolean returns a boolean field; anything else gives ErrInvalid msg.
func (b body) boolean(k, msg string) (*bool, error) {
	if !b.has(k) {
		return nil, nil
	}
	var v bool
	if err := json.Unmarshal(b[k], &v); err != nil {
		return nil, domain.E(domain.ErrInvalid, msg)
	}
	return &v, nil
}

func (b body) integer(k, msg string) (*int, error) {
	if !b.has(k) {
		return nil, nil
	}
	var v int
	if err := json.Unmarshal(b[k], &v); err != nil {
		return nil, domain.E(domain.ErrInvalid, msg)
	}
	return &v, nil
}

// strMap returns an object of string values.
func (b body) strMap(k, msg string) (*map[string]string, error) {
	if !b.has(k) {
		return nil, nil
	}
	var v map[string]string
	if err := json.Unmarshal(b[k], &v); err != nil || v == nil {
		return nil, domain.E(domain.ErrInvalid, msg)
	}
	return &v, nil
}

// parseBool reads a boolean query parameter (spec §1.6).
func parseBool(c echo.Context, name string) (*bool, error) {
	q := c.QueryParams()
	vals, ok := q[name]
	if !ok {
		return nil, nil
	}
	v := ""
	if len(vals) > 0 {
		v = strings.ToLower(vals[0])
	}
	switch v {
	case "", "true", "1":
		t := true
		return &t, nil
	case "false", "0":
		f := false
		return &f, nil
	}
	return nil, domain.Ef(domain.ErrInvalid, "%s must be true or false", name)
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// listParam collects repeated and comma-separated values; nil when absent.
func listParam(c echo.Context, name string) []string {
	vals, ok := c.QueryParams()[name]
	if !ok {
		return nil
	}
	out := []string{}
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// page parses page and limit (spec §1.6).
func (s *Server) page(c echo.Context) (ports.Page, error) {
	p := ports.Page{Page: 0, Limit: s.cfg.PageDefault}
	if v := c.QueryParam("page"); v != "" || c.QueryParams().Has("page") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, domain.E(domain.ErrInvalid, "page must be a non-negative integer")
		}
		p.Page = n
	}
	if v := c.QueryParam("limit"); v != "" || c.QueryParams().Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.cfg.PageMax {
			return p, domain.Ef(domain.ErrInvalid, "limit must be an integer between 1 and %d", s.cfg.PageMax)
		}
		p.Limit = n
	}
	return p, nil
}

// paged writes a page with X-Total-Count and Link headers.
func (s *Server) paged(c echo.Context, p ports.Page, total int, items any) error {
	h := c.Response().Header()
	h.Set("X-Total-Count", strconv.Itoa(total))
	last := 0
	if total > 0 {
		last = (total - 1) / p.Limit
	}
	links := []string{s.link(c, 0, p.Limit, "first"), s.link(c, last, p.Limit, "last")}
	if p.Page > 0 {
		prev := p.Page - 1
		if prev > last {
			prev = last
		}
		links = append(links, s.link(c, prev, p.Limit, "prev"))
	}
	if p.Page < last {
		links = append(links, s.link(c, p.Page+1, p.Limit, "next"))
	}
	h.Set("Link", strings.Join(links, ", "))
	return c.JSON(http.StatusOK, items)
}

func (s *Server) link(c echo.Context, page, limit int, rel string) string {
	r := c.Request()
	base := s.cfg.PublicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if s.cfg.TrustProxy {
			if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
				scheme = p
			}
		}
		base = scheme + "://" + r.Host
	}
	q := url.Values{}
	for k, v := range r.URL.Query() {
		if k != "page" && k != "limit" {
			q[k] = v
		}
	}
	q.Set("page", strconv.Itoa(page))
	q.Set("limit", strconv.Itoa(limit))
	return fmt.Sprintf("<%s%s?%s>; rel=%q", strings.TrimRight(base, "/"), r.URL.Path, q.Encode(), rel)
}
