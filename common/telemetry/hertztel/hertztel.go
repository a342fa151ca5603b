// Package hertztel is common/telemetry for a Hertz server: one middleware
// that traces each request (continuing a W3C traceparent the client sent),
// counts it in the RED metrics per route, and writes its access log line.
package hertztel

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"example.com/bookstore/common/telemetry"
)

var (
	requests = promauto.With(telemetry.Registry()).NewCounterVec(prometheus.CounterOpts{
		Namespace: telemetry.Namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests answered, by method, route pattern and status code.",
	}, []string{"method", "route", "code"})
	duration = promauto.With(telemetry.Registry()).NewHistogramVec(prometheus.HistogramOpts{
		Namespace: telemetry.Namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time to answer an HTTP request, by method and route pattern.",
		Buckets: telemetry.DurationBuckets,
	}, []string{"method", "route"})
	inFlight = promauto.With(telemetry.Registry()).NewGauge(prometheus.GaugeOpts{
		Namespace: telemetry.Namespace, Subsystem: "http", Name: "requests_in_flight",
		Help: "HTTP requests being answered.",
	})
)

// Unmatched is the route label of requests no route matched (404, 405):
// their paths are whatever clients send and must not become label values.
const Unmatched = "unmatched"

// maxPathLog bounds the path written to the access log.
const maxPathLog = 256

// Middleware must be the engine's first (outermost) middleware, so that its
// span is the parent of everything the request does and its status code is
// the one a recovered panic turned into.
//
// What it records of a request is the method, the route pattern, the path
// without its query string, the status, the duration and the client
// address. Never the query (the contract's password grant carries the
// password and the client secret there), a header (Authorization) or a body.
func Middleware() app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		start := time.Now()
		method := normMethod(c.Method())
		route := c.FullPath()
		routeLabel := route
		name := method
		if route == "" {
			routeLabel = Unmatched
		} else {
			name += " " + route
		}
		path := string(c.Path())
		if len(path) > maxPathLog {
			path = path[:maxPathLog] + "..."
		}
		ctx = telemetry.Propagator().Extract(ctx, headerCarrier{&c.Request.Header})
		ctx, span := telemetry.Tracer().Start(ctx, name,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", method),
				attribute.String("http.route", route),
				attribute.String("url.path", path),
			))
		// The client's address and agent cost a string each (ClientIP
		// parses the peer address on every call): only for a span that is
		// kept, and only once.
		client := ""
		if span.IsRecording() {
			client = c.ClientIP()
			span.SetAttributes(
				attribute.String("client.address", client),
				attribute.String("user_agent.original", truncate(string(c.UserAgent()), 256)))
		}
		inFlight.Inc()
		status := 0
		defer func() {
			inFlight.Dec()
			if status == 0 {
				// A panic nobody recovered: the connection is dropped.
				status = 500
			}
			elapsed := time.Since(start)
			requests.WithLabelValues(method, routeLabel, strconv.Itoa(status)).Inc()
			duration.WithLabelValues(method, routeLabel).Observe(elapsed.Seconds())
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, strconv.Itoa(status))
			}
			span.End()
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelWarn
			}
			if !slog.Default().Enabled(ctx, level) {
				return // the arguments below would be built for nothing
			}
			if client == "" {
				client = c.ClientIP()
			}
			slog.Log(ctx, level, "http request", "method", method, "route", route, "path", path,
				"status", status, "duration_ms", float64(elapsed.Microseconds())/1000,
				"client_ip", client)
		}()
		c.Next(ctx)
		status = c.Response.StatusCode()
	}
}

// headerCarrier reads the W3C headers of a request.
type headerCarrier struct{ h *protocol.RequestHeader }

func (hc headerCarrier) Get(key string) string { return string(hc.h.Peek(key)) }
func (hc headerCarrier) Set(string, string)    {}
func (hc headerCarrier) Keys() []string        { return []string{"traceparent", "tracestate"} }

// normMethod keeps the method label to the standard methods: a client can
// send any token as a method.
func normMethod(m []byte) string {
	switch s := string(m); s {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE":
		return s
	}
	return "OTHER"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
