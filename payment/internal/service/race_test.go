package service_test

import (
	"sync"
	"testing"
	"time"

	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/payment"
)

// TestPayAndCancelRace: pay and cancel of one payment at the same moment;
// exactly one wins, and the wallet and the stock agree with the winner.
func TestPayAndCancelRace(t *testing.T) {
	e := newEnv(t)
	const rounds = 10
	payed := 0
	for i := range rounds {
		p := e.pay.settle(t, item(productFenix, 1)) // costs 12
		ctx := asIcyfenix(t)
		var payErr, cancelErr error
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			<-start
			_, payErr = e.pay.client.Pay(ctx, &payment.PayRequest{PayId: p.PayId, AccountId: icyfenix})
		})
		wg.Go(func() {
			<-start
			_, cancelErr = e.pay.client.Cancel(ctx, &payment.PayIdRequest{PayId: p.PayId})
		})
		close(start)
		wg.Wait()

		switch {
		case payErr == nil && cancelErr != nil:
			payed++
			wantError(t, cancelErr, rpcerr.FailedPrecondition, "当前订单不允许取消，当前状态为：PAYED")
			if s := e.pay.state(t, p.PayId); s != payment.PayState_PAYED {
				t.Errorf("round %d: pay won but state is %v", i, s)
			}
		case cancelErr == nil && payErr != nil:
			wantError(t, payErr, rpcerr.FailedPrecondition, "当前订单不允许支付，当前状态为：CANCEL")
			if s := e.pay.state(t, p.PayId); s != payment.PayState_CANCEL {
				t.Errorf("round %d: cancel won but state is %v", i, s)
			}
		default:
			t.Fatalf("round %d: pay = %v, cancel = %v; want exactly one success", i, payErr, cancelErr)
		}
	}
	t.Logf("%d of %d rounds paid", payed, rounds)
	if got, want := wallet(t, e.pay.client, icyfenix), seedWallet-12*float64(payed); got != want {
		t.Errorf("wallet = %v, want %v", got, want)
	}
	e.wh.waitStock(t, productFenix, stock{int32(seedStock - payed), 0})
}

// TestConcurrentPaysNeverOverdraw: 20 payments of 81 each (69 + 12) paid at
// once from one wallet of 300: exactly three go through (300 > 81, 219 > 81,
// 138 > 81; then 57), the rest are refused, and the balance is exact.
func TestConcurrentPaysNeverOverdraw(t *testing.T) {
	e := newEnv(t)
	const n = 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.pay.settle(t, item(productAI, 1)).PayId
	}
	e.wh.waitStock(t, productAI, stock{seedStock - n, n})

	ctx := asIcyfenix(t)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			<-start
			_, errs[i] = e.pay.client.Pay(ctx, &payment.PayRequest{PayId: ids[i], AccountId: icyfenix})
		})
	}
	close(start)
	wg.Wait()

	var paid, waiting []string
	for i, err := range errs {
		if err == nil {
			paid = append(paid, ids[i])
			continue
		}
		wantError(t, err, rpcerr.FailedPrecondition, "用户余额不足以支付，请先充值")
		waiting = append(waiting, ids[i])
	}
	if len(paid) != 3 {
		t.Errorf("%d payments went through, want 3", len(paid))
	}
	if got := wallet(t, e.pay.client, icyfenix); got != 57 {
		t.Errorf("wallet = %v, want 57", got)
	}
	for _, id := range paid {
		if s := e.pay.state(t, id); s != payment.PayState_PAYED {
			t.Errorf("%s: %v", id, s)
		}
	}
	for _, id := range waiting {
		if s := e.pay.state(t, id); s != payment.PayState_WAITING {
			t.Errorf("%s: %v after a refused payment", id, s)
		}
		if err := e.pay.cancel(t, id); err != nil {
			t.Errorf("cancel %s: %v", id, err)
		}
	}
	e.wh.waitStock(t, productAI, stock{int32(seedStock - len(paid)), 0})
}

// TestTwoSweepers: two payment services (two replicas) over one database
// sweep the same expired payments at once; each payment times out once and
// its stock is thawed by exactly one outbox row, sent once.
func TestTwoSweepers(t *testing.T) {
	wh := startWarehouse(t)
	dbc := dbtest.Config(t)
	const n = 10
	var replicas []*paymentSvc
	for range 2 {
		cfg := testConfig(t, dbc, wh.Addr)
		cfg.Update(func(c *configT) {
			c.Payment.Expires = fastExpiry
			c.Payment.SweepInterval = 10 * time.Millisecond
		})
		replicas = append(replicas, startPayment(t, cfg))
	}

	ids := make([]string, n)
	for i := range ids {
		ids[i] = replicas[i%2].settle(t, item(productJVMS8, 1)).PayId
	}
	wh.waitStock(t, productJVMS8, stock{seedStock - n, n})

	for _, id := range ids {
		eventually(t, "payment "+id+" TIMEOUT", func() bool {
			return replicas[0].state(t, id) == payment.PayState_TIMEOUT
		})
	}
	wh.waitStock(t, productJVMS8, stock{seedStock, 0})

	gdb := openDB(t, dbc)
	eventually(t, "all thaws delivered", func() bool {
		for _, r := range outboxRows(t, gdb) {
			if r.Status != "DONE" {
				return false
			}
		}
		return true
	})
	rows := outboxRows(t, gdb)
	if len(rows) != n {
		t.Fatalf("%d outbox rows for %d expired payments: %+v", len(rows), n, rows)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Action != "THAW" || r.Attempts != 1 || seen[r.PayID] {
			t.Errorf("outbox row %+v: want one THAW per payment, sent once", r)
		}
		seen[r.PayID] = true
	}
}
