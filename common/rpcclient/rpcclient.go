// Package rpcclient holds the Kitex client options every caller in the store
// uses: where the service is, how long to wait, the TTHeader transport that
// carries business status errors and auth metainfo, and the protections a
// call to another process needs: a bounded connection pool, circuit breakers
// per method and per instance, and retries of idempotent calls with backoff
// inside a retry budget.
//
// Timeouts are the one setting that changes while a process runs. They live
// in two places only: the client's defaults (Options) and the per-call
// options (CallOptions) that a caller holding a live config passes on every
// call. Both come from [Config.Timeouts], so a zero value means the same
// thing everywhere.
package rpcclient

import (
	"strings"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/client/callopt"
	"github.com/cloudwego/kitex/pkg/connpool"
	"github.com/cloudwego/kitex/pkg/loadbalance"
	"github.com/cloudwego/kitex/pkg/loadbalance/lbcache"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/transport"
)

// Config is one downstream service's section, e.g. [clients.warehouse].
// Zero values mean the defaults below, so a section may name only addr.
type Config struct {
	// Addr is host:port, a Kubernetes Service DNS name in a cluster
	// ("warehouse:8820", a headless Service) or 127.0.0.1 locally.
	// Several addresses may be given, comma-separated. Every IP address
	// the names resolve to is an instance, and calls are balanced over
	// the instances.
	Addr string `mapstructure:"addr" validate:"required"`
	// ResolveInterval is how often the names are resolved again, and so
	// how soon a new replica gets calls and a gone one stops getting them
	// (default 5s).
	ResolveInterval time.Duration `mapstructure:"resolve_interval" validate:"gte=0"`
	// ConnectTimeout bounds dialing a new connection (default 1s).
	ConnectTimeout time.Duration `mapstructure:"connect_timeout" hot:"true" validate:"gte=0"`
	// RPCTimeout bounds one attempt of a call (default 3s).
	RPCTimeout time.Duration `mapstructure:"rpc_timeout" hot:"true" validate:"gte=0"`

	// MaxRetries is how often an idempotent call is retried after it
	// failed to reach the service (default 2; -1 disables retries).
	MaxRetries int `mapstructure:"max_retries" validate:"gte=-1,lte=5"`
	// RetryBackoff is the least wait before a retry; each wait is drawn
	// from [RetryBackoff, 2*RetryBackoff) (default 20ms).
	RetryBackoff time.Duration `mapstructure:"retry_backoff" validate:"gte=0"`
	// RetryBudget is the share of a method's calls (over 10s) that may be
	// retries; beyond it failures are returned at once (default 0.1, at
	// most Kitex's 0.3).
	RetryBudget float64 `mapstructure:"retry_budget" validate:"gte=0,lte=0.3"`

	// BreakerErrorRate opens a method's (or an instance's) circuit when
	// this share of its calls over the last 10s failed (default 0.5) ...
	BreakerErrorRate float64 `mapstructure:"breaker_error_rate" validate:"gte=0,lte=1"`
	// ... and at least BreakerMinSamples calls were made (default 20).
	BreakerMinSamples int64 `mapstructure:"breaker_min_samples" validate:"gte=0"`
	// BreakerCooling is how long an open circuit refuses calls before it
	// lets probes through (half-open) (default 5s).
	BreakerCooling time.Duration `mapstructure:"breaker_cooling" validate:"gte=0"`

	// PoolMaxIdle is the number of idle connections kept per address
	// (default 32), PoolMaxIdleGlobal across addresses (default 256), and
	// PoolIdleTimeout how long one may stay idle (default 30s, at least 2s).
	PoolMaxIdle       int           `mapstructure:"pool_max_idle" validate:"gte=0"`
	PoolMaxIdleGlobal int           `mapstructure:"pool_max_idle_global" validate:"gte=0"`
	PoolIdleTimeout   time.Duration `mapstructure:"pool_idle_timeout" validate:"gte=0"`
}

// Defaults for zero values.
const (
	DefaultConnectTimeout    = time.Second
	DefaultRPCTimeout        = 3 * time.Second
	DefaultMaxRetries        = 2
	DefaultRetryBackoff      = 20 * time.Millisecond
	DefaultRetryBudget       = 0.1
	DefaultBreakerErrorRate  = 0.5
	DefaultBreakerMinSamples = 20
	DefaultBreakerCooling    = 5 * time.Second
	DefaultPoolMaxIdle       = 32
	DefaultPoolMaxIdleGlobal = 256
	DefaultPoolIdleTimeout   = 30 * time.Second
	DefaultResolveInterval   = 5 * time.Second
)

// Timeouts returns the connect and RPC timeouts, defaults applied.
func (c Config) Timeouts() (connect, rpc time.Duration) {
	connect, rpc = c.ConnectTimeout, c.RPCTimeout
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	if rpc <= 0 {
		rpc = DefaultRPCTimeout
	}
	return connect, rpc
}

// withDefaults fills in every zero value but the timeouts (see Timeouts).
func (c Config) withDefaults() Config {
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.RetryBudget <= 0 {
		c.RetryBudget = DefaultRetryBudget
	}
	if c.BreakerErrorRate <= 0 {
		c.BreakerErrorRate = DefaultBreakerErrorRate
	}
	if c.BreakerMinSamples <= 0 {
		c.BreakerMinSamples = DefaultBreakerMinSamples
	}
	if c.BreakerCooling <= 0 {
		c.BreakerCooling = DefaultBreakerCooling
	}
	if c.PoolMaxIdle <= 0 {
		c.PoolMaxIdle = DefaultPoolMaxIdle
	}
	if c.PoolMaxIdleGlobal <= 0 {
		c.PoolMaxIdleGlobal = DefaultPoolMaxIdleGlobal
	}
	if c.PoolIdleTimeout <= 0 {
		c.PoolIdleTimeout = DefaultPoolIdleTimeout
	}
	if c.ResolveInterval <= 0 {
		c.ResolveInterval = DefaultResolveInterval
	}
	return c
}

// Option adds to what Options builds.
type Option func(*settings)

type settings struct {
	idempotent []string
	breakers   *Breakers
	lookup     Lookup
}

// Idempotent names the methods that may be retried: reads, and writes that
// carry their own idempotency key (the warehouse's stock calls carry the
// payId). Every other method is sent once.
func Idempotent(methods ...string) Option {
	return func(s *settings) { s.idempotent = append(s.idempotent, methods...) }
}

// WithBreakers makes the client's circuit breakers report their state
// changes to b (they are logged either way).
func WithBreakers(b *Breakers) Option {
	return func(s *settings) { s.breakers = b }
}

// WithLookup resolves the configured names with l instead of the system's
// resolver: a test's stand-in for DNS.
func WithLookup(l Lookup) Option {
	return func(s *settings) { s.lookup = l }
}

// Options returns the client options for cfg. More client options (a
// caller's own middleware) may be appended to the result.
func Options(cfg Config, opts ...Option) []client.Option {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	cfg = cfg.withDefaults()
	connect, rpc := cfg.Timeouts()
	var hosts []string
	for _, h := range strings.Split(cfg.Addr, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	out := []client.Option{
		client.WithResolver(newDNSResolver(hosts, s.lookup)),
		client.WithLoadBalancer(loadbalance.NewWeightedRoundRobinBalancer(),
			&lbcache.Options{RefreshInterval: cfg.ResolveInterval}),
		client.WithTransportProtocol(transport.TTHeader),
		client.WithMetaHandler(transmeta.ClientTTHeaderHandler),
		client.WithConnectTimeout(connect),
		client.WithRPCTimeout(rpc),
		// Idle connections are bounded per instance and overall, and
		// closed after their idle timeout (a removed instance's, too);
		// busy connections are bounded by the callers' concurrency (the
		// gateway's bulkheads).
		client.WithLongConnection(connpool.IdleConfig{
			MaxIdlePerAddress: cfg.PoolMaxIdle,
			MaxIdleGlobal:     cfg.PoolMaxIdleGlobal,
			MaxIdleTimeout:    cfg.PoolIdleTimeout,
		}),
	}
	out = append(out, breakerOptions(cfg, s.breakers)...)
	if p := retryPolicies(cfg, rpc, s.idempotent); p != nil {
		out = append(out, client.WithRetryMethodPolicies(p))
	}
	return append(observe(), out...)
}

// CallOptions returns the per-call options that apply cfg's timeouts to one
// call. A caller holding a live config passes them on every call, so that
// changed timeouts apply at once; they take precedence over the client's.
func CallOptions(cfg Config) []callopt.Option {
	connect, rpc := cfg.Timeouts()
	return []callopt.Option{callopt.WithRPCTimeout(rpc), callopt.WithConnectTimeout(connect)}
}
