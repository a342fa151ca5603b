// Package config is the account service's typed configuration.
package config

import (
	"errors"
	"net"

	"example.com/bookstore/common/auth"
	commonconfig "example.com/bookstore/common/config"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/server"
	"example.com/bookstore/common/telemetry"
)

// Config is conf/config.toml. Only log.level may change live.
type Config struct {
	Server server.Config  `mapstructure:"server"`
	Log    logging.Config `mapstructure:"log"`
	DB     db.Config      `mapstructure:"db"`
	Auth   auth.Config    `mapstructure:"auth"`
	// Telemetry says where traces go; restart to change it.
	Telemetry telemetry.Config `mapstructure:"telemetry"`
}

// Validate checks what the field tags cannot.
func (c *Config) Validate() error {
	if c.Server.Addr == c.Server.AdminAddr && !ephemeral(c.Server.Addr) {
		return &commonconfig.KeyError{Key: "server.admin_addr", Err: errors.New("must differ from server.addr")}
	}
	return nil
}

// ephemeral reports an address with port 0, which never clashes.
func ephemeral(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port == "0"
}

// Load reads and validates the file at path (environment overrides applied).
func Load(path string) (*Config, error) {
	return commonconfig.Load[Config](path)
}

// NewStore loads the file at path and returns a store that can watch it.
func NewStore(path string) (*commonconfig.Store[Config], error) {
	return commonconfig.NewStore[Config](path)
}
