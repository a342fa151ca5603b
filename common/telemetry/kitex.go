package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bytedance/gopkg/cloud/metainfo"
	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/cloudwego/kitex/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"example.com/bookstore/common/rpcerr"
)

// Outcomes of a call, as the code label of the RPC metrics, the code
// attribute of its span and the code field of its log line. Business errors
// are labelled with their rpcerr code name (INSUFFICIENT_STOCK, ...), so the
// set of values stays small and fixed.
const (
	CodeOK          = "OK"
	CodeTimeout     = "TIMEOUT"
	CodeCanceled    = "CANCELED"
	CodeUnreachable = "UNREACHABLE"
	CodeCircuitOpen = "CIRCUIT_OPEN"
	CodePanic       = "PANIC"
	CodeError       = "ERROR"
)

var (
	rpcServerRequests = promauto.With(registry).NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "rpc_server", Name: "requests_total",
		Help: "Kitex calls served, by method and outcome (OK, a business error code, or a failure).",
	}, []string{"method", "code"})
	rpcServerDuration = promauto.With(registry).NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "rpc_server", Name: "duration_seconds",
		Help:    "Time to serve a Kitex call, by method.",
		Buckets: DurationBuckets,
	}, []string{"method"})
	rpcServerInFlight = promauto.With(registry).NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "rpc_server", Name: "in_flight",
		Help: "Kitex calls being served.",
	})
	rpcClientRequests = promauto.With(registry).NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "rpc_client", Name: "requests_total",
		Help: "Kitex calls made, by callee service, method and outcome; a retried call counts once per attempt.",
	}, []string{"callee", "method", "code"})
	rpcClientDuration = promauto.With(registry).NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "rpc_client", Name: "duration_seconds",
		Help:    "Time a Kitex call took as the caller saw it, by callee service and method.",
		Buckets: DurationBuckets,
	}, []string{"callee", "method"})
)

// ServerOptions trace, count and log every call a Kitex server serves. They
// must come before the server's other middlewares (auth), so that the span
// covers them and their log lines carry the trace id.
func ServerOptions() []server.Option {
	return []server.Option{server.WithMiddleware(serverMiddleware)}
}

// ClientOptions trace and count every call a Kitex client makes, and carry
// the trace context to the callee in metainfo (the client must use the
// TTHeader transport and meta handler, as rpcclient.Options sets up).
func ClientOptions() []client.Option {
	return []client.Option{client.WithMiddleware(clientMiddleware)}
}

// Metainfo keys of the W3C headers. They are transient values: each hop
// sends its own span as the parent, and Kitex never forwards a received
// transient value to the next hop.
const (
	metaTraceparent = "TRACEPARENT"
	metaTracestate  = "TRACESTATE"
)

// metaKey maps a propagation header name to its metainfo key.
func metaKey(header string) string {
	switch strings.ToLower(header) {
	case "traceparent":
		return metaTraceparent
	case "tracestate":
		return metaTracestate
	}
	return ""
}

// incomingMeta reads the W3C headers from a server call's metainfo.
type incomingMeta struct{ ctx context.Context }

func (m incomingMeta) Get(key string) string {
	if k := metaKey(key); k != "" {
		v, _ := metainfo.GetValue(m.ctx, k)
		return v
	}
	return ""
}
func (m incomingMeta) Set(string, string) {}
func (m incomingMeta) Keys() []string     { return []string{"traceparent", "tracestate"} }

func serverMiddleware(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, req, resp any) (err error) {
		ri := rpcinfo.GetRPCInfo(ctx)
		method, name := callNames(ri)
		ctx = propagator.Extract(ctx, incomingMeta{ctx})
		ctx, span := Tracer().Start(ctx, name,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("rpc.system", "kitex"),
				attribute.String("rpc.method", method),
				attribute.String("rpc.service", serviceName(ri)),
			))
		rpcServerInFlight.Inc()
		start := time.Now()
		code := CodePanic // stays so only if next panics
		defer func() {
			rpcServerInFlight.Dec()
			elapsed := time.Since(start)
			rpcServerRequests.WithLabelValues(method, code).Inc()
			rpcServerDuration.WithLabelValues(method).Observe(elapsed.Seconds())
			endSpan(span, code, err)
			level := slog.LevelInfo
			if failure(code) {
				level = slog.LevelWarn
			}
			slog.Log(ctx, level, "rpc", "method", method, "code", code,
				"duration_ms", durationMillis(elapsed))
		}()
		err = next(ctx, req, resp)
		code = Outcome(ri, err)
		return err
	}
}

// outgoingMeta collects the W3C headers to send.
type outgoingMeta map[string]string

func (m outgoingMeta) Get(key string) string { return m[metaKey(key)] }
func (m outgoingMeta) Set(key, value string) {
	if k := metaKey(key); k != "" {
		m[k] = value
	}
}
func (m outgoingMeta) Keys() []string { return []string{"traceparent", "tracestate"} }

var _ propagation.TextMapCarrier = outgoingMeta(nil)

func clientMiddleware(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, req, resp any) (err error) {
		ri := rpcinfo.GetRPCInfo(ctx)
		method, name := callNames(ri)
		callee := "unknown"
		if ri != nil && ri.To() != nil && ri.To().ServiceName() != "" {
			callee = ri.To().ServiceName()
		}
		ctx, span := Tracer().Start(ctx, name,
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(
				attribute.String("rpc.system", "kitex"),
				attribute.String("rpc.method", method),
				attribute.String("rpc.service", serviceName(ri)),
				attribute.String("peer.service", callee),
			))
		md := outgoingMeta{}
		propagator.Inject(ctx, md)
		for k, v := range md {
			ctx = metainfo.WithValue(ctx, k, v)
		}
		start := time.Now()
		code := CodePanic
		defer func() {
			rpcClientRequests.WithLabelValues(callee, method, code).Inc()
			rpcClientDuration.WithLabelValues(callee, method).Observe(time.Since(start).Seconds())
			endSpan(span, code, err)
		}()
		err = next(ctx, req, resp)
		code = Outcome(ri, err)
		return err
	}
}

// Outcome classifies a finished Kitex call (server or client side) into one
// of the codes above or a business error's code name.
func Outcome(ri rpcinfo.RPCInfo, err error) string {
	if err != nil {
		if code, _, ok := rpcerr.From(err); ok {
			return code.String()
		}
		switch {
		case errors.Is(err, kerrors.ErrRPCTimeout), errors.Is(err, context.DeadlineExceeded):
			return CodeTimeout
		case errors.Is(err, context.Canceled):
			return CodeCanceled
		case errors.Is(err, kerrors.ErrCircuitBreak):
			return CodeCircuitOpen
		case errors.Is(err, kerrors.ErrGetConnection):
			return CodeUnreachable
		}
		return CodeError
	}
	// Kitex moves a handler's business error into the invocation and
	// returns nil through the middlewares, on both sides.
	if ri != nil && ri.Invocation() != nil {
		if be := ri.Invocation().BizStatusErr(); be != nil {
			return rpcerr.Code(be.BizStatusCode()).String()
		}
	}
	return CodeOK
}

// failure tells outcomes that mean something broke from answers a caller
// asked for (OK and business refusals such as INSUFFICIENT_STOCK).
func failure(code string) bool {
	switch code {
	case CodeTimeout, CodeCanceled, CodeUnreachable, CodeCircuitOpen, CodePanic, CodeError, rpcerr.Unavailable.String():
		return true
	}
	return false
}

func endSpan(span trace.Span, code string, err error) {
	span.SetAttributes(attribute.String("rpc.code", code))
	if failure(code) {
		msg := code
		if err != nil {
			msg = fmt.Sprintf("%s: %v", code, err)
		}
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}

// callNames returns the method and the span name of a call:
// "package.Service/Method" as OpenTelemetry's RPC conventions name it.
func callNames(ri rpcinfo.RPCInfo) (method, span string) {
	if ri == nil || ri.Invocation() == nil {
		return "unknown", "kitex/unknown"
	}
	inv := ri.Invocation()
	method = inv.MethodName()
	if method == "" {
		method = "unknown"
	}
	span = serviceName(ri) + "/" + method
	if pkg := inv.PackageName(); pkg != "" {
		span = pkg + "." + span
	}
	return method, span
}

func serviceName(ri rpcinfo.RPCInfo) string {
	if ri != nil && ri.Invocation() != nil && ri.Invocation().ServiceName() != "" {
		return ri.Invocation().ServiceName()
	}
	return "unknown"
}

// durationMillis is d in milliseconds with microsecond resolution, the unit
// of every duration field in the store's logs.
func durationMillis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
