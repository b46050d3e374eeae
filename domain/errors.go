package domain

import (
	"errors"
	"fmt"
	"time"
)

// Error kinds. Every error the domain, app or an adapter returns wraps one of
// these so that transports can map it to a status with errors.Is.
var (
	ErrInvalid         = errors.New("invalid")           // 400
	ErrUnauthorized    = errors.New("unauthorized")      // 401
	ErrForbidden       = errors.New("forbidden")         // 403
	ErrNotFound        = errors.New("not found")         // 404
	ErrConflict        = errors.New("conflict")          // 409
	ErrTooLarge        = errors.New("too large")         // 413
	ErrUnsupportedType = errors.New("unsupported media") // 415
	ErrTooMany         = errors.New("too many")          // 429
	ErrBackend         = errors.New("backend error")     // 502
	ErrUnavailable     = errors.New("unavailable")       // 503
)

// Error is an error with a public message fixed by the API contract.
// Kind is one of the sentinel kinds above.
type Error struct {
	Kind    error
	Message string
	// RetryAfter, in seconds, for ErrTooMany; 0 when not applicable.
	RetryAfter int
	// Cause is an underlying error for logs; never shown to clients.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// E makes a public error of the given kind.
func E(kind error, msg string) *Error { return &Error{Kind: kind, Message: msg} }

// Ef makes a public error with a formatted message.
func Ef(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap makes a public error that keeps cause for the logs.
func Wrap(kind error, msg string, cause error) *Error {
	return &Error{Kind: kind, Message: msg, Cause: cause}
}

// PublicMessage returns the contract message carried by err, if any.
func PublicMessage(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Message, true
	}
	return "", false
}

// Common contract errors shared by several use cases.
var (
	ErrPermissionDenied = E(ErrForbidden, "permission denied")
	ErrRunnableNotFound = E(ErrNotFound, "runnable not found")
	ErrUserNotFound     = E(ErrNotFound, "user not found")
	ErrFileNotFound     = E(ErrNotFound, "file not found")
	ErrSaveInProgress   = E(ErrConflict, "a save is already in progress")
	ErrNameTaken        = E(ErrConflict, "runnable with name already exists")
	ErrBackendFailed    = E(ErrBackend, "container backend error")
	ErrBackendDown      = E(ErrUnavailable, "container backend unavailable")
)

// RateLimited is the 429 "rate limit exceeded" of a bucket whose window
// resets after reset; Retry-After is reset in whole seconds, at least 1.
func RateLimited(reset time.Duration) *Error {
	return &Error{Kind: ErrTooMany, Message: "rate limit exceeded", RetryAfter: CeilSeconds(reset)}
}

// CeilSeconds rounds d up to whole seconds, at least 1.
func CeilSeconds(d time.Duration) int {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return secs
}
