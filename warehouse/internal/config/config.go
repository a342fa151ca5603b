// Package config is the warehouse's typed configuration (conf/config.toml).
package config

import (
	"time"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/server"
	"example.com/bookstore/common/telemetry"
)

// Config is the whole file. Only [log] level and [debug] change live;
// everything else needs a restart.
type Config struct {
	Server server.Config  `mapstructure:"server"`
	Log    logging.Config `mapstructure:"log"`
	DB     db.Config      `mapstructure:"db"`
	Auth   auth.Config    `mapstructure:"auth"`
	Debug  Debug          `mapstructure:"debug" hot:"true"`
	// Telemetry says where traces go; restart to change it.
	Telemetry telemetry.Config `mapstructure:"telemetry"`
}

// Debug holds fault-injection switches for the resilience tests. TEST ONLY:
// they make the warehouse worse on purpose and must stay at zero anywhere
// real.
type Debug struct {
	// Delay is slept before every RPC is handled, so that the callers see
	// a slow warehouse (timeouts, open circuits, full bulkheads).
	Delay time.Duration `mapstructure:"delay" validate:"gte=0"`
}
