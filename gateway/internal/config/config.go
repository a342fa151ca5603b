// Package config is the gateway's typed configuration (conf/config.toml,
// overridden by environment variables; see common/config).
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"example.com/bookstore/common/auth"
	commonconfig "example.com/bookstore/common/config"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/server"
	"example.com/bookstore/common/telemetry"
)

// Config is the whole gateway configuration.
type Config struct {
	// Server.Addr is the HTTP listener; AdminAddr serves /healthz, /readyz
	// and /metrics.
	Server  server.Config  `mapstructure:"server"`
	Log     logging.Config `mapstructure:"log"`
	Auth    auth.Config    `mapstructure:"auth"`
	OAuth   OAuth          `mapstructure:"oauth"`
	HTTP    HTTP           `mapstructure:"http"`
	Clients Clients        `mapstructure:"clients"`
	// Limits and Resilience are read on every request: all hot.
	Limits     Limits     `mapstructure:"limits" hot:"true"`
	Resilience Resilience `mapstructure:"resilience" hot:"true"`
	// Telemetry says where traces go; restart to change it.
	Telemetry telemetry.Config `mapstructure:"telemetry"`
}

// OAuth is the token endpoint's configuration.
type OAuth struct {
	// Zero TTLs mean the contract's: 3 hours and 15 days.
	AccessTokenTTL  time.Duration `mapstructure:"access_token_ttl" validate:"gte=0"`
	RefreshTokenTTL time.Duration `mapstructure:"refresh_token_ttl" validate:"gte=0"`
	Clients         OAuthClients  `mapstructure:"clients"`
}

// OAuthClients holds the secrets of the contract's OAuth clients (§3.2).
// Which grants and scopes each client has is the contract's, not config.
// In Kubernetes the secrets come from a Secret through the environment
// (OAUTH_CLIENTS_BOOKSTORE_FRONTEND, ...).
type OAuthClients struct {
	BookstoreFrontend string `mapstructure:"bookstore_frontend" validate:"required"`
	Account           string `mapstructure:"account" validate:"required"`
	Warehouse         string `mapstructure:"warehouse" validate:"required"`
	Payment           string `mapstructure:"payment" validate:"required"`
	Security          string `mapstructure:"security" validate:"required"`
}

// HTTP tunes request handling.
type HTTP struct {
	// MaxBodyBytes bounds a request body; larger bodies get 400. Zero means 1 MiB.
	MaxBodyBytes int `mapstructure:"max_body_bytes" validate:"gte=0"`
	// LegacyAccountTTL is how long the account id of a legacy token's user
	// (a token without account_id) is remembered. Zero means one minute.
	LegacyAccountTTL time.Duration `mapstructure:"legacy_account_ttl" validate:"gte=0"`
	// CatalogueTTL is how long the answers of the catalogue reads (all
	// products, one product, the advertisements) are kept and served
	// without asking the warehouse; product writes through this gateway
	// drop them at once. Zero sends every read to the warehouse.
	CatalogueTTL time.Duration `mapstructure:"catalogue_ttl" validate:"gte=0"`
}

// Clients are the Kitex clients of the three domain services. Their
// timeouts are hot: every call reads the current values.
type Clients struct {
	Account   rpcclient.Config `mapstructure:"account"`
	Warehouse rpcclient.Config `mapstructure:"warehouse"`
	Payment   rpcclient.Config `mapstructure:"payment"`
}

// Limits are the rate limits: token buckets per client IP and for the whole
// gateway. Over a limit a request gets 429 with Retry-After. A rate of 0
// disables that bucket; a burst of 0 means one second's worth of the rate.
type Limits struct {
	// PerIPRate is the requests per second one client IP may send on
	// average, PerIPBurst how many it may send at once.
	PerIPRate  float64 `mapstructure:"per_ip_rate" validate:"gte=0"`
	PerIPBurst int     `mapstructure:"per_ip_burst" validate:"gte=0"`
	// GlobalRate and GlobalBurst are the same for all clients together.
	GlobalRate  float64 `mapstructure:"global_rate" validate:"gte=0"`
	GlobalBurst int     `mapstructure:"global_burst" validate:"gte=0"`
	// ClientIPHeader names the header carrying the client's address when
	// a trusted proxy (an ingress) sits in front, e.g. "X-Forwarded-For"
	// (its first entry counts). Empty: the TCP peer's address.
	ClientIPHeader string `mapstructure:"client_ip_header"`
}

// Resilience bounds the time and the concurrency a request may take.
type Resilience struct {
	// RequestTimeout is the deadline of a request whose route is not in
	// Routes; the Kitex calls it makes stop when it passes. 0: none.
	RequestTimeout time.Duration `mapstructure:"request_timeout" validate:"gte=0"`
	// Routes sets the deadline of single routes.
	Routes []RouteTimeout `mapstructure:"routes" validate:"dive"`
	// Bulkhead bounds the calls in flight to each service.
	Bulkhead Bulkhead `mapstructure:"bulkhead"`
}

// RouteTimeout is one route's deadline.
type RouteTimeout struct {
	// Route is "METHOD /path" with the path as registered, e.g.
	// "GET /restful/products/:id" or "POST /restful/settlements".
	Route   string        `mapstructure:"route" validate:"required"`
	Timeout time.Duration `mapstructure:"timeout" validate:"gt=0"`
}

// Bulkhead is the most calls the gateway has in flight to each service at
// once; further calls fail at once with 503. 0: unbounded.
type Bulkhead struct {
	Account   int `mapstructure:"account" validate:"gte=0"`
	Warehouse int `mapstructure:"warehouse" validate:"gte=0"`
	Payment   int `mapstructure:"payment" validate:"gte=0"`
}

// Defaults of the contract and of this gateway, used for zero values.
const (
	DefaultAccessTokenTTL   = 3 * time.Hour
	DefaultRefreshTokenTTL  = 15 * 24 * time.Hour
	DefaultMaxBodyBytes     = 1 << 20
	DefaultLegacyAccountTTL = time.Minute
)

// Validate runs after the struct tags.
func (c *Config) Validate() error {
	if c.OAuth.AccessTokenTTL > 0 && c.OAuth.RefreshTokenTTL > 0 && c.OAuth.RefreshTokenTTL < c.OAuth.AccessTokenTTL {
		return errors.New("oauth.refresh_token_ttl must not be shorter than oauth.access_token_ttl")
	}
	for i, r := range c.Resilience.Routes {
		method, path, ok := strings.Cut(r.Route, " ")
		if !ok || method == "" || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") {
			return &commonconfig.KeyError{
				Key: fmt.Sprintf("resilience.routes[%d].route", i),
				Err: fmt.Errorf("%q is not \"METHOD /path\"", r.Route),
			}
		}
	}
	return nil
}

// WithDefaults returns a copy of c with zero values replaced by the defaults.
func (c Config) WithDefaults() Config {
	if c.OAuth.AccessTokenTTL == 0 {
		c.OAuth.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if c.OAuth.RefreshTokenTTL == 0 {
		c.OAuth.RefreshTokenTTL = DefaultRefreshTokenTTL
	}
	if c.HTTP.MaxBodyBytes == 0 {
		c.HTTP.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.HTTP.LegacyAccountTTL == 0 {
		c.HTTP.LegacyAccountTTL = DefaultLegacyAccountTTL
	}
	return c
}
