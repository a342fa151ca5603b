package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"example.com/bookstore/e2e/stack"
)

func (b *bench) printSummary() {
	r := b.rep
	b.printf("\n== medians of %d runs of %s (ops/s: requests, or flows for settle_pay and mixed) ==\n", r.Options.Runs, time.Duration(r.Options.DurationS*float64(time.Second)))
	b.printf("%-11s %10s %10s %7s %8s %11s | %9s %8s %8s %8s %7s | %13s\n", "scenario", "store/s", "limit/s", "ratio", "workers", "µs CPU/op", "open at/s", "p50 ms", "p99 ms", "p99.9", "errors", "limit p50/p99")
	for _, res := range r.Results {
		if res.Name == loginStormName {
			continue
		}
		b.printf("%-11s %10.0f %10.0f %7.3f %8d %5.0f/%-5.0f | %9.0f %8.2f %8.2f %8.2f %7d | %6.2f/%-6.2f\n", res.Name, res.Peak.PerSecond, res.Limit.PerSecond,
			res.Ratio, res.Workers, res.Peak.CPUPerOpUs, res.Limit.CPUPerOpUs, res.Latency.Rate, res.Latency.P50ms, res.Latency.P99ms, res.Latency.P999ms,
			res.Peak.Errors+res.Limit.Errors+res.Latency.Errors, res.LimitLatency.P50ms, res.LimitLatency.P99ms)
	}
	for _, res := range r.Results {
		if res.Name != loginStormName {
			continue
		}
		b.printf("\n%s: %s\n", res.Name, res.What)
		b.printf("  alone:        p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, errors %d\n", res.Baseline.P50ms, res.Baseline.P99ms, res.Baseline.P999ms, res.Baseline.Errors)
		b.printf("  during storm: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, errors %d; logins %.1f/s (p99 %.0f ms, errors %d)\n",
			res.Latency.P50ms, res.Latency.P99ms, res.Latency.P999ms, res.Latency.Errors,
			res.Background.PerSecond, res.Background.P99ms, res.Background.Errors)
	}

	b.printf("\n== CPU seconds per process in a peak (closed-loop, store) run, median ==\n")
	b.printf("%-11s", "scenario")
	for _, p := range processes {
		b.printf(" %9s", p)
	}
	b.printf("   (limit run: limit, loadgen)\n")
	for _, res := range r.Results {
		u := res.peakUsage()
		b.printf("%-11s", res.Name)
		for _, p := range processes {
			b.printf(" %9.2f", u[p].CPUSeconds)
		}
		b.printf("   (%.2f, %.2f)\n", res.Limit.Usage["limit"].CPUSeconds, res.Limit.Usage["loadgen"].CPUSeconds)
	}
	b.printf("\n== peak RSS MiB per process in a peak run, median ==\n")
	b.printf("%-11s", "scenario")
	for _, p := range processes {
		b.printf(" %9s", p)
	}
	b.printf("\n")
	for _, res := range r.Results {
		u := res.peakUsage()
		b.printf("%-11s", res.Name)
		for _, p := range processes {
			b.printf(" %9.1f", u[p].PeakRSSMiB)
		}
		b.printf("\n")
	}

	b.printf("\n== services (stack's first start: %.0f ms for all four in turn) ==\n", r.StackStartMs)
	b.printf("%-10s %16s %13s %16s %15s %14s\n", "service", "restart->ready", "idle RSS", "after load RSS", "restarted RSS", "peak RSS")
	for _, s := range r.Services {
		b.printf("%-10s %13.0f ms %9.1f MiB %12.1f MiB %11.1f MiB %10.1f MiB\n", s.Name, s.ReadyMs, s.IdleRSSMiB, s.AfterLoadRSSMiB, s.RestartRSSMiB, s.PeakRSSMiB)
	}
	if len(r.Checks) > 0 {
		b.printf("\n== checks ==\n")
		for _, c := range r.Checks {
			verdict := "FAIL"
			if c.OK {
				verdict = "ok"
			}
			b.printf("%-4s %s: %s\n", verdict, c.Name, c.Detail)
		}
	}
	for _, p := range r.Profiles {
		b.printf("\n== pprof top 10: %s during %s (%s) ==\n%s", p.Service, p.Scenario, p.File, p.Top)
	}
}

// save writes the JSON report and a benchstat-readable file into OutDir.
func (b *bench) save() error {
	if b.o.OutDir == "" {
		return nil
	}
	j, err := json.MarshalIndent(b.rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.o.OutDir, "result.json"), j, 0o644); err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "goos: linux\ngoarch: %s\ncpu: %s\npkg: example.com/bookstore/bench\n", goarch(), b.rep.Machine.Model)
	for _, res := range b.rep.Results {
		for _, r := range res.Runs {
			if r.Count == 0 {
				continue
			}
			name := fmt.Sprintf("Benchmark%s/target=%s/mode=%s", camel(r.Scenario), r.Target, r.Mode)
			nsPerOp := r.Seconds * 1e9 / float64(r.Count)
			fmt.Fprintf(&sb, "%s-%d\t%d\t%.0f ns/op\t%.1f ops/s\t%.0f p50-µs\t%.0f p99-µs\t%.0f p99.9-µs\t%d errors\n",
				name, b.rep.Machine.CPUs, r.Count, nsPerOp, r.PerSecond, r.P50ms*1000, r.P99ms*1000, r.P999ms*1000, r.Errors)
		}
	}
	if err := os.WriteFile(filepath.Join(b.o.OutDir, "bench.txt"), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	b.printf("\nwrote %s (JSON), %s (benchstat format)\n", filepath.Join(b.o.OutDir, "result.json"), filepath.Join(b.o.OutDir, "bench.txt"))
	return nil
}

func goarch() string {
	out, err := exec.Command("go", "env", "GOARCH").Output()
	if err != nil {
		return "amd64"
	}
	return strings.TrimSpace(string(out))
}

// camel turns settle_pay into SettlePay.
func camel(s string) string {
	var sb strings.Builder
	up := true
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// profile loads the store closed-loop with sc while every service's CPU is
// profiled through its admin listener's /debug/pprof, then prints the top
// functions of each profile.
func (b *bench) profile(ctx context.Context, sc Scenario) error {
	secs := b.o.ProfileSeconds
	load := make(chan struct{})
	go func() {
		defer close(load)
		attack(ctx, b.client, attackSpec{targeter: sc.targets(b.f, b.f.gateway), workers: sc.Workers, duration: time.Duration(secs+1) * time.Second})
	}()
	time.Sleep(500 * time.Millisecond) // past the ramp-up
	type got struct {
		svc  string
		data []byte
		err  error
	}
	results := make(chan got, len(stack.Names))
	for _, n := range stack.Names {
		go func() {
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.s.Proc(n).AdminAddr, secs)
			c := &http.Client{Timeout: time.Duration(secs+30) * time.Second}
			res, err := c.Get(url)
			if err != nil {
				results <- got{svc: n, err: err}
				return
			}
			defer res.Body.Close()
			data, err := io.ReadAll(res.Body)
			if err == nil && res.StatusCode != 200 {
				err = fmt.Errorf("%s: %d %.100s", url, res.StatusCode, data)
			}
			results <- got{svc: n, data: data, err: err}
		}()
	}
	byName := map[string]got{}
	for range stack.Names {
		g := <-results
		byName[g.svc] = g
	}
	<-load
	b.between(ctx, sc)
	dir := b.o.OutDir
	if dir == "" {
		dir = b.work
	}
	for _, n := range stack.Names {
		g := byName[n]
		if g.err != nil {
			b.printf("profile of %s during %s: %v\n", n, sc.Name, g.err)
			continue
		}
		file := filepath.Join(dir, fmt.Sprintf("cpu-%s-%s.pprof", sc.Name, n))
		if err := os.WriteFile(file, g.data, 0o644); err != nil {
			return err
		}
		top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=10", file).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go tool pprof: %v\n%s", err, top)
		}
		b.rep.Profiles = append(b.rep.Profiles, Profile{Scenario: sc.Name, Service: n, File: file, Top: trimTop(string(top))})
	}
	return nil
}

// trimTop drops pprof's header lines that name the (temporary) binary.
func trimTop(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "File:") || strings.HasPrefix(line, "Build ID:") || strings.HasPrefix(line, "Type:") || strings.HasPrefix(line, "Time:") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// peakUsage is the process figures of the scenario's peak runs; the login
// storm has no closed-loop run, so its open-loop runs stand in.
func (res Result) peakUsage() map[string]Usage {
	if res.Name == loginStormName {
		return res.Latency.Usage
	}
	return res.Peak.Usage
}
