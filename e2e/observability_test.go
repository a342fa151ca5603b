package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"example.com/bookstore/e2e/stack"
)

// span is one exported span, as the collector would store it.
type span struct {
	Service, Name             string
	Kind                      tracepb.Span_SpanKind
	TraceID, SpanID, ParentID string
}

func (s span) String() string {
	p := s.ParentID
	if p == "" {
		p = "(root)"
	}
	return s.Service + " " + s.Kind.String() + " " + s.Name + " " + s.SpanID + " parent " + p
}

// otlpReceiver is an in-memory OTLP/HTTP trace collector on 127.0.0.1: the
// services export to it exactly as they would to the cluster's collector.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []span
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *otlpReceiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		http.NotFound(w, req)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var msg coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &msg)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range msg.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, span{
					Service: service, Name: s.GetName(), Kind: s.GetKind(),
					TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
					ParentID: hex.EncodeToString(s.GetParentSpanId()),
				})
			}
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (r *otlpReceiver) all() []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]span(nil), r.spans...)
}

// logBuffer keeps every line the stack's processes print, and shows them
// in the test log too.
type logBuffer struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// records returns the JSON log lines of service (stack prefixes each line
// with the process's name).
func (l *logBuffer) records(service string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, line, ok := strings.Cut(sc.Text(), " | ")
		if !ok || strings.TrimSpace(name) != service {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// scrape reads a service's /metrics.
func scrape(t *testing.T, p *stack.Proc) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + p.AdminAddr + "/metrics")
	if err != nil {
		t.Fatalf("%s /metrics: %v", p.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s /metrics: %s", p.Name, resp.Status)
	}
	var parser expfmt.TextParser
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s /metrics does not parse: %v", p.Name, err)
	}
	return mfs
}

// metricValue is the value of the sample of name whose labels include
// labels (alternating names and values); found is false if there is none.
func metricValue(mfs map[string]*dto.MetricFamily, name string, labels ...string) (v float64, found bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			match := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					match = true
				}
			}
			if !match {
				continue next
			}
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// TestObservability runs a scripted purchase flow through the real stack
// (every service exporting traces to an in-memory OTLP receiver, logging at
// debug level) and checks the three signals: one settlement is one trace
// across gateway, payment and warehouse, correctly parented; each service's
// log has a line of it with that trace id; /metrics counts the flow; and no
// log line anywhere holds a token, the password or a client secret.
func TestObservability(t *testing.T) {
	if clusterURL != "" {
		t.Skip("CLUSTER_GATEWAY_URL is set: this test needs a stack of its own")
	}
	t.Parallel()
	recv := newOTLPReceiver(t)
	logs := &logBuffer{t: t}
	common := map[string]string{
		"TELEMETRY_OTLP_ENDPOINT": recv.srv.URL,
		// Export every 100 ms instead of every 5 s.
		"OTEL_BSP_SCHEDULE_DELAY": "100",
		"LOG_LEVEL":               "debug",
	}
	env := map[string]map[string]string{}
	for _, n := range stack.Names {
		env[n] = map[string]string{}
		for k, v := range common {
			env[n][k] = v
		}
	}
	env["payment"]["PAYMENT_EXPIRES"] = "3s"
	env["payment"]["PAYMENT_SWEEP_INTERVAL"] = "200ms"
	s, err := stack.Start(t.Context(), stack.Options{
		Root: repoRoot, BinDir: binDir, DataDir: t.TempDir() + "/data",
		FreePorts: true, Env: env, Log: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping the stack: %v", err)
		}
	})
	a := api{t, s.GatewayURL}

	// The scripted flow: log in (password grant, as the frontend does),
	// refresh the token, then four settlements: paid, cancelled, refused
	// for want of stock, left to expire.
	q := url.Values{
		"username": {adminUser}, "password": {adminWire}, "grant_type": {"password"},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"},
	}
	r := a.do("GET", "/oauth/token?"+q.Encode(), "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	tokens := r.Map(t)
	admin, refresh := tokens["access_token"].(string), tokens["refresh_token"].(string)
	q = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"}}
	r = a.do("GET", "/oauth/token?"+q.Encode(), "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	refreshed := r.Map(t)["access_token"].(string)

	paid := settle(t, a, admin, 1, 1)["payId"].(string)
	a.expectOK(a.do("PATCH", "/restful/pay/"+paid+"?state=PAYED", admin, nil))
	cancelled := settle(t, a, refreshed, 1, 1)["payId"].(string)
	a.expectOK(a.do("PATCH", "/restful/pay/"+cancelled+"?state=CANCEL", admin, nil))
	a.expect(a.do("POST", "/restful/settlements", admin, map[string]any{
		"items": []map[string]any{{"id": 1, "amount": 31}}, "purchase": purchase(),
	}), http.StatusBadRequest, "商品库存不足")
	settle(t, a, admin, 2, 1)
	// Its stock thaws once the sweeper has timed it out (3 s).
	eventually(t, 15*time.Second, "the unpaid payment times out", func() bool {
		amount, frozen := stockOf(t, a, admin, 2)
		return amount == 30 && frozen == 0
	})

	t.Run("one settlement is one trace", func(t *testing.T) {
		var root span
		var trace []span
		found := poll(20*time.Second, func() bool {
			all := recv.all()
			for _, cand := range all {
				if cand.Service != "gateway" || cand.Name != "POST /restful/settlements" || cand.Kind != tracepb.Span_SPAN_KIND_SERVER {
					continue
				}
				root, trace = cand, nil
				for _, sp := range all {
					if sp.TraceID == root.TraceID {
						trace = append(trace, sp)
					}
				}
				// A settlement that stored its payment, with every
				// service's spans exported.
				if hasSpan(trace, "payment", "INSERT payment", tracepb.Span_SPAN_KIND_CLIENT) &&
					hasSpan(trace, "warehouse", "SELECT", tracepb.Span_SPAN_KIND_CLIENT) &&
					hasSpan(trace, "warehouse", "warehouse.WarehouseService/Freeze", tracepb.Span_SPAN_KIND_SERVER) {
					return true
				}
			}
			return false
		})
		if !found {
			t.Fatalf("no settlement's trace with spans of gateway, payment and warehouse within 20s; received:\n%s", formatTrace(recv.all()))
		}
		t.Logf("trace %s:\n%s", root.TraceID, formatTrace(trace))

		if root.ParentID != "" {
			t.Errorf("the gateway's span has parent %s; the request came with no trace context", root.ParentID)
		}
		byID := map[string]span{}
		for _, sp := range trace {
			byID[sp.SpanID] = sp
		}
		for _, sp := range trace {
			if sp.SpanID != root.SpanID {
				if _, ok := byID[sp.ParentID]; !ok {
					t.Errorf("span %v has a parent outside the trace", sp)
				}
			}
		}
		// The chain gateway -> payment -> warehouse, hop by hop.
		gwCall := child(t, trace, root, "gateway", tracepb.Span_SPAN_KIND_CLIENT, "payment.PaymentService/Settle")
		payServer := child(t, trace, gwCall, "payment", tracepb.Span_SPAN_KIND_SERVER, "payment.PaymentService/Settle")
		payCall := descendant(t, trace, byID, payServer, "payment", tracepb.Span_SPAN_KIND_CLIENT, "warehouse.WarehouseService/Freeze")
		whServer := child(t, trace, payCall, "warehouse", tracepb.Span_SPAN_KIND_SERVER, "warehouse.WarehouseService/Freeze")
		for _, sp := range trace {
			// Database spans hang under their own service's server span.
			if sp.Kind == tracepb.Span_SPAN_KIND_CLIENT && (strings.HasPrefix(sp.Name, "SELECT") || strings.HasPrefix(sp.Name, "INSERT") || strings.HasPrefix(sp.Name, "UPDATE") || strings.HasPrefix(sp.Name, "DELETE")) {
				want := payServer
				if sp.Service == "warehouse" {
					want = whServer
				}
				if !isDescendant(byID, sp, want.SpanID) {
					t.Errorf("db span %v is not under %v", sp, want)
				}
			}
		}
		// Each settlement is one trace: no warehouse freeze was left out of
		// the trace of the gateway request that caused it.
		for _, sp := range recv.all() {
			if sp.Service == "warehouse" && sp.Kind == tracepb.Span_SPAN_KIND_SERVER && sp.Name == "warehouse.WarehouseService/Freeze" &&
				!traceHas(recv.all(), sp.TraceID, "gateway", "POST /restful/settlements") {
				t.Errorf("freeze span %v is in a trace of its own", sp)
			}
		}

		t.Run("a log line of each service carries the trace id", func(t *testing.T) {
			want := map[string]func(map[string]any) bool{
				"gateway": func(m map[string]any) bool {
					return m["msg"] == "http request" && m["route"] == "/restful/settlements" && m["status"] == 200.0
				},
				"payment":   func(m map[string]any) bool { return m["msg"] == "rpc" && m["method"] == "Settle" && m["code"] == "OK" },
				"warehouse": func(m map[string]any) bool { return m["msg"] == "rpc" && m["method"] == "Freeze" && m["code"] == "OK" },
			}
			for service, match := range want {
				found := false
				for _, m := range logs.records(service) {
					if m["trace_id"] == root.TraceID && m["span_id"] != nil && match(m) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: no log line of the settlement with trace_id %s", service, root.TraceID)
				}
			}
		})
	})

	t.Run("metrics count the flow", func(t *testing.T) {
		type want struct {
			service, name string
			labels        []string
			value         float64
		}
		wants := []want{
			{"gateway", "bookstore_http_requests_total", []string{"method", "POST", "route", "/restful/settlements", "code", "200"}, 3},
			{"gateway", "bookstore_http_requests_total", []string{"method", "POST", "route", "/restful/settlements", "code", "400"}, 1},
			{"gateway", "bookstore_http_requests_total", []string{"method", "GET", "route", "/oauth/token", "code", "200"}, 2},
			{"gateway", "bookstore_http_request_duration_seconds", []string{"method", "POST", "route", "/restful/settlements"}, 4},
			{"gateway", "bookstore_rpc_client_requests_total", []string{"callee", "payment", "method", "Settle", "code", "OK"}, 3},
			{"gateway", "bookstore_rpc_client_requests_total", []string{"callee", "payment", "method", "Settle", "code", "INSUFFICIENT_STOCK"}, 1},
			{"gateway", "bookstore_rpc_client_requests_total", []string{"callee", "payment", "method", "Cancel", "code", "OK"}, 1},
			{"account", "bookstore_rpc_server_requests_total", []string{"method", "VerifyCredentials", "code", "OK"}, 1},
			{"payment", "bookstore_payment_settlements_total", nil, 3},
			{"payment", "bookstore_payment_payments_closed_total", []string{"state", "PAYED"}, 1},
			{"payment", "bookstore_payment_payments_closed_total", []string{"state", "CANCEL"}, 1},
			{"payment", "bookstore_payment_payments_closed_total", []string{"state", "TIMEOUT"}, 1},
			{"payment", "bookstore_rpc_server_requests_total", []string{"method", "Settle", "code", "OK"}, 3},
			{"payment", "bookstore_rpc_server_requests_total", []string{"method", "Settle", "code", "INSUFFICIENT_STOCK"}, 1},
			{"payment", "bookstore_rpc_client_requests_total", []string{"callee", "warehouse", "method", "Freeze", "code", "OK"}, 3},
			{"payment", "bookstore_rpc_client_requests_total", []string{"callee", "warehouse", "method", "Decrease", "code", "OK"}, 1},
			{"payment", "bookstore_rpc_client_requests_total", []string{"callee", "warehouse", "method", "Thaw", "code", "OK"}, 2},
			{"warehouse", "bookstore_warehouse_stock_freeze_failures_total", []string{"reason", "INSUFFICIENT_STOCK"}, 1},
			{"warehouse", "bookstore_rpc_server_requests_total", []string{"method", "Freeze", "code", "OK"}, 3},
			{"warehouse", "bookstore_rpc_server_requests_total", []string{"method", "Decrease", "code", "OK"}, 1},
			{"warehouse", "bookstore_rpc_server_requests_total", []string{"method", "Thaw", "code", "OK"}, 2},
		}
		// The stock actions travel through payment's outbox after the
		// answers: wait for them.
		var bad []string
		eventually(t, 15*time.Second, "the counters to reach the flow's values", func() bool {
			mfs := map[string]map[string]*dto.MetricFamily{}
			for _, n := range stack.Names {
				mfs[n] = scrape(t, s.Proc(n))
			}
			bad = nil
			for _, w := range wants {
				got, ok := metricValue(mfs[w.service], w.name, w.labels...)
				if !ok || got != w.value {
					bad = append(bad, w.service+" "+w.name+"{"+strings.Join(w.labels, ",")+"} = "+formatValue(got, ok)+", want "+formatValue(w.value, true))
				}
			}
			return len(bad) == 0
		})
		if len(bad) > 0 {
			t.Fatal(strings.Join(bad, "\n"))
		}
		for _, n := range stack.Names {
			mfs := scrape(t, s.Proc(n))
			if _, ok := metricValue(mfs, "go_goroutines"); !ok {
				t.Errorf("%s: no Go runtime metrics", n)
			}
			if n == "gateway" {
				continue
			}
			if v, ok := metricValue(mfs, "go_sql_max_open_connections", "db_name", n); !ok || v < 1 {
				t.Errorf("%s: no database pool statistics", n)
			}
		}
		if v, _ := metricValue(scrape(t, s.Proc("payment")), "bookstore_payment_expiry_sweeps_total", "result", "ok"); v < 1 {
			t.Errorf("payment: expiry sweeps = %v", v)
		}
	})

	t.Run("every log line is JSON", func(t *testing.T) {
		n := 0
		for _, service := range stack.Names {
			n += len(logs.records(service))
		}
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if _, rest, ok := strings.Cut(line, " | "); !ok || !json.Valid([]byte(rest)) {
				t.Errorf("not a JSON log line: %s", line)
			}
		}
		if n == 0 {
			t.Error("no log lines captured")
		}
	})

	t.Run("no secrets in the logs", func(t *testing.T) {
		all := logs.String()
		if !strings.Contains(all, `"msg":"http request"`) {
			t.Fatal("no access log captured: the check would prove nothing")
		}
		secrets := map[string]string{
			"the access token":                  admin,
			"the access token's signature":      admin[strings.LastIndex(admin, ".")+1:],
			"the refreshed access token":        refreshed,
			"the refresh token":                 refresh,
			"the wire password":                 adminWire,
			"the wire password, URL-encoded":    url.QueryEscape(adminWire),
			"the client secret":                 "bookstore_secret",
			"the JWT signing key":               jwtKey,
			"the password grant's query string": "grant_type=password",
		}
		for what, secret := range secrets {
			if strings.Contains(all, secret) {
				for _, line := range strings.Split(all, "\n") {
					if strings.Contains(line, secret) {
						t.Errorf("%s appears in the logs: %s", what, line)
						break
					}
				}
			}
		}
	})
}

// poll is eventually for a test that wants to say more when cond never holds.
func poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

func formatValue(v float64, ok bool) string {
	if !ok {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// child returns the one span of service/kind/name whose parent is parent.
func child(t *testing.T, trace []span, parent span, service string, kind tracepb.Span_SpanKind, name string) span {
	t.Helper()
	for _, sp := range trace {
		if sp.Service == service && sp.Kind == kind && sp.Name == name && sp.ParentID == parent.SpanID {
			return sp
		}
	}
	t.Fatalf("no %s %s span %q under %v", service, kind, name, parent)
	return span{}
}

// descendant is child for a span that may sit deeper under ancestor (a
// client call made inside a database transaction's span, say).
func descendant(t *testing.T, trace []span, byID map[string]span, ancestor span, service string, kind tracepb.Span_SpanKind, name string) span {
	t.Helper()
	for _, sp := range trace {
		if sp.Service == service && sp.Kind == kind && sp.Name == name && isDescendant(byID, sp, ancestor.SpanID) {
			return sp
		}
	}
	t.Fatalf("no %s %s span %q under %v", service, kind, name, ancestor)
	return span{}
}

func isDescendant(byID map[string]span, sp span, ancestor string) bool {
	for i := 0; i < 64 && sp.ParentID != ""; i++ {
		if sp.ParentID == ancestor {
			return true
		}
		var ok bool
		if sp, ok = byID[sp.ParentID]; !ok {
			return false
		}
	}
	return false
}

func hasSpan(trace []span, service, namePrefix string, kind tracepb.Span_SpanKind) bool {
	for _, sp := range trace {
		if sp.Service == service && sp.Kind == kind && strings.HasPrefix(sp.Name, namePrefix) {
			return true
		}
	}
	return false
}

func traceHas(all []span, traceID, service, name string) bool {
	for _, sp := range all {
		if sp.TraceID == traceID && sp.Service == service && sp.Name == name {
			return true
		}
	}
	return false
}

// formatTrace prints a trace as an indented tree, for the test log.
func formatTrace(trace []span) string {
	children := map[string][]span{}
	ids := map[string]bool{}
	for _, sp := range trace {
		ids[sp.SpanID] = true
	}
	var roots []span
	for _, sp := range trace {
		if ids[sp.ParentID] {
			children[sp.ParentID] = append(children[sp.ParentID], sp)
		} else {
			roots = append(roots, sp)
		}
	}
	var b strings.Builder
	var walk func(sp span, depth int)
	walk = func(sp span, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + sp.String() + "\n")
		kids := children[sp.SpanID]
		sort.SliceStable(kids, func(i, j int) bool { return kids[i].Service < kids[j].Service })
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}
