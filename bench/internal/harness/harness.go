// Package harness is the store's benchmark: it builds the four services and
// the limit server, starts them on loopback (SQLite, logs at warn), prepares
// buyers with funded wallets and plenty of stock, and drives each scenario
// with vegeta, closed-loop for peak throughput and open-loop at half that
// peak for latency, next to the limit server answering the same bytes.
// Every run records the CPU time and peak RSS of every process.
package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"example.com/bookstore/bench/internal/capture"
	"example.com/bookstore/e2e/stack"
)

// Options configure a benchmark.
type Options struct {
	// Root is the repository to build and run (the directory with go.work).
	Root string
	// Release builds as production does (-trimpath, -ldflags=-s -w,
	// CGO_ENABLED=0); off, the build shares the e2e tests' build cache.
	Release bool
	// Duration of each measured run, Warmup of each target's warm-up.
	Duration, Warmup time.Duration
	// Runs per scenario, target and mode; the report shows medians.
	Runs int
	// Workers, when positive, replaces every scenario's closed-loop
	// concurrency.
	Workers int
	// Buyers is how many users are registered and funded.
	Buyers int
	// Scenarios to run, by name (login_storm included); empty means all.
	Scenarios []string
	// Profile names scenarios during which every service's CPU is
	// profiled for ProfileSeconds (an extra run, outside the medians).
	Profile        []string
	ProfileSeconds int
	// Env adds environment overrides per service (config keys as env
	// vars, e.g. "payment": {"DB_MAX_OPEN_CONNS": "1"}), for experiments;
	// $DATA in a value is the stack's data directory.
	Env map[string]map[string]string
	// OutDir receives the JSON result, a Go-benchmark-format file for
	// benchstat, the profiles and the stack's log; "" writes nothing.
	OutDir string
	// Out receives the human-readable report.
	Out io.Writer
}

// Report is the whole result (also written as JSON).
type Report struct {
	Started time.Time `json:"started"`
	// StackStartMs is the first start of all four services, one after
	// the other, each on an empty database (migrations and seed).
	StackStartMs float64         `json:"stack_start_ms"`
	Machine      Machine         `json:"machine"`
	Options      ReportOptions   `json:"options"`
	Services     []ServiceReport `json:"services"`
	Results      []Result        `json:"scenarios"`
	Checks       []Check         `json:"checks"`
	Profiles     []Profile       `json:"profiles,omitempty"`
}

// Machine says where the numbers come from.
type Machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go"`
	Kernel    string `json:"kernel"`
	Model     string `json:"cpu_model"`
}

// ReportOptions are the options that shape the numbers.
type ReportOptions struct {
	Release        bool                         `json:"release"`
	DurationS      float64                      `json:"duration_s"`
	WarmupS        float64                      `json:"warmup_s"`
	Runs           int                          `json:"runs"`
	Buyers         int                          `json:"buyers"`
	Env            map[string]map[string]string `json:"env,omitempty"`
	ProfileSeconds int                          `json:"profile_seconds,omitempty"`
}

// ServiceReport is a service's start-up and idle figures.
type ServiceReport struct {
	Name string `json:"name"`
	// ReadyMs is how long a restart took until /readyz answered 200
	// (with the database already there).
	ReadyMs float64 `json:"restart_ready_ms"`
	// IdleRSSMiB right after the first start, after all the load, and
	// after the restart.
	IdleRSSMiB      float64 `json:"idle_rss_mib"`
	AfterLoadRSSMiB float64 `json:"after_load_rss_mib"`
	RestartRSSMiB   float64 `json:"restart_rss_mib"`
	PeakRSSMiB      float64 `json:"peak_rss_mib"`
}

// Result is one scenario's runs and their medians.
type Result struct {
	Scenario
	Runs []RunResult `json:"runs"`
	// Peak: closed-loop medians against the store and the limit server.
	Peak  Summary `json:"peak"`
	Limit Summary `json:"limit"`
	// Ratio is Peak.PerSecond / Limit.PerSecond.
	Ratio float64 `json:"ratio"`
	// Latency: open-loop medians against the store at half its peak;
	// LimitLatency: against the limit server at the same rate.
	Latency      Summary `json:"latency"`
	LimitLatency Summary `json:"limit_latency"`
	// Baseline (login_storm only): the same open-loop load without the storm.
	Baseline *Summary `json:"baseline,omitempty"`
	// Background (login_storm only): the storm's logins.
	Background *Summary `json:"background,omitempty"`
}

// Check is a correctness check of the run.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Profile is a CPU profile of one service during a scenario.
type Profile struct {
	Scenario string `json:"scenario"`
	Service  string `json:"service"`
	File     string `json:"file"`
	Top      string `json:"top"`
}

// unlimited raises the gateway's rate limits (config [limits]) out of reach.
var unlimited = map[string]string{
	"LIMITS_PER_IP_RATE": "1000000", "LIMITS_PER_IP_BURST": "1000000",
	"LIMITS_GLOBAL_RATE": "1000000", "LIMITS_GLOBAL_BURST": "1000000",
}

// processes in report order; loadgen is this process.
var processes = []string{"gateway", "account", "warehouse", "payment", "limit", "loadgen"}

// Run benchmarks the store.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Runs <= 0 {
		o.Runs = 3
	}
	if o.Buyers <= 0 {
		o.Buyers = 64
	}
	if o.ProfileSeconds <= 0 {
		o.ProfileSeconds = 5
	}
	for _, n := range append(slices.Clone(o.Scenarios), o.Profile...) {
		if n != loginStormName && !slices.ContainsFunc(Scenarios, func(s Scenario) bool { return s.Name == n }) {
			return nil, fmt.Errorf("unknown scenario %q", n)
		}
	}
	work, err := os.MkdirTemp("", "bookstore-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	if o.OutDir != "" {
		if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
			return nil, err
		}
	}
	rep := &Report{Started: time.Now().UTC(), Machine: machine(), Options: ReportOptions{
		Release: o.Release, DurationS: o.Duration.Seconds(), WarmupS: o.Warmup.Seconds(), Runs: o.Runs, Buyers: o.Buyers, Env: o.Env,
	}}
	if len(o.Profile) > 0 {
		rep.Options.ProfileSeconds = o.ProfileSeconds
	}
	b := &bench{o: o, rep: rep, work: work}
	defer b.close()
	if err := b.start(ctx); err != nil {
		return nil, err
	}
	if err := b.scenarios(ctx); err != nil {
		return rep, err
	}
	if err := b.restarts(ctx); err != nil {
		return rep, err
	}
	b.printSummary()
	return rep, b.save()
}

// bench is one benchmark in progress.
type bench struct {
	o        Options
	rep      *Report
	work     string
	binDir   string
	logFile  *os.File
	s        *stack.Stack
	limit    *exec.Cmd
	limitURL string
	f        *fixture
	flows    *flowTransport
	client   *http.Client
	pids     map[string]int
	idle     map[string]float64
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.o.Out, format, args...) }

func (b *bench) start(ctx context.Context) error {
	b.binDir = filepath.Join(b.work, "bin")
	t0 := time.Now()
	if err := build(ctx, b.o.Root, b.binDir, b.o.Release); err != nil {
		return err
	}
	b.printf("built the services and the limit server in %s (release=%v)\n", time.Since(t0).Round(time.Millisecond), b.o.Release)

	var log io.Writer = io.Discard
	if b.o.OutDir != "" {
		f, err := os.Create(filepath.Join(b.o.OutDir, "stack.log"))
		if err != nil {
			return err
		}
		b.logFile, log = f, f
	}
	env := map[string]map[string]string{}
	for _, n := range stack.Names {
		env[n] = map[string]string{"LOG_LEVEL": "warn"}
		if n == "gateway" {
			// All load comes from one address, far above the per-client
			// limits meant for abuse; the limiter stays in the path.
			for k, v := range unlimited {
				env[n][k] = v
			}
		}
		for k, v := range b.o.Env[n] {
			env[n][k] = strings.ReplaceAll(v, "$DATA", filepath.Join(b.work, "data"))
		}
	}
	t0 = time.Now()
	s, err := stack.Start(ctx, stack.Options{
		Root: b.o.Root, BinDir: b.binDir, DataDir: filepath.Join(b.work, "data"),
		FreePorts: true, Env: env, Log: stack.SyncWriter(log), ReadyTimeout: 30 * time.Second,
	})
	if err != nil {
		return err
	}
	b.s = s
	b.rep.StackStartMs = float64(time.Since(t0).Microseconds()) / 1000
	b.printf("stack ready in %s (four services in turn, fresh SQLite databases, seed loaded)\n", time.Since(t0).Round(time.Millisecond))
	if err := b.findPIDs(); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	b.idle = map[string]float64{}
	for _, n := range stack.Names {
		rss, _, _ := memory(b.pids[n])
		b.idle[n] = float64(rss) / (1 << 20)
	}

	t0 = time.Now()
	b.f, err = prepare(ctx, s, b.paymentDB(), b.o.Buyers)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if err := b.findPIDs(); err != nil { // payment was restarted
		return err
	}
	b.printf("registered and funded %d buyers, stock of product %d set to %d, in %s\n",
		len(b.f.buyers), b.f.buyProduct, buyStock, time.Since(t0).Round(time.Millisecond))

	b.flows = newFlowTransport(b.f.flows())
	b.client = &http.Client{Transport: b.flows, Timeout: 30 * time.Second}
	b.flows.counter(strings.TrimPrefix(b.f.gateway, "http://"))

	responses, err := b.capture(ctx)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	if err := b.startLimit(ctx, responses); err != nil {
		return fmt.Errorf("limit server: %w", err)
	}
	return b.findPIDs()
}

func (b *bench) paymentDB() string { return filepath.Join(b.work, "data", "payment.db") }

func (b *bench) findPIDs() error {
	b.pids = map[string]int{"loadgen": os.Getpid()}
	names := slices.Clone(stack.Names)
	if b.limit != nil {
		names = append(names, "limit")
	}
	for _, n := range names {
		pid, err := findPID(filepath.Join(b.binDir, n))
		if err != nil {
			return err
		}
		b.pids[n] = pid
	}
	return nil
}

func build(ctx context.Context, root, binDir string, release bool) error {
	args := []string{"build", "-o", binDir + string(os.PathSeparator)}
	env := os.Environ()
	if release {
		args = append(args, "-trimpath", "-ldflags=-s -w")
		env = append(env, "CGO_ENABLED=0")
	}
	for _, n := range stack.Names {
		args = append(args, "./"+n)
	}
	args = append(args, "./bench/cmd/limit")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = root, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// capture records, from the real gateway, the answer to every request the
// scenarios send, for the limit server to replay.
func (b *bench) capture(ctx context.Context) ([]capture.Response, error) {
	c := &http.Client{Transport: newTransport(), Timeout: 30 * time.Second}
	var out []capture.Response
	record := func(method, path, token string, body []byte, prefix string) (reply, error) {
		var r reply
		var err error
		var payload any
		if body != nil {
			payload = body
		}
		r, err = callSetup(ctx, c, method, b.f.gateway+path, token, payload)
		if err != nil {
			return r, err
		}
		if err := r.expect(method+" "+path, 200); err != nil {
			return r, err
		}
		h := map[string]string{}
		for k, v := range r.header {
			switch k {
			case "Date", "Content-Length", "Server", "Connection":
			default:
				h[k] = strings.Join(v, ", ")
			}
		}
		p, _, _ := strings.Cut(path, "?")
		resp := capture.Response{Method: method, Path: p, Status: r.status, Header: h, Body: r.body}
		if prefix != "" {
			resp.Path, resp.Prefix = prefix, true
		}
		out = append(out, resp)
		return r, nil
	}
	paths := []string{"/restful/products", "/restful/advertisements"}
	for _, id := range b.f.products {
		paths = append(paths, fmt.Sprintf("/restful/products/%d", id))
	}
	for _, p := range paths {
		if _, err := record("GET", p, "", nil, ""); err != nil {
			return nil, err
		}
	}
	for _, by := range b.f.buyers {
		if _, err := record("GET", "/restful/accounts/"+by.name, by.token, nil, ""); err != nil {
			return nil, err
		}
	}
	by := b.f.buyers[0]
	if _, err := record("GET", "/oauth/token?"+tokenQuery(by.name, buyerWire), "", nil, ""); err != nil {
		return nil, err
	}
	r, err := record("POST", "/restful/settlements", by.token, b.f.settleBody, "")
	if err != nil {
		return nil, err
	}
	payID := between(string(r.body), `"payId":"`, `"`)
	if _, err := record("PATCH", "/restful/pay/"+payID+"?state=PAYED", by.token, nil, "/restful/pay/"); err != nil {
		return nil, err
	}
	b.f.paidBySetup++
	return out, nil
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

func (b *bench) startLimit(ctx context.Context, responses []capture.Response) error {
	file := filepath.Join(b.work, "responses.json")
	if err := capture.Save(file, responses); err != nil {
		return err
	}
	if b.o.OutDir != "" {
		_ = capture.Save(filepath.Join(b.o.OutDir, "responses.json"), responses)
	}
	cmd := exec.Command(filepath.Join(b.binDir, "limit"), "-addr", "127.0.0.1:0", "-responses", file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	b.limit = cmd
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no address: %w", err)
	}
	go io.Copy(io.Discard, out)
	b.limitURL = "http://" + strings.TrimSpace(line)
	b.flows.counter(strings.TrimSpace(line))
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := c.Get(b.limitURL + "/restful/products")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want := responses[0].Body
			if res.StatusCode != 200 || string(body) != string(want) {
				return fmt.Errorf("answers %d %.100s, not the recorded bytes", res.StatusCode, body)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (b *bench) close() {
	if b.limit != nil && b.limit.Process != nil {
		_ = b.limit.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = b.limit.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = b.limit.Process.Kill()
		}
	}
	if b.s != nil {
		if err := b.s.Stop(); err != nil {
			b.printf("stopping the stack: %v\n", err)
		}
	}
	if b.logFile != nil {
		b.logFile.Close()
	}
}

func (b *bench) selected(name string) bool {
	return len(b.o.Scenarios) == 0 || slices.Contains(b.o.Scenarios, name)
}

// measure runs one attack with the processes monitored.
func (b *bench) measure(ctx context.Context, sc, target string, spec attackSpec) RunResult {
	m := startMonitor(b.pids)
	r := attack(ctx, b.client, spec)
	r.Usage = m.finish()
	r.Scenario, r.Target = sc, target
	r.serverCPU()
	return r
}

func (b *bench) scenarios(ctx context.Context) error {
	b.printf("\n%-11s %-6s %-6s %8s %9s %8s %8s %8s %7s %9s   %s\n", "scenario", "target", "mode", "rate", "ops/s", "p50 ms", "p99 ms", "p99.9", "errors", "µs CPU/op", "CPU s (gw acc wh pay lim gen)")
	for _, sc := range Scenarios {
		if !b.selected(sc.Name) {
			continue
		}
		res, err := b.scenario(ctx, sc)
		if err != nil {
			return err
		}
		b.rep.Results = append(b.rep.Results, res)
	}
	if b.selected(loginStormName) {
		res, err := b.loginStorm(ctx)
		if err != nil {
			return err
		}
		b.rep.Results = append(b.rep.Results, res)
	}
	if b.f != nil && slices.ContainsFunc(b.rep.Results, func(r Result) bool { return r.buying }) {
		b.rep.Checks = append(b.rep.Checks, b.stockCheck(ctx))
	}
	for _, name := range b.o.Profile {
		for _, sc := range Scenarios {
			if sc.Name == name && b.selected(name) {
				if err := b.profile(ctx, sc); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (b *bench) scenario(ctx context.Context, sc Scenario) (Result, error) {
	if b.o.Workers > 0 {
		sc.Workers = b.o.Workers
	}
	res := Result{Scenario: sc}
	store, limit := sc.targets(b.f, b.f.gateway), sc.targets(b.f, b.limitURL)
	closed := func(t vegeta.Targeter, d time.Duration) attackSpec {
		return attackSpec{targeter: t, workers: sc.Workers, duration: d}
	}
	// Warm both (connections, caches, the Go runtimes' heaps).
	attack(ctx, b.client, closed(store, b.o.Warmup))
	attack(ctx, b.client, closed(limit, b.o.Warmup))
	b.between(ctx, sc)

	var peak, lim []RunResult
	for i := 0; i < b.o.Runs; i++ {
		r := b.measure(ctx, sc.Name, "store", closed(store, b.o.Duration))
		b.line(r)
		peak = append(peak, r)
		b.between(ctx, sc)
		r = b.measure(ctx, sc.Name, "limit", closed(limit, b.o.Duration))
		b.line(r)
		lim = append(lim, r)
	}
	res.Peak, res.Limit = summarize(peak), summarize(lim)
	if res.Limit.PerSecond > 0 {
		res.Ratio = res.Peak.PerSecond / res.Limit.PerSecond
	}
	rate := res.Peak.PerSecond / 2
	var open, limOpen []RunResult
	if rate > 0 {
		for i := 0; i < b.o.Runs; i++ {
			r := b.measure(ctx, sc.Name, "store", attackSpec{targeter: store, rate: rate, workers: sc.Workers, duration: b.o.Duration})
			b.line(r)
			open = append(open, r)
			b.between(ctx, sc)
			// The same rate against the limit server: the latency floor
			// of this machine at that load, load generator included.
			r = b.measure(ctx, sc.Name, "limit", attackSpec{targeter: limit, rate: rate, workers: sc.Workers, duration: b.o.Duration})
			b.line(r)
			limOpen = append(limOpen, r)
		}
	}
	res.Latency, res.LimitLatency = summarize(open), summarize(limOpen)
	res.Runs = slices.Concat(peak, lim, open, limOpen)
	return res, ctx.Err()
}

// between lets a buying scenario's background work (the outbox's stock
// decreases) finish before the next run.
func (b *bench) between(ctx context.Context, sc Scenario) {
	if !sc.buying {
		return
	}
	if l, err := b.f.drain(ctx, b.client, b.paymentDB(), 20*time.Second); err != nil || !l.settled() {
		b.printf("  (stock not settled after the run: %+v, err %v)\n", l, err)
	}
}

func (b *bench) loginStorm(ctx context.Context) (Result, error) {
	res := Result{Scenario: Scenario{Name: loginStormName, Unit: "req", Workers: stormWorkers,
		What: fmt.Sprintf("GET products and accounts/{me} at %d/s, alone and while %d clients log in non-stop", stormRate, stormWorkers)}}
	fg := stormForeground(b.f)
	var tok Scenario
	for _, sc := range Scenarios {
		if sc.Name == "token" {
			tok = sc
		}
	}
	storm := tok.targets(b.f, b.f.gateway)
	spec := attackSpec{targeter: fg, rate: stormRate, workers: 8, duration: b.o.Duration}
	attack(ctx, b.client, attackSpec{targeter: fg, rate: stormRate, workers: 8, duration: b.o.Warmup})
	var alone, during, bg []RunResult
	for i := 0; i < b.o.Runs; i++ {
		r := b.measure(ctx, loginStormName, "store", spec)
		r.Mode = "open-alone"
		b.line(r)
		alone = append(alone, r)

		m := startMonitor(b.pids)
		done := make(chan RunResult)
		go func() {
			done <- attack(ctx, b.client, attackSpec{targeter: storm, workers: stormWorkers, duration: b.o.Duration})
		}()
		r = attack(ctx, b.client, spec)
		s := <-done
		r.Usage = m.finish()
		r.Scenario, r.Target, r.Mode = loginStormName, "store", "open-storm"
		s.Scenario, s.Target, s.Mode, s.Usage = loginStormName, "store", "storm-logins", r.Usage
		r.serverCPU()
		b.line(r)
		b.line(s)
		during, bg = append(during, r), append(bg, s)
	}
	base, back := summarize(alone), summarize(bg)
	res.Latency, res.Baseline, res.Background = summarize(during), &base, &back
	res.Runs = slices.Concat(alone, during, bg)
	return res, ctx.Err()
}

func (b *bench) line(r RunResult) {
	rate := "-"
	if r.Rate > 0 {
		rate = fmt.Sprintf("%.0f/s", r.Rate)
	}
	var cpu []string
	for _, p := range processes {
		cpu = append(cpu, fmt.Sprintf("%.1f", r.Usage[p].CPUSeconds))
	}
	b.printf("%-11s %-6s %-6s %8s %9.0f %8.2f %8.2f %8.2f %7d %9.0f   %s\n", r.Scenario, r.Target, shortMode(r.Mode), rate,
		r.PerSecond, r.P50ms, r.P99ms, r.P999ms, r.Errors, r.CPUPerOpUs, strings.Join(cpu, " "))
	for _, e := range r.ErrorSamples {
		b.printf("    error: %s\n", e)
	}
}

func shortMode(m string) string {
	switch m {
	case "open-alone":
		return "alone"
	case "open-storm":
		return "storm"
	case "storm-logins":
		return "logins"
	}
	return m
}

// stockCheck verifies that no stock was sold twice or lost: every item
// that left the warehouse's stock is an item of a PAYED payment, frozen
// stock is exactly that of WAITING ones, and every payment the load
// generator saw succeed is PAYED. (A pay whose answer was lost to a timeout
// may be PAYED without being seen.)
func (b *bench) stockCheck(ctx context.Context) Check {
	c := Check{Name: "no oversell: stock sold == items paid"}
	l, err := b.f.drain(ctx, b.client, b.paymentDB(), 30*time.Second)
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	seen := b.flows.paid[strings.TrimPrefix(b.f.gateway, "http://")].Load() + b.f.paidBySetup
	c.OK = l.settled() && l.amount >= 0 && seen <= l.paid
	c.Detail = fmt.Sprintf("stock %d -> amount %d, frozen %d: %d sold; payment DB: %d items PAYED, %d WAITING; %d payments seen succeed by the load generator",
		buyStock, l.amount, l.frozen, buyStock-l.amount-l.frozen, l.paid, l.waiting, seen)
	return c
}

// restarts restarts every service once, timing readiness and reading its
// RSS after the load and after the restart.
func (b *bench) restarts(ctx context.Context) error {
	for _, n := range stack.Names {
		after, _, _ := memory(b.pids[n])
		p := b.s.Proc(n)
		if err := p.Stop(15 * time.Second); err != nil {
			return err
		}
		t0 := time.Now()
		if err := p.Start(ctx, 30*time.Second); err != nil {
			return err
		}
		ready := time.Since(t0)
		time.Sleep(300 * time.Millisecond)
		pid, err := findPID(filepath.Join(b.binDir, n))
		if err != nil {
			return err
		}
		b.pids[n] = pid
		rss, _, _ := memory(pid)
		b.rep.Services = append(b.rep.Services, ServiceReport{
			Name: n, ReadyMs: float64(ready.Microseconds()) / 1000,
			IdleRSSMiB: b.idle[n], AfterLoadRSSMiB: float64(after) / (1 << 20),
			RestartRSSMiB: float64(rss) / (1 << 20), PeakRSSMiB: b.peakOf(n),
		})
	}
	return nil
}

// peakOf is the highest RSS a process reached in any measured run.
func (b *bench) peakOf(name string) float64 {
	var peak float64
	for _, res := range b.rep.Results {
		for _, r := range res.Runs {
			peak = max(peak, r.Usage[name].PeakRSSMiB)
		}
	}
	return peak
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
