// Package adapters connects the payment domain to the outside world: its
// database (gorm, SQLite or MySQL) and the warehouse service (Kitex).
package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"example.com/bookstore/common/db"
	"example.com/bookstore/payment/internal/domain"
)

// Repository is the gorm implementation of domain.Repository and of the
// dispatcher's outbox.
type Repository struct {
	db  *gorm.DB
	now func() time.Time
}

// NewRepository returns a repository over gdb; now stamps outbox rows.
func NewRepository(gdb *gorm.DB, now func() time.Time) *Repository {
	return &Repository{db: gdb, now: now}
}

// Migrate creates or updates the tables, and moves the items and purchases
// of payments stored by earlier versions into their payment rows.
func (r *Repository) Migrate(ctx context.Context) error {
	if err := r.db.WithContext(ctx).AutoMigrate(&paymentModel{}, &walletModel{}, &outboxModel{}); err != nil {
		return err
	}
	return migrateLegacyItems(ctx, r.db)
}

// SeedWalletAccountID and SeedWalletMoney are the contract's seed (§6.2):
// icyfenix's wallet holds 300.
const (
	SeedWalletAccountID = 1
	SeedWalletMoney     = domain.Cents(30000)
)

// Seed loads the seed wallet into a database that has no wallets yet. It is
// idempotent and safe for replicas starting together: the unique account
// index lets only one insert through.
func (r *Repository) Seed(ctx context.Context) error {
	var n int64
	if err := r.db.WithContext(ctx).Model(&walletModel{}).Count(&n).Error; err != nil {
		return fmt.Errorf("seed: count wallets: %w", err)
	}
	if n > 0 {
		return nil
	}
	w := walletModel{AccountID: SeedWalletAccountID, MoneyCents: int64(SeedWalletMoney)}
	if err := r.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&w).Error; err != nil {
		return fmt.Errorf("seed: wallet: %w", err)
	}
	return nil
}

// Ping is the readiness check.
func (r *Repository) Ping(ctx context.Context) error { return db.Ping(ctx, r.db) }

// inTx runs fn in a transaction, again from the start if it lost a race
// (a compare-and-set, a deadlock, a busy database; db.RetryTransaction). fn
// must therefore not keep state across attempts.
func (r *Repository) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.RetryTransaction(ctx, r.db, lostRace, fn)
}

func lostRace(err error) bool { return errors.Is(err, domain.ErrConcurrentUpdate) }

// retryable reports whether another attempt of a transaction can fix err.
func retryable(err error) bool { return lostRace(err) || db.IsTransient(err) }

// forUpdate locks the rows read on MySQL so that concurrent changes queue
// behind each other; SQLite's dialect drops the clause, and needs none: its
// transactions start with BEGIN IMMEDIATE and so run one writer at a time.
var forUpdate = clause.Locking{Strength: clause.LockingStrengthUpdate}

// AddPayment implements domain.Repository.
func (r *Repository) AddPayment(ctx context.Context, p *domain.Payment) error {
	rec := p.Record()
	return r.inTx(ctx, func(tx *gorm.DB) error {
		// The guard may be dropped only if it was never claimed for
		// delivery: a claimed thaw may already have reached the warehouse.
		res := tx.Where("pay_id = ? AND action = ? AND status = ? AND attempts = 0",
			rec.PayID, string(domain.ActionThaw), outboxPending).Delete(&outboxModel{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return domain.ErrFreezeGuardFired
		}
		m, err := toPaymentModel(rec)
		if err != nil {
			return err
		}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		p.AssignID(m.ID)
		return nil
	})
}

// GetPayment implements domain.Repository.
func (r *Repository) GetPayment(ctx context.Context, payID string) (*domain.Payment, error) {
	return loadPayment(r.db.WithContext(ctx), payID, false)
}

// UpdatePayment implements domain.Repository.
func (r *Repository) UpdatePayment(ctx context.Context, payID string, fn func(p *domain.Payment) error) error {
	return r.inTx(ctx, func(tx *gorm.DB) error {
		p, err := loadPayment(tx, payID, true)
		if err != nil {
			return err
		}
		old := p.State()
		if err := fn(p); err != nil {
			return err
		}
		return r.savePayment(tx, p, old)
	})
}

// UpdatePaymentAndWallet implements domain.Repository.
//
// It first reads both outside the write transaction and then writes them
// as compare-and-sets: on SQLite that keeps the reads out of the one
// writer's turn, which every write of the service waits for. If a
// compare-and-set finds that another caller changed the payment or the
// wallet meanwhile (or MySQL chose the attempt as a deadlock victim), it
// starts again reading under lock inside the transaction, where concurrent payments from one wallet queue up instead
// of retrying against each other. The payment row is locked before the
// wallet row, in every transaction, so that they cannot deadlock.
func (r *Repository) UpdatePaymentAndWallet(ctx context.Context, payID string, accountID int64, fn func(p *domain.Payment, w *domain.Wallet) error) error {
	err := func() error {
		pw, err := loadPaymentAndWallet(r.db.WithContext(ctx), payID, accountID, false)
		if err != nil {
			return err
		}
		return db.Transaction(ctx, r.db, func(tx *gorm.DB) error { return r.applyPaymentAndWallet(tx, pw, fn) })
	}()
	// A lost compare-and-set, and anything else another attempt can fix
	// (on MySQL, a deadlock with a concurrent change of the payment), goes
	// the locked way, which retries those itself.
	if !retryable(err) {
		return err
	}
	return r.inTx(ctx, func(tx *gorm.DB) error {
		pw, err := loadPaymentAndWallet(tx, payID, accountID, true)
		if err != nil {
			return err
		}
		return r.applyPaymentAndWallet(tx, pw, fn)
	})
}

// paymentAndWallet is what UpdatePaymentAndWallet read. It holds the
// payment's stored form, not the payment: fn changes the payment it is
// given, and db.Transaction may run it again.
type paymentAndWallet struct {
	rec    domain.PaymentRecord
	wm     walletModel
	stored bool // wm was read from the database (else the wallet is new)
}

func loadPaymentAndWallet(tx *gorm.DB, payID string, accountID int64, lock bool) (paymentAndWallet, error) {
	p, err := loadPayment(tx, payID, lock)
	if err != nil {
		return paymentAndWallet{}, err
	}
	pw := paymentAndWallet{rec: p.Record(), wm: walletModel{AccountID: accountID}, stored: true}
	q := tx
	if lock {
		q = q.Clauses(forUpdate)
	}
	if err := q.Where("account_id = ?", accountID).Take(&pw.wm).Error; err != nil {
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return paymentAndWallet{}, err
		}
		pw.stored = false
	}
	return pw, nil
}

// applyPaymentAndWallet runs fn on what was read and writes the changes as
// compare-and-sets on the values read.
func (r *Repository) applyPaymentAndWallet(tx *gorm.DB, pw paymentAndWallet, fn func(p *domain.Payment, w *domain.Wallet) error) error {
	accountID := pw.wm.AccountID
	w := domain.NewWallet(accountID, domain.Cents(pw.wm.MoneyCents))
	p, err := domain.UnmarshalPayment(pw.rec)
	if err != nil {
		return err
	}
	old := p.State()
	if err := fn(p, w); err != nil {
		return err
	}
	if err := r.savePayment(tx, p, old); err != nil {
		return err
	}
	if int64(w.Money()) == pw.wm.MoneyCents {
		return nil
	}
	if !pw.stored {
		err := tx.Create(&walletModel{AccountID: accountID, MoneyCents: int64(w.Money())}).Error
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("%w: wallet of account %d created meanwhile", domain.ErrConcurrentUpdate, accountID)
		}
		return err
	}
	res := tx.Model(&walletModel{}).Where("account_id = ? AND money_cents = ?", accountID, pw.wm.MoneyCents).
		Update("money_cents", int64(w.Money()))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("%w: wallet of account %d", domain.ErrConcurrentUpdate, accountID)
	}
	return nil
}

// savePayment writes a state change as a compare-and-set on the state the
// payment was loaded in, and enqueues its stock actions in the same
// transaction.
func (r *Repository) savePayment(tx *gorm.DB, p *domain.Payment, old domain.State) error {
	if p.State() != old {
		res := tx.Model(&paymentModel{}).Where("pay_id = ? AND state = ?", p.PayID(), string(old)).
			Update("state", string(p.State()))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("%w: %s left %s", domain.ErrConcurrentUpdate, p.PayID(), old)
		}
	}
	now := r.now()
	for _, a := range p.PendingActions() {
		row := outboxModel{PayID: p.PayID(), Action: string(a), Status: outboxPending, NextAttemptMs: now.UnixMilli(), CreatedAt: now}
		// The compare-and-set above already makes a second enqueue
		// impossible; the unique index would catch one anyway.
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

func loadPayment(tx *gorm.DB, payID string, lock bool) (*domain.Payment, error) {
	var m paymentModel
	q := tx
	if lock {
		q = q.Clauses(forUpdate)
	}
	if err := q.Where("pay_id = ?", payID).Take(&m).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, domain.ErrPaymentNotFound
		}
		return nil, err
	}
	var items []itemJSON
	if err := json.Unmarshal([]byte(m.Items), &items); err != nil {
		return nil, fmt.Errorf("payment %s: items: %w", payID, err)
	}
	var pu purchaseJSON
	if err := json.Unmarshal([]byte(m.Purchase), &pu); err != nil {
		return nil, fmt.Errorf("payment %s: purchase: %w", payID, err)
	}
	rec := domain.PaymentRecord{
		ID:         m.ID,
		PayID:      m.PayID,
		AccountID:  m.AccountID,
		CreateTime: m.CreateTime,
		Expires:    time.Duration(m.ExpiresMs) * time.Millisecond,
		Total:      domain.Cents(m.TotalCents),
		Link:       m.PaymentLink,
		State:      domain.State(m.State),
		Purchase:   domain.Purchase{Delivery: pu.Delivery, Pay: pu.Pay, Name: pu.Name, Telephone: pu.Telephone, Location: pu.Location},
	}
	for _, it := range items {
		rec.Items = append(rec.Items, domain.PricedItem{Item: domain.Item{ProductID: it.ProductID, Amount: it.Amount}, UnitPrice: domain.Cents(it.PriceCents)})
	}
	return domain.UnmarshalPayment(rec)
}

func toPaymentModel(rec domain.PaymentRecord) (paymentModel, error) {
	items := make([]itemJSON, len(rec.Items))
	for i, it := range rec.Items {
		items[i] = itemJSON{ProductID: it.ProductID, Amount: it.Amount, PriceCents: int64(it.UnitPrice)}
	}
	itemsData, err := json.Marshal(items)
	if err != nil {
		return paymentModel{}, fmt.Errorf("payment %s: items: %w", rec.PayID, err)
	}
	pu := rec.Purchase
	purchaseData, err := json.Marshal(purchaseJSON{Delivery: pu.Delivery, Pay: pu.Pay, Name: pu.Name, Telephone: pu.Telephone, Location: pu.Location})
	if err != nil {
		return paymentModel{}, fmt.Errorf("payment %s: purchase: %w", rec.PayID, err)
	}
	return paymentModel{
		PayID:       rec.PayID,
		AccountID:   rec.AccountID,
		CreateTime:  rec.CreateTime,
		TotalCents:  int64(rec.Total),
		ExpiresMs:   rec.Expires.Milliseconds(),
		ExpireAtMs:  rec.CreateTime.Add(rec.Expires).UnixMilli(),
		PaymentLink: rec.Link,
		State:       string(rec.State),
		Items:       string(itemsData),
		Purchase:    string(purchaseData),
	}, nil
}

// DuePayments implements domain.Repository.
func (r *Repository) DuePayments(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var ids []string
	err := r.db.WithContext(ctx).Model(&paymentModel{}).
		Where("state = ? AND expire_at_ms < ?", string(domain.StateWaiting), now.UnixMilli()).
		Order("expire_at_ms").Limit(limit).Pluck("pay_id", &ids).Error
	return ids, err
}

// GetWallet implements domain.Repository.
func (r *Repository) GetWallet(ctx context.Context, accountID int64) (*domain.Wallet, error) {
	var wm walletModel
	err := r.db.WithContext(ctx).Where("account_id = ?", accountID).Take(&wm).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	return domain.NewWallet(accountID, domain.Cents(wm.MoneyCents)), nil
}

// GuardFreeze implements domain.Repository.
func (r *Repository) GuardFreeze(ctx context.Context, payID string, fireAt time.Time) error {
	// Through db.Transaction, so that on SQLite the guards of concurrent
	// settlements share a commit with each other and with their payments.
	row := outboxModel{PayID: payID, Action: string(domain.ActionThaw), Status: outboxPending,
		NextAttemptMs: fireAt.UnixMilli(), CreatedAt: r.now()}
	return db.Transaction(ctx, r.db, func(tx *gorm.DB) error {
		row.ID = 0 // fn may run again
		return tx.Create(&row).Error
	})
}

// FireFreezeGuard implements domain.Repository.
func (r *Repository) FireFreezeGuard(ctx context.Context, payID string) error {
	now := r.now().UnixMilli()
	return r.db.WithContext(ctx).Model(&outboxModel{}).
		Where("pay_id = ? AND action = ? AND status = ? AND next_attempt_ms > ?", payID, string(domain.ActionThaw), outboxPending, now).
		Update("next_attempt_ms", now).Error
}

// DropFreezeGuard implements domain.Repository.
func (r *Repository) DropFreezeGuard(ctx context.Context, payID string) error {
	return r.db.WithContext(ctx).
		Where("pay_id = ? AND action = ? AND status = ? AND attempts = 0", payID, string(domain.ActionThaw), outboxPending).
		Delete(&outboxModel{}).Error
}
