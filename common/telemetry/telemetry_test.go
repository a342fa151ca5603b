package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bytedance/gopkg/cloud/metainfo"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/klog"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/common/rpcerr"
)

// recordSpans installs a tracer provider that samples everything into an
// in-memory recorder for the duration of the test.
func recordSpans(t *testing.T) *tracetest.SpanRecorder {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prev)
		_ = tp.Shutdown(context.Background())
	})
	return sr
}

// captureLogs sends the default logger's JSON lines, with trace ids, to a
// buffer for the duration of the test.
func captureLogs(t *testing.T) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(LogHandler(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines decodes the JSON log lines.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// callCtx is a Kitex call's context as the framework builds it.
func callCtx(ctx context.Context, service, method string) context.Context {
	to := rpcinfo.NewEndpointInfo("warehouse", method, nil, nil)
	inv := rpcinfo.NewInvocation(service, method, "warehouse")
	ri := rpcinfo.NewRPCInfo(rpcinfo.EmptyEndpointInfo(), to, inv, rpcinfo.NewRPCConfig(), rpcinfo.NewRPCStats())
	return rpcinfo.NewCtxWithRPCInfo(ctx, ri)
}

// overTheWire does what Kitex's TTHeader transport does with metainfo
// between a client and a server: the caller's transient values arrive as
// the callee's upstream values.
func overTheWire(clientCtx context.Context) context.Context {
	m := map[string]string{}
	metainfo.SaveMetaInfoToMap(clientCtx, m)
	return metainfo.TransferForward(metainfo.SetMetaInfoFromMap(context.Background(), m))
}

// TestKitexPropagation: a client call inside a request's span, the server
// handling it, and the business error it returns; one trace, parented
// client -> server, counted and logged with the trace id.
func TestKitexPropagation(t *testing.T) {
	sr := recordSpans(t)
	logs := captureLogs(t)
	before := testutil.ToFloat64(rpcServerRequests.WithLabelValues("Freeze", "INSUFFICIENT_STOCK"))
	beforeClient := testutil.ToFloat64(rpcClientRequests.WithLabelValues("warehouse", "Freeze", "INSUFFICIENT_STOCK"))

	var serverCtx context.Context
	handler := func(ctx context.Context, _, _ any) error {
		serverCtx = ctx
		slog.InfoContext(ctx, "handler ran")
		// What Kitex does with a handler's business error before the
		// middlewares see the result.
		rpcinfo.GetRPCInfo(ctx).Invocation().(rpcinfo.InvocationSetter).
			SetBizStatusErr(kerrors.NewBizStatusError(int32(rpcerr.InsufficientStock), "商品库存不足"))
		return nil
	}
	transport := func(ctx context.Context, req, resp any) error {
		sctx := callCtx(overTheWire(ctx), "WarehouseService", "Freeze")
		err := serverMiddleware(handler)(sctx, req, resp)
		// The biz error travels back into the client's invocation.
		be := rpcinfo.GetRPCInfo(sctx).Invocation().BizStatusErr()
		rpcinfo.GetRPCInfo(ctx).Invocation().(rpcinfo.InvocationSetter).SetBizStatusErr(be)
		return err
	}

	ctx, parent := Tracer().Start(context.Background(), "request")
	cctx := callCtx(ctx, "WarehouseService", "Freeze")
	if err := clientMiddleware(transport)(cctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	parent.End()

	spans := sr.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3 (request, client, server)", len(spans))
	}
	byKind := map[trace.SpanKind]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byKind[s.SpanKind()] = s
		if s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %q in trace %s, want %s", s.Name(), s.SpanContext().TraceID(), parent.SpanContext().TraceID())
		}
	}
	client, server := byKind[trace.SpanKindClient], byKind[trace.SpanKindServer]
	if client == nil || server == nil {
		t.Fatalf("want a client and a server span, got %v", spans)
	}
	if client.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("client span's parent = %s, want the request span %s", client.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	if server.Parent().SpanID() != client.SpanContext().SpanID() || !server.Parent().IsRemote() {
		t.Errorf("server span's parent = %s (remote %v), want the client span %s", server.Parent().SpanID(), server.Parent().IsRemote(), client.SpanContext().SpanID())
	}
	if client.Name() != "warehouse.WarehouseService/Freeze" || server.Name() != "warehouse.WarehouseService/Freeze" {
		t.Errorf("span names %q, %q", client.Name(), server.Name())
	}
	if trace.SpanContextFromContext(serverCtx).SpanID() != server.SpanContext().SpanID() {
		t.Error("the handler does not run in the server span")
	}

	if got := testutil.ToFloat64(rpcServerRequests.WithLabelValues("Freeze", "INSUFFICIENT_STOCK")) - before; got != 1 {
		t.Errorf("server counter grew by %v, want 1", got)
	}
	if got := testutil.ToFloat64(rpcClientRequests.WithLabelValues("warehouse", "Freeze", "INSUFFICIENT_STOCK")) - beforeClient; got != 1 {
		t.Errorf("client counter grew by %v, want 1", got)
	}

	traceID := parent.SpanContext().TraceID().String()
	var sawHandler, sawAccess bool
	for _, l := range logs.lines(t) {
		switch l["msg"] {
		case "handler ran":
			sawHandler = l["trace_id"] == traceID && l["span_id"] == server.SpanContext().SpanID().String()
		case "rpc":
			sawAccess = l["trace_id"] == traceID && l["method"] == "Freeze" && l["code"] == "INSUFFICIENT_STOCK" && l["level"] == "INFO"
		}
	}
	if !sawHandler || !sawAccess {
		t.Errorf("log lines without the trace id %s (handler %v, access %v): %v", traceID, sawHandler, sawAccess, logs.lines(t))
	}
}

// TestKitexOneHop: a service's outgoing call carries its own span as the
// parent, never the traceparent it received (Kitex keeps received values
// as upstream values, which are not sent on).
func TestKitexOneHop(t *testing.T) {
	sr := recordSpans(t)
	upstream := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	var sent map[string]string
	transport := func(ctx context.Context, _, _ any) error {
		sent = map[string]string{}
		metainfo.SaveMetaInfoToMap(ctx, sent)
		return nil
	}
	handler := func(ctx context.Context, req, resp any) error {
		return clientMiddleware(transport)(callCtx(ctx, "WarehouseService", "Thaw"), req, resp)
	}
	in := metainfo.TransferForward(metainfo.WithValue(context.Background(), metaTraceparent, upstream))
	if err := serverMiddleware(handler)(callCtx(in, "PaymentService", "Cancel"), nil, nil); err != nil {
		t.Fatal(err)
	}
	var client sdktrace.ReadOnlySpan
	for _, s := range sr.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			client = s
		}
		if s.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
			t.Errorf("span %q left the caller's trace", s.Name())
		}
	}
	if client == nil {
		t.Fatal("no client span")
	}
	var tp string
	for k, v := range sent {
		if strings.HasSuffix(k, metaTraceparent) {
			tp = v
		}
	}
	want := "00-0af7651916cd43dd8448eb211c80319c-" + client.SpanContext().SpanID().String() + "-01"
	if tp != want {
		t.Errorf("sent traceparent %q (metainfo %v), want %q", tp, sent, want)
	}
}

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, CodeOK},
		{rpcerr.New(rpcerr.NotFound, "x"), "NOT_FOUND"},
		{kerrors.ErrRPCTimeout.WithCause(errors.New("slow")), CodeTimeout},
		{kerrors.ErrGetConnection.WithCause(errors.New("refused")), CodeUnreachable},
		{kerrors.ErrCircuitBreak, CodeCircuitOpen},
		{context.Canceled, CodeCanceled},
		{errors.New("boom"), CodeError},
	} {
		if got := Outcome(nil, tc.err); got != tc.want {
			t.Errorf("Outcome(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

// TestLogHandlerWithoutSpan: lines outside a request carry no ids.
func TestLogHandlerWithoutSpan(t *testing.T) {
	logs := captureLogs(t)
	slog.Info("no request")
	slog.InfoContext(context.Background(), "still none")
	for _, l := range logs.lines(t) {
		if _, ok := l["trace_id"]; ok {
			t.Errorf("line outside any span has a trace id: %v", l)
		}
	}
}

// TestSetupExportsOverOTLPHTTP: Setup with an endpoint sends spans to it
// (OTLP/HTTP, protobuf, at /v1/traces), and without one still gives
// requests trace ids.
func TestSetupExportsOverOTLPHTTP(t *testing.T) {
	prevTP, prevLog := otel.GetTracerProvider(), slog.Default()
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		slog.SetDefault(prevLog)
	})
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))

	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					got <- s.GetName()
				}
			}
		}
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	defer srv.Close()

	p, err := Setup("test", Config{OTLPEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, span := Tracer().Start(context.Background(), "exported")
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-got:
		if name != "exported" {
			t.Errorf("exported span %q", name)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no span reached the OTLP endpoint")
	}

	p, err = Setup("test", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	_, span = Tracer().Start(context.Background(), "not exported")
	if !span.SpanContext().IsValid() || span.IsRecording() {
		t.Errorf("export off: span context valid %v, recording %v; want ids without recording",
			span.SpanContext().IsValid(), span.IsRecording())
	}
	span.End()

	if _, err := Setup("test", Config{OTLPEndpoint: "otel-collector:4318"}); err == nil {
		t.Error("an endpoint without a scheme was accepted")
	}
}

// TestInstrumentDB: statements run inside a request are its child spans,
// with the SQL but not its values; pool statistics are registered.
func TestInstrumentDB(t *testing.T) {
	sr := recordSpans(t)
	gdb := dbtest.Open(t)
	if err := InstrumentDB(gdb, "telemetry_test"); err != nil {
		t.Fatal(err)
	}
	type secret struct {
		ID   int64
		Hash string
	}
	if err := gdb.AutoMigrate(&secret{}); err != nil {
		t.Fatal(err)
	}
	ctx, parent := Tracer().Start(context.Background(), "request")
	if err := gdb.WithContext(ctx).Create(&secret{Hash: "s3cr3t-hash"}).Error; err != nil {
		t.Fatal(err)
	}
	var got secret
	if err := gdb.WithContext(ctx).Where("hash = ?", "s3cr3t-hash").Take(&got).Error; err != nil {
		t.Fatal(err)
	}
	parent.End()
	// Outside any request: no span.
	if err := gdb.WithContext(context.Background()).Take(&got).Error; err != nil {
		t.Fatal(err)
	}

	var names []string
	for _, s := range sr.Ended() {
		if s.SpanKind() != trace.SpanKindClient {
			continue
		}
		names = append(names, s.Name())
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("db span %q not a child of the request", s.Name())
		}
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.Emit(), "s3cr3t") {
				t.Errorf("db span %q holds a bound value in %s", s.Name(), a.Key)
			}
		}
	}
	if strings.Join(names, ",") != "INSERT secrets,SELECT secrets" {
		t.Errorf("db spans %v, want [INSERT secrets SELECT secrets]", names)
	}
	n, err := testutil.GatherAndCount(Registry(), "go_sql_max_open_connections")
	if err != nil || n == 0 {
		t.Errorf("pool statistics not registered (%d, %v)", n, err)
	}
	// A restarted service's database replaces the old one's statistics.
	if err := InstrumentDB(dbtest.Open(t), "telemetry_test"); err != nil {
		t.Errorf("second database under the same name: %v", err)
	}
}

func TestHandlerServesRegistry(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "go_goroutines") || !strings.Contains(rec.Body.String(), "process_") {
		t.Errorf("/metrics: %d, missing the runtime metrics:\n%.500s", rec.Code, rec.Body.String())
	}
}

func TestTableOf(t *testing.T) {
	for sql, want := range map[string]string{
		"UPDATE `stockpile` SET amount = amount - ? WHERE product_id = ? AND amount >= ?": "stockpile",
		`INSERT INTO "outbox" ("pay_id") VALUES (?)`:                                      "outbox",
		"DELETE FROM outbox WHERE id = ?":                                                 "outbox",
		"SELECT count(*) FROM wallet":                                                     "wallet",
		"SELECT 1":                                                                        "",
	} {
		if got := tableOf(sql); got != want {
			t.Errorf("tableOf(%q) = %q, want %q", sql, got, want)
		}
	}
}

// TestKitexLogger: Kitex's own lines become JSON lines, filtered by the
// level the framework was given.
func TestKitexLogger(t *testing.T) {
	logs := captureLogs(t)
	l := KitexLogger()
	l.SetLevel(klog.LevelWarn)
	l.Infof("KITEX: server listen at addr=%s", "127.0.0.1:1")
	l.Warnf("KITEX: slow %d", 1)
	lines := logs.lines(t)
	if len(lines) != 1 || lines[0]["msg"] != "KITEX: slow 1" || lines[0]["level"] != "WARN" || lines[0]["component"] != "kitex" {
		t.Errorf("lines %v, want the warning only", lines)
	}
}
