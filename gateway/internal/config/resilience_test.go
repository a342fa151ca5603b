package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cconfig "example.com/bookstore/common/config"
)

// TestShippedResilience: the shipped file sets limits, deadlines and
// bulkheads, and every route it names is well formed.
func TestShippedResilience(t *testing.T) {
	c, err := cconfig.Load[Config]("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.PerIPRate <= 0 || c.Limits.GlobalRate <= 0 || c.Limits.PerIPBurst < int(c.Limits.PerIPRate) {
		t.Fatalf("limits %+v", c.Limits)
	}
	r := c.Resilience
	if r.RequestTimeout <= 0 || r.Bulkhead.Account <= 0 || r.Bulkhead.Warehouse <= 0 || r.Bulkhead.Payment <= 0 {
		t.Fatalf("resilience %+v", r)
	}
	var settle time.Duration
	for _, rt := range r.Routes {
		if rt.Route == "POST /restful/settlements" {
			settle = rt.Timeout
		}
	}
	// A settlement's deadline must leave room for the payment call.
	if settle <= c.Clients.Payment.RPCTimeout {
		t.Fatalf("settlement deadline %v, payment rpc_timeout %v", settle, c.Clients.Payment.RPCTimeout)
	}
}

func TestRouteMustBeMethodAndPath(t *testing.T) {
	data, err := os.ReadFile("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/restful/settlements", "post /restful/settlements", "POST restful/settlements"} {
		path := filepath.Join(t.TempDir(), "config.toml")
		content := strings.Replace(string(data), `route = "POST /restful/settlements"`, `route = "`+bad+`"`, 1)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := cconfig.Load[Config](path)
		if err == nil || !strings.Contains(err.Error(), "resilience.routes[0].route") {
			t.Errorf("route %q: %v", bad, err)
		}
	}
}
