package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db"
	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/common/proctest"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/account"
	"example.com/bookstore/idl/kitex_gen/account/accountservice"
)

// The binary as deployed: config file plus environment overrides, the
// config watch, readiness, and exit code 0 after a SIGTERM that arrives
// while a call is in flight.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "account")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	base, err := os.ReadFile("conf/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.toml")
	writeFile(t, cfgPath, base)

	dbc := dbtest.Config(t)
	addr, admin := proctest.FreeAddr(t), proctest.FreeAddr(t)
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"CONFIG_PATH="+cfgPath,
		"SERVER_ADDR="+addr,
		"SERVER_ADMIN_ADDR="+admin,
		"DB_DRIVER="+dbc.Driver,
		"DB_DSN="+dbc.DSN,
		fmt.Sprintf("DB_MAX_OPEN_CONNS=%d", max(dbc.MaxOpenConns, 4)),
	)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	// Do not wait for pipes held open by a process the binary might leave.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	exited := make(chan struct{})
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("account stderr:\n%s", stderr.String())
		}
	})

	waitFor(t, 60*time.Second, "readiness", func() bool { return get(admin, "/readyz") == http.StatusOK })

	client, err := accountservice.NewClient("account", rpcclient.Options(rpcclient.Config{Addr: addr, RPCTimeout: 30 * time.Second})...)
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.NewKeys("601304E0-8AD4-40B0-BD51-0B432DC47461")
	tok, err := keys.Sign(auth.Claims{Scope: []string{auth.ScopeService}, Exp: time.Now().Add(time.Hour).Unix(), JTI: "t", ClientID: "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	// The log level is hot: refused logins are logged at debug once the
	// file says so.
	refuse := func() {
		t.Helper()
		_, err := client.VerifyCredentials(auth.WithToken(context.Background(), tok),
			&account.VerifyCredentialsRequest{Username: "icyfenix", Password: "wrong"})
		if !rpcerr.Is(err, rpcerr.Unauthenticated) {
			t.Fatalf("VerifyCredentials with a wrong password = %v, want UNAUTHENTICATED", err)
		}
	}
	const refusedLine = `"msg":"account: credentials refused"`
	refuse()
	if strings.Contains(stderr.String(), refusedLine) {
		t.Fatal("debug line logged while log.level is info")
	}
	writeFile(t, cfgPath, bytes.Replace(base, []byte(`level = "info"`), []byte(`level = "debug"`), 1))
	waitFor(t, 10*time.Second, "config reload", func() bool { return strings.Contains(stderr.String(), "config: reloaded") })
	// The level is set just after the reload is logged.
	waitFor(t, 10*time.Second, "debug line", func() bool {
		refuse()
		return strings.Contains(stderr.String(), refusedLine)
	})

	// Hold the database so that a registration stays in flight: SQLite's
	// write lock, or MySQL's lock on the unique username.
	gdb, err := db.Open(context.Background(), dbc)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(gdb)
	hold := gdb.Begin()
	if err := hold.Exec("INSERT INTO account (username, password, name) VALUES ('slow', 'x', 'x')").Error; err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released {
			hold.Rollback()
		}
	}()

	type result struct {
		a   *account.Account
		err error
	}
	call := make(chan result, 1)
	go func() {
		a, err := client.CreateAccount(context.Background(), &account.AccountInput{Username: ptr("slow"), Password: ptr("w"), Name: ptr("Slow")})
		call <- result{a, err}
	}()
	if dbc.Driver == db.DriverMySQL {
		deadline := time.Now().Add(20 * time.Second)
		for {
			// The service's INSERT is executing, i.e. waiting for the
			// test's lock (INNODB_TRX would be the natural place to look,
			// but MariaDB refreshes it lazily).
			var n int
			err := gdb.Raw("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE info LIKE 'INSERT INTO `account`%'").Scan(&n).Error
			if err == nil && n > 0 {
				break
			}
			if time.Now().After(deadline) {
				var procs []map[string]any
				gdb.Raw("SELECT id, db, state, info FROM information_schema.PROCESSLIST").Scan(&procs)
				t.Fatalf("the call never waited for the row lock (last error %v)\nprocesses: %v", err, procs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	} else {
		// SQLite shows no waiters; the call needs well under this to
		// reach BEGIN IMMEDIATE (busy timeout 10s).
		time.Sleep(1500 * time.Millisecond)
	}
	select {
	case r := <-call:
		t.Fatalf("the call was not held: %v, %v", r.a, r.err)
	default:
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Not ready is 503, or a refused connection: Kitex's shutdown closes
	// its listener's fd number more than once (netpoll), which has been
	// seen to break the admin listener too.
	waitFor(t, 10*time.Second, "readiness to turn false", func() bool { return notReady(get(admin, "/readyz")) })
	select {
	case <-exited:
		t.Fatalf("exited (%v) with a call in flight", exitErr)
	default:
	}
	released = true
	if err := hold.Rollback().Error; err != nil {
		t.Fatal(err)
	}

	select {
	case r := <-call:
		if r.err != nil || r.a.Username != "slow" {
			t.Fatalf("in-flight call = %v, %v; want success", r.a, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("in-flight call did not complete")
	}
	select {
	case <-exited:
		if exitErr != nil {
			t.Fatalf("exit: %v, want code 0", exitErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not exit after SIGTERM")
	}
}

func ptr(s string) *string { return &s }

func get(hostport, path string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + hostport + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// notReady reports a readiness answer a kubelet would take as "not ready".
func notReady(status int) bool { return status != http.StatusOK }

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeFile replaces path atomically, as kubelet and editors do.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
