package degrade

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/hertz/pkg/route"
)

const (
	jsonType = "application/json;charset=UTF-8"
	product1 = `{"id":1,"title":"深入理解Java虚拟机（第3版）","price":129.0,"specifications":[]}`
	product2 = `{"id":2,"title":"智慧的疆界","price":69.0,"specifications":[]}`
	list     = `[` + product1 + `,` + product2 + `]`
	down     = `{"code":1,"message":"warehouse 服务暂不可用"}`
)

// fixture is an engine whose catalogue handlers answer what the test says:
// the real answers while up, 503 while the warehouse is "down".
type fixture struct {
	e    *route.Engine
	k    *Catalogue
	down atomic.Bool
	now  time.Time
}

func newFixture() *fixture {
	f := &fixture{k: New(), e: route.NewEngine(config.NewOptions([]config.Option{server.WithDisablePrintRoute(true)})), now: time.Unix(1_700_000_000, 0)}
	f.k.now = func() time.Time { return f.now }
	f.e.Use(f.k.Middleware())
	answer := func(body string) app.HandlerFunc {
		return func(_ context.Context, c *app.RequestContext) {
			if f.down.Load() {
				c.Data(http.StatusServiceUnavailable, jsonType, []byte(down))
				return
			}
			switch {
			case body == "":
				c.SetStatusCode(http.StatusNoContent)
			case c.Param("id") == "1":
				c.Data(http.StatusOK, jsonType, []byte(product1))
			case c.Param("id") != "":
				c.SetStatusCode(http.StatusNoContent)
			default:
				c.Data(http.StatusOK, jsonType, []byte(body))
			}
		}
	}
	f.e.GET("/restful/products", answer(list))
	f.e.GET("/restful/products/:id", answer("one"))
	f.e.GET("/restful/advertisements", answer(`[{"id":1,"image":"/static/carousel/fenix2.png","productId":8}]`))
	f.e.PUT("/restful/products", answer(`{"code":0,"message":"操作已成功"}`))
	return f
}

func (f *fixture) get(path string) *ut.ResponseRecorder {
	return ut.PerformRequest(f.e, "GET", path, nil)
}

func TestStaleCatalogue(t *testing.T) {
	f := newFixture()
	// Nothing remembered yet: the outage shows.
	f.down.Store(true)
	if w := f.get("/restful/products"); w.Code != http.StatusServiceUnavailable || w.Header().Get(StaleHeader) != "" {
		t.Fatalf("no copy yet: %d %q", w.Code, w.Header().Get(StaleHeader))
	}

	f.down.Store(false)
	if w := f.get("/restful/products"); w.Code != http.StatusOK || w.Header().Get(StaleHeader) != "" {
		t.Fatalf("fresh list: %d, stale %q", w.Code, w.Header().Get(StaleHeader))
	}
	f.now = f.now.Add(42 * time.Second)
	f.down.Store(true)

	w := f.get("/restful/products")
	if w.Code != http.StatusOK || w.Body.String() != list || w.Header().Get(StaleHeader) != "true" || w.Header().Get("Age") != "42" {
		t.Fatalf("stale list: %d %s stale=%q age=%q", w.Code, w.Body.String(), w.Header().Get(StaleHeader), w.Header().Get("Age"))
	}
	if ct := string(w.Result().Header.ContentType()); ct != jsonType {
		t.Fatalf("stale content type %q", ct)
	}
	// The list also remembered each product, byte for byte.
	if w := f.get("/restful/products/2"); w.Code != http.StatusOK || w.Body.String() != product2 || w.Header().Get(StaleHeader) != "true" {
		t.Fatalf("product 2 from the list: %d %s", w.Code, w.Body.String())
	}
	// Advertisements degrade to an empty list.
	if w := f.get("/restful/advertisements"); w.Code != http.StatusOK || w.Body.String() != "[]" || w.Header().Get(StaleHeader) != "true" {
		t.Fatalf("ads while down: %d %s", w.Code, w.Body.String())
	}
	// A product never seen keeps its 503, and so does a write.
	if w := f.get("/restful/products/3"); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("unknown product while down: %d", w.Code)
	}
	if w := ut.PerformRequest(f.e, "PUT", "/restful/products", nil); w.Code != http.StatusServiceUnavailable || w.Body.String() != down {
		t.Fatalf("write while down: %d %s", w.Code, w.Body.String())
	}
	if f.k.Served() != 3 {
		t.Fatalf("served %d stale answers, want 3", f.k.Served())
	}
}

func TestDeletedProductIsForgotten(t *testing.T) {
	f := newFixture()
	f.get("/restful/products")
	// Product 2 is gone: its own read answers 204, and the copy goes.
	if w := f.get("/restful/products/2"); w.Code != http.StatusNoContent {
		t.Fatalf("deleted product: %d", w.Code)
	}
	f.down.Store(true)
	if w := f.get("/restful/products/2"); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("deleted product while down: %d %s", w.Code, w.Body.String())
	}
	if w := f.get("/restful/products/1"); w.Code != http.StatusOK || w.Body.String() != product1 {
		t.Fatalf("product 1 while down: %d %s", w.Code, w.Body.String())
	}
}

func TestBounded(t *testing.T) {
	k := New()
	for i := range maxEntries + 100 {
		k.remember("/restful/products/"+string(rune('a'+i)), routeProduct, []byte("{}"), jsonType)
	}
	if n := len(k.copies); n != maxEntries {
		t.Fatalf("%d copies kept, want at most %d", n, maxEntries)
	}
	if got := splitProducts([]byte(`not json`)); got != nil {
		t.Fatalf("split of garbage: %v", got)
	}
}
