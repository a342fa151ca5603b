package config_test

import (
	"testing"

	"example.com/bookstore/common/config"
	wconfig "example.com/bookstore/warehouse/internal/config"
)

// TestLocalDefaults loads the shipped conf/config.toml: it must decode into
// Config without unknown keys and hold the local defaults.
func TestLocalDefaults(t *testing.T) {
	for _, k := range []string{"SERVER_ADDR", "SERVER_ADMIN_ADDR", "DB_DRIVER", "DB_DSN", "AUTH_JWT_KEY", "LOG_LEVEL"} {
		t.Setenv(k, "") // an override in the environment must not hide the file
	}
	cfg, err := config.Load[wconfig.Config]("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ key, got, want string }{
		{"server.addr", cfg.Server.Addr, "127.0.0.1:8820"},
		{"server.admin_addr", cfg.Server.AdminAddr, "127.0.0.1:9820"},
		{"db.driver", cfg.DB.Driver, "sqlite"},
		{"db.dsn", cfg.DB.DSN, "data/warehouse.db"},
		{"auth.jwt_key", cfg.Auth.JWTKey, "601304E0-8AD4-40B0-BD51-0B432DC47461"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.key, c.got, c.want)
		}
	}
}
