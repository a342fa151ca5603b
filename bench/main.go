// Command bench is `make bench`: it benchmarks the whole store on this
// machine against a limit server and prints medians, ratios and every
// process's CPU time and RSS; results go to bench/results/<time>/.
//
//	go run ./bench                      # everything (about 8 minutes on 2 cores)
//	go run ./bench -scenarios products,product -runs 1 -duration 3s
//	go run ./bench -profile mixed       # pprof top 10 per service during mixed only
//	go run ./bench -root /tmp/other-checkout   # measure another tree (A/B)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"example.com/bookstore/bench/internal/harness"
	"example.com/bookstore/e2e/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	here, err := stack.RepoRoot(wd)
	if err != nil {
		return err
	}
	var (
		root      = flag.String("root", here, "repository to build and benchmark")
		duration  = flag.Duration("duration", 5*time.Second, "length of each measured run")
		warmup    = flag.Duration("warmup", time.Second, "warm-up per scenario and target")
		runs      = flag.Int("runs", 3, "runs per scenario, target and mode (medians are reported)")
		workers   = flag.Int("workers", 0, "closed-loop concurrency of every scenario (default: each scenario's own)")
		buyers    = flag.Int("buyers", 64, "buyers registered and funded")
		scenarios = flag.String("scenarios", "", "comma-separated scenarios (default all: products,product,ads,token,settle_pay,mixed,login_storm)")
		profile   = flag.String("profile", "products,token,settle_pay,mixed", "comma-separated scenarios (of those run) to CPU-profile every service in, an extra run each; '' for none")
		profSecs  = flag.Int("profile-seconds", 5, "length of each CPU profile")
		out       = flag.String("out", filepath.Join(here, "bench", "results", time.Now().UTC().Format("20060102-150405")), "results directory")
		env       = envFlag{}
		debug     = flag.Bool("debug-build", false, "build without -trimpath/-ldflags (shares the e2e build cache)")
	)
	flag.Var(env, "env", "service:KEY=VALUE, an environment override for one service (repeatable), e.g. payment:DB_MAX_OPEN_CONNS=1")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err = harness.Run(ctx, harness.Options{
		Root: *root, Release: !*debug, Duration: *duration, Warmup: *warmup, Runs: *runs, Workers: *workers, Buyers: *buyers,
		Scenarios: split(*scenarios), Profile: split(*profile), ProfileSeconds: *profSecs,
		Env: env, OutDir: *out, Out: os.Stdout,
	})
	return err
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// envFlag collects -env service:KEY=VALUE.
type envFlag map[string]map[string]string

func (e envFlag) String() string { return fmt.Sprint(map[string]map[string]string(e)) }

func (e envFlag) Set(v string) error {
	svc, kv, ok := strings.Cut(v, ":")
	k, val, ok2 := strings.Cut(kv, "=")
	if !ok || !ok2 || svc == "" || k == "" {
		return fmt.Errorf("want service:KEY=VALUE, got %q", v)
	}
	if e[svc] == nil {
		e[svc] = map[string]string{}
	}
	e[svc][k] = val
	return nil
}
