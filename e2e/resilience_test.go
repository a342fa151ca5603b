package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/bookstore/e2e/stack"
)

// The fault tests: real processes on loopback, faults injected by killing a
// service or by the warehouse's test-only [debug] delay, limits changed by
// rewriting the gateway's config file while it runs.

// staleHeader marks an answer the gateway served from its last good copy.
const staleHeader = "X-Bookstore-Stale"

// liveConfig is a copy of a service's config file that a test rewrites
// while the service runs (the service watches it).
type liveConfig struct {
	t    *testing.T
	path string
}

// copyConfig copies <svc>/conf/config.toml into a temp dir, applies the
// replacements (regexp -> replacement) and returns the copy, for CONFIG_PATH.
func copyConfig(t *testing.T, svc string, replace ...string) *liveConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, svc, "conf", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	c := &liveConfig{t: t, path: filepath.Join(t.TempDir(), "config.toml")}
	c.write(string(data), replace...)
	return c
}

// edit rewrites the file with more replacements, the way an editor or a
// ConfigMap update does it: a new file renamed over the old one.
func (c *liveConfig) edit(replace ...string) {
	c.t.Helper()
	data, err := os.ReadFile(c.path)
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(string(data), replace...)
}

func (c *liveConfig) write(content string, replace ...string) {
	c.t.Helper()
	for i := 0; i+1 < len(replace); i += 2 {
		re := regexp.MustCompile(replace[i])
		if !re.MatchString(content) {
			c.t.Fatalf("config %s: nothing matches %q", c.path, replace[i])
		}
		content = re.ReplaceAllString(content, replace[i+1])
	}
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		c.t.Fatal(err)
	}
}

// resilienceState is the gateway's GET /debug/resilience (admin listener).
type resilienceState struct {
	Breakers struct {
		NotClosed   map[string]string `json:"not_closed"`
		Transitions []struct {
			Breaker string `json:"breaker"`
			From    string `json:"from"`
			To      string `json:"to"`
		} `json:"transitions"`
	} `json:"breakers"`
	Bulkheads map[string]struct {
		Limit    int   `json:"limit"`
		Peak     int64 `json:"peak"`
		Rejected int64 `json:"rejected"`
	} `json:"bulkheads"`
	RateLimited int64 `json:"rate_limited"`
	StaleServed int64 `json:"stale_served"`
	Goroutines  int   `json:"goroutines"`
}

func gatewayState(t *testing.T, s *stack.Stack) resilienceState {
	t.Helper()
	resp, err := http.Get("http://" + s.Proc("gateway").AdminAddr + "/debug/resilience")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st resilienceState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("debug/resilience: %v", err)
	}
	return st
}

// transitions lists one breaker's state changes as "from>to".
func (st resilienceState) transitions(breaker string) []string {
	var out []string
	for _, tr := range st.Breakers.Transitions {
		if tr.Breaker == breaker {
			out = append(out, tr.From+">"+tr.To)
		}
	}
	return out
}

// warehouseCircuits lists the gateway's warehouse circuits that are not
// closed (per method, "warehouse.GetProduct", or per instance, "warehouse@...").
func warehouseCircuits(st resilienceState) []string {
	var out []string
	for b := range st.Breakers.NotClosed {
		if strings.HasPrefix(b, "warehouse.") || strings.HasPrefix(b, "warehouse@") {
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return out
}

// seedStock is every product's stock in the seed: 30 each, none frozen.
const seedStock = 30

// TestWarehouseKilled: with the warehouse dead the catalogue is still
// served (stale), the advertisements are empty, writes fail fast with 503,
// other services are untouched, and nothing was frozen when it returns.
func TestWarehouseKilled(t *testing.T) {
	t.Parallel()
	s := startStack(t, nil)
	a := api{t, s.GatewayURL}
	admin := a.login(adminUser, adminWire)

	list := a.do("GET", "/restful/products", "", nil)
	one := a.do("GET", "/restful/products/1", "", nil)
	if list.Status != http.StatusOK || one.Status != http.StatusOK {
		t.Fatalf("catalogue before the fault: %d %d", list.Status, one.Status)
	}

	s.Proc("warehouse").Kill()
	// The gateway keeps catalogue answers for http.catalogue_ttl (1s in
	// conf/config.toml) and serves them fresh until they expire; only then
	// do reads reach the dead warehouse and the degraded copy take over.
	eventually(t, 15*time.Second, "the catalogue is served from the stale copies", func() bool {
		return a.do("GET", "/restful/products", "", nil).Header.Get(staleHeader) == "true" &&
			a.do("GET", "/restful/products/1", "", nil).Header.Get(staleHeader) == "true"
	})

	stale := func(r response, want []byte) {
		t.Helper()
		if r.Status != http.StatusOK || string(r.Body) != string(want) || r.Header.Get(staleHeader) != "true" {
			t.Fatalf("stale copy: %d %s=%q %.200s", r.Status, staleHeader, r.Header.Get(staleHeader), r.Body)
		}
	}
	stale(a.do("GET", "/restful/products", "", nil), list.Body)
	// The token issued before keeps working for reads.
	stale(a.do("GET", "/restful/products/1", admin, nil), one.Body)
	// A product read only as part of the list is served from it too.
	var products []json.RawMessage
	list.JSON(t, &products)
	stale(a.do("GET", "/restful/products/2", "", nil), products[1])
	ads := a.do("GET", "/restful/advertisements", "", nil)
	if ads.Status != http.StatusOK || string(ads.Body) != "[]" || ads.Header.Get(staleHeader) != "true" {
		t.Fatalf("advertisements with the warehouse down: %d %s", ads.Status, ads.Body)
	}
	// Nothing to fall back on: the outage shows.
	a.expect(a.do("GET", "/restful/products/10086", "", nil), http.StatusServiceUnavailable, "服务暂不可用")

	// Writes fail fast, well within the gateway's 5s payment timeout.
	start := time.Now()
	r := a.do("POST", "/restful/settlements", admin, map[string]any{
		"items": []map[string]any{{"id": 1, "amount": 2}}, "purchase": purchase(),
	})
	a.expect(r, http.StatusServiceUnavailable, "服务暂不可用")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("settlement took %v to fail", d)
	}
	start = time.Now()
	a.expect(a.do("PATCH", "/restful/products/stockpile/1?amount=10", admin, nil), http.StatusServiceUnavailable, "warehouse 服务暂不可用")
	a.expect(a.do("DELETE", "/restful/products/3", admin, nil), http.StatusServiceUnavailable, "warehouse 服务暂不可用")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("two warehouse writes took %v to fail", d)
	}
	// Routes that do not need the warehouse are untouched.
	if r := a.do("GET", "/restful/accounts/icyfenix", admin, nil); r.Status != http.StatusOK {
		t.Fatalf("account read with the warehouse down: %d %s", r.Status, r.Body)
	}

	if err := s.Proc("warehouse").Start(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	// The circuits the outage opened let probes through after their
	// cooling time and close; then the answers are fresh again.
	eventually(t, 30*time.Second, "the warehouse circuits close", func() bool {
		a.do("GET", "/restful/products/1", "", nil)
		return len(warehouseCircuits(gatewayState(t, s))) == 0
	})
	if r := a.do("GET", "/restful/products/1", "", nil); r.Status != http.StatusOK || r.Header.Get(staleHeader) != "" {
		t.Fatalf("after recovery: %d stale=%q", r.Status, r.Header.Get(staleHeader))
	}
	// Nothing stayed frozen: the failed settlement reserved nothing (and
	// any safety thaw it scheduled finds nothing to thaw).
	for id := 1; id <= 8; id++ {
		amount, frozen := stockOf(t, a, admin, id)
		if amount != seedStock || frozen != 0 {
			t.Errorf("product %d: amount %v frozen %v, want %d and 0", id, amount, frozen, seedStock)
		}
	}
}

// TestAccountKilled: with the account service dead, login answers 503 (not
// 500, not "bad credentials"), and tokens issued before keep working.
func TestAccountKilled(t *testing.T) {
	t.Parallel()
	s := startStack(t, nil)
	a := api{t, s.GatewayURL}
	admin := a.login(adminUser, adminWire)

	s.Proc("account").Kill()

	q := url.Values{
		"username": {adminUser}, "password": {adminWire}, "grant_type": {"password"},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"},
	}
	r := a.do("GET", "/oauth/token?"+q.Encode(), "", nil)
	if m := r.Map(t); r.Status != http.StatusServiceUnavailable || m["error"] != "temporarily_unavailable" {
		t.Fatalf("login with the account service down: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/restful/products", "/restful/products/1", "/restful/products/stockpile/1", "/restful/advertisements"} {
		if r := a.do("GET", path, admin, nil); r.Status != http.StatusOK || r.Header.Get(staleHeader) != "" {
			t.Fatalf("GET %s with an issued token: %d %s", path, r.Status, r.Body)
		}
	}
	a.expect(a.do("GET", "/restful/accounts/icyfenix", admin, nil), http.StatusServiceUnavailable, "account 服务暂不可用")

	if err := s.Proc("account").Start(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "login after the account service returned", func() bool {
		return a.do("GET", "/oauth/token?"+q.Encode(), "", nil).Status == http.StatusOK
	})
}

// latencies runs one request every interval for d and returns how long
// each took and how many failed (status not in ok).
func latencies(d, interval time.Duration, req func() (int, error), ok ...int) (took []time.Duration, failed []string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			status, err := req()
			el := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			took = append(took, el)
			if err != nil || !slices.Contains(ok, status) {
				failed = append(failed, fmt.Sprintf("%d %v", status, err))
			}
		}()
	}
	wg.Wait()
	return took, failed
}

func p99(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[(len(s)*99)/100]
}

// TestWarehouseSlow: a warehouse made slow (the test-only [debug] delay)
// does not slow the gateway's other routes; the warehouse's circuits open,
// the catalogue is served stale meanwhile, and when the warehouse recovers
// the circuits half-open and close.
func TestWarehouseSlow(t *testing.T) {
	whConf := copyConfig(t, "warehouse")
	s := startStack(t, map[string]map[string]string{
		"warehouse": {"CONFIG_PATH": whConf.path},
		"gateway": {
			"CLIENTS_WAREHOUSE_RPC_TIMEOUT":         "300ms",
			"CLIENTS_WAREHOUSE_BREAKER_MIN_SAMPLES": "10",
			"CLIENTS_WAREHOUSE_BREAKER_COOLING":     "2s",
			"LIMITS_PER_IP_RATE":                    "0",
			"LIMITS_GLOBAL_RATE":                    "0",
		},
	})
	a := api{t, s.GatewayURL}
	admin := a.login(adminUser, adminWire)
	if r := a.do("GET", "/restful/products", "", nil); r.Status != http.StatusOK {
		t.Fatalf("products: %d", r.Status)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	get := func(path, token string) (int, error) {
		req, _ := http.NewRequest("GET", s.GatewayURL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	// Warehouse traffic in the background, other traffic measured: the
	// same fixed rates in both phases.
	var n int
	var nmu sync.Mutex
	warehouseReq := func() (int, error) {
		nmu.Lock()
		n++
		i := n
		nmu.Unlock()
		if i%3 == 0 {
			return get("/restful/advertisements", "")
		}
		return get("/restful/products/"+strconv.Itoa(i%8+1), "")
	}
	accountReq := func() (int, error) { return get("/restful/accounts/icyfenix", admin) }
	phase := func(name string) (other, wh []time.Duration) {
		t.Helper()
		var whFailed []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			wh, whFailed = latencies(4*time.Second, 25*time.Millisecond, warehouseReq, http.StatusOK)
		}()
		other, failed := latencies(4*time.Second, 50*time.Millisecond, accountReq, http.StatusOK)
		<-done
		if len(failed) > 0 || len(whFailed) > 0 {
			t.Fatalf("%s: failed account reads %v, failed catalogue reads %v", name, failed, whFailed)
		}
		t.Logf("%s: account reads p99 %v (%d), catalogue reads p99 %v (%d)", name, p99(other), len(other), p99(wh), len(wh))
		return other, wh
	}

	base, _ := phase("healthy")

	whConf.edit(`delay = "0s"`, `delay = "2s"`)
	eventually(t, 15*time.Second, "the warehouse turns slow", func() bool {
		r := a.do("GET", "/restful/products/1", "", nil)
		return r.Header.Get(staleHeader) == "true"
	})
	slow, whSlow := phase("warehouse slow")

	// The other routes did not notice (generous: -race binaries on a
	// shared 2-core machine), and the catalogue never waited for the
	// warehouse longer than its 300ms timeout and some scheduling.
	if limit := 2*p99(base) + 150*time.Millisecond; p99(slow) > limit {
		t.Errorf("account reads p99 %v with the warehouse slow, %v before (limit %v)", p99(slow), p99(base), limit)
	}
	if p := p99(whSlow); p > time.Second {
		t.Errorf("catalogue reads p99 %v with a 300ms warehouse timeout", p)
	}

	// The circuits open once enough of the last 10s of calls failed;
	// the healthy phase's successes are still in that window, so keep
	// the traffic going until they do.
	var opened []string
	eventually(t, 30*time.Second, "a warehouse circuit opens", func() bool {
		for range 10 {
			_, _ = warehouseReq()
		}
		opened = warehouseCircuits(gatewayState(t, s))
		return len(opened) > 0
	})
	st := gatewayState(t, s)
	t.Logf("open circuits: %v; stale answers so far %d; bulkheads %+v", opened, st.StaleServed, st.Bulkheads)

	// Recovery: the circuits let probes through after the cooling time
	// (half-open), the probes succeed, the circuits close.
	whConf.edit(`delay = "2s"`, `delay = "0s"`)
	eventually(t, 30*time.Second, "the warehouse circuits close", func() bool {
		for range 3 {
			_, _ = warehouseReq()
		}
		return len(warehouseCircuits(gatewayState(t, s))) == 0
	})
	st = gatewayState(t, s)
	for _, b := range opened {
		seq := st.transitions(b)
		i := slices.Index(seq, "closed>open")
		j := slices.Index(seq, "open>half-open")
		if i < 0 || j < i || seq[len(seq)-1] != "half-open>closed" {
			t.Errorf("breaker %s went %v; want closed>open, then open>half-open, ending half-open>closed", b, seq)
		}
	}
	if r := a.do("GET", "/restful/products/1", "", nil); r.Status != http.StatusOK || r.Header.Get(staleHeader) != "" {
		t.Fatalf("after recovery: %d stale=%q", r.Status, r.Header.Get(staleHeader))
	}
}

// TestRateLimits: a burst above the per-IP limit gets 429s with
// Retry-After and the contract's body, traffic below it gets none, and the
// limits change live when the config file does.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	gwConf := copyConfig(t, "gateway",
		`per_ip_rate = \d+`, `per_ip_rate = 20`,
		`per_ip_burst = \d+`, `per_ip_burst = 20`,
		`client_ip_header = ""`, `client_ip_header = "X-Forwarded-For"`)
	s := startStack(t, map[string]map[string]string{"gateway": {"CONFIG_PATH": gwConf.path}})

	client := &http.Client{Timeout: 30 * time.Second}
	get := func(ip string) response {
		req, _ := http.NewRequest("GET", s.GatewayURL+"/restful/advertisements", nil)
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return response{}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	}
	burst := func(ip string, n int) (limited []response) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := get(ip)
				if r.Status == http.StatusTooManyRequests {
					mu.Lock()
					limited = append(limited, r)
					mu.Unlock()
				} else if r.Status != http.StatusOK {
					t.Errorf("burst from %s: %d %s", ip, r.Status, r.Body)
				}
			}()
		}
		wg.Wait()
		return limited
	}

	// Below the limit: 10 a second against 20 a second, none refused.
	for i := range 25 {
		if r := get("198.51.100.1"); r.Status != http.StatusOK {
			t.Fatalf("request %d at half the limit: %d %s", i, r.Status, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A burst of 80 against a bucket of 20.
	limited := burst("198.51.100.2", 80)
	if len(limited) < 30 {
		t.Fatalf("%d of 80 refused, want most of those beyond the burst of 20", len(limited))
	}
	for _, r := range limited {
		ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || ra < 1 {
			t.Fatalf("429 with Retry-After %q", r.Header.Get("Retry-After"))
		}
		if string(r.Body) != `{"code":1,"message":"请求过于频繁，请稍后重试"}` {
			t.Fatalf("429 body %s", r.Body)
		}
	}
	// Other clients are not affected by one client's burst.
	if r := get("198.51.100.3"); r.Status != http.StatusOK {
		t.Fatalf("another client after the burst: %d", r.Status)
	}

	// Raised live: the same burst passes once the gateway has reloaded.
	gwConf.edit(`per_ip_rate = 20`, `per_ip_rate = 1000`, `per_ip_burst = 20`, `per_ip_burst = 1000`)
	ip := 10
	eventually(t, 15*time.Second, "the raised limit applies", func() bool {
		ip++
		return len(burst("198.51.100."+strconv.Itoa(ip), 80)) == 0
	})

	// A global limit, set live, binds all clients together.
	gwConf.edit(`global_rate = \d+`, `global_rate = 5`, `global_burst = \d+`, `global_burst = 5`)
	eventually(t, 15*time.Second, "the global limit applies", func() bool {
		ip++
		return len(burst("203.0.113."+strconv.Itoa(ip), 30)) >= 20
	})
	if st := gatewayState(t, s); st.RateLimited == 0 {
		t.Fatalf("the gateway counted no refusals: %+v", st)
	}
}
