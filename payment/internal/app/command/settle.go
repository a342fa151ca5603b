package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"example.com/bookstore/payment/internal/domain"
)

// FreezeGuardDelay is how long after a settlement starts its safety thaw
// fires if the settlement neither stored its payment nor cancelled the
// guard (the process died in between). It must be well beyond the time a
// settlement takes (one freeze call plus one transaction), or the thaw could
// race a payment that is still being stored; AddPayment refuses to store it
// then, so the race costs a failed settlement, never frozen stock.
const FreezeGuardDelay = time.Minute

// Settle is a buyer's order.
type Settle struct {
	Settlement domain.Settlement
	AccountID  int64
}

// SettleHandler freezes the order's stock in the warehouse (one call for
// every item) and stores a WAITING payment priced at the frozen prices.
type SettleHandler struct {
	repo    domain.Repository
	stock   domain.Warehouse
	kick    Kicker
	now     Clock
	newID   func() string
	expires func() time.Duration
}

// NewSettleHandler returns the handler; expires is read per settlement, so
// a live config change applies to the next one.
func NewSettleHandler(repo domain.Repository, stock domain.Warehouse, kick Kicker, now Clock, newID func() string, expires func() time.Duration) SettleHandler {
	return SettleHandler{repo: repo, stock: stock, kick: kick, now: now, newID: newID, expires: expires}
}

// Handle returns the new payment. On ErrWarehouseUnavailable, or any failure
// after the freeze, the stock that may have been frozen is thawed through
// the outbox.
func (h SettleHandler) Handle(ctx context.Context, cmd Settle) (*domain.Payment, error) {
	payID := h.newID()
	if err := h.repo.GuardFreeze(ctx, payID, h.now().Add(FreezeGuardDelay)); err != nil {
		return nil, fmt.Errorf("settle: schedule freeze guard: %w", err)
	}

	priced, err := h.stock.Freeze(ctx, payID, cmd.Settlement.Items())
	if err != nil {
		if errors.Is(err, domain.ErrWarehouseUnavailable) {
			// The freeze may have happened even though we got no answer.
			h.fireGuard(ctx, payID, err)
		} else {
			h.dropGuard(ctx, payID)
		}
		return nil, err
	}

	p, err := domain.NewPayment(payID, cmd.AccountID, cmd.Settlement, priced, h.now(), h.expires())
	if err == nil {
		err = h.repo.AddPayment(ctx, p)
	}
	if err != nil {
		h.fireGuard(ctx, payID, err)
		return nil, fmt.Errorf("settle %s: %w", payID, err)
	}
	return p, nil
}

// fireGuard outlives the caller's context: a caller that gave up must not
// leave the stock frozen until the guard's own time.
func (h SettleHandler) fireGuard(ctx context.Context, payID string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	slog.WarnContext(ctx, "settlement failed after freezing; thawing", "pay_id", payID, "cause", cause)
	if err := h.repo.FireFreezeGuard(ctx, payID); err != nil {
		slog.ErrorContext(ctx, "could not fire freeze guard now; it fires on its own schedule",
			"pay_id", payID, "err", err, "after", FreezeGuardDelay)
		return
	}
	h.kick.Kick()
}

func (h SettleHandler) dropGuard(ctx context.Context, payID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := h.repo.DropFreezeGuard(ctx, payID); err != nil {
		// Harmless: the guard will thaw a reservation that does not exist.
		slog.WarnContext(ctx, "could not drop freeze guard", "pay_id", payID, "err", err)
	}
}
