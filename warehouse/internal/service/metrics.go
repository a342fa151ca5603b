package service

import (
	"context"

	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/common/telemetry"
)

// freezeFailures counts the settlements whose stock could not be frozen:
// the business signal behind "sold out" answers, and behind failures that
// are the warehouse's own fault (ERROR, UNAVAILABLE).
var freezeFailures = promauto.With(telemetry.Registry()).NewCounterVec(prometheus.CounterOpts{
	Namespace: telemetry.Namespace, Subsystem: "warehouse", Name: "stock_freeze_failures_total",
	Help: "Stock freezes (one per settlement) refused or failed, by reason: a business error code or ERROR.",
}, []string{"reason"})

func init() {
	// Present from the start, so that a rate over it is 0, not absent.
	freezeFailures.WithLabelValues(rpcerr.InsufficientStock.String())
}

// countFreezeFailures is a server middleware: it reads the outcome of each
// Freeze call the way the RPC metrics do, whatever layer produced it.
func countFreezeFailures(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, req, resp any) error {
		err := next(ctx, req, resp)
		if ri := rpcinfo.GetRPCInfo(ctx); ri != nil && ri.Invocation().MethodName() == "Freeze" {
			if code := telemetry.Outcome(ri, err); code != telemetry.CodeOK {
				freezeFailures.WithLabelValues(code).Inc()
			}
		}
		return err
	}
}
