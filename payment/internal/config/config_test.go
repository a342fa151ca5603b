package config

import (
	"strings"
	"testing"
	"time"

	commonconfig "example.com/bookstore/common/config"
)

func TestLocalDefaults(t *testing.T) {
	c, err := commonconfig.Load[Config]("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Addr != "127.0.0.1:8830" || c.Server.AdminAddr != "127.0.0.1:9830" {
		t.Errorf("server = %+v", c.Server)
	}
	if c.DB.Driver != "sqlite" || c.DB.DSN != "data/payment.db" {
		t.Errorf("db = %+v", c.DB)
	}
	if c.Clients.Warehouse.Addr != "127.0.0.1:8820" {
		t.Errorf("warehouse = %+v", c.Clients.Warehouse)
	}
	if c.Auth.JWTKey != "601304E0-8AD4-40B0-BD51-0B432DC47461" {
		t.Error("jwt key is not the contract's")
	}
	if c.Payment.Expires != 120*time.Second {
		t.Errorf("expires = %v, want the contract's 120000 ms", c.Payment.Expires)
	}
}

func TestEnvOverridesPaymentKeys(t *testing.T) {
	t.Setenv("PAYMENT_EXPIRES", "3s")
	t.Setenv("CLIENTS_WAREHOUSE_ADDR", "warehouse:8820")
	c, err := commonconfig.Load[Config]("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Payment.Expires != 3*time.Second || c.Clients.Warehouse.Addr != "warehouse:8820" {
		t.Errorf("overrides not applied: %v, %q", c.Payment.Expires, c.Clients.Warehouse.Addr)
	}
}

func TestValidate(t *testing.T) {
	c, err := commonconfig.Load[Config]("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := *c
	bad.Payment.OutboxMaxBackoff = bad.Payment.OutboxRetryInterval / 2
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "outbox_max_backoff") {
		t.Errorf("backoff below the interval: %v", err)
	}
	bad = *c
	bad.Payment.OutboxLease = bad.Clients.Warehouse.RPCTimeout
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "outbox_lease") {
		t.Errorf("lease shorter than two calls: %v", err)
	}
	t.Setenv("PAYMENT_EXPIRES", "10ms")
	if _, err := commonconfig.Load[Config]("../../conf/config.toml"); err == nil || !strings.Contains(err.Error(), "payment.expires") {
		t.Errorf("an expiry under a second was accepted: %v", err)
	}
}
