package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/common/logging"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/common/server"
	"example.com/bookstore/idl/kitex_gen/warehouse"
	"example.com/bookstore/idl/kitex_gen/warehouse/warehouseservice"
	"example.com/bookstore/warehouse/internal/config"
	"example.com/bookstore/warehouse/internal/service"
)

const jwtKey = "601304E0-8AD4-40B0-BD51-0B432DC47461"

// env is a running warehouse on its own fresh database, with a client and
// contexts carrying each kind of caller's token.
type env struct {
	cfg    *config.Config
	client warehouseservice.Client

	anon    context.Context // no token
	admin   context.Context // icyfenix, ROLE_ADMIN, BROWSER
	user    context.Context // a normal user, BROWSER
	service context.Context // the payment service, SERVICE
}

func testConfig(t *testing.T) *config.Config {
	return &config.Config{
		Server: server.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second},
		Log:    logging.Config{Level: "warn"},
		DB:     dbtest.Config(t),
		Auth:   auth.Config{JWTKey: jwtKey},
	}
}

// instance is a warehouse started by a test.
type instance struct {
	*service.Running
	once sync.Once
}

// start runs the warehouse on cfg; it is stopped at the end of the test
// unless stopped before.
func start(t *testing.T, cfg *config.Config) *instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start warehouse: %v", err)
	}
	in := &instance{Running: run}
	t.Cleanup(func() { in.stop(t) })
	return in
}

func (in *instance) stop(t *testing.T) {
	t.Helper()
	in.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := in.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := testConfig(t)
	run := start(t, cfg)
	return &env{
		cfg:     cfg,
		client:  newClient(t, run),
		anon:    context.Background(),
		admin:   withToken(t, auth.Claims{UserName: "icyfenix", AccountID: 1, Authorities: []string{auth.RoleUser, auth.RoleAdmin}, Scope: []string{auth.ScopeBrowser}, ClientID: "bookstore_frontend"}),
		user:    withToken(t, auth.Claims{UserName: "alice", AccountID: 2, Authorities: []string{auth.RoleUser}, Scope: []string{auth.ScopeBrowser}, ClientID: "bookstore_frontend"}),
		service: withToken(t, auth.Claims{Scope: []string{auth.ScopeService}, ClientID: "payment"}),
	}
}

func newClient(t *testing.T, run *instance) warehouseservice.Client {
	t.Helper()
	c, err := warehouseservice.NewClient("warehouse", rpcclient.Options(rpcclient.Config{
		Addr:       run.Addr().String(),
		RPCTimeout: 60 * time.Second, // generous: -race on a shared 2-core machine
	})...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func withToken(t *testing.T, c auth.Claims) context.Context {
	t.Helper()
	c.Exp = time.Now().Add(time.Hour).Unix()
	c.JTI = uuid.NewString()
	tok, err := auth.NewKeys(jwtKey).Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return auth.WithToken(context.Background(), tok)
}

// openDB opens a second connection pool to the service's database, to look
// at rows directly.
func openDB(t *testing.T, cfg *config.Config) *gorm.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gdb, err := db.Open(ctx, cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(gdb) })
	return gdb
}

// wantCode fails unless err is a business error with code (and msg, when
// msg is not empty).
func wantCode(t *testing.T, err error, code rpcerr.Code, msg string) {
	t.Helper()
	got, gotMsg, ok := rpcerr.From(err)
	if !ok {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if got != code {
		t.Fatalf("code = %s (%q), want %s", got, gotMsg, code)
	}
	if msg != "" && gotMsg != msg {
		t.Fatalf("message = %q, want %q", gotMsg, msg)
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func stock(t *testing.T, e *env, productID int64) (amount, frozen int32) {
	t.Helper()
	s, err := e.client.GetStockpile(e.service, &warehouse.StockpileRequest{ProductId: productID})
	if err != nil {
		t.Fatalf("GetStockpile(%d): %v", productID, err)
	}
	return s.Amount, s.Frozen
}

func wantStock(t *testing.T, e *env, productID int64, amount, frozen int32) {
	t.Helper()
	a, f := stock(t, e, productID)
	if a != amount || f != frozen {
		t.Fatalf("stock of %d = amount %d frozen %d, want %d %d", productID, a, f, amount, frozen)
	}
}

func price(f float64) *float64 { return &f }

type contextT = context.Context

// withTokenKey returns a context with an admin token signed by another key.
func withTokenKey(t *testing.T, key string) context.Context {
	t.Helper()
	tok, err := auth.NewKeys(key).Sign(auth.Claims{
		UserName: "icyfenix", AccountID: 1, Authorities: []string{auth.RoleUser, auth.RoleAdmin},
		Scope: []string{auth.ScopeBrowser}, Exp: time.Now().Add(time.Hour).Unix(), JTI: uuid.NewString(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return auth.WithToken(context.Background(), tok)
}
