package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"example.com/bookstore/common/db"
	"example.com/bookstore/warehouse/internal/domain"
)

// Reservations is the gorm domain.ReservationRepository.
type Reservations struct {
	db *gorm.DB
}

func NewReservations(db *gorm.DB) *Reservations { return &Reservations{db: db} }

var _ domain.ReservationRepository = (*Reservations)(nil)

// itemJSON is the stored form of a reserved item; prices in cents.
type itemJSON struct {
	ProductID int64 `json:"product_id"`
	Amount    int32 `json:"amount"`
	Price     int64 `json:"price_cents"`
}

func (r *Reservations) GetReservation(ctx context.Context, payID string) (*domain.Reservation, error) {
	return getReservation(r.db.WithContext(ctx), payID, false)
}

func getReservation(tx *gorm.DB, payID string, lock bool) (*domain.Reservation, error) {
	if lock {
		tx = tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	var row reservationRow
	err := tx.Where("pay_id = ?", payID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.ReservationNotFound(payID)
	}
	if err != nil {
		return nil, fmt.Errorf("get reservation %s: %w", payID, err)
	}
	var stored []itemJSON
	if err := json.Unmarshal([]byte(row.Items), &stored); err != nil {
		return nil, fmt.Errorf("reservation %s: items: %w", payID, err)
	}
	items := make([]domain.PricedItem, len(stored))
	for i, it := range stored {
		items[i] = domain.PricedItem{ProductID: it.ProductID, Amount: it.Amount, Price: domain.Cents(it.Price)}
	}
	return domain.RestoreReservation(row.PayID, domain.ReservationState(row.State), items), nil
}

// AddReservation inserts the reservation first: its unique pay_id decides
// between concurrent twins (the loser's insert fails, or on MySQL waits
// for the winner and then fails). Each item then takes its stock with one
// conditional update, which cannot oversell whatever runs concurrently.
func (r *Reservations) AddReservation(ctx context.Context, res *domain.Reservation) error {
	items := res.Items()
	stored := make([]itemJSON, len(items))
	for i, it := range items {
		stored[i] = itemJSON{ProductID: it.ProductID, Amount: it.Amount, Price: int64(it.Price)}
	}
	data, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("reservation %s: items: %w", res.PayID(), err)
	}
	return inTx(ctx, r.db, func(tx *gorm.DB) error {
		row := reservationRow{PayID: res.PayID(), State: string(res.State()), Items: string(data)}
		if err := tx.Create(&row).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return domain.ErrReservationExists
			}
			return fmt.Errorf("insert reservation %s: %w", res.PayID(), err)
		}
		if res.State() != domain.Frozen {
			return nil // a tombstone holds no stock
		}
		for _, it := range items {
			q := tx.Model(&stockpileRow{}).Where("product_id = ? AND amount >= ?", it.ProductID, it.Amount).
				Updates(map[string]any{"amount": gorm.Expr("amount - ?", it.Amount), "frozen": gorm.Expr("frozen + ?", it.Amount)})
			if q.Error != nil {
				return fmt.Errorf("freeze product %d: %w", it.ProductID, q.Error)
			}
			if q.RowsAffected == 1 {
				continue
			}
			// Short, or the product went away since its price was read.
			var n int64
			if err := tx.Model(&stockpileRow{}).Where("product_id = ?", it.ProductID).Count(&n).Error; err != nil {
				return fmt.Errorf("freeze product %d: %w", it.ProductID, err)
			}
			if n == 0 {
				return domain.ProductNotFound(it.ProductID)
			}
			return domain.InsufficientStock()
		}
		return nil
	})
}

// UpdateReservation stores a transition as a compare-and-set on the state it
// started from, in the transaction that moves the stock.
//
// It first reads the reservation outside the write transaction: on SQLite
// that keeps the read out of the one writer's turn, which every write of
// the service waits for. A repeat finds the transition done and writes
// nothing. If the compare-and-set finds the state changed meanwhile (or
// MySQL chose the attempt as a deadlock victim), it starts again reading
// under lock inside the transaction, where the row lock (MySQL) or the
// database write lock (SQLite) makes concurrent twins see the new state
// and do nothing.
func (r *Reservations) UpdateReservation(ctx context.Context, payID string, update func(*domain.Reservation) ([]domain.StockChange, error)) error {
	res, err := getReservation(r.db.WithContext(ctx), payID, false)
	if err != nil {
		return err
	}
	err = db.Transaction(ctx, r.db, func(tx *gorm.DB) error {
		// A copy per run: update changes the reservation it is given, and
		// db.Transaction may run this function again.
		return transition(tx, domain.RestoreReservation(res.PayID(), res.State(), res.Items()), update)
	})
	// A lost compare-and-set, or a MySQL deadlock with a concurrent twin,
	// goes the locked way, which retries those itself.
	if !retryable(err) {
		return err
	}
	return inTx(ctx, r.db, func(tx *gorm.DB) error {
		res, err := getReservation(tx, payID, true)
		if err != nil {
			return err
		}
		return transition(tx, res, update)
	})
}

// transition applies update to res and stores the result; a reservation
// that update leaves in its state is not written.
func transition(tx *gorm.DB, res *domain.Reservation, update func(*domain.Reservation) ([]domain.StockChange, error)) error {
	from := res.State()
	changes, err := update(res)
	if err != nil || res.State() == from {
		return err
	}
	return storeTransition(tx, res, from, changes)
}

// storeTransition moves the stock and sets the new state if the state is
// still from; else errRetry.
func storeTransition(tx *gorm.DB, res *domain.Reservation, from domain.ReservationState, changes []domain.StockChange) error {
	payID := res.PayID()
	q := tx.Model(&reservationRow{}).Where("pay_id = ? AND state = ?", payID, string(from)).
		Update("state", string(res.State()))
	if q.Error != nil {
		return fmt.Errorf("reservation %s: state: %w", payID, q.Error)
	}
	if q.RowsAffected != 1 {
		return errRetry
	}
	for _, c := range changes {
		// A deleted product has no stock left to move.
		q := tx.Model(&stockpileRow{}).Where("product_id = ?", c.ProductID).
			Updates(map[string]any{"amount": gorm.Expr("amount + ?", c.Amount), "frozen": gorm.Expr("frozen + ?", c.Frozen)})
		if q.Error != nil {
			return fmt.Errorf("reservation %s: stock of %d: %w", payID, c.ProductID, q.Error)
		}
	}
	return nil
}
