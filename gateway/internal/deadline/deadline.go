// Package deadline gives every request a deadline: one per route where the
// config names the route, a default otherwise. The deadline travels in the
// request's context to every Kitex call the handler makes, so a request
// whose time is up fails its next call at once (503) instead of waiting a
// full RPC timeout per call; a handler is never cut off mid-write.
package deadline

import (
	"context"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// Settings are the current deadlines.
type Settings struct {
	// Default applies to routes not listed; <= 0 means none.
	Default time.Duration
	// Routes maps "METHOD /path" to a deadline; the path is the route's
	// pattern as registered ("/restful/products/:id").
	Routes map[string]time.Duration
}

// Middleware applies the deadline of the matched route, read from settings
// on every request so that changes apply at once.
func Middleware(settings func() Settings) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		s := settings()
		d := s.Default
		if rd, ok := s.Routes[string(c.Method())+" "+c.FullPath()]; ok {
			d = rd
		}
		if d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		c.Next(ctx)
	}
}
