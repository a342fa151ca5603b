// Package degrade keeps the storefront browsable while the warehouse is
// down. The gateway remembers the last good answer of the catalogue reads
// (GET /restful/products and /restful/products/{id}) and, when the
// warehouse cannot be reached (the handler answered 503), serves that copy
// instead, marked stale; the advertisements become an empty list. Anything
// else, writes included, keeps its 503: failing fast is the right answer
// to a write that cannot be made.
package degrade

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// StaleHeader marks an answer served from the gateway's copy; Age says how
// old the copy is, in seconds.
const StaleHeader = "X-Bookstore-Stale"

// The routes this package knows, as registered under /restful.
const (
	routeProducts = "/restful/products"
	routeProduct  = "/restful/products/:id"
	routeAds      = "/restful/advertisements"
)

// maxEntries bounds the copies kept; only products that exist are ever
// stored, so this is the catalogue's size with room to spare.
const maxEntries = 4096

type entry struct {
	body        []byte
	contentType string
	at          time.Time
}

// Catalogue is the store of last good copies.
type Catalogue struct {
	now    func() time.Time
	mu     sync.RWMutex
	copies map[string]entry // by request path
	served atomic.Int64
}

// New returns an empty Catalogue.
func New() *Catalogue {
	return &Catalogue{now: time.Now, copies: map[string]entry{}}
}

// Served is how many stale or empty answers replaced a 503 so far.
func (k *Catalogue) Served() int64 { return k.served.Load() }

// Middleware wraps the catalogue reads; other requests pass untouched.
func (k *Catalogue) Middleware() app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		route := c.FullPath()
		if string(c.Method()) != http.MethodGet || (route != routeProducts && route != routeProduct && route != routeAds) {
			c.Next(ctx)
			return
		}
		c.Next(ctx)
		path := string(c.Path())
		switch status := c.Response.StatusCode(); {
		case status == http.StatusOK && route != routeAds:
			k.remember(path, route, c.Response.Body(), string(c.Response.Header.ContentType()))
		case status == http.StatusNoContent && route == routeProduct:
			k.forget(path)
		case status == http.StatusServiceUnavailable && route == routeAds:
			k.served.Add(1)
			c.Response.ResetBody() // Data appends to the error body otherwise
			c.Response.Header.Set(StaleHeader, "true")
			c.Data(http.StatusOK, "application/json;charset=UTF-8", []byte("[]"))
		case status == http.StatusServiceUnavailable:
			e, ok := k.copyOf(path)
			if !ok {
				return
			}
			k.served.Add(1)
			c.Response.ResetBody()
			c.Response.Header.Set(StaleHeader, "true")
			c.Response.Header.Set("Age", strconv.Itoa(int(k.now().Sub(e.at).Seconds())))
			c.Data(http.StatusOK, e.contentType, e.body)
		}
	}
}

func (k *Catalogue) copyOf(path string) (entry, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	e, ok := k.copies[path]
	return e, ok
}

func (k *Catalogue) forget(path string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.copies, path)
}

// remember stores a good answer. The list also refreshes the copy of each
// product in it, so that a product's page still opens when the warehouse
// went down after the list was read but before the page was.
func (k *Catalogue) remember(path, route string, body []byte, contentType string) {
	now := k.now()
	// Most answers repeat the copy already kept (the catalogue rarely
	// changes, and the gateway keeps its answers for a while): then only
	// its time moves, and the list is neither copied nor split again (the
	// products split from it keep the time they were split at).
	k.mu.Lock()
	if e, ok := k.copies[path]; ok && e.contentType == contentType && bytes.Equal(e.body, body) {
		e.at = now
		k.copies[path] = e
		k.mu.Unlock()
		return
	}
	k.mu.Unlock()
	copies := map[string]entry{path: {body: bytes.Clone(body), contentType: contentType, at: now}}
	if route == routeProducts {
		for id, b := range splitProducts(body) {
			copies[routeProducts+"/"+strconv.FormatInt(id, 10)] = entry{body: b, contentType: contentType, at: now}
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for p, e := range copies {
		if _, ok := k.copies[p]; ok || len(k.copies) < maxEntries {
			k.copies[p] = e
		}
	}
}

// splitProducts returns each product of a product list by id, as the
// exact bytes of the list (which are the bytes the product's own answer
// has: both are encoded by the same encoder).
func splitProducts(body []byte) map[int64][]byte {
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil
	}
	out := make(map[int64][]byte, len(items))
	for _, raw := range items {
		var p struct {
			ID *int64 `json:"id"`
		}
		if json.Unmarshal(raw, &p) == nil && p.ID != nil {
			out[*p.ID] = bytes.Clone(raw)
		}
	}
	return out
}
