package service

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	kserver "github.com/cloudwego/kitex/server"

	"example.com/bookstore/account/internal/config"
	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/common/server"
	"example.com/bookstore/idl/kitex_gen/account"
	"example.com/bookstore/idl/kitex_gen/account/accountservice"
)

const (
	testJWTKey = "601304E0-8AD4-40B0-BD51-0B432DC47461"
	// seedWire is the browser's form of icyfenix's password 123456.
	seedWire = "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2"
)

var keys = auth.NewKeys(testJWTKey)

func testConfig(dbc db.Config) *config.Config {
	return &config.Config{
		Server: server.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", ShutdownTimeout: 10 * time.Second},
		DB:     dbc,
		Auth:   auth.Config{JWTKey: testJWTKey},
	}
}

// env is one running account service over a fresh database, and a client.
type env struct {
	t      *testing.T
	dbc    db.Config
	run    *Running
	client accountservice.Client
	// stop shuts the service down now instead of at cleanup.
	stop func() error
}

func startEnv(t *testing.T, extra ...kserver.Option) *env {
	t.Helper()
	e := &env{t: t, dbc: dbtest.Config(t)}
	e.start(extra...)
	return e
}

// start starts the service (again) on e's database.
func (e *env) start(extra ...kserver.Option) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := Start(ctx, testConfig(e.dbc), extra...)
	if err != nil {
		e.t.Fatalf("start account service: %v", err)
	}
	stopped := false
	e.t.Cleanup(func() {
		if !stopped {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := run.Shutdown(ctx); err != nil {
				e.t.Errorf("shutdown: %v", err)
			}
		}
	})
	c, err := accountservice.NewClient("account", rpcclient.Options(rpcclient.Config{
		Addr: run.Addr().String(),
		// bcrypt at cost 10 takes over a second under -race on a busy
		// 2-core machine, and the concurrency test runs 20 at once.
		RPCTimeout: 2 * time.Minute,
	})...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.run, e.client = run, c
	e.stop = func() error {
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return run.Shutdown(ctx)
	}
}

var jti atomic.Int64

func sign(t testing.TB, c auth.Claims) string {
	t.Helper()
	c.JTI = fmt.Sprint("test-", jti.Add(1))
	if c.Exp == 0 {
		c.Exp = time.Now().Add(time.Hour).Unix()
	}
	raw, err := keys.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// userToken is what the gateway's token endpoint issues to the storefront.
func userToken(t testing.TB, id int64, username string) string {
	return sign(t, auth.Claims{
		UserName: username, Username: username, AccountID: id,
		Scope: []string{auth.ScopeBrowser}, Authorities: auth.RolesFor(id), ClientID: "bookstore_frontend",
	})
}

// legacyUserToken names the user only, like the original system's tokens.
func legacyUserToken(t testing.TB, username string) string {
	return sign(t, auth.Claims{
		UserName: username, Username: username,
		Scope: []string{auth.ScopeBrowser}, Authorities: []string{auth.RoleUser}, ClientID: "bookstore_frontend",
	})
}

func serviceToken(t testing.TB) string {
	return sign(t, auth.Claims{Scope: []string{auth.ScopeService}, ClientID: "gateway"})
}

func as(token string) context.Context {
	if token == "" {
		return context.Background()
	}
	return auth.WithToken(context.Background(), token)
}

func wantCode(t *testing.T, err error, code rpcerr.Code, msg string) {
	t.Helper()
	got, gotMsg, ok := rpcerr.From(err)
	if !ok {
		t.Fatalf("error %v is not a business error; want %v %q", err, code, msg)
	}
	if got != code || (msg != "" && gotMsg != msg) {
		t.Fatalf("error %v %q, want %v %q", got, gotMsg, code, msg)
	}
}

// js shows a generated struct with its optional fields dereferenced, for
// comparing and printing.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

func s(v string) *string { return &v }
func i(v int64) *int64   { return &v }

// register creates an account through the API and returns it.
func (e *env) register(in *account.AccountInput) *account.Account {
	e.t.Helper()
	a, err := e.client.CreateAccount(context.Background(), in)
	if err != nil {
		e.t.Fatalf("CreateAccount(%s): %v", in.GetUsername(), err)
	}
	return a
}
