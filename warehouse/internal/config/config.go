// Package config is the warehouse's typed configuration (conf/config.toml).
package config

import (
	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/server"
)

// Config is the whole file. Only [log] level changes live; everything else
// needs a restart.
type Config struct {
	Server server.Config  `mapstructure:"server"`
	Log    logging.Config `mapstructure:"log"`
	DB     db.Config      `mapstructure:"db"`
	Auth   auth.Config    `mapstructure:"auth"`
}
