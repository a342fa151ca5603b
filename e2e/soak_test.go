package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/bookstore/common/db"
	"example.com/bookstore/e2e/stack"
)

// TestSoak runs mixed traffic (browse, login, settle, pay, cancel, let
// expire) at a fixed rate against the whole store built with -race, for
// SOAK (e.g. SOAK=5m; SOAK_RPS sets the rate, default 20). It is not part
// of `make test`:
//
//	SOAK=5m go test -run TestSoak -timeout 30m -v ./e2e/
//
// It fails on any 5xx, any data race, goroutines that grow, memory that
// does not stay flat, and stock that does not add up: for every product,
// amount + frozen + sold must equal the seed's 30.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set SOAK=5m (a duration) to run the soak")
	}
	rps := 20
	if v, err := strconv.Atoi(os.Getenv("SOAK_RPS")); err == nil && v > 0 {
		rps = v
	}

	raceBin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.Log("building the services with -race")
	if err := stack.Build(ctx, repoRoot, raceBin, true); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(os.TempDir(), fmt.Sprintf("bookstore-soak-%d.log", time.Now().Unix()))
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	races := &raceCounter{w: logFile}
	dataDir := filepath.Join(t.TempDir(), "data")
	s, err := stack.Start(ctx, stack.Options{
		Root: repoRoot, BinDir: raceBin, DataDir: dataDir, FreePorts: true,
		Log: stack.SyncWriter(races),
		Env: map[string]map[string]string{
			// Short expiry, so that abandoned payments time out (and
			// thaw) within the run.
			"payment": {"PAYMENT_EXPIRES": "15s", "PAYMENT_SWEEP_INTERVAL": "1s"},
			// bcrypt under -race takes a good part of a second of CPU;
			// on a shared machine a login can queue past the usual 3s.
			// The soak is about stability, not login latency.
			"gateway": {"CLIENTS_ACCOUNT_RPC_TIMEOUT": "10s"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping the stack: %v", err)
		}
		if n := races.n.Load(); n > 0 {
			t.Errorf("%d data races reported; see %s", n, logPath)
		}
		t.Logf("service logs: %s", logPath)
	})
	fundWallet(t, filepath.Join(dataDir, "payment.db"))

	a := api{t, s.GatewayURL}
	sk := &soak{t: t, base: s.GatewayURL, client: &http.Client{Timeout: 30 * time.Second}, sold: map[int]int{}, statuses: map[string]int{}}
	sk.token.Store(a.login(adminUser, adminWire))

	// Warm up, then take the baseline at rest.
	sk.run(20*time.Second, rps)
	time.Sleep(3 * time.Second)
	before := sample(t, s)

	start := time.Now()
	sk.run(d, rps)
	t.Logf("%v of traffic at %d/s: %d requests", time.Since(start).Round(time.Second), rps, sk.requests.Load())

	// Let the abandoned payments expire and every stock action land.
	var stock map[int][2]int
	eventually(t, 60*time.Second, "every reservation settled (nothing frozen)", func() bool {
		stock = stockAll(t, a, sk.token.Load().(string))
		for _, st := range stock {
			if st[1] != 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(3 * time.Second)
	after := sample(t, s)

	// The figures.
	keys := make([]string, 0, len(sk.statuses))
	for k := range sk.statuses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  %-44s %6d", k, sk.statuses[k])
	}
	t.Logf("settlements %d: paid %d, cancelled %d, abandoned %d", sk.settled.Load(), sk.paid.Load(), sk.cancelled.Load(), sk.abandoned.Load())
	for _, name := range stack.Names {
		b, e := before[name], after[name]
		t.Logf("%-9s goroutines %4d -> %4d   RSS %6.1f MiB -> %6.1f MiB", name, b.goroutines, e.goroutines, b.rssMiB, e.rssMiB)
		for _, g := range grown(b.stacks, e.stacks) {
			t.Logf("          %s", g)
		}
	}

	if n := sk.serverErrors.Load(); n > 0 {
		t.Errorf("%d answers were 5xx", n)
	}
	if n := sk.unexpected.Load(); n > 0 {
		t.Errorf("%d answers were neither success nor an expected refusal", n)
	}
	for _, name := range stack.Names {
		b, e := before[name], after[name]
		// At rest the same work is in flight (none): a few goroutines
		// of timers and pools may come and go, a leak per request
		// would be thousands.
		if e.goroutines > b.goroutines+10 {
			t.Errorf("%s: goroutines grew from %d to %d", name, b.goroutines, e.goroutines)
		}
		// The race detector's shadow memory makes RSS noisy; flat means
		// no growth with the number of requests served.
		if e.rssMiB > b.rssMiB*1.5+30 {
			t.Errorf("%s: RSS grew from %.1f to %.1f MiB", name, b.rssMiB, e.rssMiB)
		}
	}
	sk.mu.Lock()
	defer sk.mu.Unlock()
	for id := 1; id <= 8; id++ {
		st := stock[id]
		if st[0]+st[1]+sk.sold[id] != seedStock {
			t.Errorf("product %d: amount %d + frozen %d + sold %d != %d", id, st[0], st[1], sk.sold[id], seedStock)
		} else {
			t.Logf("product %d: amount %d + frozen %d + sold %d = %d", id, st[0], st[1], sk.sold[id], seedStock)
		}
	}
}

// raceCounter passes the services' output to w and counts race reports.
type raceCounter struct {
	w io.Writer
	n atomic.Int64
}

func (r *raceCounter) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("WARNING: DATA RACE")) {
		r.n.Add(1)
	}
	return r.w.Write(b)
}

// fundWallet gives the administrator's wallet enough for every purchase of
// the run (the seed's 300 would last a dozen), straight in the payment
// database: the contract has no way to top a wallet up.
func fundWallet(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gdb, err := db.Open(ctx, db.Config{Driver: "sqlite", DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(gdb)
	res := gdb.WithContext(ctx).Exec("UPDATE wallet SET money_cents = ? WHERE account_id = 1", int64(1e12))
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("funding the wallet: %v (%d rows)", res.Error, res.RowsAffected)
	}
}

type procSample struct {
	goroutines int
	rssMiB     float64
	stacks     map[string]int // goroutine stack -> how many
}

// sample reads every service's goroutine count (its admin pprof) and RSS.
func sample(t *testing.T, s *stack.Stack) map[string]procSample {
	t.Helper()
	out := map[string]procSample{}
	for _, name := range stack.Names {
		p := s.Proc(name)
		var ps procSample
		resp, err := http.Get("http://" + p.AdminAddr + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		ps.goroutines, ps.stacks = parseGoroutines(resp.Body)
		resp.Body.Close()
		if ps.goroutines == 0 {
			t.Fatalf("%s: no goroutine profile", name)
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(status), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				ps.rssMiB = kb / 1024
			}
		}
		out[name] = ps
	}
	return out
}

// parseGoroutines reads a debug=1 goroutine profile: the total and the
// count of each distinct stack (its function lines).
func parseGoroutines(r io.Reader) (int, map[string]int) {
	total, stacks := 0, map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var n int
	var frames []string
	flush := func() {
		if n > 0 {
			stacks[strings.Join(frames, " <- ")] += n
		}
		n, frames = 0, nil
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "goroutine profile: total "):
			total, _ = strconv.Atoi(strings.TrimPrefix(line, "goroutine profile: total "))
		case line == "":
			flush()
		case strings.HasPrefix(line, "#"):
			if f := strings.Fields(line); len(f) >= 3 {
				frames = append(frames, f[2])
			}
		default:
			if c, _, ok := strings.Cut(line, " @ "); ok {
				flush()
				n, _ = strconv.Atoi(c)
			}
		}
	}
	flush()
	return total, stacks
}

// grown lists the stacks that have more goroutines after than before.
func grown(before, after map[string]int) []string {
	var out []string
	for st, n := range after {
		if n > before[st] {
			out = append(out, fmt.Sprintf("+%d %s", n-before[st], st))
		}
	}
	sort.Strings(out)
	return out
}

// stockAll reads every product's stock: {amount, frozen}.
func stockAll(t *testing.T, a api, admin string) map[int][2]int {
	t.Helper()
	out := map[int][2]int{}
	for id := 1; id <= 8; id++ {
		amount, frozen := stockOf(t, a, admin, id)
		out[id] = [2]int{int(amount), int(frozen)}
	}
	return out
}

// soak is the traffic generator and its tally.
type soak struct {
	t      *testing.T
	base   string
	client *http.Client
	token  atomic.Value // the administrator's current access token

	requests, serverErrors, unexpected  atomic.Int64
	settled, paid, cancelled, abandoned atomic.Int64
	mu                                  sync.Mutex
	sold                                map[int]int // product -> copies paid for
	statuses                            map[string]int
}

// run starts one action every 1/rps seconds for d, and waits for them all.
func (sk *soak) run(d time.Duration, rps int) {
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rps))
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sk.action()
		}()
	}
	wg.Wait()
}

// action is one user step, drawn by weight.
func (sk *soak) action() {
	switch n := rand.IntN(100); {
	case n < 25:
		sk.call("GET", "/restful/products", "", nil)
	case n < 50:
		sk.call("GET", "/restful/products/"+strconv.Itoa(rand.IntN(8)+1), "", nil)
	case n < 65:
		sk.call("GET", "/restful/advertisements", "", nil)
	case n < 77:
		sk.call("GET", "/restful/accounts/icyfenix", sk.admin(), nil)
	case n < 94:
		sk.call("GET", "/restful/products/stockpile/"+strconv.Itoa(rand.IntN(8)+1), sk.admin(), nil)
	case n < 96:
		// A user logs in once a session; bcrypt under -race costs the
		// account service most of a core per login.
		sk.login()
	default:
		// Few enough that the 240 copies of the seed last the run.
		sk.purchase()
	}
}

func (sk *soak) admin() string { return sk.token.Load().(string) }

func (sk *soak) login() {
	q := url.Values{
		"username": {adminUser}, "password": {adminWire}, "grant_type": {"password"},
		"client_id": {"bookstore_frontend"}, "client_secret": {"bookstore_secret"},
	}
	status, body := sk.call("GET", "/oauth/token?"+q.Encode(), "", nil)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if status == http.StatusOK && json.Unmarshal(body, &tok) == nil && tok.AccessToken != "" {
		sk.token.Store(tok.AccessToken)
	}
}

// purchase settles a copy of a product, then pays (through the REST call
// or the anonymous link), cancels, or walks away.
func (sk *soak) purchase() {
	product, amount := rand.IntN(8)+1, 1
	status, body := sk.call("POST", "/restful/settlements", sk.admin(), map[string]any{
		"items": []map[string]any{{"id": product, "amount": amount}}, "purchase": purchase(),
	})
	var p struct {
		PayID       string `json:"payId"`
		PaymentLink string `json:"paymentLink"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &p) != nil || p.PayID == "" {
		return
	}
	sk.settled.Add(1)
	switch n := rand.IntN(100); {
	case n < 30:
		if status, _ := sk.call("PATCH", "/restful/pay/"+p.PayID+"?state=PAYED", sk.admin(), nil); status == http.StatusOK {
			sk.sale(product, amount)
		}
	case n < 55:
		if status, _ := sk.call("GET", "/restful"+p.PaymentLink, "", nil); status == http.StatusOK {
			sk.sale(product, amount)
		}
	case n < 90:
		if status, _ := sk.call("PATCH", "/restful/pay/"+p.PayID+"?state=CANCEL", sk.admin(), nil); status == http.StatusOK {
			sk.cancelled.Add(1)
		}
	default:
		sk.abandoned.Add(1)
	}
}

func (sk *soak) sale(product, amount int) {
	sk.paid.Add(1)
	sk.mu.Lock()
	defer sk.mu.Unlock()
	sk.sold[product] += amount
}

// call sends a request and tallies its answer by route and status. The
// only refusal a well-behaved client meets here is a product that sold
// out; anything else is unexpected.
func (sk *soak) call(method, path, token string, body any) (int, []byte) {
	sk.requests.Add(1)
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, sk.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "bearer "+token)
	}
	route := method + " " + routeOf(path)
	resp, err := sk.client.Do(req)
	if err != nil {
		sk.tally(route, "error")
		sk.unexpected.Add(1)
		sk.t.Logf("%s: %v", route, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sk.tally(route, strconv.Itoa(resp.StatusCode))
	switch {
	case resp.StatusCode >= 500:
		sk.serverErrors.Add(1)
		sk.t.Logf("%s: %d %s", route, resp.StatusCode, b)
	case resp.StatusCode >= 400 && !(route == "POST /restful/settlements" && bytes.Contains(b, []byte("商品库存不足"))):
		sk.unexpected.Add(1)
		sk.t.Logf("%s: %d %s", route, resp.StatusCode, b)
	}
	return resp.StatusCode, b
}

func (sk *soak) tally(route, status string) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	sk.statuses[route+" "+status]++
}

// routeOf names a path without its ids and query.
func routeOf(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if _, err := strconv.Atoi(p); err == nil || len(p) == 36 {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}
