package adapters

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"example.com/bookstore/common/db"
	"example.com/bookstore/common/db/dbtest"
	"example.com/bookstore/payment/internal/app/command"
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
	if claimed, err := r.ClaimDue(ctx, "dispatcher", *now, now.Add(time.Minute), 10); err != nil || len(claimed) != 1 {
		t.Fatalf("claimed = %+v, %v", claimed, err)
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
	if got, _ := r.ClaimDue(ctx, "a", *now, lease, 10); len(got) != 1 || got[0].ID != id || got[0].Attempts != 0 {
		t.Fatalf("first claim = %+v", got)
	}
	if got, _ := r.ClaimDue(ctx, "b", *now, lease, 10); len(got) != 0 {
		t.Fatalf("second claim won while the lease runs: %+v", got)
	}
	if due, _ := r.Due(ctx, *now, 10); len(due) != 0 {
		t.Errorf("leased row reported due: %+v", due)
	}
	// a dies; after the lease b takes over, and a's late bookkeeping is ignored.
	after := lease.Add(time.Millisecond)
	if got, _ := r.ClaimDue(ctx, "b", after, after.Add(10*time.Second), 10); len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("claim after the lease = %+v", got)
	}
	if err := r.Retry(ctx, id, "a", after, "late"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delivered(ctx, []int64{id}, "a", after); err != nil {
		t.Fatal(err)
	}
	var row outboxModel
	r.db.First(&row, id)
	if row.Status != outboxPending || row.LeaseOwner != "b" {
		t.Errorf("a's late bookkeeping changed b's row: %+v", row)
	}
	if err := r.Delivered(ctx, []int64{id}, "b", after); err != nil {
		t.Fatal(err)
	}
	row = outboxModel{}
	r.db.First(&row, id)
	if row.Status != outboxDone || row.Attempts != 2 || row.LeaseOwner != "" || row.LastError != "" {
		t.Errorf("row = %+v", row)
	}
	if due, _ := r.Due(ctx, now.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("delivered row still due: %+v", due)
	}
}

// TestClaimDueBatch: one claim takes every due row up to the limit, skips
// rows leased to someone else or not due yet, and a racing claimer gets
// only what the first left.
func TestClaimDueBatch(t *testing.T) {
	r, now := newRepo(t)
	ctx := context.Background()
	for _, id := range []string{"p1", "p2", "p3", "p4", "later"} {
		at := *now
		if id == "later" {
			at = now.Add(time.Minute)
		}
		if err := r.GuardFreeze(ctx, id, at); err != nil {
			t.Fatal(err)
		}
	}
	lease := now.Add(10 * time.Second)
	first, err := r.ClaimDue(ctx, "a", *now, lease, 2)
	if err != nil || len(first) != 2 || first[0].PayID != "p1" || first[1].PayID != "p2" {
		t.Fatalf("first claim = %+v, %v", first, err)
	}
	rest, err := r.ClaimDue(ctx, "b", *now, lease, 10)
	if err != nil || len(rest) != 2 || rest[0].PayID != "p3" || rest[1].PayID != "p4" {
		t.Fatalf("second claim = %+v, %v", rest, err)
	}
	if got, _ := r.ClaimDue(ctx, "c", *now, lease, 10); len(got) != 0 {
		t.Errorf("third claim = %+v, want nothing", got)
	}
	if err := r.Delivered(ctx, []int64{first[0].ID, first[1].ID}, "a", *now); err != nil {
		t.Fatal(err)
	}
	var done int64
	r.db.Model(&outboxModel{}).Where("status = ?", outboxDone).Count(&done)
	if done != 2 {
		t.Errorf("%d rows done, want 2", done)
	}
}

// TestClaimDueKeepsOnlyItsOwn: when a row of the batch read as due is
// claimed by another replica before our UPDATE, the claim returns the
// others only.
func TestClaimDueKeepsOnlyItsOwn(t *testing.T) {
	r, now := newRepo(t)
	ctx := context.Background()
	for _, id := range []string{"p1", "p2"} {
		if err := r.GuardFreeze(ctx, id, *now); err != nil {
			t.Fatal(err)
		}
	}
	// The other replica's lease, taken between our read and our update.
	stolen := false
	err := r.db.Callback().Update().Before("gorm:update").Register("test:steal", func(tx *gorm.DB) {
		if stolen {
			return
		}
		stolen = true
		tx.Session(&gorm.Session{NewDB: true}).Exec("UPDATE outbox SET lease_owner = 'other', lease_until_ms = ? WHERE pay_id = 'p1'", now.Add(time.Minute).UnixMilli())
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ClaimDue(ctx, "a", *now, now.Add(10*time.Second), 10)
	if err != nil || len(got) != 1 || got[0].PayID != "p2" {
		t.Fatalf("claim = %+v, %v; want p2 only", got, err)
	}
}

// Due lists the rows ClaimDue would take, for the tests to look at the
// outbox without claiming.
func (r *Repository) Due(ctx context.Context, now time.Time, limit int) ([]command.Delivery, error) {
	var rows []outboxModel
	ms := now.UnixMilli()
	err := r.db.WithContext(ctx).
		Where("status = ? AND next_attempt_ms <= ? AND lease_until_ms <= ?", outboxPending, ms, ms).
		Order("next_attempt_ms").Order("id").Limit(limit).Find(&rows).Error
	out := make([]command.Delivery, 0, len(rows))
	for _, m := range rows {
		out = append(out, command.Delivery{ID: m.ID, PayID: m.PayID, Action: domain.StockAction(m.Action), Attempts: m.Attempts})
	}
	return out, err
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

// TestGuardFreezeConcurrent: guards stored by concurrent settlements (and
// so, on SQLite, committed in shared transactions) each get their own outcome: a duplicate
// fails alone, every other guard is stored.
func TestGuardFreezeConcurrent(t *testing.T) {
	r, now := newRepo(t)
	ctx := context.Background()
	if err := r.GuardFreeze(ctx, "dup", *now); err != nil {
		t.Fatal(err)
	}
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("pay-%d", i)
			if i == n/2 {
				id = "dup"
			}
			errs[i] = r.GuardFreeze(ctx, id, *now)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == n/2 {
			if !db.IsUniqueViolation(err) {
				t.Errorf("duplicate guard: %v, want a unique violation", err)
			}
		} else if err != nil {
			t.Errorf("guard %d: %v", i, err)
		}
	}
	var stored int64
	r.db.Model(&outboxModel{}).Count(&stored)
	if stored != n {
		t.Errorf("%d guards stored, want %d", stored, n)
	}
}

// TestPurgeDelivered: delivered rows older than the cutoff go, in batches
// of at most limit; recent ones, pending ones and ones parked for an
// operator stay.
func TestPurgeDelivered(t *testing.T) {
	r, now := newRepo(t)
	ctx := context.Background()
	cutoff := now.Add(-time.Hour)
	old, recent := cutoff.Add(-time.Minute), cutoff.Add(time.Minute)
	rows := []outboxModel{
		{PayID: "old-1", Status: outboxDone, DoneAt: &old},
		{PayID: "old-2", Status: outboxDone, DoneAt: &old},
		{PayID: "old-3", Status: outboxDone, DoneAt: &old},
		{PayID: "recent", Status: outboxDone, DoneAt: &recent},
		{PayID: "pending", Status: outboxPending},
		{PayID: "parked", Status: outboxFailed, DoneAt: &old},
	}
	for i := range rows {
		// Every row was due before the cutoff; "recent" was delivered after it.
		rows[i].Action, rows[i].CreatedAt = string(domain.ActionDecrease), old
		rows[i].NextAttemptMs = old.Add(-time.Minute).UnixMilli()
	}
	if err := r.db.Create(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if dbtest.Kind() == db.DriverSQLite {
		// The read must walk an index, not every delivered row.
		var plan []struct{ Detail string }
		err := r.db.Raw("EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE "+purgeableWhere+" ORDER BY next_attempt_ms LIMIT 2",
			outboxDone, cutoff.UnixMilli(), cutoff).Scan(&plan).Error
		if err != nil {
			t.Fatal(err)
		}
		if len(plan) == 0 || !strings.Contains(plan[0].Detail, "idx_outbox_due (status=? AND next_attempt_ms<?)") {
			t.Errorf("purge query plan: %+v", plan)
		}
	}
	for _, want := range []int{2, 1, 0} {
		if n, err := r.PurgeDelivered(ctx, cutoff, 2); err != nil || n != want {
			t.Fatalf("purge: %d, %v; want %d", n, err, want)
		}
	}
	var left []string
	if err := r.db.Model(&outboxModel{}).Order("pay_id").Pluck("pay_id", &left).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(left, ",") != "parked,pending,recent" {
		t.Errorf("left %v, want parked, pending and recent", left)
	}
}

// TestMigrateLegacyItems: a database of the version that kept items and
// purchases in tables of their own gets them moved into the payment rows,
// and the tables dropped; a second Migrate finds nothing to do.
func TestMigrateLegacyItems(t *testing.T) {
	gdb := dbtest.Open(t)
	ctx := context.Background()
	// The old schema: the payment row without the JSON columns.
	type oldPayment struct {
		ID          int64     `gorm:"primaryKey;autoIncrement"`
		PayID       string    `gorm:"size:36;not null;uniqueIndex:uk_payment_pay_id"`
		AccountID   int64     `gorm:"not null"`
		CreateTime  time.Time `gorm:"not null"`
		TotalCents  int64     `gorm:"not null"`
		ExpiresMs   int64     `gorm:"not null"`
		ExpireAtMs  int64     `gorm:"not null"`
		PaymentLink string    `gorm:"size:300;not null"`
		State       string    `gorm:"size:20;not null"`
	}
	old := gdb.Table("payment")
	if err := old.AutoMigrate(&oldPayment{}); err != nil {
		t.Fatal(err)
	}
	if err := gdb.AutoMigrate(&legacyItemModel{}, &legacyPurchaseModel{}); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for i, id := range []string{"old-1", "old-2"} {
		row := oldPayment{PayID: id, AccountID: 1, CreateTime: created, TotalCents: 27000, ExpiresMs: 120000,
			ExpireAtMs: created.Add(2 * time.Minute).UnixMilli(), PaymentLink: "/pay/" + id, State: "PAYED"}
		if err := gdb.Table("payment").Create(&row).Error; err != nil {
			t.Fatal(err)
		}
		items := []legacyItemModel{{PayID: id, ProductID: 1, Amount: 2, PriceCents: 12900}, {PayID: id, ProductID: int64(2 + i), Amount: 1, PriceCents: 1200}}
		if err := gdb.Create(&items).Error; err != nil {
			t.Fatal(err)
		}
		if err := gdb.Create(&legacyPurchaseModel{PayID: id, Delivery: true, Pay: "wechat", Name: "周志明", Telephone: "18888888888", Location: "珠海"}).Error; err != nil {
			t.Fatal(err)
		}
	}

	r := NewRepository(gdb, time.Now)
	for range 2 {
		if err := r.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"old-1", "old-2"} {
		p, err := r.GetPayment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		rec := p.Record()
		want := []domain.PricedItem{
			{Item: domain.Item{ProductID: 1, Amount: 2}, UnitPrice: 12900},
			{Item: domain.Item{ProductID: int64(2 + i), Amount: 1}, UnitPrice: 1200},
		}
		if !reflect.DeepEqual(rec.Items, want) {
			t.Errorf("%s: items %+v, want %+v", id, rec.Items, want)
		}
		if rec.Purchase != (domain.Purchase{Delivery: true, Pay: "wechat", Name: "周志明", Telephone: "18888888888", Location: "珠海"}) {
			t.Errorf("%s: purchase %+v", id, rec.Purchase)
		}
		if rec.State != domain.StatePayed || rec.Total != 27000 {
			t.Errorf("%s: %+v", id, rec)
		}
	}
	m := gdb.Migrator()
	if m.HasTable("payment_item") || m.HasTable("purchase") {
		t.Error("legacy tables still there after the copy")
	}
}
