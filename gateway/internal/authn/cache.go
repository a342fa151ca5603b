package authn

import (
	"sync"
	"time"
)

// idCache remembers username -> account id for a short time, so a legacy
// token costs one account call per minute rather than one per request. The
// time bound keeps a deleted (and re-created) user from being served stale
// ids for long; the size bound keeps a flood of names from growing it.
type idCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[string]idEntry
}

type idEntry struct {
	id      int64
	expires time.Time
}

func newIDCache(ttl time.Duration, max int) *idCache {
	return &idCache{ttl: ttl, max: max, now: time.Now, m: make(map[string]idEntry)}
}

func (c *idCache) get(name string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[name]
	if !ok {
		return 0, false
	}
	if !c.now().Before(e.expires) {
		delete(c.m, name)
		return 0, false
	}
	return e.id, true
}

func (c *idCache) put(name string, id int64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		// Still full: drop arbitrary entries; they are only a cache.
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[name] = idEntry{id: id, expires: now.Add(c.ttl)}
}
