// Package telemetry is the store's observability runtime: OpenTelemetry
// tracing (W3C trace context carried in Kitex metainfo, OTLP/HTTP export),
// Prometheus metrics (one registry per process, served on the admin
// listener), and logs that carry the trace and span id of the request they
// belong to.
//
// A service's main calls Setup once, after logging.Setup. The Kitex server
// and client options (ServerOptions, ClientOptions) are installed by
// common/server and common/rpcclient, so every call is traced, counted and
// logged without each service wiring it; InstrumentDB adds database spans and
// pool statistics; the gateway adds the Hertz middleware of
// common/telemetry/hertztel.
//
// Trace ids are generated and propagated even when export is off (the
// default locally): a request's log lines in every service share one
// trace_id whether or not a collector is listening. Only the cost of
// recording spans depends on the exporter.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudwego/kitex/pkg/klog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Config is the [telemetry] section of a service's config.
type Config struct {
	// OTLPEndpoint is the OTLP/HTTP collector spans are exported to, as a
	// URL: "http://otel-collector:4318" (the path defaults to /v1/traces).
	// Empty turns export off; trace ids are still generated, propagated and
	// logged.
	OTLPEndpoint string `mapstructure:"otlp_endpoint" validate:"omitempty,url"`
	// SampleRatio is the share of new traces that are exported, in (0, 1];
	// 0 means 1. Services downstream follow the caller's decision, so a
	// trace is exported whole or not at all.
	SampleRatio float64 `mapstructure:"sample_ratio" validate:"gte=0,lte=1"`
}

// instrumentation names the tracer of every span this package starts.
const instrumentation = "example.com/bookstore/common/telemetry"

// propagator is W3C trace context only. Baggage is left out on purpose: a
// public client could otherwise push arbitrary key-values through every hop.
var propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Propagator returns the propagator the store's middlewares use, for code
// that carries trace context over another transport.
func Propagator() propagation.TextMapPropagator { return propagator }

// Tracer returns the tracer of the process's current tracer provider. It is
// looked up per use, so that a provider installed later (Setup, or a test)
// takes effect.
func Tracer() trace.Tracer { return otel.GetTracerProvider().Tracer(instrumentation) }

// Provider is the process's tracer provider; Shutdown flushes it.
type Provider struct {
	tp *sdktrace.TracerProvider
}

// Setup installs the tracer provider for service (the name spans are
// reported under), W3C propagation, an error handler that logs export
// failures through slog (at most once a minute), wraps the default slog
// logger so that every line logged with a request's context carries its
// trace_id and span_id, and sends Kitex's own log lines to slog. Call it after logging.Setup; call Shutdown before
// exiting so that buffered spans are sent.
func Setup(service string, cfg Config) (*Provider, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", service),
		attribute.String("service.namespace", "bookstore"),
		attribute.String("service.instance.id", instanceID()),
	))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	// Without an exporter nothing is sampled, which keeps spans nearly free,
	// but sampled-out spans still get ids and propagate them.
	sampler := sdktrace.ParentBased(sdktrace.NeverSample())
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.OTLPEndpoint != "" {
		exp, err := newExporter(cfg.OTLPEndpoint)
		if err != nil {
			return nil, err
		}
		ratio := cfg.SampleRatio
		if ratio <= 0 || ratio > 1 {
			ratio = 1
		}
		sampler = sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
		// The batcher's timings come from OTEL_BSP_* when set.
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithSampler(sampler))...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagator)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(logExportError))
	slog.SetDefault(slog.New(LogHandler(slog.Default().Handler())))
	klog.SetLogger(KitexLogger())
	if cfg.OTLPEndpoint != "" {
		slog.Info("telemetry: exporting traces", "endpoint", redactURL(cfg.OTLPEndpoint))
	}
	return &Provider{tp: tp}, nil
}

// Shutdown sends the spans still buffered and stops the provider.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil || p.tp == nil {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := p.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: shutdown: %w", err)
	}
	return nil
}

// newExporter builds the OTLP/HTTP exporter for endpoint, a URL whose scheme
// says whether TLS is used; an empty path means the standard /v1/traces.
func newExporter(endpoint string) (sdktrace.SpanExporter, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("telemetry: otlp_endpoint %q: want a URL such as http://otel-collector:4318", redactURL(endpoint))
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(u.String()))
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp exporter: %w", err)
	}
	return exp, nil
}

// redactURL drops user info from a URL before it is logged.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

func instanceID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

var lastExportError atomic.Int64

// logExportError reports OpenTelemetry's internal errors (mostly a collector
// that cannot be reached) without flooding the log: one line a minute.
func logExportError(err error) {
	now := time.Now().UnixNano()
	last := lastExportError.Load()
	if now-last < int64(time.Minute) || !lastExportError.CompareAndSwap(last, now) {
		return
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	slog.Warn("telemetry: export failed; spans are being dropped", "err", strings.TrimSpace(msg))
}
