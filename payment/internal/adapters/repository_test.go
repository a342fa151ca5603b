package adapters

import (
	"context"
	"errors"
	"testing"
	"time"

	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/payment/internal/domain"
)

func newRepo(t *testing.T) (*Repository, *time.Time) {
	t.Helper()
	now := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	r := NewRepository(dbtest.Open(t), func() time.Time { return now })
	if err := r.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r, &now
}

func newPayment(t *testing.T, payID string, now time.Time) *domain.Payment {
	t.Helper()
	s, err := domain.NewSettlement([]domain.Item{{ProductID: 1, Amount: 2}, {ProductID: 2, Amount: 1}},
		&domain.Purchase{Delivery: true, Pay: "wechat", Name: "周志明", Telephone: "18888888888", Location: "唐家湾港湾大道科技一路3号"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := domain.NewPayment(payID, 1, s, []domain.PricedItem{
		{Item: domain.Item{ProductID: 1, Amount: 2}, UnitPrice: 10000},
		{Item: domain.Item{ProductID: 2, Amount: 1}, UnitPrice: 5000},
	}, now, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// settle stores a payment the way the settle command does.
func settle(t *testing.T, r *Repository, payID string, now time.Time) *domain.Payment {
	t.Helper()
	ctx := context.Background()
	if err := r.GuardFreeze(ctx, payID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p := newPayment(t, payID, now)
	if err := r.AddPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPaymentRoundTrip(t *testing.T) {
	r, now := newRepo(t)
	p := settle(t, r, "pay-1", *now)
	if p.ID() == 0 {
		t.Error("no id assigned")
	}
	got, err := r.GetPayment(context.Background(), "pay-1")
	if err != nil {
		t.Fatal(err)
	}
	want := p.Record()
	rec := got.Record()
	if !rec.CreateTime.Equal(want.CreateTime) || rec.Total != 26200 || rec.Expires != 2*time.Minute ||
		rec.Link != want.Link || rec.State != domain.StateWaiting || rec.ID != p.ID() ||
		len(rec.Items) != 2 || rec.Items[1] != want.Items[1] || rec.Purchase != want.Purchase {
		t.Errorf("read back %+v\nwant %+v", rec, want)
	}
	// The guard went with the insert.
	if due, _ := r.Due(context.Background(), now.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("guard left after AddPayment: %+v", due)
	}
	if _, err := r.GetPayment(context.Background(), "nope"); !errors.Is(err, domain.ErrPaymentNotFound) {
		t.Errorf("unknown pay id: %v", err)
	}
}

func TestAddPaymentRefusedOnceGuardClaimed(t *testing.T) {
	r, now := newRepo(t)
	ctx := context.Background()
	if err := r.GuardFreeze(ctx, "pay-1", *now); err != nil {
		t.Fatal(err)
	}
	due, err := r.Due(ctx, *now, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due = %+v, %v", due, err)
	}
	if ok, err := r.Claim(ctx, due[0].ID, "dispatcher", *now, now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	// A thaw may be on its way: the payment must not appear.
	if err := r.AddPayment(ctx, newPayment(t, "pay-1", *now)); !errors.Is(err, domain.ErrFreezeGuardFired) {
		t.Fatalf("AddPayment = %v, want ErrFreezeGuardFired", err)
	}
	if _, err := r.GetPayment(ctx, "pay-1"); !errors.Is(err, domain.ErrPaymentNotFound) {
		t.Errorf("payment stored anyway: %v", err)
	}
	// Nor may a refused freeze drop a guard that is being sent.
	if err := r.DropFreezeGuard(ctx, "pay-1"); err != nil {
		t.Fatal(err)
	}
	var n int64
	r.db.Model(&outboxModel{}).Count(&n)
	if n != 1 {
		t.Errorf("claimed guard dropped")
	}
}

func TestFreezeGuardFireAndDrop(t *testing.T) {
	r, now := newRepo(t)
	ctx := context.Background()
	for _, id := range []string{"fire", "drop"} {
		if err := r.GuardFreeze(ctx, id, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if due, _ := r.Due(ctx, *now, 10); len(due) != 0 {
		t.Fatalf("guards due before their time: %+v", due)
	}
	if err := r.FireFreezeGuard(ctx, "fire"); err != nil {
		t.Fatal(err)
	}
	if err := r.DropFreezeGuard(ctx, "drop"); err != nil {
		t.Fatal(err)
	}
	due, _ := r.Due(ctx, *now, 10)
	if len(due) != 1 || due[0].PayID != "fire" || due[0].Action != domain.ActionThaw {
		t.Fatalf("due = %+v, want the fired guard only", due)
	}
	if due, _ := r.Due(ctx, now.Add(time.Hour), 10); len(due) != 1 {
		t.Errorf("dropped guard still there: %+v", due)
	}
}

func TestOutboxLease(t *testing.T) {
	r, now := newRepo(t)
	ctx := context.Background()
	p := settle(t, r, "pay-1", *now)
	if err := r.UpdatePayment(ctx, p.PayID(), func(p *domain.Payment) error { return p.Cancel(*now) }); err != nil {
		t.Fatal(err)
	}
	due, _ := r.Due(ctx, *now, 10)
	if len(due) != 1 || due[0].Action != domain.ActionThaw || due[0].Attempts != 0 {
		t.Fatalf("due = %+v", due)
	}
	id := due[0].ID
	lease := now.Add(10 * time.Second)
	if ok, _ := r.Claim(ctx, id, "a", *now, lease); !ok {
		t.Fatal("first claim lost")
	}
	if ok, _ := r.Claim(ctx, id, "b", *now, lease); ok {
		t.Fatal("second claim won while the lease runs")
	}
	if due, _ := r.Due(ctx, *now, 10); len(due) != 0 {
		t.Errorf("leased row reported due: %+v", due)
	}
	// a dies; after the lease b takes over, and a's late bookkeeping is ignored.
	after := lease.Add(time.Millisecond)
	if ok, _ := r.Claim(ctx, id, "b", after, after.Add(10*time.Second)); !ok {
		t.Fatal("claim after the lease lost")
	}
	if err := r.Retry(ctx, id, "a", after, "late"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delivered(ctx, id, "b", after); err != nil {
		t.Fatal(err)
	}
	var row outboxModel
	r.db.First(&row, id)
	if row.Status != outboxDone || row.Attempts != 2 || row.LeaseOwner != "" || row.LastError != "" {
		t.Errorf("row = %+v", row)
	}
	if due, _ := r.Due(ctx, now.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("delivered row still due: %+v", due)
	}
}

func TestFailedUpdateCommitsNothing(t *testing.T) {
	r, now := newRepo(t)
	ctx := context.Background()
	p := settle(t, r, "pay-1", *now)
	// Pay, then fail on the wallet: neither the state, the debit nor the
	// decrease may stay.
	err := r.UpdatePaymentAndWallet(ctx, p.PayID(), 1, func(p *domain.Payment, w *domain.Wallet) error {
		if err := p.Pay(*now); err != nil {
			return err
		}
		if err := w.Debit(100); err != nil {
			return err
		}
		return domain.ErrInsufficientBalance
	})
	if !errors.Is(err, domain.ErrInsufficientBalance) {
		t.Fatal(err)
	}
	got, _ := r.GetPayment(ctx, p.PayID())
	w, _ := r.GetWallet(ctx, 1)
	due, _ := r.Due(ctx, now.Add(time.Hour), 10)
	if got.State() != domain.StateWaiting || w.Money() != SeedWalletMoney || len(due) != 0 {
		t.Errorf("after a failed update: state %s, wallet %v, outbox %+v", got.State(), w.Money(), due)
	}

	// The same update without the failure commits all three.
	err = r.UpdatePaymentAndWallet(ctx, p.PayID(), 1, func(p *domain.Payment, w *domain.Wallet) error {
		if err := p.Pay(*now); err != nil {
			return err
		}
		return w.Debit(p.Total())
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = r.GetPayment(ctx, p.PayID())
	w, _ = r.GetWallet(ctx, 1)
	due, _ = r.Due(ctx, *now, 10)
	if got.State() != domain.StatePayed || w.Money() != SeedWalletMoney-26200 || len(due) != 1 || due[0].Action != domain.ActionDecrease {
		t.Errorf("after paying: state %s, wallet %v, outbox %+v", got.State(), w.Money(), due)
	}
}

func TestDuePayments(t *testing.T) {
	r, now := newRepo(t)
	ctx := context.Background()
	early := settle(t, r, "early", *now)
	settle(t, r, "late", now.Add(time.Minute))
	paid := settle(t, r, "paid", *now)
	if err := r.UpdatePaymentAndWallet(ctx, paid.PayID(), 1, func(p *domain.Payment, w *domain.Wallet) error {
		return p.Pay(*now)
	}); err != nil {
		t.Fatal(err)
	}
	ids, err := r.DuePayments(ctx, early.ExpireAt(), 10)
	if err != nil || len(ids) != 0 {
		t.Errorf("due at the expiry instant: %v, %v (must be strictly after)", ids, err)
	}
	ids, _ = r.DuePayments(ctx, early.ExpireAt().Add(time.Millisecond), 10)
	if len(ids) != 1 || ids[0] != "early" {
		t.Errorf("due = %v, want [early] (not the paid one)", ids)
	}
	ids, _ = r.DuePayments(ctx, now.Add(time.Hour), 1)
	if len(ids) != 1 || ids[0] != "early" {
		t.Errorf("limited due = %v, want the oldest", ids)
	}
}

func TestSeedOnlyIntoEmptyDatabase(t *testing.T) {
	r, _ := newRepo(t)
	ctx := context.Background()
	if err := r.db.Model(&walletModel{}).Where("account_id = 1").Update("money_cents", 3000).Error; err != nil {
		t.Fatal(err)
	}
	if err := r.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	var n int64
	r.db.Model(&walletModel{}).Count(&n)
	w, _ := r.GetWallet(ctx, 1)
	if n != 1 || w.Money() != 3000 {
		t.Errorf("after a second seed: %d wallets, money %v", n, w.Money())
	}
	if w, _ := r.GetWallet(ctx, 42); w.Money() != 0 || w.AccountID() != 42 {
		t.Errorf("wallet of an account without one: %+v", w)
	}
}
