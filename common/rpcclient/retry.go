package rpcclient

import (
	"context"
	"errors"
	"time"

	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/retry"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
)

// retryPolicies returns Kitex failure-retry policies for the idempotent
// methods, or nil when there is nothing to retry.
//
// What is retried is a call that did not get an answer because the
// connection failed: refused, reset, or a pooled connection the server had
// already closed (every restart of a service does that to its callers'
// pools); and a call refused because the instance it was sent to has an
// open circuit, since a retry goes to another instance. A timeout is not retried: the service is slow, the call may still
// be running there, and asking again only adds load; the circuit breaker
// deals with slowness. Retries stop once a call, retries included, has
// taken one RPC timeout, and once more than the retry budget of the
// method's recent calls were retries (Kitex's percentage limit).
func retryPolicies(cfg Config, rpcTimeout time.Duration, methods []string) map[string]retry.Policy {
	if cfg.MaxRetries < 0 || len(methods) == 0 {
		return nil
	}
	fp := retry.NewFailurePolicyWithResultRetry(&retry.ShouldResultRetry{
		ErrorRetryWithCtx:  retryable,
		NotRetryForTimeout: true,
	})
	fp.WithMaxRetryTimes(cfg.MaxRetries)
	fp.WithMaxDurationMS(uint32(rpcTimeout.Milliseconds()))
	fp.WithRetryBreaker(cfg.RetryBudget)
	minMS := max(int(cfg.RetryBackoff.Milliseconds()), 1)
	fp.WithRandomBackOff(minMS, 2*minMS)
	p := retry.BuildFailurePolicy(fp)
	out := make(map[string]retry.Policy, len(methods))
	for _, m := range methods {
		out[m] = p
	}
	return out
}

// retryable reports whether err means the call never got an answer from
// the service for a reason a second attempt may not share.
func retryable(ctx context.Context, err error, _ rpcinfo.RPCInfo) bool {
	switch {
	case err == nil, ctx.Err() != nil:
		// The caller gave up or ran out of time: another attempt
		// would fail the same way.
		return false
	case errors.Is(err, errInstanceOpen):
		// The balancer picked an instance known to be down; a retry
		// picks again.
		return true
	case errors.Is(err, kerrors.ErrCircuitBreak), errors.Is(err, kerrors.ErrOverlimit), kerrors.IsTimeoutError(err):
		return false
	case errors.Is(err, kerrors.ErrGetConnection):
		return true
	case errors.Is(err, kerrors.ErrRemoteOrNetwork):
		return !isApplicationError(err)
	}
	return false
}

// isApplicationError tells a handler's own failure (the server answered
// with an exception) from a broken connection; Kitex reports both as
// ErrRemoteOrNetwork.
func isApplicationError(err error) bool {
	var de *kerrors.DetailedError
	if !errors.As(err, &de) {
		return false
	}
	var te interface{ TypeID() int32 }
	return errors.As(de.Unwrap(), &te)
}
