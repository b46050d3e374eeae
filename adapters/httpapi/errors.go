package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/runnable/runnable/domain"
)

// ErrorBody is the one error format: {"code": status, "message": text}.
type ErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

var kindStatus = []struct {
	kind   error
	status int
}{
	{domain.ErrInvalid, http.StatusBadRequest},
	{domain.ErrUnauthorized, http.StatusUnauthorized},
	{domain.ErrForbidden, http.StatusForbidden},
	{domain.ErrNotFound, http.StatusNotFound},
	{domain.ErrConflict, http.StatusConflict},
	{domain.ErrTooLarge, http.StatusRequestEntityTooLarge},
	{domain.ErrUnsupportedType, http.StatusUnsupportedMediaType},
	{domain.ErrTooMany, http.StatusTooManyRequests},
	{domain.ErrBackend, http.StatusBadGateway},
	{domain.ErrUnavailable, http.StatusServiceUnavailable},
}

var genericMessages = map[int]string{
	http.StatusInternalServerError: "something bad happened :(",
	http.StatusBadGateway:          "container backend error",
	http.StatusServiceUnavailable:  "service unavailable",
}

// statusOf maps an error to its status and public message.
func statusOf(err error) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, "resource not found"
		case http.StatusMethodNotAllowed:
			return he.Code, "method not allowed"
		case http.StatusRequestEntityTooLarge:
			return he.Code, "request body too large"
		}
		if he.Code >= 500 {
			return http.StatusInternalServerError, genericMessages[500]
		}
		if msg, ok := he.Message.(string); ok {
			return he.Code, msg
		}
		return he.Code, http.StatusText(he.Code)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, "request body too large"
	}
	for _, ks := range kindStatus {
		if errors.Is(err, ks.kind) {
			if msg, ok := domain.PublicMessage(err); ok {
				return ks.status, msg
			}
			if m, ok := genericMessages[ks.status]; ok {
				return ks.status, m
			}
			return ks.status, http.StatusText(ks.status)
		}
	}
	return http.StatusInternalServerError, genericMessages[500]
}

// errorHandler is echo's HTTPErrorHandler: the single place errors become
// responses. 5xx causes are logged with the request id, never sent.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := statusOf(err)
	var de *domain.Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(de.RetryAfter))
	}
	if status >= 500 {
		s.log.Error("request failed", slog.String("request_id", requestID(c)), slog.Int("status", status),
			slog.String("method", c.Request().Method), slog.String("route", c.Path()), slog.Any("err", err))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, ErrorBody{Code: status, Message: msg})
}
