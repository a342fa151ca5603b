package ports

import (
	"context"
	"log/slog"
	"time"

	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/rpcinfo"

	"example.com/bookstore/common/rpcerr"
)

// LiftBizErrors makes a business status error returned by a middleware
// inside it (auth.ServerMiddleware's UNAUTHENTICATED for a bad token) reach
// the caller as a typed business error. Kitex does this only for errors
// returned by the handler itself; from a middleware the error would travel
// as an untyped application exception, and rpcerr.From would not see its
// code.
func LiftBizErrors(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, req, resp any) error {
		err := next(ctx, req, resp)
		if bizErr, ok := kerrors.FromBizStatusError(err); ok {
			if ri := rpcinfo.GetRPCInfo(ctx); ri != nil {
				if setter, ok := ri.Invocation().(rpcinfo.InvocationSetter); ok {
					setter.SetBizStatusErr(bizErr)
					return nil
				}
			}
		}
		return err
	}
}

// LogCalls logs every call at debug level with its outcome. The level is
// checked per call, so turning log.level to debug in the config file makes
// calls visible without a restart.
func LogCalls(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, req, resp any) error {
		start := time.Now()
		err := next(ctx, req, resp)
		if !slog.Default().Enabled(ctx, slog.LevelDebug) {
			return err
		}
		method, outcome := "", "OK"
		if ri := rpcinfo.GetRPCInfo(ctx); ri != nil {
			method = ri.Invocation().MethodName()
			if be := ri.Invocation().BizStatusErr(); be != nil {
				outcome = rpcerr.Code(be.BizStatusCode()).String()
			}
		}
		if err != nil {
			if code, _, ok := rpcerr.From(err); ok {
				outcome = code.String()
			} else {
				outcome = "ERROR"
			}
		}
		slog.DebugContext(ctx, "account: call", "method", method, "outcome", outcome,
			"took", time.Since(start).Round(time.Microsecond).String())
		return err
	}
}
