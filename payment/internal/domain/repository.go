package domain

import (
	"context"
	"time"
)

// Repository stores payments and wallets. Methods that change state take an
// update function and run it inside one transaction, with the rows locked:
// if fn returns nil the new state and every PendingAction of the payment
// are committed together, otherwise nothing is.
type Repository interface {
	// AddPayment stores a new payment with its items and purchase, and in
	// the same transaction drops the freeze guard of its pay id. If the guard
	// has already been sent (or is being sent) it fails with
	// ErrFreezeGuardFired and stores nothing.
	AddPayment(ctx context.Context, p *Payment) error
	// GetPayment returns ErrPaymentNotFound for an unknown pay id.
	GetPayment(ctx context.Context, payID string) (*Payment, error)
	// UpdatePayment returns ErrPaymentNotFound for an unknown pay id.
	UpdatePayment(ctx context.Context, payID string, fn func(p *Payment) error) error
	// UpdatePaymentAndWallet hands fn the payment and the wallet of
	// accountID (an empty one if the account has none).
	UpdatePaymentAndWallet(ctx context.Context, payID string, accountID int64, fn func(p *Payment, w *Wallet) error) error
	// DuePayments returns up to limit pay ids of WAITING payments whose
	// expiry time is before now, oldest first.
	DuePayments(ctx context.Context, now time.Time, limit int) ([]string, error)
	// GetWallet returns the wallet of accountID, an empty one if it has none.
	GetWallet(ctx context.Context, accountID int64) (*Wallet, error)

	// GuardFreeze schedules a thaw of payID's stock at fireAt, before the
	// stock is frozen: whatever happens to this process between the freeze
	// and AddPayment, the stock cannot stay frozen for a payment that does
	// not exist.
	GuardFreeze(ctx context.Context, payID string, fireAt time.Time) error
	// FireFreezeGuard makes the guard due now (the settlement failed after,
	// or maybe after, freezing).
	FireFreezeGuard(ctx context.Context, payID string) error
	// DropFreezeGuard removes a guard that was never sent (the warehouse
	// refused the freeze, so nothing is frozen).
	DropFreezeGuard(ctx context.Context, payID string) error
}

// Warehouse is the stock the payments reserve. Freeze reserves every item
// or none; Thaw and Decrease settle the reservation. All three are
// idempotent by pay id.
//
// Errors: ErrUnknownProduct and ErrInsufficientStock refuse a freeze (nothing
// is frozen); ErrWarehouseRefused is any other business refusal;
// ErrWarehouseUnavailable means no answer, and the call may have taken effect.
type Warehouse interface {
	Freeze(ctx context.Context, payID string, items []Item) ([]PricedItem, error)
	Thaw(ctx context.Context, payID string) error
	Decrease(ctx context.Context, payID string) error
}
