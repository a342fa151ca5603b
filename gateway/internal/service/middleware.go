package service

import (
	"context"
	"fmt"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/gateway/internal/httperr"
)

// recoverer turns a panicking handler into a logged 500 with the generic
// body, instead of a dropped connection.
func recoverer(ctx context.Context, c *app.RequestContext) {
	defer func() {
		if v := recover(); v != nil {
			c.Abort()
			httperr.Respond(ctx, c, httperr.Internal(fmt.Errorf("panic: %v", v)))
		}
	}()
	c.Next(ctx)
}
