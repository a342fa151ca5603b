// Package bulkhead bounds how many calls the gateway has in flight to each
// downstream service, so that one slow service cannot take every goroutine,
// connection and byte of memory the gateway has: once its compartment is
// full, further calls to it fail at once (503) while calls to the other
// services go on as before.
package bulkhead

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/kerrors"
)

// Bulkheads holds one compartment per downstream service.
type Bulkheads struct {
	limit func(service string) int
	mu    sync.Mutex
	comps map[string]*compartment
}

type compartment struct {
	inFlight atomic.Int64
	peak     atomic.Int64
	rejected atomic.Int64
}

// New returns bulkheads whose limits limit reports, read on every call so
// that a changed config applies at once; a limit <= 0 means unbounded.
func New(limit func(service string) int) *Bulkheads {
	return &Bulkheads{limit: limit, comps: map[string]*compartment{}}
}

func (b *Bulkheads) compartment(service string) *compartment {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.comps[service]
	if !ok {
		c = &compartment{}
		b.comps[service] = c
	}
	return c
}

// Middleware is the Kitex client middleware of service's compartment. A
// call that finds it full fails with kerrors.ErrOverlimit, which the
// gateway answers with 503 and which neither retries nor trips a circuit
// breaker.
func (b *Bulkheads) Middleware(service string) endpoint.Middleware {
	c := b.compartment(service)
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			n, ok := c.enter(b.limit(service))
			if !ok {
				c.rejected.Add(1)
				return kerrors.ErrOverlimit.WithCause(fmt.Errorf("bulkhead %s: %d calls in flight", service, n))
			}
			defer c.inFlight.Add(-1)
			return next(ctx, req, resp)
		}
	}
}

// enter takes a place if one is free and returns the calls in flight.
func (c *compartment) enter(limit int) (int64, bool) {
	for {
		n := c.inFlight.Load()
		if limit > 0 && n >= int64(limit) {
			return n, false
		}
		if c.inFlight.CompareAndSwap(n, n+1) {
			n++
			for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
			}
			return n, true
		}
	}
}

// Stats is one compartment's state.
type Stats struct {
	Limit    int   `json:"limit"`
	InFlight int64 `json:"in_flight"`
	// Peak is the most calls that were ever in flight at once.
	Peak     int64 `json:"peak"`
	Rejected int64 `json:"rejected"`
}

// Stats reports every compartment by service name.
func (b *Bulkheads) Stats() map[string]Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]Stats, len(b.comps))
	for name, c := range b.comps {
		out[name] = Stats{
			Limit:    b.limit(name),
			InFlight: c.inFlight.Load(),
			Peak:     c.peak.Load(),
			Rejected: c.rejected.Load(),
		}
	}
	return out
}
