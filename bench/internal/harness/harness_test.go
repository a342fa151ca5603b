package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"example.com/bookstore/e2e/stack"
)

// TestSmoke runs the whole benchmark for a few hundred milliseconds per
// scenario, so that `make test` keeps `make bench` working: the build, the
// stack, buyers and wallets, the recorded answers and the limit server,
// every scenario against both targets, the stock check, the profiles and
// the report files.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole store")
	}
	wd, _ := os.Getwd()
	root, err := stack.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out := t.TempDir()
	var text bytes.Buffer
	rep, err := Run(ctx, Options{
		Root: root, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, Runs: 1, Buyers: 4,
		Profile: []string{"products"}, ProfileSeconds: 1, OutDir: out, Out: &text,
		// make test runs this next to other packages' -race tests: a
		// login's bcrypt may wait seconds for a core, which is not what
		// this test is about (the e2e stacks allow the same).
		Env: map[string]map[string]string{"gateway": {"CLIENTS_ACCOUNT_RPC_TIMEOUT": "15s"}},
	})
	t.Log("\n" + text.String())
	if err != nil {
		t.Fatal(err)
	}

	want := []string{"products", "product", "ads", "token", "settle_pay", "mixed", loginStormName}
	if len(rep.Results) != len(want) {
		t.Fatalf("%d scenarios ran, want %d", len(rep.Results), len(want))
	}
	for i, res := range rep.Results {
		if res.Name != want[i] {
			t.Fatalf("scenario %d is %s, want %s", i, res.Name, want[i])
		}
		for _, r := range res.Runs {
			if r.Count == 0 || r.Errors != 0 {
				t.Errorf("%s %s %s: %d done, %d errors %v", r.Scenario, r.Target, r.Mode, r.Count, r.Errors, r.ErrorSamples)
			}
			if len(r.Usage) != len(processes) || r.Usage["gateway"].PeakRSSMiB <= 0 || r.Usage["loadgen"].PeakRSSMiB <= 0 {
				t.Errorf("%s %s %s: no process figures: %+v", r.Scenario, r.Target, r.Mode, r.Usage)
			}
		}
		if res.Name != loginStormName && (res.Ratio <= 0 || res.Latency.Runs == 0) {
			t.Errorf("%s: ratio %v, %d open-loop runs", res.Name, res.Ratio, res.Latency.Runs)
		}
	}
	if len(rep.Checks) != 1 || !rep.Checks[0].OK {
		t.Errorf("checks: %+v", rep.Checks)
	}
	if len(rep.Services) != len(stack.Names) {
		t.Errorf("services: %+v", rep.Services)
	}
	for _, s := range rep.Services {
		if s.ReadyMs <= 0 || s.IdleRSSMiB <= 0 {
			t.Errorf("service %s: %+v", s.Name, s)
		}
	}
	if len(rep.Profiles) != len(stack.Names) {
		t.Errorf("%d profiles, want one per service", len(rep.Profiles))
	}
	for _, p := range rep.Profiles {
		if !strings.Contains(p.Top, "flat%") {
			t.Errorf("profile of %s: %q", p.Service, p.Top)
		}
	}

	b, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Results) != len(want) {
		t.Fatalf("result.json: %v, %d scenarios", err, len(back.Results))
	}
	txt, err := os.ReadFile(filepath.Join(out, "bench.txt"))
	if err != nil || !strings.Contains(string(txt), "BenchmarkSettlePay/target=store/mode=closed") {
		t.Fatalf("bench.txt: %v\n%s", err, txt)
	}
}
