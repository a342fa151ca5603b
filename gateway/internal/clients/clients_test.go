package clients

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/server"

	"example.com/bookstore/common/rpcclient"
	cserver "example.com/bookstore/common/server"
	"example.com/bookstore/gateway/internal/bulkhead"
	"example.com/bookstore/gateway/internal/config"
	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
)

// fakeWarehouse answers the two calls these tests make, after an optional
// delay, and counts them. The embedded interface stands in for the methods
// no test calls.
type fakeWarehouse struct {
	warehouse.WarehouseService
	delay   atomic.Int64 // nanoseconds
	gets    atomic.Int64
	updates atomic.Int64
}

func (f *fakeWarehouse) wait(ctx context.Context) {
	if d := time.Duration(f.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
}

func (f *fakeWarehouse) GetProduct(ctx context.Context, req *warehouse.ProductIdRequest) (*warehouse.Product, error) {
	f.gets.Add(1)
	f.wait(ctx)
	return &warehouse.Product{Id: req.Id, Title: "book"}, nil
}

func (f *fakeWarehouse) UpdateProduct(ctx context.Context, req *warehouse.ProductRequest) (*warehouse.Product, error) {
	f.updates.Add(1)
	f.wait(ctx)
	return req.Product, nil
}

func startWarehouse(t *testing.T, f *fakeWarehouse) string {
	t.Helper()
	return startWarehouseAt(t, f, "127.0.0.1:0").Addr().String()
}

// startWarehouseAt serves f on addr until the test ends (or the test shuts
// the server down itself).
func startWarehouseAt(t *testing.T, f *fakeWarehouse, addr string) *cserver.Service {
	t.Helper()
	svc, err := cserver.Start(cserver.Config{Addr: addr, AdminAddr: "127.0.0.1:0"}, nil, nil,
		func(opts []server.Option) server.Server { return warehouseservice.NewServer(f, opts...) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = svc.Shutdown(ctx)
	})
	return svc
}

// dropFirst is a TCP proxy to backend that, on its first n connections,
// reads the first call and hangs up without an answer: the call was sent
// and may have run, as when the server dies or closes an idle pooled
// connection under it.
func dropFirst(t *testing.T, n int, backend string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	track := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			track(c)
			if i < n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _ = c.Read(make([]byte, 1))
					c.Close()
				}()
				continue
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			track(b)
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(b, c); b.Close() }()
			go func() { defer wg.Done(); _, _ = io.Copy(c, b); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func newSet(t *testing.T, wh rpcclient.Config, g Guards, extra ...rpcclient.Option) *Set {
	t.Helper()
	// The other two are never called; any address will do.
	cfg := config.Clients{Account: rpcclient.Config{Addr: "127.0.0.1:1"}, Warehouse: wh, Payment: rpcclient.Config{Addr: "127.0.0.1:1"}}
	s, err := New(cfg, func() config.Clients { return cfg }, g, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReadsAreRetriedWritesAreNot: a call whose connection breaks is sent
// again when it is a read, and not when it is a write.
func TestReadsAreRetriedWritesAreNot(t *testing.T) {
	f := &fakeWarehouse{}
	backend := startWarehouse(t, f)
	ctx := context.Background()

	reads := newSet(t, rpcclient.Config{Addr: dropFirst(t, 1, backend), RPCTimeout: 5 * time.Second}, Guards{})
	p, err := reads.Warehouse.GetProduct(ctx, &warehouse.ProductIdRequest{Id: 7}, reads.Opts(Warehouse)...)
	if err != nil || p.GetId() != 7 {
		t.Fatalf("read over a broken connection: %v %v", p, err)
	}

	// The same read with retries switched off fails: the retry was ours.
	noRetry := newSet(t, rpcclient.Config{Addr: dropFirst(t, 1, backend), RPCTimeout: 5 * time.Second, MaxRetries: -1}, Guards{})
	if _, err := noRetry.Warehouse.GetProduct(ctx, &warehouse.ProductIdRequest{Id: 7}, noRetry.Opts(Warehouse)...); err == nil {
		t.Fatal("read over a broken connection succeeded with retries off")
	}

	writes := newSet(t, rpcclient.Config{Addr: dropFirst(t, 1, backend), RPCTimeout: 5 * time.Second}, Guards{})
	_, err = writes.Warehouse.UpdateProduct(ctx, &warehouse.ProductRequest{Product: &warehouse.Product{Id: 7}}, writes.Opts(Warehouse)...)
	if err == nil {
		t.Fatal("a write over a broken connection succeeded: it was retried")
	}
	if n := f.updates.Load(); n != 0 {
		t.Fatalf("the warehouse saw %d updates", n)
	}
	// The next write gets a fresh connection and goes through once.
	if _, err := writes.Warehouse.UpdateProduct(ctx, &warehouse.ProductRequest{Product: &warehouse.Product{Id: 7}}, writes.Opts(Warehouse)...); err != nil {
		t.Fatal(err)
	}
	if n := f.updates.Load(); n != 1 {
		t.Fatalf("the warehouse saw %d updates, want 1", n)
	}
}

// TestBreakerOpensHalfOpensCloses drives one method's circuit through its
// states with a slow warehouse that recovers.
func TestBreakerOpensHalfOpensCloses(t *testing.T) {
	f := &fakeWarehouse{}
	br := rpcclient.NewBreakers()
	s := newSet(t, rpcclient.Config{
		Addr: startWarehouse(t, f), RPCTimeout: 100 * time.Millisecond,
		BreakerMinSamples: 5, BreakerCooling: 300 * time.Millisecond,
	}, Guards{Breakers: br})
	ctx := context.Background()
	get := func() (time.Duration, error) {
		start := time.Now()
		_, err := s.Warehouse.GetProduct(ctx, &warehouse.ProductIdRequest{Id: 1}, s.Opts(Warehouse)...)
		return time.Since(start), err
	}

	f.delay.Store(int64(time.Second))
	var err error
	for i := 0; i < 20 && !errors.Is(err, kerrors.ErrCircuitBreak); i++ {
		_, err = get()
	}
	if !errors.Is(err, kerrors.ErrCircuitBreak) {
		t.Fatalf("no open circuit after 20 timeouts: %v", err)
	}
	if state := br.NotClosed()["warehouse.GetProduct"]; state != "open" {
		t.Fatalf("breaker state %q: %v", state, br.NotClosed())
	}
	// While open, calls fail at once and never reach the warehouse.
	before := f.gets.Load()
	if d, err := get(); !errors.Is(err, kerrors.ErrCircuitBreak) || d > 50*time.Millisecond {
		t.Fatalf("call on an open circuit: %v after %v", err, d)
	}
	if f.gets.Load() != before {
		t.Fatal("a call on an open circuit reached the warehouse")
	}

	// The warehouse recovers; after the cooling time probes get through
	// and the circuit closes.
	f.delay.Store(0)
	deadline := time.Now().Add(10 * time.Second)
	for br.NotClosed()["warehouse.GetProduct"] != "" && time.Now().Before(deadline) {
		_, _ = get()
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := get(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	var seq []string
	for _, tr := range br.Transitions() {
		if tr.Breaker == "warehouse.GetProduct" {
			seq = append(seq, tr.From+">"+tr.To)
		}
	}
	want := []string{"closed>open", "open>half-open", "half-open>closed"}
	if len(seq) < 3 || seq[0] != want[0] || seq[len(seq)-2] != want[1] || seq[len(seq)-1] != want[2] {
		t.Fatalf("transitions %v, want %v (half-open may fail back to open in between)", seq, want)
	}
}

// TestBulkheadRejectsWithoutTripping: a full compartment fails calls at
// once, and those refusals do not count against the warehouse's health.
func TestBulkheadRejectsWithoutTripping(t *testing.T) {
	f := &fakeWarehouse{}
	f.delay.Store(int64(300 * time.Millisecond))
	br := rpcclient.NewBreakers()
	bh := bulkhead.New(func(string) int { return 1 })
	s := newSet(t, rpcclient.Config{Addr: startWarehouse(t, f), RPCTimeout: 5 * time.Second, BreakerMinSamples: 2}, Guards{Breakers: br, Bulkheads: bh})
	ctx := context.Background()

	slow := make(chan error, 1)
	go func() {
		_, err := s.Warehouse.GetProduct(ctx, &warehouse.ProductIdRequest{Id: 1}, s.Opts(Warehouse)...)
		slow <- err
	}()
	for bh.Stats()["warehouse"].InFlight == 0 {
		time.Sleep(time.Millisecond)
	}
	for range 5 {
		start := time.Now()
		_, err := s.Warehouse.GetProduct(ctx, &warehouse.ProductIdRequest{Id: 1}, s.Opts(Warehouse)...)
		if !errors.Is(err, kerrors.ErrOverlimit) || time.Since(start) > 100*time.Millisecond {
			t.Fatalf("call into a full bulkhead: %v after %v", err, time.Since(start))
		}
	}
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if st := bh.Stats()["warehouse"]; st.Rejected != 5 || st.Peak != 1 {
		t.Fatalf("bulkhead %+v", st)
	}
	if len(br.Transitions()) != 0 {
		t.Fatalf("bulkhead refusals tripped a breaker: %v", br.Transitions())
	}
}

// TestReplicasShareCallsAsTheyComeAndGo: the warehouse's name resolves to
// its replicas' addresses, as a headless Service's does. Under steady load,
// a replica that appears in the answer gets calls, and one that leaves it
// and shuts down gets none, and no call fails. Only DNS is stood in for;
// the two warehouses are Kitex servers on 127.0.0.1 and 127.0.0.2.
func TestReplicasShareCallsAsTheyComeAndGo(t *testing.T) {
	a, b := &fakeWarehouse{}, &fakeWarehouse{}
	srvA := startWarehouseAt(t, a, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(srvA.Addr().String())
	startWarehouseAt(t, b, net.JoinHostPort("127.0.0.2", port))

	var (
		mu  sync.Mutex
		ips = []string{"127.0.0.1"}
	)
	answer := func(set ...string) {
		mu.Lock()
		defer mu.Unlock()
		ips = set
	}
	lookup := func(_ context.Context, host string) ([]string, error) {
		if host != "warehouse.test" {
			return nil, errors.New("no such host " + host)
		}
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(ips), nil
	}
	const interval = 50 * time.Millisecond
	s := newSet(t, rpcclient.Config{Addr: "warehouse.test:" + port, ResolveInterval: interval}, Guards{}, rpcclient.WithLookup(lookup))

	// Four callers in a loop: their connections stay busy, so nothing is
	// ever idle long enough to be closed and dialled again.
	var (
		wg      sync.WaitGroup
		failed  atomic.Int64
		lastErr atomic.Value
		stop    = make(chan struct{})
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Warehouse.GetProduct(context.Background(), &warehouse.ProductIdRequest{Id: 1}, s.Opts(Warehouse)...); err != nil {
					failed.Add(1)
					lastErr.Store(err)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	// waitFor waits until f's calls grow, or fails the test.
	waitFor := func(what string, f *fakeWarehouse) {
		t.Helper()
		from := f.gets.Load()
		deadline := time.Now().Add(5 * time.Second)
		for f.gets.Load() < from+100 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d calls in 5s", what, f.gets.Load()-from)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("the first replica", a)
	if n := b.gets.Load(); n != 0 {
		t.Fatalf("the second replica got %d calls before it was in the answer", n)
	}

	// Scale up: the new replica gets calls within a few intervals.
	answer("127.0.0.1", "127.0.0.2")
	waitFor("the added replica", b)
	waitFor("the first replica alongside it", a)

	// Scale down: the first leaves the answer, as a terminating pod leaves
	// its Service's endpoints, and then shuts down.
	answer("127.0.0.2")
	time.Sleep(4 * interval)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srvA.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	gone := a.gets.Load()
	waitFor("the remaining replica", b)
	if n := a.gets.Load() - gone; n != 0 {
		t.Fatalf("the removed replica got %d calls after it shut down", n)
	}
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d calls failed, the last with %v", n, lastErr.Load())
	}
	t.Logf("calls: first replica %d, second %d", a.gets.Load(), b.gets.Load())
}
