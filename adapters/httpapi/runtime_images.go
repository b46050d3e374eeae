package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

var errImportType = domain.E(domain.ErrUnsupportedType, "content type must be application/x-tar or application/gzip")

// importImage answers POST /runnables/import (spec §9.2). The body is
// spooled to a temporary file (at most IMPORT_MAX_BYTES) because the app
// reads it twice: once to detect the format, once to load or build. Build
// output goes to the server log with the request id.
func (s *Server) importImage(c echo.Context) error {
	r := c.Request()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-tar", "application/gzip", "application/x-gzip":
	default:
		return errImportType
	}
	if r.ContentLength > s.cfg.ImportMaxBytes {
		return errBodyTooBig
	}
	u := caller(c)
	if err := s.app.RequireAdmin(u); err != nil {
		return err
	}
	f, err := os.CreateTemp("", "runnable-import-*.tar")
	if err != nil {
		return err
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	if _, err := io.Copy(f, http.MaxBytesReader(c.Response(), r.Body, s.cfg.ImportMaxBytes)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooBig
		}
		return err
	}
	reqID := requestID(c)
	in := app.ImportInput{
		Format: c.QueryParam("format"), Owner: c.QueryParam("owner"),
		Progress: func(line string) { s.log.Info("import progress", "request_id", reqID, "line", line) },
	}
	q := c.QueryParams()
	if q.Has("name") {
		v := q.Get("name")
		in.Name = &v
	}
	if q.Has("description") {
		v := q.Get("description")
		in.Description = &v
	}
	s.log.Info("import started", "request_id", reqID, "format", in.Format)
	img, err := s.app.ImportArchive(r.Context(), u, f, in)
	if err != nil {
		s.log.Info("import failed", "request_id", reqID, "err", err)
		return err
	}
	s.log.Info("import finished", "request_id", reqID, "image", img.ID.Short(), "name", img.Name)
	return c.JSON(http.StatusCreated, s.imageView(r.Context(), img))
}

// exportImage answers GET /runnables/:id/export: a docker-save tar with a
// root runnable.json. The status is sent only once the backend produced
// its first bytes; a failure after that cuts the connection, so a client
// never takes a truncated archive for a whole one.
func (s *Server) exportImage(c echo.Context) error {
	ctx := c.Request().Context()
	exp, err := s.app.ExportImage(ctx, caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	w := c.Response()
	begun := false
	err = exp.Stream(ctx, w, func() {
		begun = true
		w.Header().Set("Content-Type", "application/x-tar")
		w.Header().Set("Content-Disposition", `attachment; filename="`+exp.Filename+`"`)
		w.WriteHeader(http.StatusOK)
	})
	if err == nil {
		return nil
	}
	if !begun {
		return err
	}
	if ctx.Err() == nil {
		s.log.Error("export failed mid-stream", "request_id", requestID(c), "err", err)
	}
	panic(http.ErrAbortHandler)
}
