package service

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/gateway/internal/config"
)

// TestResilienceWiring checks that the protections are in the gateway's
// request path and read the live config: the rate limit, the per-route
// deadline, the stale catalogue and the admin view of their state.
func TestResilienceWiring(t *testing.T) {
	e := newEnv(t)
	set := func(edit func(*config.Config)) {
		cfg := *e.live.Load()
		edit(&cfg)
		e.live.Store(&cfg)
	}

	// Rate limit: off in the test config, then two requests a client.
	for range 5 {
		e.do("GET", "/restful/advertisements", "", "").is(t, 200, `[{"id":1,"image":"/static/carousel/fenix2.png","productId":8}]`)
	}
	set(func(c *config.Config) { c.Limits = config.Limits{PerIPRate: 0.5, PerIPBurst: 2} })
	e.do("GET", "/restful/advertisements", "", "")
	e.do("GET", "/restful/advertisements", "", "")
	r := e.do("GET", "/restful/advertisements", "", "")
	r.is(t, 429, `{"code":1,"message":"请求过于频繁，请稍后重试"}`)
	if ra := r.header.Get("Retry-After"); ra != "2" {
		t.Fatalf("Retry-After %q, want 2 (one token at 0.5/s)", ra)
	}
	set(func(c *config.Config) { c.Limits = config.Limits{} })

	// A route's deadline cuts a slow call short of the 3s RPC timeout.
	e.wh.setDelay("GetProduct", 2*time.Second)
	set(func(c *config.Config) {
		c.Resilience.Routes = []config.RouteTimeout{{Route: "GET /restful/products/:id", Timeout: 200 * time.Millisecond}}
	})
	start := time.Now()
	e.do("GET", "/restful/products/1", "", "").is(t, 503, `{"code":1,"message":"warehouse 服务暂不可用"}`)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a 200ms route deadline answered after %v", d)
	}
	e.wh.setDelay("GetProduct", 0)

	// The stale catalogue: a good answer is remembered and served, marked,
	// while the warehouse is unavailable.
	e.do("GET", "/restful/products", "", "").is(t, 200, "["+productJSON+"]")
	e.wh.setFail("ListProducts", rpcerr.New(rpcerr.Unavailable, "db down"))
	e.wh.setFail("GetProduct", rpcerr.New(rpcerr.Unavailable, "db down"))
	e.wh.setFail("ListAdvertisements", rpcerr.New(rpcerr.Unavailable, "db down"))
	r = e.do("GET", "/restful/products", "", "")
	r.is(t, 200, "["+productJSON+"]")
	if r.header.Get("X-Bookstore-Stale") != "true" {
		t.Fatalf("stale list not marked: %v", r.header)
	}
	e.do("GET", "/restful/products/1", "", "").is(t, 200, productJSON)
	e.do("GET", "/restful/advertisements", "", "").is(t, 200, `[]`)

	// The admin listener shows the state.
	res, err := http.Get("http://" + e.gw.AdminAddr().String() + "/debug/resilience")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct {
		RateLimited int64                     `json:"rate_limited"`
		StaleServed int64                     `json:"stale_served"`
		Bulkheads   map[string]map[string]any `json:"bulkheads"`
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.RateLimited != 1 || st.StaleServed != 3 || st.Bulkheads["warehouse"] == nil {
		t.Fatalf("debug/resilience %+v", st)
	}
}
