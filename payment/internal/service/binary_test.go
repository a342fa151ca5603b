package service_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"example.com/bookstore/common/db"
	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/common/proctest"
	"example.com/bookstore/idl/kitex_gen/payment/paymentservice"
)

// startPaymentBinary runs the payment binary (main.go, as deployed) with
// the config file at confPath, pointed by environment overrides at free
// ports, the database and the warehouse, with short intervals; extraEnv
// adds or overrides more keys.
func startPaymentBinary(t *testing.T, confPath, warehouseAddr string, dbc db.Config, extraEnv ...string) (*proctest.Process, paymentservice.Client) {
	t.Helper()
	bin := proctest.Build(t, "../..")
	confPath, err := filepath.Abs(confPath)
	if err != nil {
		t.Fatal(err)
	}
	addr, admin := proctest.FreeAddr(t), proctest.FreeAddr(t)
	env := []string{
		"CONFIG_PATH=" + confPath,
		"SERVER_ADDR=" + addr,
		"SERVER_ADMIN_ADDR=" + admin,
		"DB_DRIVER=" + dbc.Driver,
		"DB_DSN=" + dbc.DSN,
		"CLIENTS_WAREHOUSE_ADDR=" + warehouseAddr,
		"PAYMENT_SWEEP_INTERVAL=" + fastSweep.String(),
		"PAYMENT_OUTBOX_RETRY_INTERVAL=" + fastRetry.String(),
		"PAYMENT_OUTBOX_MAX_BACKOFF=" + fastMaxBackoff.String(),
	}
	p := proctest.Start(t, bin, proctest.Options{
		Env:      append(env, extraEnv...),
		ReadyURL: "http://" + admin + "/readyz",
	})
	return p, paymentClient(t, addr)
}

// TestConfigReloadAppliesToNewSettlements: the binary watches its config
// file; a new payment.expires applies to the next settlement without a
// restart.
func TestConfigReloadAppliesToNewSettlements(t *testing.T) {
	wh := startWarehouse(t)
	orig, err := os.ReadFile("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(conf, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	proc, client := startPaymentBinary(t, conf, wh.Addr, dbtest.Config(t))
	svc := &paymentSvc{client: client}

	if p := svc.settle(t, item(productAI, 1)); p.Expires != 120000 {
		t.Fatalf("expires = %d from the file", p.Expires)
	}
	changed := strings.Replace(string(orig), `expires = "120s"`, `expires = "45s"`, 1)
	if changed == string(orig) {
		t.Fatal("conf/config.toml has no `expires = \"120s\"` line to change")
	}
	// Replace the file as editors and kubelet do: write aside, rename.
	tmp := conf + ".new"
	if err := os.WriteFile(tmp, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, conf); err != nil {
		t.Fatal(err)
	}
	// Each probe freezes stock; spread them over products 2..7 (30 each).
	probes := 0
	eventually(t, "a settlement with the new expiry", func() bool {
		time.Sleep(80 * time.Millisecond)
		probes++
		return svc.settle(t, item(int64(2+probes%6), 1)).Expires == 45000
	})
	if !proc.Running() {
		t.Error("the process restarted or died")
	}
}
