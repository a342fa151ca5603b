package ratelimit

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/hertz/pkg/route"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// limiter returns a limiter on a fake clock whose limits the test sets.
func limiter(l Limits) (*Limiter, *clock, *Limits) {
	cur := l
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	lim := New(func() Limits { return cur })
	lim.now = clk.Now
	return lim, clk, &cur
}

func allowN(l *Limiter, ip string, n int) (allowed int) {
	for range n {
		if ok, _ := l.Allow(netip.MustParseAddr(ip)); ok {
			allowed++
		}
	}
	return allowed
}

func TestPerIPBucket(t *testing.T) {
	l, clk, _ := limiter(Limits{PerIPRate: 10, PerIPBurst: 5})
	if got := allowN(l, "10.0.0.1", 8); got != 5 {
		t.Fatalf("burst of 8 against a bucket of 5: %d allowed", got)
	}
	ok, wait := l.Allow(netip.MustParseAddr("10.0.0.1"))
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("empty bucket: ok=%v wait=%v, want a refusal with a wait of at most one token (100ms)", ok, wait)
	}
	// Another client has its own bucket.
	if got := allowN(l, "10.0.0.2", 5); got != 5 {
		t.Fatalf("second client: %d of 5 allowed", got)
	}
	// 10 tokens a second: after 300ms three more.
	clk.Advance(300 * time.Millisecond)
	if got := allowN(l, "10.0.0.1", 5); got != 3 {
		t.Fatalf("after 300ms: %d allowed, want 3", got)
	}
	// The bucket never holds more than the burst.
	clk.Advance(time.Hour)
	if got := allowN(l, "10.0.0.1", 10); got != 5 {
		t.Fatalf("after an hour: %d allowed, want the burst of 5", got)
	}
	if l.Rejected() == 0 {
		t.Fatal("refusals not counted")
	}
}

// TestBelowTheRate: a client that stays under its rate is never refused.
func TestBelowTheRate(t *testing.T) {
	l, clk, _ := limiter(Limits{PerIPRate: 20, PerIPBurst: 2, GlobalRate: 100})
	for i := range 1000 {
		if ok, _ := l.Allow(netip.MustParseAddr("10.0.0.1")); !ok {
			t.Fatalf("request %d at 19/s refused", i)
		}
		clk.Advance(time.Second / 19)
	}
}

func TestGlobalBucket(t *testing.T) {
	l, _, _ := limiter(Limits{GlobalRate: 10, GlobalBurst: 4})
	got := allowN(l, "10.0.0.1", 3) + allowN(l, "10.0.0.2", 3)
	if got != 4 {
		t.Fatalf("global burst of 4 shared by two clients: %d allowed", got)
	}
	// A refusal by the global bucket costs the client's own bucket nothing.
	l, _, cur := limiter(Limits{PerIPRate: 10, PerIPBurst: 3, GlobalRate: 10, GlobalBurst: 1})
	allowN(l, "10.0.0.10", 1)
	allowN(l, "10.0.0.11", 3)
	cur.GlobalRate = 0
	if got := allowN(l, "10.0.0.11", 5); got != 3 {
		t.Fatalf("client refused by the global bucket lost its tokens: %d of 3 allowed", got)
	}
}

func TestLimitsChangeLive(t *testing.T) {
	l, clk, cur := limiter(Limits{PerIPRate: 1, PerIPBurst: 1})
	if got := allowN(l, "10.0.0.10", 10); got != 1 {
		t.Fatalf("tight: %d allowed", got)
	}
	*cur = Limits{PerIPRate: 1000, PerIPBurst: 100}
	clk.Advance(time.Second)
	if got := allowN(l, "10.0.0.10", 100); got != 100 {
		t.Fatalf("raised: %d of 100 allowed", got)
	}
	*cur = Limits{}
	if got := allowN(l, "10.0.0.10", 1000); got != 1000 {
		t.Fatalf("disabled: %d of 1000 allowed", got)
	}
}

func TestSweep(t *testing.T) {
	l, clk, _ := limiter(Limits{PerIPRate: 10, PerIPBurst: 10})
	for i := range maxIdleBuckets {
		l.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	clk.Advance(2 * time.Second) // every bucket is full again
	l.Allow(netip.MustParseAddr("2001:db8::1"))
	if n := len(l.perIP); n != 1 {
		t.Fatalf("%d buckets after the sweep, want only the newcomer's", n)
	}
}

func TestMiddleware(t *testing.T) {
	l, _, cur := limiter(Limits{PerIPRate: 1, PerIPBurst: 2, ClientIPHeader: "X-Forwarded-For"})
	e := route.NewEngine(config.NewOptions([]config.Option{server.WithDisablePrintRoute(true)}))
	e.Use(l.Middleware())
	e.GET("/x", func(_ context.Context, c *app.RequestContext) { c.String(http.StatusOK, "ok") })

	get := func(xff string) *ut.ResponseRecorder {
		return ut.PerformRequest(e, "GET", "/x", nil, ut.Header{Key: "X-Forwarded-For", Value: xff})
	}
	for range 2 {
		if w := get("203.0.113.7, 10.0.0.1"); w.Code != http.StatusOK {
			t.Fatalf("within the burst: %d", w.Code)
		}
	}
	w := get("203.0.113.7")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the limit: %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["code"] != float64(1) || body["message"] != MsgTooMany || len(body) != 2 {
		t.Fatalf("429 body %s (%v)", w.Body.Bytes(), err)
	}
	// The header names the client: another address has its own bucket.
	if w := get("203.0.113.8"); w.Code != http.StatusOK {
		t.Fatalf("another client: %d", w.Code)
	}
	// Without the setting the header is ignored (anyone can forge it): all
	// three "clients" are the one TCP peer.
	cur.ClientIPHeader = ""
	codes := []int{get("198.51.100.1").Code, get("198.51.100.2").Code, get("198.51.100.3").Code}
	if codes[0] != http.StatusOK || codes[1] != http.StatusOK || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("forged addresses without the setting: %v", codes)
	}
}

// TestClientIPIsTheTCPPeer: over real HTTP, each peer address has its own
// bucket (two loopback addresses, 127.0.0.1 and 127.0.0.2).
func TestClientIPIsTheTCPPeer(t *testing.T) {
	l, _, _ := limiter(Limits{PerIPRate: 1, PerIPBurst: 1})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.WithListener(ln), server.WithDisablePrintRoute(true))
	h.Use(l.Middleware())
	h.GET("/x", func(_ context.Context, c *app.RequestContext) { c.String(http.StatusOK, "ok") })
	go func() { _ = h.Run() }()
	t.Cleanup(func() { _ = h.Close() })

	from := func(src string) int {
		t.Helper()
		cl := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).DialContext}}
		defer cl.CloseIdleConnections()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			resp, err := cl.Get("http://" + ln.Addr().String() + "/x")
			if err == nil {
				resp.Body.Close()
				return resp.StatusCode
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
		}
	}
	if c := from("127.0.0.1"); c != http.StatusOK {
		t.Fatalf("first request from 127.0.0.1: %d", c)
	}
	if c := from("127.0.0.1"); c != http.StatusTooManyRequests {
		t.Fatalf("second request from 127.0.0.1: %d", c)
	}
	if c := from("127.0.0.2"); c != http.StatusOK {
		t.Fatalf("first request from 127.0.0.2: %d", c)
	}
}
