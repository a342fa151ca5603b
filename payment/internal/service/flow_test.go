package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/common/rpcerr"
	"example.com/bookstore/idl/kitex_gen/payment"
)

// TestContractFlow is the contract's worked example (§7.2): 2 × product 1
// costs 2 × 129 + 12 = 270; icyfenix's 300 becomes 30; the next such
// purchase fails for lack of money, and cancelling thaws its stock.
func TestContractFlow(t *testing.T) {
	e := newEnv(t)
	before := time.Now()

	p := e.pay.settle(t, item(productJVM3, 2))
	if p.TotalPrice != 270 || p.Expires != 120000 || p.PayState != payment.PayState_WAITING {
		t.Errorf("settled payment = %+v", p)
	}
	if len(p.PayId) != 36 || p.PaymentLink != "/pay/modify/"+p.PayId+"?state=PAYED&accountId=1" {
		t.Errorf("pay id %q, link %q", p.PayId, p.PaymentLink)
	}
	if ct := p.CreateTime.AsTime(); ct.Before(before.Add(-time.Second)) || ct.After(time.Now().Add(time.Second)) {
		t.Errorf("create time %v is not now", ct)
	}
	e.wh.waitStock(t, productJVM3, stock{28, 2})
	if got := getPayment(t, e.pay.client, p.PayId); got.CreateTime.AsTime() != p.CreateTime.AsTime() ||
		got.TotalPrice != p.TotalPrice || got.Id != p.Id || got.PaymentLink != p.PaymentLink {
		t.Errorf("stored payment %+v differs from settled %+v", got, p)
	}

	if err := e.pay.pay(t, p.PayId); err != nil {
		t.Fatalf("pay: %v", err)
	}
	if got := wallet(t, e.pay.client, icyfenix); got != 30 {
		t.Errorf("wallet after paying 270 = %v, want 30", got)
	}
	if got := e.pay.state(t, p.PayId); got != payment.PayState_PAYED {
		t.Errorf("state = %v", got)
	}
	e.wh.waitStock(t, productJVM3, stock{28, 0})

	q := e.pay.settle(t, item(productJVM3, 2))
	e.wh.waitStock(t, productJVM3, stock{26, 2})
	wantError(t, e.pay.pay(t, q.PayId), rpcerr.FailedPrecondition, "用户余额不足以支付，请先充值")
	if got := e.pay.state(t, q.PayId); got != payment.PayState_WAITING {
		t.Errorf("refused payment left WAITING? state = %v", got)
	}
	if got := wallet(t, e.pay.client, icyfenix); got != 30 {
		t.Errorf("refused payment changed the wallet: %v", got)
	}

	if err := e.pay.cancel(t, q.PayId); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	e.wh.waitStock(t, productJVM3, stock{28, 0})

	// Every later move on a finished payment is refused with the state.
	wantError(t, e.pay.pay(t, q.PayId), rpcerr.FailedPrecondition, "当前订单不允许支付，当前状态为：CANCEL")
	wantError(t, e.pay.cancel(t, q.PayId), rpcerr.FailedPrecondition, "当前订单不允许取消，当前状态为：CANCEL")
	wantError(t, e.pay.cancel(t, p.PayId), rpcerr.FailedPrecondition, "当前订单不允许取消，当前状态为：PAYED")
	wantError(t, e.pay.pay(t, p.PayId), rpcerr.FailedPrecondition, "当前订单不允许支付，当前状态为：PAYED")
	if got := wallet(t, e.pay.client, icyfenix); got != 30 {
		t.Errorf("wallet = %v after refused calls", got)
	}

	// A fresh settlement cancelled at once gives its stock back whole.
	r := e.pay.settle(t, item(productAI, 1))
	e.wh.waitStock(t, productAI, stock{29, 1})
	if err := e.pay.cancel(t, r.PayId); err != nil {
		t.Fatal(err)
	}
	e.wh.waitStock(t, productAI, stock{30, 0})

	// Each state change sent exactly one action to the warehouse.
	gdb := openDB(t, e.dbc)
	eventually(t, "every stock action delivered", func() bool {
		rows := outboxRows(t, gdb)
		for _, row := range rows {
			if row.Status != "DONE" {
				return false
			}
		}
		return len(rows) == 3
	})
}

func TestSettleValidationAndAccess(t *testing.T) {
	e := newEnv(t)
	ctx := asIcyfenix(t)

	for _, tt := range []struct {
		name string
		req  *payment.SettleRequest
		msg  string
	}{
		{"no items", settleRequest(), "结算单中缺少商品清单"},
		{"no product", settleRequest(item(0, 1)), "结算单中必须有明确的商品信息"},
		{"zero amount", settleRequest(item(1, 0)), "结算单中商品数量至少为一件"},
		{"no purchase", &payment.SettleRequest{Items: []*payment.Item{item(1, 1)}}, "结算单中缺少配送信息"},
		{"empty purchase", &payment.SettleRequest{Items: []*payment.Item{item(1, 1)}, Purchase: &payment.Purchase{}},
			"配送信息中缺少收件人姓名；配送信息中缺少收件人电话；配送信息中缺少收件地址；配送信息中缺少支付方式"},
	} {
		_, err := e.pay.client.Settle(ctx, tt.req)
		wantError(t, err, rpcerr.InvalidArgument, tt.msg)
		// Validation comes first, as in the contract: anonymous gets 400 too.
		_, err = e.pay.client.Settle(context.Background(), tt.req)
		wantError(t, err, rpcerr.InvalidArgument, tt.msg)
	}

	_, err := e.pay.client.Settle(context.Background(), settleRequest(item(productJVM3, 1)))
	wantError(t, err, rpcerr.PermissionDenied, "Access is denied")

	_, err = e.pay.client.Settle(ctx, settleRequest(item(999, 1)))
	wantError(t, err, rpcerr.InvalidArgument, "结算单中包含不存在的商品")
	_, err = e.pay.client.Settle(ctx, settleRequest(item(productJVM3, 1), item(999, 1)))
	wantError(t, err, rpcerr.InvalidArgument, "")
	_, err = e.pay.client.Settle(ctx, settleRequest(item(productJVM3, seedStock+1)))
	wantError(t, err, rpcerr.InsufficientStock, "商品库存不足")
	_, err = e.pay.client.Settle(ctx, settleRequest(item(productAI, 1), item(productJVM3, seedStock+1)))
	wantError(t, err, rpcerr.InsufficientStock, "商品库存不足")
	e.wh.waitStock(t, productJVM3, stock{seedStock, 0})
	e.wh.waitStock(t, productAI, stock{seedStock, 0})

	gdb := openDB(t, e.dbc)
	if n := count(t, gdb, "payment"); n != 0 {
		t.Errorf("%d payments stored by refused settlements", n)
	}
	if n := count(t, gdb, "outbox"); n != 0 {
		t.Errorf("%d outbox rows left by refused freezes (nothing was frozen)", n)
	}

	p := e.pay.settle(t, item(productFenix, 1))
	if p.TotalPrice != 12 {
		t.Errorf("a free book costs the shipping only, got %v", p.TotalPrice)
	}

	// A user pays with their own wallet only.
	_, err = e.pay.client.Pay(asUser(t, otherAccount, "other"), &payment.PayRequest{PayId: p.PayId, AccountId: icyfenix})
	wantError(t, err, rpcerr.PermissionDenied, "Access is denied")
	// A user without a wallet has nothing to pay with.
	_, err = e.pay.client.Pay(asUser(t, otherAccount, "other"), &payment.PayRequest{PayId: p.PayId, AccountId: otherAccount})
	wantError(t, err, rpcerr.FailedPrecondition, "用户余额不足以支付，请先充值")
	if got := wallet(t, e.pay.client, otherAccount); got != 0 {
		t.Errorf("wallet of an account without one = %v", got)
	}
	_, err = e.pay.client.GetWallet(asUser(t, otherAccount, "other"), &payment.WalletRequest{AccountId: icyfenix})
	wantError(t, err, rpcerr.PermissionDenied, "Access is denied")
	_, err = e.pay.client.GetWallet(context.Background(), &payment.WalletRequest{AccountId: icyfenix})
	wantError(t, err, rpcerr.PermissionDenied, "Access is denied")
	svcCtx, err := auth.NewServiceTokens(keys, "gateway", time.Minute).Context(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if w, err := e.pay.client.GetWallet(svcCtx, &payment.WalletRequest{AccountId: icyfenix}); err != nil || w.Money != seedWallet {
		t.Errorf("a service reading a wallet: %v, %v", w, err)
	}
	if w, err := e.pay.client.GetWallet(asIcyfenix(t), &payment.WalletRequest{AccountId: otherAccount}); err != nil || w.Money != 0 {
		t.Errorf("the administrator reading another wallet: %v, %v", w, err)
	}

	// The anonymous payment link pays for the account it names.
	if _, err := e.pay.client.Pay(context.Background(), &payment.PayRequest{PayId: p.PayId, AccountId: icyfenix}); err != nil {
		t.Fatalf("anonymous pay by link: %v", err)
	}
	if got := wallet(t, e.pay.client, icyfenix); got != seedWallet-12 {
		t.Errorf("wallet = %v, want 288", got)
	}
	e.wh.waitStock(t, productFenix, stock{29, 0})

	_, err = e.pay.client.GetPayment(ctx, &payment.PayIdRequest{PayId: "no-such-payment"})
	wantError(t, err, rpcerr.NotFound, "")
	wantError(t, e.pay.pay(t, "no-such-payment"), rpcerr.NotFound, "")
	wantError(t, e.pay.cancel(t, "no-such-payment"), rpcerr.NotFound, "")

	// A bad token is refused before any handler runs. (common/auth's
	// middleware returns its UNAUTHENTICATED biz error from a middleware,
	// where Kitex sends it as a plain remote error, so only the text is
	// checked here.)
	_, err = e.pay.client.GetPayment(asBadToken(), &payment.PayIdRequest{PayId: p.PayId})
	if err == nil || !strings.Contains(err.Error(), "invalid_token") {
		t.Errorf("call with a bad token: %v", err)
	}
}

func asBadToken() context.Context {
	return withRawToken("eyJhbGciOiJIUzI1NiJ9.e30.bad")
}

// TestExpiry: an unpaid payment times out after its configured expiry, its
// stock is thawed, and later calls are refused with TIMEOUT. The expiry is
// hot: a changed value applies to the next settlement.
func TestExpiry(t *testing.T) {
	e := newEnv(t)

	long := e.pay.settle(t, item(productAI, 1))
	if long.Expires != 120000 {
		t.Fatalf("expires = %d before the change", long.Expires)
	}
	e.pay.cfg.Update(func(c *configT) { c.Payment.Expires = fastExpiry })
	p := e.pay.settle(t, item(productJVM3, 1))
	if p.Expires != fastExpiry.Milliseconds() {
		t.Fatalf("expires = %d after the change, want %d", p.Expires, fastExpiry.Milliseconds())
	}
	e.wh.waitStock(t, productJVM3, stock{29, 1})

	expireAt := p.CreateTime.AsTime().Add(fastExpiry)
	eventually(t, "payment TIMEOUT", func() bool { return e.pay.state(t, p.PayId) == payment.PayState_TIMEOUT })
	if late := time.Since(expireAt); late < 0 || late > fastSweep+2*time.Second {
		t.Errorf("timed out %v after its expiry", late)
	}
	e.wh.waitStock(t, productJVM3, stock{30, 0})
	wantError(t, e.pay.pay(t, p.PayId), rpcerr.FailedPrecondition, "当前订单不允许支付，当前状态为：TIMEOUT")
	wantError(t, e.pay.cancel(t, p.PayId), rpcerr.FailedPrecondition, "当前订单不允许取消，当前状态为：TIMEOUT")
	if got := wallet(t, e.pay.client, icyfenix); got != seedWallet {
		t.Errorf("wallet = %v", got)
	}
	if got := e.pay.state(t, long.PayId); got != payment.PayState_WAITING {
		t.Errorf("the payment settled before the change expired too: %v", got)
	}
	e.wh.waitStock(t, productAI, stock{29, 1})
}

// TestPayAfterExpiryBeforeSweep: a payment past its expiry is refused as
// TIMEOUT (and timed out, its stock thawed) even if the sweeper has not
// run yet; it is never charged.
func TestPayAfterExpiryBeforeSweep(t *testing.T) {
	e := newEnv(t)
	e.pay.cfg.Update(func(c *configT) {
		c.Payment.Expires = fastExpiry
		c.Payment.SweepInterval = time.Hour
	})
	// The sweeper is waiting out its old interval; one more tick at most.
	time.Sleep(2 * fastSweep)
	p := e.pay.settle(t, item(productJVM3, 1))
	time.Sleep(time.Until(p.CreateTime.AsTime().Add(fastExpiry + 50*time.Millisecond)))

	wantError(t, e.pay.pay(t, p.PayId), rpcerr.FailedPrecondition, "当前订单不允许支付，当前状态为：TIMEOUT")
	if got := e.pay.state(t, p.PayId); got != payment.PayState_TIMEOUT {
		t.Errorf("state = %v", got)
	}
	e.wh.waitStock(t, productJVM3, stock{30, 0})
	if got := wallet(t, e.pay.client, icyfenix); got != seedWallet {
		t.Errorf("wallet = %v", got)
	}

	q := e.pay.settle(t, item(productAI, 1))
	time.Sleep(time.Until(q.CreateTime.AsTime().Add(fastExpiry + 50*time.Millisecond)))
	wantError(t, e.pay.cancel(t, q.PayId), rpcerr.FailedPrecondition, "当前订单不允许取消，当前状态为：TIMEOUT")
	e.wh.waitStock(t, productAI, stock{30, 0})
}

// TestSeedIsIdempotent: a restart over the same database keeps balances.
func TestSeedIsIdempotent(t *testing.T) {
	wh := startWarehouse(t)
	cfg := testConfig(t, dbtest.Config(t), wh.Addr)
	first := startPayment(t, cfg)
	p := first.settle(t, item(productFenix, 1))
	if err := first.pay(t, p.PayId); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	second := startPayment(t, cfg)
	if got := wallet(t, second.client, icyfenix); got != 288 {
		t.Errorf("wallet after restart = %v, want 288 (the seed must not be loaded again)", got)
	}
	if got := second.state(t, p.PayId); got != payment.PayState_PAYED {
		t.Errorf("state after restart = %v", got)
	}
	if !strings.HasPrefix(getPayment(t, second.client, p.PayId).PaymentLink, "/pay/modify/") {
		t.Error("payment link lost")
	}
}
