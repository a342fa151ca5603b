package e2e

// Tests that only a real Kubernetes cluster can answer: Service DNS,
// balancing over replicas, ConfigMap hot reload, rolling updates, pods and
// the database killed. They run against the store deployed by
// `make cluster-e2e` (hack/local-cluster), which sets CLUSTER_GATEWAY_URL and
// KUBECONFIG; everywhere else they skip.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/idl/kitex_gen/payment/paymentservice"
)

// cluster is the deployed store: its namespace and its gateway.
type cluster struct {
	t  *testing.T
	ns string
	a  api
}

func needCluster(t *testing.T) *cluster {
	t.Helper()
	if clusterURL == "" {
		t.Skip("cluster tests: set CLUSTER_GATEWAY_URL (and KUBECONFIG) to a deployed store; `make cluster-e2e` does")
	}
	ns := os.Getenv("CLUSTER_NAMESPACE")
	if ns == "" {
		ns = "bookstore"
	}
	return &cluster{t: t, ns: ns, a: api{t, clusterURL}}
}

// kubectl runs kubectl in the store's namespace and returns its stdout.
func (c *cluster) kubectl(args ...string) string {
	c.t.Helper()
	out, err := c.tryKubectl(args...)
	if err != nil {
		c.t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (c *cluster) tryKubectl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"-n", c.ns}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%w: %s", err, stderr.String())
	}
	return string(out), nil
}

type pod struct {
	Name     string
	UID      string
	IP       string
	Ready    bool
	Restarts int
}

// pods lists the running pods of one app (label app.kubernetes.io/name).
func (c *cluster) pods(app string) []pod {
	c.t.Helper()
	var list struct {
		Items []struct {
			Metadata struct {
				Name              string
				UID               string
				DeletionTimestamp *string
			}
			Status struct {
				Phase             string
				PodIP             string
				ContainerStatuses []struct {
					Ready        bool
					RestartCount int
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(c.kubectl("get", "pods", "-l", "app.kubernetes.io/name="+app, "-o", "json")), &list); err != nil {
		c.t.Fatal(err)
	}
	var pods []pod
	for _, it := range list.Items {
		if it.Status.Phase != "Running" || it.Metadata.DeletionTimestamp != nil {
			continue
		}
		p := pod{Name: it.Metadata.Name, UID: it.Metadata.UID, IP: it.Status.PodIP, Ready: true}
		for _, cs := range it.Status.ContainerStatuses {
			p.Ready = p.Ready && cs.Ready
			p.Restarts += cs.RestartCount
		}
		pods = append(pods, p)
	}
	return pods
}

func (c *cluster) rollout(kind string) {
	c.t.Helper()
	c.kubectl("rollout", "status", kind, "--timeout=300s")
}

// metricSum adds up every sample of one counter on a pod's admin /metrics.
func metricSum(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// TestClusterDiscovery: the gateway finds the services by their Service DNS
// names alone, and those names resolve in the cluster's DNS to the ready
// pods behind them.
func TestClusterDiscovery(t *testing.T) {
	c := needCluster(t)
	env := c.kubectl("get", "deployment/gateway", "-o", `jsonpath={range .spec.template.spec.containers[0].env[*]}{.name}={.value}{"\n"}{end}`)
	want := map[string]string{
		"CLIENTS_ACCOUNT_ADDR": "account:8810", "CLIENTS_WAREHOUSE_ADDR": "warehouse:8820", "CLIENTS_PAYMENT_ADDR": "payment:8830",
	}
	for k, v := range want {
		if !strings.Contains(env, k+"="+v+"\n") {
			t.Errorf("gateway env: want %s=%s, have:\n%s", k, v, env)
		}
	}
	// No client address is an IP: the Service names are all there is.
	if ip := regexp.MustCompile(`(?m)^CLIENTS_\w+=\d+\.\d+\.\d+\.\d+`).FindString(env); ip != "" {
		t.Errorf("gateway env names an IP address (%s): discovery must be by name", ip)
	}

	// The names the services use, through the cluster's DNS server (the
	// one the kubelet gives every pod).
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "udp", clusterDNS(t)+":53")
	}}
	// The three RPC services are headless: their names resolve to every
	// ready pod, which the clients balance over. The gateway, reached from
	// outside through its NodePort, keeps a cluster IP.
	for _, svc := range []string{"account", "warehouse", "payment", "gateway"} {
		clusterIP := strings.TrimSpace(c.kubectl("get", "service", svc, "-o", "jsonpath={.spec.clusterIP}"))
		var want []string
		if svc == "gateway" {
			want = []string{clusterIP}
		} else {
			if clusterIP != "None" {
				t.Errorf("Service %s has cluster IP %s, want headless", svc, clusterIP)
			}
			for _, p := range c.pods(svc) {
				if p.Ready {
					want = append(want, p.IP)
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		addrs, err := resolver.LookupHost(ctx, svc+"."+c.ns+".svc.cluster.local")
		cancel()
		slices.Sort(addrs)
		slices.Sort(want)
		if err != nil || !slices.Equal(addrs, want) {
			t.Errorf("%s.%s.svc.cluster.local = %v (%v), want %v", svc, c.ns, addrs, err, want)
		}
	}

	// And the gateway reaches all three through those names.
	admin := c.a.login(adminUser, adminWire) // account
	if r := c.a.do("GET", "/restful/products/1", "", nil); r.Status != http.StatusOK {
		t.Errorf("product via warehouse: %d %s", r.Status, r.Body)
	}
	p := settle(t, c.a, admin, 8, 1) // payment, then warehouse from payment
	c.a.expectOK(c.a.do("PATCH", "/restful/pay/"+p["payId"].(string)+"?state=CANCEL", admin, nil))
}

// clusterDNS is the DNS server the kubelet hands to pods (CLUSTER_DNS, or
// the gateway URL's host: the local cluster serves DNS on the node's IP).
func clusterDNS(t *testing.T) string {
	if s := os.Getenv("CLUSTER_DNS"); s != "" {
		return s
	}
	host := strings.TrimPrefix(clusterURL, "http://")
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	t.Fatalf("cannot tell the cluster DNS server from %s; set CLUSTER_DNS", clusterURL)
	return ""
}

// TestClusterWarehouseReplicas: with two warehouse pods, warehouse traffic
// through the gateway reaches both and is shared between them (RPCs counted
// on each pod's /metrics). The traffic is stock reads: the gateway answers
// repeated catalogue reads from memory (http.catalogue_ttl), stock reads
// always reach a warehouse.
//
// A pod that became ready moments ago may not be in the gateway's list yet:
// the gateway resolves the headless Service again every resolve_interval
// (5s), and CoreDNS answers may be 5s old. So the test sends rounds of
// reads until every pod has served some, within 30s, and then one more round
// that every pod must have a fair share of.
func TestClusterWarehouseReplicas(t *testing.T) {
	c := needCluster(t)
	pods := c.pods("warehouse")
	if len(pods) < 2 {
		t.Fatalf("want at least 2 warehouse pods, have %v", pods)
	}
	const metric = "bookstore_rpc_server_requests_total"
	served := func() map[string]float64 {
		out := map[string]float64{}
		for _, p := range pods {
			out[p.Name] = metricSum(t, "http://"+net.JoinHostPort(p.IP, "9820")+"/metrics", metric)
		}
		return out
	}
	admin := c.a.login(adminUser, adminWire)
	// A round stays within one gateway pod's per-client-IP burst (200; all
	// the test's requests come from one address), and the pause between
	// rounds refills it (100/s).
	const workers, each = 8, 20
	const pause = 2500 * time.Millisecond
	// round sends workers*each stock reads and returns the RPCs each pod
	// served meanwhile.
	round := func() map[string]float64 {
		before := served()
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range workers {
			wg.Go(func() {
				// A client per worker: its own connections to the gateway
				// pods, as separate browsers would have.
				cl := &http.Client{Timeout: 10 * time.Second}
				for i := range each {
					req, _ := http.NewRequest("GET", clusterURL+"/restful/products/stockpile/"+strconv.Itoa(1+i%8), nil)
					req.Header.Set("Authorization", "bearer "+admin)
					resp, err := cl.Do(req)
					if err != nil || resp.StatusCode != http.StatusOK {
						failed.Add(1)
					}
					if resp != nil {
						resp.Body.Close()
					}
				}
			})
		}
		wg.Wait()
		if failed.Load() != 0 {
			t.Errorf("%d of %d stock reads failed", failed.Load(), workers*each)
		}
		after := served()
		var total float64
		for name := range after {
			after[name] -= before[name]
			total += after[name]
		}
		if total < workers*each {
			t.Errorf("the pods served %.0f RPCs, want at least %d", total, workers*each)
		}
		return after
	}

	start := time.Now()
	seen := map[string]float64{}
	for rounds := 1; ; rounds++ {
		for name, n := range round() {
			seen[name] += n
		}
		missing := 0
		for _, p := range pods {
			if seen[p.Name] == 0 {
				missing++
			}
		}
		if missing == 0 {
			t.Logf("every warehouse pod served calls after %d round(s), %v", rounds, time.Since(start).Round(100*time.Millisecond))
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("after %d rounds in %v, %d of %d warehouse pods got no traffic: %v", rounds, time.Since(start).Round(time.Second), missing, len(pods), seen)
		}
		time.Sleep(pause)
	}
	time.Sleep(pause)
	last := round()
	var total float64
	for _, n := range last {
		total += n
	}
	for _, p := range pods {
		t.Logf("warehouse pod %s served %.0f of %.0f RPCs in the last round", p.Name, last[p.Name], total)
		if last[p.Name] < total/float64(len(pods))/2 {
			t.Errorf("warehouse pod %s served %.0f of %.0f RPCs: less than half its share", p.Name, last[p.Name], total)
		}
	}
}

// TestClusterLiveConfig: changing payment.expires in the payment ConfigMap
// reaches the running pods (kubelet updates the mounted file, the service's
// watch swaps the value) without a restart; seen in new settlements' expiry.
func TestClusterLiveConfig(t *testing.T) {
	c := needCluster(t)
	before := c.pods("payment")
	cm := strings.TrimSpace(c.kubectl("get", "deployment/payment", "-o",
		`jsonpath={.spec.template.spec.volumes[?(@.configMap)].configMap.name}`))
	if cm == "" {
		t.Fatal("payment has no ConfigMap volume")
	}
	raw := c.kubectl("get", "configmap", cm, "-o", "json")
	expires := regexp.MustCompile(`(?m)^expires = "([^"]*)"`)
	decode := func() (map[string]any, string) {
		var obj map[string]any
		if err := json.Unmarshal([]byte(raw), &obj); err != nil {
			t.Fatal(err)
		}
		toml := obj["data"].(map[string]any)["config.toml"].(string)
		if !expires.MatchString(toml) {
			t.Fatalf("no expires key in %s", cm)
		}
		return obj, toml
	}
	setExpires := func(v string) {
		obj, toml := decode()
		obj["data"].(map[string]any)["config.toml"] = expires.ReplaceAllString(toml, `expires = "`+v+`"`)
		delete(obj["metadata"].(map[string]any), "resourceVersion")
		b, _ := json.Marshal(obj)
		cmd := exec.Command("kubectl", "-n", c.ns, "apply", "--server-side", "--force-conflicts", "--field-manager=cluster-test", "-f", "-")
		cmd.Stdin = strings.NewReader(string(b))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apply %s: %v %s", cm, err, out)
		}
	}
	_, toml := decode()
	orig := expires.FindStringSubmatch(toml)[1]
	t.Cleanup(func() { setExpires(orig) })

	admin := c.a.login(adminUser, adminWire)
	setExpires("97s")
	start := time.Now()
	// Both replicas must have it: several settlements in a row all show it.
	streak := 0
	eventually(t, 150*time.Second, "new settlements expire after 97 s", func() bool {
		p := settle(t, c.a, admin, 8, 1)
		c.a.expectOK(c.a.do("PATCH", "/restful/pay/"+p["payId"].(string)+"?state=CANCEL", admin, nil))
		if p["expires"] == 97000.0 {
			streak++
		} else {
			streak = 0
			time.Sleep(time.Second)
		}
		return streak >= 6
	})
	t.Logf("payment expiry 97s live on every pod %s after the ConfigMap change", time.Since(start).Round(time.Second))
	after := c.pods("payment")
	if len(after) != len(before) {
		t.Fatalf("payment pods %v -> %v", before, after)
	}
	for i := range before {
		if after[i].UID != before[i].UID || after[i].Restarts != before[i].Restarts {
			t.Errorf("payment pod restarted or replaced: %+v -> %+v", before[i], after[i])
		}
	}
}

// load runs GETs against the gateway until stop is closed, counting
// requests and failures (transport errors and non-200s).
type load struct {
	total, failed atomic.Int64
	mu            sync.Mutex
	errs          []string
}

func (l *load) run(stop <-chan struct{}, workers int, paths []string) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Timeout: 15 * time.Second}
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := cl.Get(clusterURL + paths[i%len(paths)])
				l.total.Add(1)
				if err != nil || resp.StatusCode != http.StatusOK {
					l.failed.Add(1)
					l.mu.Lock()
					if len(l.errs) < 10 {
						if err != nil {
							l.errs = append(l.errs, err.Error())
						} else {
							l.errs = append(l.errs, resp.Status)
						}
					}
					l.mu.Unlock()
				}
				if resp != nil {
					resp.Body.Close()
				}
				// Each worker stays well under the gateway's per-client rate
				// limit (100/s per pod), so that a 429 is never the reason.
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	return &wg
}

// TestClusterRollingUpdate: rolling restarts of the gateway and of the
// warehouse while a load generator runs: no request fails.
func TestClusterRollingUpdate(t *testing.T) {
	c := needCluster(t)
	for _, dep := range []string{"gateway", "warehouse"} {
		t.Run(dep, func(t *testing.T) {
			c := &cluster{t: t, ns: c.ns, a: api{t, clusterURL}}
			before := c.pods(dep)
			var l load
			stop := make(chan struct{})
			wg := l.run(stop, 4, []string{"/restful/products", "/restful/products/1", "/restful/products/3", "/restful/advertisements"})
			time.Sleep(2 * time.Second)
			start := time.Now()
			c.kubectl("rollout", "restart", "deployment/"+dep)
			c.rollout("deployment/" + dep)
			took := time.Since(start)
			// Keep the load on until the old pods are gone: their preStop,
			// drain and shutdown are part of what must not fail a request.
			eventually(t, 2*time.Minute, "the old pods are gone", func() bool {
				out, err := c.tryKubectl("get", "pods", "-l", "app.kubernetes.io/name="+dep, "-o", "jsonpath={.items[*].metadata.uid}")
				for _, b := range before {
					if err != nil || strings.Contains(out, b.UID) {
						time.Sleep(500 * time.Millisecond)
						return false
					}
				}
				return true
			})
			time.Sleep(2 * time.Second)
			close(stop)
			wg.Wait()
			after := c.pods(dep)
			t.Logf("%s rolled %d -> %d pods in %s under load: %d requests, %d failed",
				dep, len(before), len(after), took.Round(time.Second), l.total.Load(), l.failed.Load())
			for _, a := range after {
				for _, b := range before {
					if a.UID == b.UID {
						t.Errorf("pod %s was not replaced", a.Name)
					}
				}
			}
			if l.failed.Load() != 0 || l.total.Load() == 0 {
				t.Errorf("%d of %d requests failed during the rollout: %v", l.failed.Load(), l.total.Load(), l.errs)
			}
		})
	}
}

// wallet reads account 1's wallet from a payment pod directly (the REST
// contract has no wallet endpoint).
func (c *cluster) wallet(accountID int64) float64 {
	c.t.Helper()
	var last error
	for range 60 {
		for _, p := range c.pods("payment") {
			if !p.Ready {
				continue
			}
			cli, err := paymentservice.NewClient("payment", rpcclient.Options(rpcclient.Config{Addr: net.JoinHostPort(p.IP, "8830")})...)
			if err != nil {
				c.t.Fatal(err)
			}
			ctx, err := auth.NewServiceTokens(auth.NewKeys(jwtKey), "e2e", time.Minute).Context(context.Background())
			if err != nil {
				c.t.Fatal(err)
			}
			w, err := cli.GetWallet(ctx, &payment.WalletRequest{AccountId: accountID})
			if err == nil {
				return w.Money
			}
			last = err
		}
		time.Sleep(time.Second)
	}
	c.t.Fatalf("wallet of %d: %v", accountID, last)
	return 0
}

// TestClusterPaymentPodKilled: every payment pod is deleted in the middle of
// a purchase; the flow ends in a consistent state: paid (wallet debited,
// stock shipped) or not (wallet intact, stock thawed once it expires).
func TestClusterPaymentPodKilled(t *testing.T) {
	c := needCluster(t)
	// Graceful: preStop, drain, in-flight calls finish. Forced: the pods die
	// at once (SIGKILL), as on a node failure.
	for _, mode := range []struct {
		name    string
		flags   []string
		product int
	}{
		{"graceful", nil, 8},
		{"forced", []string{"--grace-period=0", "--force"}, 8},
	} {
		t.Run(mode.name, func(t *testing.T) {
			c := &cluster{t: t, ns: c.ns, a: api{t, clusterURL}}
			paymentPodKilled(t, c, mode.product, mode.flags)
		})
	}
}

func paymentPodKilled(t *testing.T, c *cluster, product int, flags []string) {
	admin := c.a.login(adminUser, adminWire)
	amount0, frozen0 := stockOf(t, c.a, admin, product)
	w0 := c.wallet(1)
	p := settle(t, c.a, admin, product, 1)
	payID, price := p["payId"].(string), p["totalPrice"].(float64)
	if price > w0 {
		t.Fatalf("wallet %v cannot pay %v", w0, price)
	}
	killed := c.pods("payment")
	// Between settling (stock frozen, payment WAITING) and paying.
	c.kubectl(append(append([]string{"delete", "pod", "--wait=false"}, flags...), podNames(killed)...)...)

	// Pay as a user would: retry while the service is unavailable.
	var final response
	deadline := time.Now().Add(3 * time.Minute)
	for attempts := 1; ; attempts++ {
		final = c.a.do("PATCH", "/restful/pay/"+payID+"?state=PAYED", admin, nil)
		if final.Status == http.StatusOK || final.Status == http.StatusInternalServerError && strings.Contains(string(final.Body), "当前状态") {
			t.Logf("pay after %d attempt(s): %d %s", attempts, final.Status, final.Body)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment never settled: %d %s", final.Status, final.Body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	c.rollout("deployment/payment")
	paid := final.Status == http.StatusOK || strings.Contains(string(final.Body), "PAYED")
	wantAmount, wantWallet := amount0-1, w0-price
	if !paid {
		wantAmount, wantWallet = amount0, w0
	}
	eventually(t, 3*time.Minute, "stock and wallet add up", func() bool {
		a, f := stockOf(t, c.a, admin, product)
		return a == wantAmount && f == frozen0 && c.wallet(1) == wantWallet
	})
	after := c.pods("payment")
	t.Logf("payment pods %v replaced by %v; paid=%v; stock of %d back to {%v, %v}, wallet %v -> %v",
		podNames(killed), podNames(after), paid, product, wantAmount, frozen0, w0, wantWallet)
}

func podNames(ps []pod) []string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

// TestClusterMySQLRestart: the database pod is deleted; its data survives on
// the PersistentVolumeClaim and the services reconnect without restarting.
func TestClusterMySQLRestart(t *testing.T) {
	c := needCluster(t)
	name := fmt.Sprintf("pvc%09d", time.Now().UnixNano()%1e9)
	c.a.expectOK(c.a.do("POST", "/restful/accounts", "", map[string]any{
		"username": name, "password": adminWire, "name": name, "email": name + "@example.com",
		"telephone": "139" + name[3:11], "avatar": "", "location": "",
	}))
	services := map[string][]pod{}
	for _, s := range []string{"account", "warehouse", "payment", "gateway"} {
		services[s] = c.pods(s)
	}
	old := c.pods("mysql")
	c.kubectl("delete", "pod", "mysql-0")
	c.rollout("statefulset/mysql")
	eventually(t, 3*time.Minute, "the store serves again after the database restart", func() bool {
		r := c.a.do("GET", "/oauth/token?grant_type=password&client_id=bookstore_frontend&client_secret=bookstore_secret&username="+name+"&password="+strings.ReplaceAll(adminWire, "/", "%2F"), "", nil)
		if r.Status != http.StatusOK {
			time.Sleep(time.Second)
			return false
		}
		return true
	})
	if now := c.pods("mysql"); len(now) != 1 || len(old) != 1 || now[0].UID == old[0].UID {
		t.Errorf("mysql pod was not replaced: %v -> %v", old, now)
	}
	for s, before := range services {
		after := c.pods(s)
		for i := range before {
			if i >= len(after) || after[i].UID != before[i].UID || after[i].Restarts != before[i].Restarts {
				t.Errorf("%s restarted or replaced: %v -> %v", s, before, after)
				break
			}
		}
	}
	admin := c.a.login(adminUser, adminWire)
	if r := c.a.do("GET", "/restful/accounts/"+name, admin, nil); r.Status != http.StatusOK {
		t.Errorf("account %s after the restart: %d %s", name, r.Status, r.Body)
	}
}
