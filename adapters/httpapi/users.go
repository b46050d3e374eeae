package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/app"
	"github.com/runnable/runnable/domain"
)

func (s *Server) root(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"message": "runnable api"})
}

func userInput(b body) (app.UserInput, error) {
	var in app.UserInput
	var err error
	if in.Email, err = b.str("email", "email is invalid"); err != nil {
		return in, err
	}
	if in.Username, err = b.str("username", "username must be 2 to 40 letters, digits, '.', '_' or '-'"); err != nil {
		return in, err
	}
	if in.Password, err = b.str("password", "password must be 6 to 72 characters"); err != nil {
		return in, err
	}
	if in.CurrentPassword, err = b.str("current_password", "must provide current_password"); err != nil {
		return in, err
	}
	return in, nil
}

func (s *Server) createUser(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	in, err := userInput(b)
	if err != nil {
		return err
	}
	u, token, err := s.app.CreateUser(c.Request().Context(), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/users/"+u.ID.Hex())
	return c.JSON(http.StatusCreated, tokenUserView{selfUserView: selfView(u), AccessToken: token})
}

func (s *Server) getUser(c echo.Context) error {
	u, err := s.app.GetUser(c.Request().Context(), caller(c), c.Param("userId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userView(caller(c), u))
}

func (s *Server) listUsers(c echo.Context) error {
	p, err := s.page(c)
	if err != nil {
		return err
	}
	ids := listParam(c, "ids")
	users, total, err := s.app.ListUsers(c.Request().Context(), ids, c.QueryParam("username"), p)
	if err != nil {
		return err
	}
	out := make([]publicUserView, 0, len(users))
	for _, u := range users {
		out = append(out, publicView(u))
	}
	return s.paged(c, p, total, out)
}

func (s *Server) updateUser(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	in, err := userInput(b)
	if err != nil {
		return err
	}
	u, err := s.app.UpdateUser(c.Request().Context(), caller(c), c.Param("userId"), token(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, selfView(u))
}

func (s *Server) deleteUser(c echo.Context) error {
	if err := s.app.DeleteUser(c.Request().Context(), caller(c), c.Param("userId")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "user deleted"})
}

func (s *Server) setLevel(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	lvl, err := b.integer("permission_level", "permission_level must be 1, 5 or 10")
	if err != nil {
		return err
	}
	if lvl == nil {
		return domain.E(domain.ErrInvalid, "permission_level must be 1, 5 or 10")
	}
	u, err := s.app.SetLevel(c.Request().Context(), caller(c), c.Param("userId"), *lvl)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, selfView(u))
}

type loginView struct {
	AccessToken string          `json:"access_token"`
	ID          string          `json:"_id"`
	Transferred transferredView `json:"transferred"`
}

type transferredView struct {
	Drafts int `json:"drafts"`
	Images int `json:"images"`
}

func (s *Server) login(c echo.Context) error {
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	var in app.LoginInput
	if in.Username, err = b.str("username", "username or email required"); err != nil {
		return err
	}
	if in.Email, err = b.str("email", "username or email required"); err != nil {
		return err
	}
	if in.Password, err = b.str("password", "password required"); err != nil {
		return err
	}
	res, err := s.app.Login(c.Request().Context(), in, token(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, loginView{AccessToken: res.Token, ID: res.User.ID.Hex(),
		Transferred: transferredView{Drafts: res.Drafts, Images: res.ImagesMove}})
}

func (s *Server) logout(c echo.Context) error {
	if err := s.app.Logout(c.Request().Context(), token(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "token revoked"})
}
