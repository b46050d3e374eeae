package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

// imageViews renders images, looking each owner up once.
func (s *Server) imageViews(ctx context.Context, imgs []*domain.Image) []imageView {
	names := map[domain.ID]string{}
	out := make([]imageView, 0, len(imgs))
	for _, img := range imgs {
		n, ok := names[img.Owner]
		if !ok {
			n = s.app.OwnerUsername(ctx, img.Owner)
			names[img.Owner] = n
		}
		out = append(out, newImageView(img, n))
	}
	return out
}

func (s *Server) imageView(ctx context.Context, img *domain.Image) imageView {
	return s.imageViews(ctx, []*domain.Image{img})[0]
}

func (s *Server) listImages(c echo.Context) error {
	p, err := s.page(c)
	if err != nil {
		return err
	}
	in := app.ImageListInput{Page: p, Owner: c.QueryParam("owner"), Parent: c.QueryParam("parent"), Sort: c.QueryParam("sort")}
	if in.Published, err = parseBool(c, "published"); err != nil {
		return err
	}
	if c.QueryParams().Has("search") {
		in.Search = c.QueryParam("search")
		if in.Search == "" {
			return domain.E(domain.ErrInvalid, "search must be 1 to 100 characters")
		}
	}
	in.Channels = listParam(c, "channel")
	imgs, total, err := s.app.ListImages(c.Request().Context(), caller(c), in)
	if err != nil {
		return err
	}
	return s.paged(c, p, total, s.imageViews(c.Request().Context(), imgs))
}

func nameDesc(b body) (name, desc *string, err error) {
	if name, err = b.str("name", "name must be 1 to 100 characters"); err != nil {
		return nil, nil, err
	}
	if desc, err = b.str("description", "description must be at most 2000 characters"); err != nil {
		return nil, nil, err
	}
	return name, desc, nil
}

func (s *Server) createImage(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	name, desc, err := nameDesc(b)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if !c.QueryParams().Has("from") {
		tpl, err := b.str("template", "template not found")
		if err != nil {
			return err
		}
		img, err := s.app.CreateFromTemplate(ctx, caller(c), name, desc, tpl)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Location", "/runnables/"+img.ID.Short())
		return c.JSON(http.StatusCreated, s.imageView(ctx, img))
	}
	res, err := s.app.SaveNew(ctx, caller(c), c.QueryParam("from"), name, desc)
	if err != nil {
		return err
	}
	return s.saveReply(c, res, http.StatusCreated)
}

func (s *Server) saveReply(c echo.Context, res *app.SaveResult, doneStatus int) error {
	ctx := c.Request().Context()
	if !res.Done {
		c.Response().Header().Set("Location", "/users/"+res.Draft.Owner.Hex()+"/runnables/"+res.Draft.ID.Short())
		return c.JSON(http.StatusAccepted, s.imageView(ctx, res.Image))
	}
	if doneStatus == http.StatusCreated {
		c.Response().Header().Set("Location", "/runnables/"+res.Image.ID.Short())
	}
	return c.JSON(doneStatus, s.imageView(ctx, res.Image))
}

func (s *Server) getImage(c echo.Context) error {
	if v := queryPtr(c, "view"); v != nil {
		if *v != "page" {
			return domain.E(domain.ErrInvalid, "view must be page")
		}
		return s.imagePage(c) // publishing.go
	}
	img, err := s.app.GetImage(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.imageView(c.Request().Context(), img))
}

func (s *Server) overwriteImage(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	name, desc, err := nameDesc(b)
	if err != nil {
		return err
	}
	res, err := s.app.SaveOverwrite(c.Request().Context(), caller(c), c.Param("id"), c.QueryParam("from"), name, desc)
	if err != nil {
		return err
	}
	return s.saveReply(c, res, http.StatusOK)
}

func (s *Server) patchImage(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	name, desc, err := nameDesc(b)
	if err != nil {
		return err
	}
	img, err := s.app.UpdateImage(c.Request().Context(), caller(c), c.Param("id"), name, desc)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.imageView(c.Request().Context(), img))
}

func (s *Server) deleteImage(c echo.Context) error {
	if err := s.app.DeleteImage(c.Request().Context(), caller(c), c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "runnable deleted"})
}
