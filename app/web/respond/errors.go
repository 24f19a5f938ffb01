// Package respond is the one place web handlers' results become responses:
// the error handler (HTML for pages, JSON for APIs), the render helper and
// validation errors.
package respond

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/incident"
	"pharos/app/store"
	"pharos/views"
)

// ValidationError is a request the server understood but refuses: answered
// with 422 and the field it is about.
type ValidationError struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Details carries structured errors, e.g. line-numbered config errors.
	Details any `json:"details,omitempty"`
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// TooManyRequests is a request refused by a rate limit: answered 429 with
// Retry-After.
type TooManyRequests struct {
	Message    string
	RetryAfter time.Duration
}

func (e *TooManyRequests) Error() string { return e.Message }

// unavailableRetry is the Retry-After, in seconds, of a 503 for a
// database out of reach.
const unavailableRetry = 30

// ErrorHandler is the one place errors become responses: HTML for pages,
// JSON for the APIs.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code := http.StatusInternalServerError
		msg := "Something went wrong on our side. It has been logged."
		var body any
		var he *echo.HTTPError
		var ve *ValidationError
		var ie *store.InvalidError
		var we *incident.WindowError
		var tm *TooManyRequests
		switch {
		case errors.As(err, &tm):
			code, msg = http.StatusTooManyRequests, tm.Message
			c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(tm.RetryAfter.Seconds())))))
		case errors.Is(err, store.ErrNotFound):
			code, msg = http.StatusNotFound, "Not found."
			var named interface{ NotFoundMessage() string }
			if errors.As(err, &named) {
				msg = named.NotFoundMessage()
			}
		case store.Unavailable(err):
			// The database is out of reach (a page never rendered before
			// it went away has nothing to show): say so, and when to
			// come back, instead of a 500.
			code, msg = http.StatusServiceUnavailable, "This page cannot be shown right now. Please try again in a minute."
			c.Response().Header().Set("Retry-After", strconv.Itoa(unavailableRetry))
		case errors.As(err, &ie):
			code, msg = http.StatusUnprocessableEntity, ie.Field+": "+ie.Message
			body = map[string]any{"error": ie.Message, "field": ie.Field}
		case errors.As(err, &we):
			code, msg = http.StatusUnprocessableEntity, we.Error()
			body = map[string]any{"error": we.Message, "field": we.Field}
		case errors.As(err, &ve):
			code, msg = http.StatusUnprocessableEntity, ve.Error()
			body = map[string]any{"error": ve.Message, "field": ve.Field, "details": ve.Details}
		case errors.As(err, &he):
			code = he.Code
			if m, ok := he.Message.(string); ok {
				msg = m
			} else {
				msg = http.StatusText(code)
			}
		}
		if code >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed",
				slog.String("path", c.Request().URL.Path), slog.Any("error", err))
		}
		if body == nil {
			body = map[string]any{"error": msg}
		}
		var werr error
		switch {
		case c.Request().Method == http.MethodHead:
			werr = c.NoContent(code)
		case WantsJSON(c.Request()):
			werr = c.JSON(code, body)
		default:
			werr = Render(c, code, views.ErrorPage(Layout(c, http.StatusText(code)), code, msg))
		}
		if werr != nil {
			log.Debug("write error response", slog.Any("error", werr))
		}
	}
}

// WantsJSON reports whether r is answered in JSON: the APIs and .json
// documents.
func WantsJSON(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, "/api/") || strings.Contains(p, "/api/v2/") || strings.HasSuffix(p, ".json")
}
