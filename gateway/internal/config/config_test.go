package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cconfig "example.com/bookstore/common/config"
)

// TestShippedConfig loads conf/config.toml as the binary does.
func TestShippedConfig(t *testing.T) {
	c, err := cconfig.Load[Config]("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Addr != "127.0.0.1:8080" || c.Server.AdminAddr != "127.0.0.1:9080" {
		t.Fatalf("server %+v", c.Server)
	}
	if c.Clients.Account.Addr != "127.0.0.1:8810" || c.Clients.Warehouse.Addr != "127.0.0.1:8820" || c.Clients.Payment.Addr != "127.0.0.1:8830" {
		t.Fatalf("clients %+v", c.Clients)
	}
	if c.Auth.JWTKey != "601304E0-8AD4-40B0-BD51-0B432DC47461" || c.OAuth.Clients.BookstoreFrontend != "bookstore_secret" ||
		c.OAuth.Clients.Security != "security_secret" {
		t.Fatalf("secrets %+v %+v", c.Auth, c.OAuth.Clients)
	}
	if c.OAuth.AccessTokenTTL != 3*time.Hour || c.OAuth.RefreshTokenTTL != 15*24*time.Hour || c.HTTP.MaxBodyBytes != 1<<20 {
		t.Fatalf("oauth %+v http %+v", c.OAuth, c.HTTP)
	}
}

func TestEnvironmentOverridesSecrets(t *testing.T) {
	t.Setenv("AUTH_JWT_KEY", "a-key-from-a-kubernetes-secret")
	t.Setenv("OAUTH_CLIENTS_BOOKSTORE_FRONTEND", "rotated")
	c, err := cconfig.Load[Config]("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.JWTKey != "a-key-from-a-kubernetes-secret" || c.OAuth.Clients.BookstoreFrontend != "rotated" {
		t.Fatalf("overrides not applied: %+v %+v", c.Auth, c.OAuth.Clients)
	}
}

func TestValidate(t *testing.T) {
	data, err := os.ReadFile("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	bad := strings.Replace(string(data), `refresh_token_ttl = "360h"`, `refresh_token_ttl = "1h"`, 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cconfig.Load[Config](path); err == nil || !strings.Contains(err.Error(), "refresh_token_ttl") {
		t.Fatalf("refresh shorter than access accepted: %v", err)
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.OAuth.AccessTokenTTL != 3*time.Hour || c.OAuth.RefreshTokenTTL != 360*time.Hour ||
		c.HTTP.MaxBodyBytes != 1<<20 || c.HTTP.LegacyAccountTTL != time.Minute {
		t.Fatalf("defaults %+v %+v", c.OAuth, c.HTTP)
	}
}
