package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonconfig "example.com/bookstore/common/config"
)

// The shipped file is the service's local default; it must load as is.
func TestShippedConfig(t *testing.T) {
	c, err := Load("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"server.addr", c.Server.Addr, "127.0.0.1:8810"},
		{"server.admin_addr", c.Server.AdminAddr, "127.0.0.1:9810"},
		{"server.shutdown_timeout", c.Server.ShutdownTimeout, 10 * time.Second},
		{"log.level", c.Log.Level, "info"},
		{"db.driver", c.DB.Driver, "sqlite"},
		{"db.dsn", c.DB.DSN, "data/account.db"},
		{"auth.jwt_key", c.Auth.JWTKey, "601304E0-8AD4-40B0-BD51-0B432DC47461"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.key, ck.got, ck.want)
		}
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	t.Setenv("DB_DSN", "/tmp/elsewhere.db")
	t.Setenv("SERVER_ADDR", "127.0.0.1:18810")
	c, err := Load("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.DSN != "/tmp/elsewhere.db" || c.Server.Addr != "127.0.0.1:18810" {
		t.Errorf("overrides not applied: dsn %q addr %q", c.DB.DSN, c.Server.Addr)
	}
}

func TestRejects(t *testing.T) {
	base, err := os.ReadFile("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(string) string
		wantKey string
	}{
		{"unknown key", func(s string) string { return s + "\n[db2]\nx = 1\n" }, "db2.x"},
		{"bad log level", func(s string) string { return strings.Replace(s, `level = "info"`, `level = "loud"`, 1) }, "log.level"},
		{"short jwt key", func(s string) string {
			return strings.Replace(s, `"601304E0-8AD4-40B0-BD51-0B432DC47461"`, `"short"`, 1)
		}, "auth.jwt_key"},
		{"admin on the service port", func(s string) string {
			return strings.Replace(s, `admin_addr = "127.0.0.1:9810"`, `admin_addr = "127.0.0.1:8810"`, 1)
		}, "server.admin_addr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(tc.edit(string(base))), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			var ke *commonconfig.KeyError
			if !errors.As(err, &ke) || ke.Key != tc.wantKey {
				t.Fatalf("Load = %v, want a KeyError for %q", err, tc.wantKey)
			}
		})
	}
}
