package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

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

// accessLog records each request: server errors at warn, the rest at debug.
func accessLog(ctx context.Context, c *app.RequestContext) {
	start := time.Now()
	c.Next(ctx)
	status := c.Response.StatusCode()
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	slog.Log(ctx, level, "http request",
		"method", string(c.Method()), "path", string(c.Path()), "status", status,
		"duration", time.Since(start))
}

const homePage = `<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>Fenix's Bookstore</title></head>
<body>
<h1>Fenix's Bookstore</h1>
<p>REST API under <code>/restful</code> (products, advertisements, accounts, settlements, pay);
OAuth2 tokens at <code>/oauth/token</code>.</p>
</body>
</html>
`

func home(_ context.Context, c *app.RequestContext) {
	c.Data(200, "text/html; charset=utf-8", []byte(homePage))
}
