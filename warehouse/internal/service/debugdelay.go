package service

import (
	"context"
	"time"

	"github.com/cloudwego/kitex/pkg/endpoint"

	"example.com/bookstore/warehouse/internal/config"
)

// debugDelay is the TEST-ONLY [debug] delay: every call waits that long
// before it is handled, so that fault tests can make the warehouse slow
// without touching its code. It is read per call (the key is hot) and
// costs one config read when zero.
func debugDelay(current func() *config.Config) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			if d := current().Debug.Delay; d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
			}
			return next(ctx, req, resp)
		}
	}
}
