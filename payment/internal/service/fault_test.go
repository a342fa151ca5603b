package service_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/payment"
)

// TestWarehouseDownDuringPay: paying is local; the decrease waits in the
// outbox while the warehouse is down and goes out when it is back.
func TestWarehouseDownDuringPay(t *testing.T) {
	e := newEnv(t)
	p := e.pay.settle(t, item(productJVM3, 1))
	e.wh.waitStock(t, productJVM3, stock{29, 1})

	if code := e.wh.Stop(); code != 0 {
		t.Errorf("warehouse exit code %d after SIGTERM, want 0", code)
	}
	if err := e.pay.pay(t, p.PayId); err != nil {
		t.Fatalf("pay with the warehouse down: %v", err)
	}
	if s := e.pay.state(t, p.PayId); s != payment.PayState_PAYED {
		t.Errorf("state = %v", s)
	}
	if got := wallet(t, e.pay.client, icyfenix); got != seedWallet-141 {
		t.Errorf("wallet = %v, want 159", got)
	}
	gdb := openDB(t, e.dbc)
	eventually(t, "a failed delivery attempt", func() bool {
		rows := outboxRows(t, gdb)
		return len(rows) == 1 && rows[0].Action == "DECREASE" && rows[0].Status == "PENDING" && rows[0].Attempts >= 1
	})

	if err := e.wh.Start(); err != nil {
		t.Fatal(err)
	}
	e.wh.waitStock(t, productJVM3, stock{29, 0})
	eventually(t, "the decrease acknowledged", func() bool { return outboxRows(t, gdb)[0].Status == "DONE" })
}

// TestWarehouseDownDuringSettle: a settlement while the warehouse is down
// fails clearly, stores no payment, and its possible freeze is thawed once
// the warehouse is back.
func TestWarehouseDownDuringSettle(t *testing.T) {
	e := newEnv(t)
	e.wh.Stop()

	_, err := e.pay.client.Settle(asIcyfenix(t), settleRequest(item(productJVM3, 2)))
	wantError(t, err, rpcerr.Unavailable, "仓库服务暂不可用，请稍后重试")

	gdb := openDB(t, e.dbc)
	if n := count(t, gdb, "payment"); n != 0 {
		t.Errorf("%d payments stored", n)
	}
	rows := outboxRows(t, gdb)
	if len(rows) != 1 || rows[0].Action != "THAW" {
		t.Fatalf("outbox = %+v, want the fired freeze guard", rows)
	}

	if err := e.wh.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the guard thaw acknowledged", func() bool { return outboxRows(t, gdb)[0].Status == "DONE" })
	for _, id := range []int64{productJVM3, productAI, productJVMS8} {
		if s := e.wh.stock(t, id); s != (stock{seedStock, 0}) {
			t.Errorf("product %d stock = %+v", id, s)
		}
	}
	// The service is fine once the warehouse is back and the circuit its
	// outage opened has let probes through and closed (after the
	// breaker's cooling time, 5s by default).
	deadline := time.Now().Add(waitDeadline)
	for {
		_, err := e.pay.client.Settle(asIcyfenix(t), settleRequest(item(productJVM3, 2)))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("settle after the warehouse came back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.wh.waitStock(t, productJVM3, stock{28, 2})
}

// TestFreezeReplyLost: the warehouse froze the stock but its answer never
// arrived. The settlement fails, no payment exists, and the stock is thawed
// (through the same lossy path, retried until acknowledged).
func TestFreezeReplyLost(t *testing.T) {
	wh := startWarehouse(t)
	proxy := newDropProxy(t, wh.Addr)
	dbc := dbtest.Config(t)
	pay := startPayment(t, testConfig(t, dbc, proxy.Addr()))

	proxy.drop.Store(true)
	_, err := pay.client.Settle(asIcyfenix(t), settleRequest(item(productJVM3, 2)))
	wantError(t, err, rpcerr.Unavailable, "仓库服务暂不可用，请稍后重试")
	if proxy.dropped.Load() == 0 {
		t.Fatal("the proxy dropped no reply; the test proves nothing")
	}
	gdb := openDB(t, dbc)
	if n := count(t, gdb, "payment"); n != 0 {
		t.Errorf("%d payments stored", n)
	}

	proxy.drop.Store(false)
	wh.waitStock(t, productJVM3, stock{seedStock, 0})
	eventually(t, "the thaw acknowledged", func() bool {
		rows := outboxRows(t, gdb)
		return len(rows) == 1 && rows[0].Action == "THAW" && rows[0].Status == "DONE"
	})
}

// TestPaymentKilledAfterSettle: the payment process crashes (SIGKILL) right
// after a settlement; restarted, it still times the payment out on time
// and thaws its stock, because the expiry lives in the database.
func TestPaymentKilledAfterSettle(t *testing.T) {
	wh := startWarehouse(t)
	dbc := dbtest.Config(t)
	const expires = 2 * time.Second
	proc, client := startPaymentBinary(t, "../../conf/config.toml", wh.Addr, dbc,
		"PAYMENT_EXPIRES="+expires.String())

	p, err := client.Settle(asIcyfenix(t), settleRequest(item(productJVM3, 1)))
	if err != nil {
		t.Fatal(err)
	}
	wh.waitStock(t, productJVM3, stock{29, 1})
	proc.Kill()

	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	expireAt := p.CreateTime.AsTime().Add(expires)
	if time.Now().Before(expireAt) {
		if s := getPayment(t, client, p.PayId).PayState; s != payment.PayState_WAITING {
			t.Errorf("state %v before the expiry", s)
		}
	}
	eventually(t, "payment TIMEOUT after restart", func() bool {
		return getPayment(t, client, p.PayId).PayState == payment.PayState_TIMEOUT
	})
	// "On time" within the sweep interval plus a restart; a loaded 2-core CI
	// machine has been seen to need 4 s for that, so allow 10.
	if late := time.Since(expireAt); late < 0 || late > 10*time.Second {
		t.Errorf("timed out %v after its expiry", late)
	}
	wh.waitStock(t, productJVM3, stock{30, 0})
	if code := proc.Stop(); code != 0 {
		t.Errorf("payment exit code %d after SIGTERM, want 0", code)
	}
}

// dropProxy forwards TCP to target; while drop is set it forwards requests
// but throws their answers away and cuts the connection, as a network that
// fails after the server acted.
type dropProxy struct {
	ln      net.Listener
	target  string
	drop    atomic.Bool
	dropped atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
}

func newDropProxy(t *testing.T, target string) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, target: target}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.serve(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	return p
}

func (p *dropProxy) Addr() string { return p.ln.Addr().String() }

func (p *dropProxy) serve(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.mu.Unlock()
	go func() {
		_, _ = io.Copy(server, client)
		server.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if p.drop.Load() {
				p.dropped.Add(1)
				break
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	client.Close()
	server.Close()
}
