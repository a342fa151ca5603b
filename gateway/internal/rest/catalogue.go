package rest

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/gateway/internal/httperr"
	"example.com/bookstore/gateway/internal/view"
)

// catalogue keeps the encoded answers of the anonymous catalogue reads (W1
// every product, W2 one product, W9 the advertisements) for a short time:
// they are most of the store's traffic, and a kept answer costs neither a
// warehouse call nor JSON encoding. The bytes are shared by every response
// that sends them and never modified.
//
// Invalidation: every product write through this gateway (W3, W4, W5)
// drops all kept answers once the warehouse has acknowledged it (a delete
// also removes the product's advertisements), and an answer fetched before
// a drop is never kept after it (the generation check), so whoever wrote
// reads their write next. A write through another gateway replica shows
// here within ttl: the original system's caches were per replica too, for
// four minutes. Stock is in none of these answers; no other service changes
// products. Only 200 answers are kept (an unknown id may be created next).
type catalogue struct {
	ttl time.Duration
	now func() time.Time

	gen atomic.Uint64
	mu  sync.RWMutex
	m   map[string]keptAnswer
}

type keptAnswer struct {
	body    []byte
	gen     uint64
	expires time.Time
}

// maxKept bounds the answers kept: a product id that exists is the only
// key that grows the map, so this is the catalogue's size with room.
const maxKept = 4096

func newCatalogue(ttl time.Duration) *catalogue {
	return &catalogue{ttl: ttl, now: time.Now, m: map[string]keptAnswer{}}
}

// Keys of the kept answers.
const (
	keyProducts = "products"
	keyAds      = "advertisements"
)

func productKey(id int64) string { return "product/" + strconv.FormatInt(id, 10) }

// serve answers c from a kept answer under key, if there is a current one.
func (k *catalogue) serve(c *app.RequestContext, key string) bool {
	if k == nil || k.ttl <= 0 {
		return false
	}
	k.mu.RLock()
	a, ok := k.m[key]
	k.mu.RUnlock()
	if !ok || a.gen != k.gen.Load() || !k.now().Before(a.expires) {
		return false
	}
	send(c, a.body)
	return true
}

// generation is read before fetching what is then kept under it.
func (k *catalogue) generation() uint64 {
	if k == nil {
		return 0
	}
	return k.gen.Load()
}

// keep stores body under key unless an invalidation happened since gen.
func (k *catalogue) keep(key string, gen uint64, body []byte) {
	if k == nil || k.ttl <= 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen.Load() {
		return
	}
	if len(k.m) >= maxKept {
		clear(k.m)
	}
	k.m[key] = keptAnswer{body: body, gen: gen, expires: k.now().Add(k.ttl)}
}

// invalidate drops every kept answer. The generation moves under the lock,
// so a keep racing with it either lands before (and is cleared) or sees
// the new generation and keeps nothing.
func (k *catalogue) invalidate() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen.Add(1)
	clear(k.m)
}

// renderKept encodes v, answers with it and keeps it under key.
func (h *Handlers) renderKept(ctx context.Context, c *app.RequestContext, key string, gen uint64, v any) error {
	b, err := view.Marshal(v)
	if err != nil {
		return httperr.Internal(err)
	}
	h.catalogue.keep(key, gen, b)
	send(c, b)
	return nil
}

// send answers 200 with a JSON body without copying it: the bytes are
// either kept (and immutable) or this response's own.
func send(c *app.RequestContext, body []byte) {
	c.Response.Header.SetContentType(httperr.ContentTypeJSON)
	c.Response.SetStatusCode(http.StatusOK)
	c.Response.SetBodyRaw(body)
}
