package service_test

// The component tests run the real payment Kitex server (in this process,
// through service.Start, or as its binary where a test crashes it) against
// the real warehouse binary, each on free ports with a fresh database of
// its own: SQLite files, or MySQL databases when BOOKSTORE_TEST_MYSQL_DSN
// is set. Expiry and retry intervals are shortened through config.

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"example.com/bookstore/common/auth"
	commonconfig "example.com/bookstore/common/config"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/common/proctest"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/idl/kitex_gen/payment/paymentservice"
	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
	"example.com/bookstore/payment/internal/config"
	"example.com/bookstore/payment/internal/service"
)

// jwtKey is the local default of both services' [auth] jwt_key.
const jwtKey = "601304E0-8AD4-40B0-BD51-0B432DC47461"

var keys = auth.NewKeys(jwtKey)

// Seed prices (yuan) of the warehouse's products used here; every seeded
// stockpile holds 30.
const (
	productJVM3    = 1 // 129
	productAI      = 2 // 69
	productJVMS8   = 3 // 79
	productFenix   = 8 // 0: a settlement of it costs the 12 of shipping only
	seedStock      = 30
	seedWallet     = 300.0
	icyfenix       = int64(1)
	otherAccount   = int64(2)
	waitDeadline   = 15 * time.Second
	fastExpiry     = time.Second
	fastSweep      = 100 * time.Millisecond
	fastRetry      = 50 * time.Millisecond
	fastMaxBackoff = 300 * time.Millisecond
)

// --- warehouse ---------------------------------------------------------

type warehouseProc struct {
	*proctest.Process
	Addr   string
	client warehouseservice.Client
	tokens *auth.ServiceTokens
}

// startWarehouse runs the warehouse binary on free ports over a fresh database.
func startWarehouse(t *testing.T) *warehouseProc {
	t.Helper()
	bin := proctest.Build(t, "../../../warehouse")
	confPath, err := filepath.Abs("../../../warehouse/conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	dbc := dbtest.Config(t)
	addr, admin := proctest.FreeAddr(t), proctest.FreeAddr(t)
	p := proctest.Start(t, bin, proctest.Options{
		Env: []string{
			"CONFIG_PATH=" + confPath,
			"SERVER_ADDR=" + addr,
			"SERVER_ADMIN_ADDR=" + admin,
			"DB_DRIVER=" + dbc.Driver,
			"DB_DSN=" + dbc.DSN,
			"LOG_LEVEL=warn",
		},
		ReadyURL: "http://" + admin + "/readyz",
	})
	cli, err := warehouseservice.NewClient("warehouse", rpcclient.Options(rpcclient.Config{Addr: addr, RPCTimeout: 5 * time.Second})...)
	if err != nil {
		t.Fatal(err)
	}
	return &warehouseProc{Process: p, Addr: addr, client: cli, tokens: auth.NewServiceTokens(keys, "payment-test", time.Hour)}
}

type stock struct{ Amount, Frozen int32 }

func (w *warehouseProc) stock(t *testing.T, productID int64) stock {
	t.Helper()
	ctx, err := w.tokens.Context(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.client.GetStockpile(ctx, &warehouse.StockpileRequest{ProductId: productID})
	if err != nil {
		t.Fatalf("warehouse GetStockpile(%d): %v", productID, err)
	}
	return stock{s.Amount, s.Frozen}
}

// waitStock waits until the stockpile of productID is want: stock actions
// reach the warehouse asynchronously, through the outbox.
func (w *warehouseProc) waitStock(t *testing.T, productID int64, want stock) {
	t.Helper()
	var got stock
	eventually(t, fmt.Sprintf("stockpile of product %d = %+v", productID, want), func() bool {
		got = w.stock(t, productID)
		return got == want
	})
}

// --- payment -----------------------------------------------------------

// liveConfig is a config whose hot keys a test may change while the
// service runs, as a reloaded file would.
type liveConfig struct{ p atomic.Pointer[config.Config] }

func (l *liveConfig) Current() *config.Config { return l.p.Load() }

func (l *liveConfig) Update(fn func(c *config.Config)) {
	c := *l.p.Load()
	fn(&c)
	l.p.Store(&c)
}

// testConfig is conf/config.toml pointed at free ports, the given database
// and warehouse, with short intervals.
func testConfig(t *testing.T, dbc db.Config, warehouseAddr string) *liveConfig {
	t.Helper()
	c, err := commonconfig.Load[config.Config]("../../conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	c.Server.Addr, c.Server.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	c.Server.ShutdownTimeout = 5 * time.Second
	c.DB = dbc
	c.Clients.Warehouse.Addr = warehouseAddr
	c.Clients.Warehouse.RPCTimeout = 2 * time.Second
	c.Payment.SweepInterval = fastSweep
	c.Payment.OutboxRetryInterval = fastRetry
	c.Payment.OutboxMaxBackoff = fastMaxBackoff
	c.Payment.OutboxLease = 5 * time.Second
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	l := &liveConfig{}
	l.p.Store(c)
	return l
}

type paymentSvc struct {
	*service.Running
	cfg    *liveConfig
	client paymentservice.Client
}

// startPayment runs the payment service in this process.
func startPayment(t *testing.T, cfg *liveConfig) *paymentSvc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := service.Start(ctx, cfg.Current)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("payment shutdown: %v", err)
		}
	})
	return &paymentSvc{Running: r, cfg: cfg, client: paymentClient(t, r.Addr().String())}
}

func paymentClient(t *testing.T, addr string) paymentservice.Client {
	t.Helper()
	cli, err := paymentservice.NewClient("payment", rpcclient.Options(rpcclient.Config{Addr: addr, RPCTimeout: 10 * time.Second})...)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// env is the usual pair: a warehouse and a payment service over it.
type env struct {
	wh  *warehouseProc
	pay *paymentSvc
	dbc db.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	wh := startWarehouse(t)
	dbc := dbtest.Config(t)
	return &env{wh: wh, pay: startPayment(t, testConfig(t, dbc, wh.Addr)), dbc: dbc}
}

// --- callers -----------------------------------------------------------

// asUser is the context of a call by a logged-in user (a BROWSER token as
// the gateway forwards it).
func asUser(t *testing.T, accountID int64, username string) context.Context {
	t.Helper()
	tok, err := keys.Sign(auth.Claims{
		UserName:    username,
		Scope:       []string{auth.ScopeBrowser},
		Exp:         time.Now().Add(time.Hour).Unix(),
		Authorities: auth.RolesFor(accountID),
		JTI:         fmt.Sprintf("test-%d-%d", accountID, time.Now().UnixNano()),
		ClientID:    "bookstore_frontend",
		AccountID:   accountID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return auth.WithToken(context.Background(), tok)
}

func asIcyfenix(t *testing.T) context.Context { return asUser(t, icyfenix, "icyfenix") }

func settleRequest(items ...*payment.Item) *payment.SettleRequest {
	return &payment.SettleRequest{
		Items: items,
		Purchase: &payment.Purchase{Delivery: true, Pay: "wechat", Name: "icyfenix",
			Telephone: "18888888888", Location: "xx rd. zhuhai. guangdong. china"},
	}
}

func item(productID int64, amount int32) *payment.Item {
	return &payment.Item{ProductId: productID, Amount: amount}
}

func (s *paymentSvc) settle(t *testing.T, items ...*payment.Item) *payment.Payment {
	t.Helper()
	p, err := s.client.Settle(asIcyfenix(t), settleRequest(items...))
	if err != nil {
		t.Fatalf("settle %v: %v", items, err)
	}
	return p
}

func (s *paymentSvc) pay(t *testing.T, payID string) error {
	t.Helper()
	_, err := s.client.Pay(asIcyfenix(t), &payment.PayRequest{PayId: payID, AccountId: icyfenix})
	return err
}

func (s *paymentSvc) cancel(t *testing.T, payID string) error {
	t.Helper()
	_, err := s.client.Cancel(asIcyfenix(t), &payment.PayIdRequest{PayId: payID})
	return err
}

func (s *paymentSvc) state(t *testing.T, payID string) payment.PayState {
	t.Helper()
	return getPayment(t, s.client, payID).PayState
}

func getPayment(t *testing.T, c paymentservice.Client, payID string) *payment.Payment {
	t.Helper()
	p, err := c.GetPayment(context.Background(), &payment.PayIdRequest{PayId: payID})
	if err != nil {
		t.Fatalf("GetPayment(%s): %v", payID, err)
	}
	return p
}

func wallet(t *testing.T, c paymentservice.Client, accountID int64) float64 {
	t.Helper()
	w, err := c.GetWallet(asUser(t, accountID, fmt.Sprint("user", accountID)), &payment.WalletRequest{AccountId: accountID})
	if err != nil {
		t.Fatalf("GetWallet(%d): %v", accountID, err)
	}
	return w.Money
}

// --- assertions --------------------------------------------------------

func wantError(t *testing.T, err error, code rpcerr.Code, msg string) {
	t.Helper()
	got, gotMsg, ok := rpcerr.From(err)
	if !ok || got != code || (msg != "" && gotMsg != msg) {
		t.Errorf("error = %v; want %s %q", err, code, msg)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitDeadline, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openDB opens the payment database of a test for inspection.
func openDB(t *testing.T, dbc db.Config) *gorm.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gdb, err := db.Open(ctx, dbc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(gdb) })
	return gdb
}

type outboxRow struct {
	PayID    string
	Action   string
	Status   string
	Attempts int
}

func outboxRows(t *testing.T, gdb *gorm.DB) []outboxRow {
	t.Helper()
	var rows []outboxRow
	if err := gdb.Table("outbox").Select("pay_id", "action", "status", "attempts").Order("id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func count(t *testing.T, gdb *gorm.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := gdb.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

type configT = config.Config

func withRawToken(raw string) context.Context { return auth.WithToken(context.Background(), raw) }
