package httperr

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/gateway/internal/view"
)

// ContentTypeJSON is the Content-Type of every JSON answer.
const ContentTypeJSON = "application/json;charset=UTF-8"

// JSON writes v as the body of a status answer.
func JSON(ctx context.Context, c *app.RequestContext, status int, v any) {
	b, err := view.Marshal(v)
	if err != nil {
		Respond(ctx, c, Internal(err))
		return
	}
	c.Data(status, ContentTypeJSON, b)
}

// Respond answers with err: an *Error as it says, anything else as a 500
// whose detail is logged and not sent.
func Respond(ctx context.Context, c *app.RequestContext, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = Internal(err)
	}
	Log(ctx, e, string(c.Method()), string(c.Path()))
	for k, v := range e.Header {
		c.Response.Header.Set(k, v)
	}
	if e.Body == nil {
		c.SetStatusCode(e.Status)
		if e.Status == http.StatusNoContent {
			c.Response.ResetBody()
		}
		return
	}
	b, merr := view.Marshal(e.Body)
	if merr != nil {
		slog.ErrorContext(ctx, "cannot encode error body", "err", merr)
		c.SetStatusCode(http.StatusInternalServerError)
		return
	}
	c.Data(e.Status, ContentTypeJSON, b)
}
