package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

func (s *Server) draftView(d *domain.Draft) draftView {
	return newDraftView(d, s.cfg.CleanupMaxAge)
}

// draftPath applies the /users/:userId form's rule before the draft's own.
func (s *Server) draftPath(c echo.Context) error {
	_, err := s.app.DraftOwnerPath(c.Request().Context(), caller(c), c.Param("userId"))
	return err
}

func (s *Server) fork(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	name, desc, err := nameDesc(b)
	if err != nil {
		return err
	}
	if err := s.draftPath(c); err != nil {
		return err
	}
	d, err := s.app.Fork(c.Request().Context(), caller(c), c.QueryParam("from"), name, desc)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/users/"+d.Owner.Hex()+"/runnables/"+d.ID.Short())
	return c.JSON(http.StatusCreated, s.draftView(d))
}

func (s *Server) listDrafts(c echo.Context) error {
	p, err := s.page(c)
	if err != nil {
		return err
	}
	saved, err := parseBool(c, "saved")
	if err != nil {
		return err
	}
	ds, total, err := s.app.ListDrafts(c.Request().Context(), caller(c), c.Param("userId"), c.QueryParam("parent"), saved, p)
	if err != nil {
		return err
	}
	out := make([]draftView, 0, len(ds))
	for _, d := range ds {
		out = append(out, s.draftView(d))
	}
	return s.paged(c, p, total, out)
}

func (s *Server) getDraft(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	d, err := s.app.GetDraft(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.draftView(d))
}

func (s *Server) updateDraft(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	if err := s.draftPath(c); err != nil {
		return err
	}
	var in app.DraftInput
	if in.Name, err = b.str("name", "name must be 1 to 100 characters"); err != nil {
		return err
	}
	if in.Description, err = b.str("description", "description must be at most 2000 characters"); err != nil {
		return err
	}
	if in.StartCmd, err = b.str("start_cmd", "start_cmd must be a string of at most 4096 characters"); err != nil {
		return err
	}
	if in.Env, err = b.strMap("env", "env must be an object of string values"); err != nil {
		return err
	}
	if in.Running, err = b.boolean("running", "running must be a boolean"); err != nil {
		return err
	}
	d, err := s.app.UpdateDraft(c.Request().Context(), caller(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.draftView(d))
}

func (s *Server) deleteDraft(c echo.Context) error {
	if err := s.draftPath(c); err != nil {
		return err
	}
	if err := s.app.DeleteDraft(c.Request().Context(), caller(c), c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "runnable deleted"})
}

func (s *Server) lifecycle(op string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.draftPath(c); err != nil {
			return err
		}
		ctx, u, id := c.Request().Context(), caller(c), c.Param("id")
		var d *domain.Draft
		var err error
		switch op {
		case "start":
			d, err = s.app.Start(ctx, u, id)
		case "stop":
			d, err = s.app.Stop(ctx, u, id)
		default:
			d, err = s.app.Restart(ctx, u, id)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, s.draftView(d))
	}
}

func (s *Server) saveDraft(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	name, desc, err := nameDesc(b)
	if err != nil {
		return err
	}
	if err := s.draftPath(c); err != nil {
		return err
	}
	res, err := s.app.SaveDraft(c.Request().Context(), caller(c), c.Param("id"), name, desc)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res.Draft != nil && res.Draft.Save.Mode == domain.SaveOverwrite {
		status = http.StatusOK
	}
	return s.saveReply(c, res, status)
}
