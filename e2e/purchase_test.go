package e2e

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"example.com/bookstore/common/auth"
	"example.com/bookstore/common/rpcclient"
	"example.com/bookstore/e2e/stack"
	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/idl/kitex_gen/payment/paymentservice"
)

// The contract's date form: Jackson's StdDateFormat in UTC.
var createTimeForm = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`)

func purchase() map[string]any {
	// What the frontend sends: the purchase plus the whole account (§11).
	return map[string]any{
		"name": "icyfenix", "telephone": "18888888888", "delivery": true, "pay": "wechat",
		"address":  map[string]any{"province": "广东省", "city": "珠海市", "area": "香洲区"},
		"location": "广东省 珠海市 香洲区 唐家湾", "id": 1, "username": "icyfenix", "avatar": "",
	}
}

// settle posts a settlement of amount x product and returns the Payment.
func settle(t *testing.T, a api, token string, product, amount int) map[string]any {
	t.Helper()
	r := a.do("POST", "/restful/settlements", token, map[string]any{
		"items":    []map[string]any{{"id": product, "amount": amount}},
		"purchase": purchase(),
	})
	if r.Status != http.StatusOK {
		t.Fatalf("settle %d x %d: %d %s", amount, product, r.Status, r.Body)
	}
	return r.Map(t)
}

func stockOf(t *testing.T, a api, admin string, product int) (amount, frozen float64) {
	t.Helper()
	var s map[string]any
	r := a.do("GET", "/restful/products/stockpile/"+strconv.Itoa(product), admin, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("stockpile %d: %d %s", product, r.Status, r.Body)
	}
	r.JSON(t, &s)
	return s["amount"].(float64), s["frozen"].(float64)
}

// walletOf reads a wallet straight from the payment service: the REST
// contract has no wallet endpoint, but the purchase flow's figures must add up.
func walletOf(t *testing.T, s *stack.Stack, accountID int64) float64 {
	t.Helper()
	cli, err := paymentservice.NewClient("payment", rpcclient.Options(rpcclient.Config{Addr: s.Proc("payment").Addr})...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := auth.NewServiceTokens(auth.NewKeys(jwtKey), "e2e", time.Minute).Context(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w, err := cli.GetWallet(ctx, &payment.WalletRequest{AccountId: accountID})
	if err != nil {
		t.Fatal(err)
	}
	return w.Money
}

// TestPurchaseFlow: settle, pay, cancel and expiry, with the stock and
// wallet figures after each step (contract §7).
func TestPurchaseFlow(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]map[string]string{
		"payment": {"PAYMENT_EXPIRES": "3s", "PAYMENT_SWEEP_INTERVAL": "200ms"},
	})
	a := api{t, s.GatewayURL}
	admin := a.login(adminUser, adminWire)

	// Settle 2 x book 1: 2 x 129 + 12 = 270; two copies frozen.
	p := settle(t, a, admin, 1, 2)
	payID, _ := p["payId"].(string)
	if p["totalPrice"] != 270.0 || p["expires"] != 3000.0 || p["payState"] != "WAITING" ||
		p["paymentLink"] != "/pay/modify/"+payID+"?state=PAYED&accountId=1" ||
		!createTimeForm.MatchString(p["createTime"].(string)) {
		t.Fatalf("payment = %v", p)
	}
	if amount, frozen := stockOf(t, a, admin, 1); amount != 28 || frozen != 2 {
		t.Fatalf("after settle: stock {%v, %v}, want {28, 2}", amount, frozen)
	}

	// Pay: wallet 300 -> 30; the frozen copies ship.
	a.expectOK(a.do("PATCH", "/restful/pay/"+payID+"?state=PAYED", admin, nil))
	eventually(t, 5*time.Second, "frozen stock shipped", func() bool {
		amount, frozen := stockOf(t, a, admin, 1)
		return amount == 28 && frozen == 0
	})
	if w := walletOf(t, s, 1); w != 30 {
		t.Errorf("wallet after paying 270 = %v, want 30", w)
	}
	a.expect(a.do("PATCH", "/restful/pay/"+payID+"?state=PAYED", admin, nil), http.StatusInternalServerError, "当前订单不允许支付，当前状态为：PAYED")
	a.expect(a.do("PATCH", "/restful/pay/"+payID+"?state=CANCEL", admin, nil), http.StatusInternalServerError, "当前订单不允许取消，当前状态为：PAYED")

	// A second purchase of 270 is more than the wallet holds; cancel it.
	p2 := settle(t, a, admin, 1, 2)
	pay2 := p2["payId"].(string)
	a.expect(a.do("PATCH", "/restful/pay/"+pay2+"?state=PAYED", admin, nil), http.StatusInternalServerError, "用户余额不足以支付，请先充值")
	a.expectOK(a.do("PATCH", "/restful/pay/"+pay2+"?state=CANCEL", admin, nil))
	// The thaw reaches warehouse right after the cancel commits (outbox).
	eventually(t, 5*time.Second, "the cancelled payment thaws", func() bool {
		amount, frozen := stockOf(t, a, admin, 1)
		return amount == 28 && frozen == 0
	})
	a.expect(a.do("PATCH", "/restful/pay/"+pay2+"?state=PAYED", admin, nil), http.StatusInternalServerError, "当前订单不允许支付，当前状态为：CANCEL")
	if w := walletOf(t, s, 1); w != 30 {
		t.Errorf("wallet after a refused payment = %v, want 30", w)
	}

	// Expiry: a payment left alone times out and its stock thaws (§14.1).
	p3 := settle(t, a, admin, 2, 3)
	if amount, frozen := stockOf(t, a, admin, 2); amount != 27 || frozen != 3 {
		t.Fatalf("after settle: stock {%v, %v}, want {27, 3}", amount, frozen)
	}
	eventually(t, 10*time.Second, "the unpaid payment thaws", func() bool {
		amount, frozen := stockOf(t, a, admin, 2)
		return amount == 30 && frozen == 0
	})
	a.expect(a.do("PATCH", "/restful/pay/"+p3["payId"].(string)+"?state=PAYED", admin, nil), http.StatusInternalServerError, "当前订单不允许支付，当前状态为：TIMEOUT")

	// The anonymous payment link (the QR code of the frontend) charges the
	// account it names: book 8 costs 0, so 12 of shipping; wallet 30 -> 18.
	p4 := settle(t, a, admin, 8, 1)
	if p4["totalPrice"] != 12.0 {
		t.Errorf("shipping-only total = %v", p4["totalPrice"])
	}
	a.expectOK(a.do("GET", "/restful"+p4["paymentLink"].(string), "", nil))
	if w := walletOf(t, s, 1); w != 18 {
		t.Errorf("wallet after the payment link = %v, want 18", w)
	}
}

// TestSettlementErrors: validation, authorization and stock errors of P1/P2.
func TestSettlementErrors(t *testing.T) {
	t.Parallel()
	s := startStack(t, nil)
	a := api{t, s.GatewayURL}
	admin := a.login(adminUser, adminWire)
	body := func(items any, purchase any) map[string]any {
		return map[string]any{"items": items, "purchase": purchase}
	}
	one := []map[string]any{{"id": 1, "amount": 1}}

	a.expect(a.do("POST", "/restful/settlements", admin, body([]any{}, purchase())), http.StatusBadRequest, "结算单中缺少商品清单")
	a.expect(a.do("POST", "/restful/settlements", admin, body(nil, purchase())), http.StatusBadRequest, "结算单中缺少商品清单")
	a.expect(a.do("POST", "/restful/settlements", admin, body(one, nil)), http.StatusBadRequest, "结算单中缺少配送信息")
	a.expect(a.do("POST", "/restful/settlements", admin, body([]map[string]any{{"id": 1, "amount": 0}}, purchase())), http.StatusBadRequest, "结算单中商品数量至少为一件")
	a.expect(a.do("POST", "/restful/settlements", admin, body(one, map[string]any{"pay": "wechat"})), http.StatusBadRequest, "配送信息中缺少收件人姓名")
	a.expect(a.do("POST", "/restful/settlements", admin, body([]map[string]any{{"id": 1, "amount": 31}}, purchase())), http.StatusBadRequest, "商品库存不足")
	a.expect(a.do("POST", "/restful/settlements", admin, body([]map[string]any{{"id": 10086, "amount": 1}}, purchase())), http.StatusBadRequest, "")
	a.expect(a.do("POST", "/restful/settlements", admin, `{"items":"many"}`), http.StatusBadRequest, "")
	a.expect(a.do("POST", "/restful/settlements", "", body(one, purchase())), http.StatusForbidden, "Access is denied")
	// Nothing was frozen by any of the refused settlements.
	if amount, frozen := stockOf(t, a, admin, 1); amount != 30 || frozen != 0 {
		t.Errorf("stock after refused settlements {%v, %v}", amount, frozen)
	}

	p := settle(t, a, admin, 1, 1)
	a.expect(a.do("PATCH", "/restful/pay/"+p["payId"].(string)+"?state=FOO", admin, nil), http.StatusBadRequest, "")
	a.expect(a.do("PATCH", "/restful/pay/"+p["payId"].(string)+"?state=PAYED", "", nil), http.StatusForbidden, "Access is denied")
	if r := a.do("PATCH", "/restful/pay/no-such-payment?state=PAYED", admin, nil); r.Status < 400 || r.Status >= 500 {
		t.Errorf("unknown payment: %d %s", r.Status, r.Body)
	}
}
