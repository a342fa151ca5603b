package harness

import (
	"context"
	"math"
	"net/http"
	"slices"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// RunResult is one measured attack.
type RunResult struct {
	Scenario string `json:"scenario"`
	// Target is "store" (the gateway) or "limit" (the limit server).
	Target string `json:"target"`
	// Mode is "closed" (Workers clients, each sending its next request when
	// the last is answered: peak throughput) or "open" (a constant Rate
	// whatever the answers do: latency).
	Mode    string  `json:"mode"`
	Workers int     `json:"workers,omitempty"`
	Rate    float64 `json:"rate,omitempty"`
	Seconds float64 `json:"seconds"`
	Count   int     `json:"count"`
	Errors  int     `json:"errors"`
	// ErrorSamples are a few distinct error messages.
	ErrorSamples []string `json:"error_samples,omitempty"`
	PerSecond    float64  `json:"per_second"`
	P50ms        float64  `json:"p50_ms"`
	P99ms        float64  `json:"p99_ms"`
	P999ms       float64  `json:"p999_ms"`
	MaxMs        float64  `json:"max_ms"`
	// Usage is each process's CPU time and peak RSS during the run.
	Usage map[string]Usage `json:"usage"`
	// CPUPerOpUs is the server side's CPU time per successful operation:
	// the four services' for the store, the limit server's for the limit.
	CPUPerOpUs float64 `json:"cpu_per_op_us"`
}

// serverCPU sets CPUPerOpUs from Usage.
func (r *RunResult) serverCPU() {
	ok := r.Count - r.Errors
	if ok <= 0 {
		return
	}
	var s float64
	if r.Target == "limit" {
		s = r.Usage["limit"].CPUSeconds
	} else {
		for _, n := range []string{"gateway", "account", "warehouse", "payment"} {
			s += r.Usage[n].CPUSeconds
		}
	}
	r.CPUPerOpUs = s * 1e6 / float64(ok)
}

// maxOpenWorkers bounds an open-loop run's concurrency.
const maxOpenWorkers = 256

// attackSpec says how to load a target.
type attackSpec struct {
	targeter vegeta.Targeter
	rate     float64 // per second; 0 means closed loop
	workers  int
	duration time.Duration
}

// attack runs spec with client and summarises the results. Latencies are
// kept whole and their quantiles computed exactly.
func attack(ctx context.Context, client *http.Client, spec attackSpec) RunResult {
	opts := []func(*vegeta.Attacker){vegeta.Client(client), vegeta.MaxBody(0)}
	pacer := vegeta.ConstantPacer{} // the zero pacer: as fast as the workers go
	run := RunResult{Mode: "closed", Workers: spec.workers}
	if spec.rate > 0 {
		run = RunResult{Mode: "open", Rate: spec.rate}
		// Enough workers (connections) to keep the rate while some answers
		// are slow, but bounded: past that the store is overloaded, the
		// latencies say so, and thousands of connections would only measure
		// their buffers in every process's RSS.
		opts = append(opts, vegeta.Workers(uint64(max(spec.workers, 8))), vegeta.MaxWorkers(maxOpenWorkers))
		pacer = vegeta.ConstantPacer{Freq: int(math.Round(spec.rate * 10)), Per: 10 * time.Second}
	} else {
		opts = append(opts, vegeta.Workers(uint64(spec.workers)), vegeta.MaxWorkers(uint64(spec.workers)))
	}
	a := vegeta.NewAttacker(opts...)
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()

	lat := make([]time.Duration, 0, 1<<16)
	samples := map[string]bool{}
	start := time.Now()
	for r := range a.Attack(spec.targeter, pacer, spec.duration, "") {
		run.Count++
		lat = append(lat, r.Latency)
		if r.Error != "" {
			run.Errors++
			if len(samples) < 3 && !samples[r.Error] {
				samples[r.Error] = true
				run.ErrorSamples = append(run.ErrorSamples, truncate(r.Error, 300))
			}
		}
	}
	elapsed := time.Since(start)
	run.Seconds = elapsed.Seconds()
	if run.Count > 0 {
		run.PerSecond = float64(run.Count-run.Errors) / elapsed.Seconds()
		slices.Sort(lat)
		run.P50ms = ms(quantile(lat, 0.50))
		run.P99ms = ms(quantile(lat, 0.99))
		run.P999ms = ms(quantile(lat, 0.999))
		run.MaxMs = ms(lat[len(lat)-1])
	}
	return run
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Summary is the per-field median of a set of runs (benchstat's centre).
type Summary struct {
	Runs      int     `json:"runs"`
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	P999ms    float64 `json:"p999_ms"`
	Errors    int     `json:"errors"` // the sum, not the median
	Rate      float64 `json:"rate,omitempty"`
	// CPUPerOpUs: see RunResult.
	CPUPerOpUs float64          `json:"cpu_per_op_us"`
	Usage      map[string]Usage `json:"usage"`
}

func summarize(runs []RunResult) Summary {
	s := Summary{Runs: len(runs), Usage: map[string]Usage{}}
	if len(runs) == 0 {
		return s
	}
	pick := func(f func(RunResult) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		return median(v)
	}
	s.PerSecond = pick(func(r RunResult) float64 { return r.PerSecond })
	s.P50ms = pick(func(r RunResult) float64 { return r.P50ms })
	s.P99ms = pick(func(r RunResult) float64 { return r.P99ms })
	s.P999ms = pick(func(r RunResult) float64 { return r.P999ms })
	s.Rate = pick(func(r RunResult) float64 { return r.Rate })
	s.CPUPerOpUs = pick(func(r RunResult) float64 { return r.CPUPerOpUs })
	for _, r := range runs {
		s.Errors += r.Errors
	}
	for name := range runs[0].Usage {
		s.Usage[name] = Usage{
			CPUSeconds: pick(func(r RunResult) float64 { return r.Usage[name].CPUSeconds }),
			PeakRSSMiB: pick(func(r RunResult) float64 { return r.Usage[name].PeakRSSMiB }),
		}
	}
	return s
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
