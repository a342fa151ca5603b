package deadline

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/hertz/pkg/route"
)

func TestRouteDeadlines(t *testing.T) {
	s := Settings{Default: time.Second, Routes: map[string]time.Duration{"POST /restful/settlements": 8 * time.Second}}
	e := route.NewEngine(config.NewOptions([]config.Option{server.WithDisablePrintRoute(true)}))
	e.Use(Middleware(func() Settings { return s }))
	// Each handler answers with the time left on its context, in ms; -1
	// when there is no deadline.
	left := func(ctx context.Context, c *app.RequestContext) {
		d, ok := ctx.Deadline()
		if !ok {
			c.String(http.StatusOK, "-1")
			return
		}
		c.String(http.StatusOK, strconv.FormatInt(time.Until(d).Milliseconds(), 10))
	}
	e.POST("/restful/settlements", left)
	e.GET("/restful/products/:id", left)

	ms := func(method, path string) int64 {
		w := ut.PerformRequest(e, method, path, nil)
		n, err := strconv.ParseInt(w.Body.String(), 10, 64)
		if err != nil {
			t.Fatalf("%s %s: %s", method, path, w.Body.String())
		}
		return n
	}
	if got := ms("POST", "/restful/settlements"); got < 7000 || got > 8000 {
		t.Fatalf("settlement deadline %dms, want about 8000", got)
	}
	if got := ms("GET", "/restful/products/1"); got < 500 || got > 1000 {
		t.Fatalf("default deadline %dms, want about 1000", got)
	}
	// Changed settings apply to the next request; the route's pattern,
	// not the concrete path, is what names it.
	s = Settings{Routes: map[string]time.Duration{"GET /restful/products/:id": 3 * time.Second}}
	if got := ms("GET", "/restful/products/7"); got < 2000 || got > 3000 {
		t.Fatalf("route deadline %dms, want about 3000", got)
	}
	if got := ms("POST", "/restful/settlements"); got != -1 {
		t.Fatalf("no default and no route entry: deadline %dms", got)
	}
}
