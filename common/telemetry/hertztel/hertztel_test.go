package hertztel

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"example.com/bookstore/common/telemetry"
)

func TestMiddleware(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	prevTP, prevLog := otel.GetTracerProvider(), slog.Default()
	otel.SetTracerProvider(tp)
	var logs bytes.Buffer
	slog.SetDefault(slog.New(telemetry.LogHandler(slog.NewJSONHandler(&logs, nil))))
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		slog.SetDefault(prevLog)
	})

	h := server.New()
	h.Use(Middleware(), func(ctx context.Context, c *app.RequestContext) {
		defer func() {
			if recover() != nil {
				c.AbortWithStatus(500)
			}
		}()
		c.Next(ctx)
	})
	var handlerSpan trace.SpanContext
	h.GET("/restful/pay/:payId", func(ctx context.Context, c *app.RequestContext) {
		handlerSpan = trace.SpanContextFromContext(ctx)
		c.String(200, "ok")
	})
	h.GET("/boom", func(context.Context, *app.RequestContext) { panic("boom") })

	count := func(method, route, code string) float64 {
		return testutil.ToFloat64(requests.WithLabelValues(method, route, code))
	}
	ok0, nf0, boom0 := count("GET", "/restful/pay/:payId", "200"), count("GET", Unmatched, "404"), count("GET", "/boom", "500")

	const (
		traceID = "0af7651916cd43dd8448eb211c80319c"
		remote  = "b7ad6b7169203331"
	)
	w := ut.PerformRequest(h.Engine, "GET", "/restful/pay/abc?state=PAYED&password=hunter2&client_secret=s3cret", nil,
		ut.Header{Key: "traceparent", Value: "00-" + traceID + "-" + remote + "-01"},
		ut.Header{Key: "Authorization", Value: "bearer eyJhbGciOi.secret.token"})
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	ut.PerformRequest(h.Engine, "GET", "/no/such/thing", nil)
	ut.PerformRequest(h.Engine, "GET", "/boom", nil)

	spans := sr.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	s := spans[0]
	if s.Name() != "GET /restful/pay/:payId" || s.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q kind %v", s.Name(), s.SpanKind())
	}
	if s.SpanContext().TraceID().String() != traceID || s.Parent().SpanID().String() != remote {
		t.Errorf("span in trace %s with parent %s: the client's traceparent was not continued", s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	if handlerSpan.SpanID() != s.SpanContext().SpanID() {
		t.Error("the handler does not run in the request's span")
	}
	if spans[1].Name() != "GET" || spans[2].Name() != "GET /boom" {
		t.Errorf("span names %q, %q", spans[1].Name(), spans[2].Name())
	}
	for _, sp := range spans {
		for _, a := range sp.Attributes() {
			if v := a.Value.Emit(); strings.Contains(v, "hunter2") || strings.Contains(v, "s3cret") || strings.Contains(v, "eyJ") {
				t.Errorf("span attribute %s = %q holds a secret", a.Key, v)
			}
		}
	}

	if d := count("GET", "/restful/pay/:payId", "200") - ok0; d != 1 {
		t.Errorf("requests{route=/restful/pay/:payId,code=200} grew by %v", d)
	}
	if d := count("GET", Unmatched, "404") - nf0; d != 1 {
		t.Errorf("requests{route=unmatched,code=404} grew by %v", d)
	}
	if d := count("GET", "/boom", "500") - boom0; d != 1 {
		t.Errorf("requests{route=/boom,code=500} grew by %v", d)
	}

	out := logs.String()
	for _, secret := range []string{"hunter2", "s3cret", "eyJ", "state=PAYED"} {
		if strings.Contains(out, secret) {
			t.Errorf("access log holds %q:\n%s", secret, out)
		}
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d access log lines, want one per request:\n%s", len(lines), out)
	}
	first := lines[0]
	if first["msg"] != "http request" || first["route"] != "/restful/pay/:payId" || first["path"] != "/restful/pay/abc" ||
		first["status"] != 200.0 || first["trace_id"] != traceID || first["level"] != "INFO" {
		t.Errorf("access log line %v", first)
	}
	if lines[2]["status"] != 500.0 || lines[2]["level"] != "WARN" {
		t.Errorf("the panicking request's line %v", lines[2])
	}
	// The client's address, taken only for a recorded span and a logged
	// line, is in both.
	if _, ok := first["client_ip"]; !ok {
		t.Errorf("access log line without client_ip: %v", first)
	}
	var hasClient bool
	for _, a := range s.Attributes() {
		hasClient = hasClient || a.Key == "client.address"
	}
	if !hasClient {
		t.Errorf("recorded span without client.address: %v", s.Attributes())
	}
}
