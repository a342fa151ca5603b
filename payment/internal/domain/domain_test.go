package domain

import (
	"errors"
	"testing"
	"time"
)

func validPurchase() *Purchase {
	return &Purchase{Delivery: true, Pay: "wechat", Name: "icyfenix", Telephone: "18888888888", Location: "xx rd. zhuhai"}
}

func TestNewSettlementValidation(t *testing.T) {
	tests := []struct {
		name     string
		items    []Item
		purchase *Purchase
		want     string
	}{
		{"no items", nil, validPurchase(), "结算单中缺少商品清单"},
		{"no product id", []Item{{Amount: 1}}, validPurchase(), "结算单中必须有明确的商品信息"},
		{"zero amount", []Item{{ProductID: 1}}, validPurchase(), "结算单中商品数量至少为一件"},
		{"negative amount", []Item{{ProductID: 1, Amount: -2}}, validPurchase(), "结算单中商品数量至少为一件"},
		{"no purchase", []Item{{ProductID: 1, Amount: 1}}, nil, "结算单中缺少配送信息"},
		{"no name", []Item{{ProductID: 1, Amount: 1}}, &Purchase{Pay: "wechat", Telephone: "1", Location: "x"}, "配送信息中缺少收件人姓名"},
		{"no telephone", []Item{{ProductID: 1, Amount: 1}}, &Purchase{Pay: "wechat", Name: "n", Location: "x"}, "配送信息中缺少收件人电话"},
		{"no location", []Item{{ProductID: 1, Amount: 1}}, &Purchase{Pay: "wechat", Name: "n", Telephone: "1"}, "配送信息中缺少收件地址"},
		{"no pay", []Item{{ProductID: 1, Amount: 1}}, &Purchase{Name: "n", Telephone: "1", Location: "x"}, "配送信息中缺少支付方式"},
		{"several, joined by U+FF1B, each once", []Item{{}, {}}, nil,
			"结算单中必须有明确的商品信息；结算单中商品数量至少为一件；结算单中缺少配送信息"},
		{"empty purchase", nil, &Purchase{},
			"结算单中缺少商品清单；配送信息中缺少收件人姓名；配送信息中缺少收件人电话；配送信息中缺少收件地址；配送信息中缺少支付方式"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSettlement(tt.items, tt.purchase)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("message = %q, want %q", err.Error(), tt.want)
			}
		})
	}
}

func TestNewSettlementMergesLines(t *testing.T) {
	s, err := NewSettlement([]Item{{1, 2}, {3, 1}, {1, 1}}, validPurchase())
	if err != nil {
		t.Fatal(err)
	}
	got := s.Items()
	want := []Item{{1, 3}, {3, 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("items = %v, want %v", got, want)
	}
	if s.Purchase() != *validPurchase() {
		t.Errorf("purchase = %+v", s.Purchase())
	}
}

func TestCentsOf(t *testing.T) {
	for _, tt := range []struct {
		yuan float64
		want Cents
	}{{129, 12900}, {0.1, 10}, {29.99, 2999}, {0.005, 1}, {0, 0}} {
		got, err := CentsOf(tt.yuan)
		if err != nil || got != tt.want {
			t.Errorf("CentsOf(%v) = %v, %v; want %v", tt.yuan, got, err, tt.want)
		}
	}
	for _, bad := range []float64{-1, 1e300} {
		if _, err := CentsOf(bad); err == nil {
			t.Errorf("CentsOf(%v) accepted", bad)
		}
	}
	if s := Cents(27012).String(); s != "270.12" {
		t.Errorf("String = %q", s)
	}
}

func newTestPayment(t *testing.T, now time.Time) *Payment {
	t.Helper()
	s, err := NewSettlement([]Item{{1, 2}, {2, 1}}, validPurchase())
	if err != nil {
		t.Fatal(err)
	}
	priced := []PricedItem{{Item{2, 1}, 6910}, {Item{1, 2}, 12900}}
	p, err := NewPayment("pay-1", 1, s, priced, now, 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewPaymentTotalsExactly(t *testing.T) {
	now := time.Date(2026, 11, 22, 1, 2, 3, 456789123, time.FixedZone("X", 3600))
	p := newTestPayment(t, now)
	// 2 × 129.00 + 1 × 69.10 + 12 shipping
	if p.Total() != 33910 {
		t.Errorf("total = %v, want 339.10", p.Total())
	}
	if p.Total().Yuan() != 339.1 {
		t.Errorf("yuan = %v", p.Total().Yuan())
	}
	if want := now.UTC().Truncate(time.Millisecond); !p.CreateTime().Equal(want) || p.CreateTime().Location() != time.UTC {
		t.Errorf("create time = %v, want %v in UTC", p.CreateTime(), want)
	}
	if p.Expires() != 120*time.Second || !p.ExpireAt().Equal(p.CreateTime().Add(120*time.Second)) {
		t.Errorf("expires = %v, at %v", p.Expires(), p.ExpireAt())
	}
	if p.Link() != "/pay/modify/pay-1?state=PAYED&accountId=1" {
		t.Errorf("link = %q", p.Link())
	}
	if p.State() != StateWaiting || len(p.PendingActions()) != 0 {
		t.Errorf("state %s, actions %v", p.State(), p.PendingActions())
	}
	if PaymentLink("x", 0) != "/pay/modify/x?state=PAYED" {
		t.Errorf("link without account = %q", PaymentLink("x", 0))
	}
}

func TestNewPaymentRejectsMismatchedFreeze(t *testing.T) {
	s, _ := NewSettlement([]Item{{1, 2}}, validPurchase())
	now := time.Now()
	for name, priced := range map[string][]PricedItem{
		"missing product": {{Item{2, 2}, 100}},
		"other amount":    {{Item{1, 3}, 100}},
		"extra line":      {{Item{1, 2}, 100}, {Item{2, 1}, 100}},
	} {
		if _, err := NewPayment("p", 1, s, priced, now, time.Minute); !errors.Is(err, ErrWarehouseRefused) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestPaymentTransitions(t *testing.T) {
	now := time.Now()
	later := now.Add(121 * time.Second)

	p := newTestPayment(t, now)
	if err := p.Pay(now); err != nil {
		t.Fatal(err)
	}
	if p.State() != StatePayed || len(p.PendingActions()) != 1 || p.PendingActions()[0] != ActionDecrease {
		t.Fatalf("after pay: %s %v", p.State(), p.PendingActions())
	}
	assertState(t, p.Pay(now), "当前订单不允许支付，当前状态为：PAYED")
	assertState(t, p.Cancel(now), "当前订单不允许取消，当前状态为：PAYED")
	var se *StateError
	if err := p.Expire(later); !errors.As(err, &se) {
		t.Errorf("expire after pay: %v", err)
	}

	p = newTestPayment(t, now)
	if err := p.Cancel(now); err != nil {
		t.Fatal(err)
	}
	if p.State() != StateCancel || p.PendingActions()[0] != ActionThaw {
		t.Fatalf("after cancel: %s %v", p.State(), p.PendingActions())
	}
	assertState(t, p.Pay(now), "当前订单不允许支付，当前状态为：CANCEL")

	p = newTestPayment(t, now)
	if p.IsDue(p.ExpireAt()) || !p.IsDue(p.ExpireAt().Add(time.Nanosecond)) {
		t.Error("IsDue must be true strictly after the expiry time only")
	}
	if err := p.Expire(now); !errors.Is(err, ErrNotDue) {
		t.Errorf("early expire: %v", err)
	}
	assertState(t, p.Pay(later), "当前订单不允许支付，当前状态为：TIMEOUT")
	assertState(t, p.Cancel(later), "当前订单不允许取消，当前状态为：TIMEOUT")
	if p.State() != StateWaiting {
		t.Fatal("a refused pay changed the state")
	}
	if err := p.Expire(later); err != nil {
		t.Fatal(err)
	}
	if p.State() != StateTimeout || p.PendingActions()[0] != ActionThaw {
		t.Fatalf("after expire: %s %v", p.State(), p.PendingActions())
	}
	assertState(t, p.Pay(later), "当前订单不允许支付，当前状态为：TIMEOUT")
}

func assertState(t *testing.T, err error, want string) {
	t.Helper()
	var se *StateError
	if !errors.As(err, &se) || err.Error() != want {
		t.Errorf("err = %v, want StateError %q", err, want)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	p := newTestPayment(t, time.Now())
	q, err := UnmarshalPayment(p.Record())
	if err != nil {
		t.Fatal(err)
	}
	if q.PayID() != p.PayID() || q.Total() != p.Total() || len(q.Items()) != 2 || q.Purchase() != p.Purchase() || !q.CreateTime().Equal(p.CreateTime()) {
		t.Errorf("round trip lost data: %+v vs %+v", q.Record(), p.Record())
	}
	rec := p.Record()
	rec.State = "NOT_SUPPORT"
	if _, err := UnmarshalPayment(rec); err == nil {
		t.Error("unknown state accepted")
	}
}

func TestWalletDebitNeedsStrictlyMore(t *testing.T) {
	w := NewWallet(1, 30000)
	if err := w.Debit(27000); err != nil || w.Money() != 3000 {
		t.Fatalf("debit: %v, money %v", err, w.Money())
	}
	if err := w.Debit(3000); !errors.Is(err, ErrInsufficientBalance) || w.Money() != 3000 {
		t.Errorf("debit of the whole balance: %v, money %v", err, w.Money())
	}
	if err := w.Debit(2999); err != nil || w.Money() != 1 {
		t.Errorf("debit below balance: %v, money %v", err, w.Money())
	}
	if ErrInsufficientBalance.Error() != "用户余额不足以支付，请先充值" {
		t.Error("message changed")
	}
}
