// Package ratelimit is the gateway's admission control: a token bucket per
// client IP and one for the whole gateway. A request that finds either
// empty is answered 429 with a Retry-After header and the contract's
// {"code":1,"message":...} body before any work is done for it.
//
// The limits are read on every request, so a changed config file applies
// to the next request; buckets keep their tokens across a change.
package ratelimit

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/gateway/internal/httperr"
)

// Limits are the current limits. A rate <= 0 disables that bucket; a burst
// <= 0 means one second's worth of the rate.
type Limits struct {
	PerIPRate   float64
	PerIPBurst  int
	GlobalRate  float64
	GlobalBurst int
	// ClientIPHeader names a header that carries the client's address
	// (the first entry of X-Forwarded-For, say). Only a trusted proxy in
	// front of the gateway may set it; empty means the TCP peer.
	ClientIPHeader string
}

// MsgTooMany is the message of a 429.
const MsgTooMany = "请求过于频繁，请稍后重试"

// Limiter holds the buckets.
type Limiter struct {
	limits func() Limits
	now    func() time.Time

	mu       sync.Mutex
	global   bucket
	perIP    map[netip.Addr]*bucket
	takes    int
	rejected atomic.Int64
}

// maxIdleBuckets is how many per-IP buckets may pile up before idle ones
// are dropped; a full bucket is the same as no bucket.
const maxIdleBuckets = 10000

// New returns a limiter reading its limits from limits.
func New(limits func() Limits) *Limiter {
	return &Limiter{limits: limits, now: time.Now, perIP: map[netip.Addr]*bucket{}}
}

// bucket is a token bucket; tokens are refilled lazily when taken.
type bucket struct {
	tokens float64
	last   time.Time
}

func burstOf(rate float64, burst int) float64 {
	if burst > 0 {
		return float64(burst)
	}
	return math.Max(1, math.Ceil(rate))
}

// refill brings b up to now and reports whether a token is there.
func (b *bucket) refill(now time.Time, rate, burst float64) bool {
	if b.last.IsZero() {
		b.tokens = burst
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(burst, b.tokens+d.Seconds()*rate)
	}
	b.last = now
	b.tokens = math.Min(b.tokens, burst)
	return b.tokens >= 1
}

// wait is how long until b has a token.
func (b *bucket) wait(rate float64) time.Duration {
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// Allow takes a token from ip's bucket and the global one, or from neither;
// when refused it says how long to wait.
func (l *Limiter) Allow(ip netip.Addr) (ok bool, retryAfter time.Duration) {
	lim := l.limits()
	if lim.PerIPRate <= 0 && lim.GlobalRate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var ipb *bucket
	if lim.PerIPRate > 0 {
		ipb = l.perIP[ip]
		if ipb == nil {
			l.sweep(now, lim)
			ipb = &bucket{}
			l.perIP[ip] = ipb
		}
		if !ipb.refill(now, lim.PerIPRate, burstOf(lim.PerIPRate, lim.PerIPBurst)) {
			l.rejected.Add(1)
			return false, ipb.wait(lim.PerIPRate)
		}
	}
	if lim.GlobalRate > 0 && !l.global.refill(now, lim.GlobalRate, burstOf(lim.GlobalRate, lim.GlobalBurst)) {
		l.rejected.Add(1)
		return false, l.global.wait(lim.GlobalRate)
	}
	if ipb != nil {
		ipb.tokens--
	}
	if lim.GlobalRate > 0 {
		l.global.tokens--
	}
	return true, 0
}

// sweep drops the buckets that have refilled completely, once there are
// many: a client that went quiet costs nothing.
func (l *Limiter) sweep(now time.Time, lim Limits) {
	if len(l.perIP) < maxIdleBuckets {
		return
	}
	burst := burstOf(lim.PerIPRate, lim.PerIPBurst)
	full := time.Duration(burst / lim.PerIPRate * float64(time.Second))
	for ip, b := range l.perIP {
		if now.Sub(b.last) >= full {
			delete(l.perIP, ip)
		}
	}
	if len(l.perIP) >= maxIdleBuckets {
		// Every bucket is busy: more clients than this many at once
		// means the global bucket is the one that protects; forget
		// the per-IP state rather than grow without bound.
		clear(l.perIP)
	}
}

// Rejected is how many requests were refused so far.
func (l *Limiter) Rejected() int64 { return l.rejected.Load() }

// Middleware refuses requests over the limits.
func (l *Limiter) Middleware() app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		ok, wait := l.Allow(ClientIP(c, l.limits().ClientIPHeader))
		if ok {
			c.Next(ctx)
			return
		}
		secs := int(math.Ceil(wait.Seconds()))
		if secs < 1 {
			secs = 1
		}
		httperr.Respond(ctx, c, &httperr.Error{
			Status: http.StatusTooManyRequests,
			Body:   httperr.Coded{Code: 1, Message: MsgTooMany},
			Header: map[string]string{"Retry-After": strconv.Itoa(secs)},
		})
		c.Abort()
	}
}

// ClientIP is the address a request is counted against: the first address
// in header when it is set and holds one, else the TCP peer's. It is a
// netip.Addr, not a string, because it is looked up on every request: the
// peer's address is taken as it is, not formatted and parsed again.
func ClientIP(c *app.RequestContext, header string) netip.Addr {
	if header != "" {
		first, _, _ := strings.Cut(string(c.GetHeader(header)), ",")
		if ip, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
			return ip.Unmap()
		}
	}
	peer := c.RemoteAddr()
	switch a := peer.(type) {
	case *net.TCPAddr:
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	case nil:
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(peer.String()); err == nil {
		return ap.Addr().Unmap()
	}
	// Not an IP peer (a unix socket): all such clients share one bucket.
	return netip.Addr{}
}
