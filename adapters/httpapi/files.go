package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

func (s *Server) fileFilter(c echo.Context) (app.FileFilter, error) {
	f := app.FileFilter{Path: c.QueryParam("path")}
	rec, err := parseBool(c, "recursive")
	if err != nil {
		return f, err
	}
	f.Recursive = boolOr(rec, false)
	if f.Dir, err = parseBool(c, "dir"); err != nil {
		return f, err
	}
	if f.Default, err = parseBool(c, "default"); err != nil {
		return f, err
	}
	content, err := parseBool(c, "content")
	if err != nil {
		return f, err
	}
	f.Content = boolOr(content, f.Default != nil && *f.Default)
	return f, nil
}

func filesReply(c echo.Context, files []domain.File, withContent bool) error {
	if withContent {
		out := make([]fileContentView, 0, len(files))
		for i := range files {
			out = append(out, newFileContentView(&files[i]))
		}
		return c.JSON(http.StatusOK, out)
	}
	out := make([]fileView, 0, len(files))
	for i := range files {
		out = append(out, newFileView(&files[i]))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listDraftFiles(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	f, err := s.fileFilter(c)
	if err != nil {
		return err
	}
	files, err := s.app.ListDraftFiles(c.Request().Context(), caller(c), c.Param("id"), f)
	if err != nil {
		return err
	}
	return filesReply(c, files, f.Content)
}

func (s *Server) listImageFiles(c echo.Context) error {
	f, err := s.fileFilter(c)
	if err != nil {
		return err
	}
	files, err := s.app.ListImageFiles(c.Request().Context(), caller(c), c.Param("id"), f)
	if err != nil {
		return err
	}
	return filesReply(c, files, f.Content)
}

func (s *Server) getDraftFile(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	f, err := s.app.GetDraftFile(c.Request().Context(), caller(c), c.Param("id"), c.Param("fileId"))
	if err != nil {
		return err
	}
	return fileReply(c, http.StatusOK, f)
}

func fileReply(c echo.Context, status int, f *domain.File) error {
	if f.Dir || f.IsLink {
		return c.JSON(status, newFileView(f))
	}
	return c.JSON(status, newFileContentView(f))
}

func (s *Server) getImageFile(c echo.Context) error {
	f, err := s.app.GetImageFile(c.Request().Context(), caller(c), c.Param("id"), c.Param("fileId"))
	if err != nil {
		return err
	}
	return fileReply(c, http.StatusOK, f)
}

func (s *Server) createFile(c echo.Context) error {
	ct := c.Request().Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt == "multipart/form-data" {
		return s.upload(c)
	}
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := s.draftPath(c); err != nil {
		return err
	}
	var in app.FileInput
	dir, err := b.boolean("dir", "dir must be a boolean")
	if err != nil {
		return err
	}
	in.Dir = boolOr(dir, false)
	kind := "file"
	if in.Dir {
		kind = "dir"
	}
	if in.Name, err = b.str("name", kind+" must include a name field"); err != nil {
		return err
	}
	if in.Path, err = b.str("path", kind+" must include a path field"); err != nil {
		return err
	}
	if in.Content, err = b.str("content", "file must include a content field"); err != nil {
		return err
	}
	if in.Encoding, err = b.str("encoding", "encoding must be utf8 or base64"); err != nil {
		return err
	}
	if in.Default, err = b.boolean("default", "default must be a boolean"); err != nil {
		return err
	}
	f, err := s.app.CreateFile(c.Request().Context(), caller(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, newFileView(f))
}

func (s *Server) upload(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, s.cfg.UploadMaxBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return domain.E(domain.ErrInvalid, "invalid multipart body")
	}
	var parts []app.UploadFile
	dir, overwrite := "/", false
	fileMax := s.app.Config().FileMaxBytes
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return uploadErr(err)
		}
		switch p.FormName() {
		case "path":
			v, err := io.ReadAll(io.LimitReader(p, 8192))
			if err != nil {
				return uploadErr(err)
			}
			dir = string(v)
		case "overwrite":
			v, err := io.ReadAll(io.LimitReader(p, 16))
			if err != nil {
				return uploadErr(err)
			}
			switch strings.ToLower(string(v)) {
			case "true", "1":
				overwrite = true
			case "false", "0", "":
			default:
				return domain.E(domain.ErrInvalid, "overwrite must be true or false")
			}
		case "file":
			data, err := io.ReadAll(io.LimitReader(p, fileMax+1))
			if err != nil {
				return uploadErr(err)
			}
			if int64(len(data)) > fileMax {
				return domain.E(domain.ErrTooLarge, "file too large")
			}
			parts = append(parts, app.UploadFile{Name: p.FileName(), Data: data})
		}
		_ = p.Close()
	}
	files, err := s.app.Upload(r.Context(), caller(c), c.Param("id"), dir, overwrite, parts)
	if err != nil {
		return err
	}
	out := make([]fileView, 0, len(files))
	for i := range files {
		out = append(out, newFileView(&files[i]))
	}
	return c.JSON(http.StatusCreated, out)
}

func uploadErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooBig
	}
	return domain.Wrap(domain.ErrInvalid, "invalid multipart body", err)
}

func (s *Server) updateFile(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := s.draftPath(c); err != nil {
		return err
	}
	var in app.FileUpdate
	if in.Content, err = b.str("content", "content must be a string"); err != nil {
		return err
	}
	if in.Encoding, err = b.str("encoding", "encoding must be utf8 or base64"); err != nil {
		return err
	}
	if in.Name, err = b.str("name", "invalid file name"); err != nil {
		return err
	}
	if in.Path, err = b.str("path", "invalid path"); err != nil {
		return err
	}
	if in.Default, err = b.boolean("default", "default must be a boolean"); err != nil {
		return err
	}
	f, err := s.app.UpdateFile(c.Request().Context(), caller(c), c.Param("id"), c.Param("fileId"), in)
	if err != nil {
		return err
	}
	return fileReply(c, http.StatusOK, f)
}

func (s *Server) deleteFile(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	rec, err := parseBool(c, "recursive")
	if err != nil {
		return err
	}
	if err := s.app.DeleteFile(c.Request().Context(), caller(c), c.Param("id"), c.Param("fileId"), boolOr(rec, false)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "file deleted"})
}

type syncView struct {
	Message   string   `json:"message"`
	Date      jsonTime `json:"date"`
	Count     int      `json:"count"`
	Truncated bool     `json:"truncated"`
}

func (s *Server) sync(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	res, err := s.app.Sync(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, syncView{Message: "files synced successfully", Date: jsonTime(res.Date), Count: res.Count, Truncated: res.Truncated})
}

func (s *Server) archive(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	rc, name, err := s.app.Archive(c.Request().Context(), caller(c), c.Param("id"), c.QueryParam("path"))
	if err != nil {
		return err
	}
	defer rc.Close()
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Stream(http.StatusOK, "application/x-tar", rc)
}
