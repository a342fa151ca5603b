// Package config is the gateway's typed configuration (conf/config.toml,
// overridden by environment variables; see common/config).
package config

import (
	"errors"
	"time"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/server"
)

// Config is the whole gateway configuration.
type Config struct {
	// Server.Addr is the HTTP listener; AdminAddr serves /healthz and /readyz.
	Server  server.Config  `mapstructure:"server"`
	Log     logging.Config `mapstructure:"log"`
	Auth    auth.Config    `mapstructure:"auth"`
	OAuth   OAuth          `mapstructure:"oauth"`
	HTTP    HTTP           `mapstructure:"http"`
	Clients Clients        `mapstructure:"clients"`
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
}

// Clients are the Kitex clients of the three domain services. Their
// timeouts are hot: every call reads the current values.
type Clients struct {
	Account   rpcclient.Config `mapstructure:"account"`
	Warehouse rpcclient.Config `mapstructure:"warehouse"`
	Payment   rpcclient.Config `mapstructure:"payment"`
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
